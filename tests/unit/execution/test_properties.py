"""Invariants of the fill model on generated orders and bars."""

from __future__ import annotations

import math
from dataclasses import replace

import numba
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from quantstrata.execution import (
    BracketLeg,
    CommissionConfig,
    FillConfig,
    FillModel,
    FillPolicy,
    IntrabarPolicy,
    SlippageConfig,
    WorkingBracket,
    WorkingOrder,
    _nb,
)
from quantstrata.execution.costs import commission_arguments, slippage_arguments
from quantstrata.model.bar import Bar
from quantstrata.model.orders.enums import OrderSide, OrderType
from tests.kit.execution import bars, make_bar, prices

SIDES = st.sampled_from([OrderSide.BUY, OrderSide.SELL])
STOP_KINDS = (OrderType.STOP, OrderType.STOP_LIMIT, OrderType.TRAILING_STOP)


@st.composite
def working_orders(
    draw: st.DrawFn, kinds: tuple[OrderType, ...] = tuple(OrderType)
) -> WorkingOrder:
    """Draw a valid working order of one of ``kinds`` in any state."""
    kind = draw(st.sampled_from(kinds))
    trail: dict[str, float | None] = {}
    if kind is OrderType.TRAILING_STOP:
        if draw(st.booleans()):
            trail["trail_amount"] = draw(st.sampled_from([0.5, 1.0, 5.0]))
        else:
            trail["trail_percent"] = draw(st.sampled_from([0.01, 0.05, 0.2]))
        trail["trail_extreme"] = draw(st.none() | prices)
    return WorkingOrder(
        side=draw(SIDES),
        quantity=draw(st.sampled_from([1.0, 7.0, 250.0])),
        order_type=kind,
        limit_price=draw(prices) if kind in (OrderType.LIMIT, OrderType.STOP_LIMIT) else None,
        stop_price=draw(prices) if kind in (OrderType.STOP, OrderType.STOP_LIMIT) else None,
        triggered=draw(st.booleans()) if kind in STOP_KINDS else False,
        arrived=draw(st.booleans()),
        **trail,
    )


fill_configs = st.builds(
    FillConfig,
    policy=st.sampled_from(list(FillPolicy)),
    volume_cap=st.none() | st.sampled_from([0.01, 0.5, 1.0]),
)
commission_configs = st.builds(
    CommissionConfig,
    rate=st.sampled_from([0.0, 0.001]),
    maker_rate=st.none() | st.just(0.0002),
    per_unit=st.sampled_from([0.0, 0.01]),
    per_order=st.sampled_from([0.0, 1.0]),
    minimum=st.sampled_from([0.0, 2.0]),
)
slippage_configs = st.builds(
    SlippageConfig,
    fixed_basis_points=st.sampled_from([0.0, 5.0]),
    spread=st.sampled_from([0.0, 0.03]),
    volume_impact=st.sampled_from([0.0, 0.1]),
)


@settings(max_examples=100, deadline=None)
@given(order=working_orders(), bar=bars(), config=fill_configs)
def test_every_fill_price_before_slippage_is_inside_the_bar(
    order: WorkingOrder, bar: Bar, config: FillConfig
) -> None:
    step = FillModel(config).step(order, bar)

    if step.fill is not None:
        assert bar.low <= step.fill.bar_price <= bar.high
        if config.policy.arrives_at_close and not order.arrived:
            assert step.fill.bar_price == bar.close


@settings(max_examples=100, deadline=None)
@given(order=working_orders((OrderType.LIMIT, OrderType.STOP_LIMIT)), bar=bars())
def test_limit_fills_never_worse_than_the_limit(order: WorkingOrder, bar: Bar) -> None:
    fill = FillModel(slippage=SlippageConfig(fixed_basis_points=30.0)).fill(order, bar)

    assert order.limit_price is not None
    if fill is not None:
        assert fill.price == fill.bar_price
        if order.side is OrderSide.BUY:
            assert fill.price <= order.limit_price
        else:
            assert fill.price >= order.limit_price


@settings(max_examples=100, deadline=None)
@given(order=working_orders((OrderType.STOP, OrderType.TRAILING_STOP)), bar=bars())
def test_stop_fills_never_better_than_the_stop(order: WorkingOrder, bar: Bar) -> None:
    assume(not order.triggered)
    level = order.stop_price if order.order_type is OrderType.STOP else order.trailing_stop
    if level is None:  # a trailing stop starts from its first bar's open
        start = replace(order, trail_extreme=bar.open)
        level = start.trailing_stop
    assert level is not None

    fill = FillModel().fill(order, bar)

    if fill is not None:
        if order.side is OrderSide.BUY:
            assert fill.bar_price >= level
        else:
            assert fill.bar_price <= level


@settings(max_examples=150, deadline=None)
@given(
    side=SIDES,
    levels=st.lists(prices, min_size=2, max_size=2, unique=True).map(sorted),
    bar=bars(),
)
def test_intrabar_policies_differ_exactly_when_both_levels_are_inside_the_bar(
    side: OrderSide, levels: list[float], bar: Bar
) -> None:
    lower, upper = levels
    stop_loss, take_profit = (lower, upper) if side is OrderSide.SELL else (upper, lower)
    bracket = WorkingBracket(side, 1.0, stop_loss=stop_loss, take_profit=take_profit)

    adverse = FillModel(FillConfig(intrabar=IntrabarPolicy.ADVERSE_FIRST)).step_bracket(
        bracket, bar
    )
    favourable = FillModel(FillConfig(intrabar=IntrabarPolicy.FAVOURABLE_FIRST)).step_bracket(
        bracket, bar
    )

    both_inside = bar.low <= lower and upper <= bar.high and lower < bar.open < upper
    assert (adverse.leg != favourable.leg) == both_inside
    if both_inside:
        assert adverse.leg is BracketLeg.STOP_LOSS
        assert adverse.fill is not None
        assert adverse.fill.bar_price == stop_loss


@settings(max_examples=100, deadline=None)
@given(
    order=working_orders(),
    bar=bars(),
    config=fill_configs,
    commission=commission_configs,
    slippage=slippage_configs,
)
def test_fill_model_and_kernels_agree_exactly(
    order: WorkingOrder,
    bar: Bar,
    config: FillConfig,
    commission: CommissionConfig,
    slippage: SlippageConfig,
) -> None:
    step = FillModel(config, commission, slippage).step(order, bar)
    cap = math.nan if config.volume_cap is None else config.volume_cap
    at_close = config.policy.arrives_at_close and not order.arrived
    state = _kernel_state(order)
    bar_values = (bar.open, bar.high, bar.low, bar.close, bar.volume)

    combined = _nb.fill_order_nb(
        *state[:9],
        order.filled_quantity == 0.0,
        order.fee_basis,
        *bar_values,
        at_close,
        cap,
        *commission_arguments(commission),
        *slippage_arguments(slippage),
    )
    composed = _composed(
        order, state, bar_values, at_close, cap=cap, commission=commission, slippage=slippage
    )

    fill = step.fill
    from_model = (
        (0.0, math.nan, math.nan, 0.0)
        if fill is None
        else (
            fill.quantity,
            fill.bar_price,
            fill.price,
            fill.commission,
        )
    )
    assert _same(from_model, combined[:4])
    assert _same(combined, composed)
    if step.order is not None:
        extreme = math.nan if step.order.trail_extreme is None else step.order.trail_extreme
        assert _same((step.order.triggered, extreme), combined[5:])


@settings(max_examples=60, deadline=None)
@given(
    quantity=st.integers(min_value=1, max_value=1_000).map(float),
    cap=st.sampled_from([0.01, 0.05, 0.3, 1.0]),
    volumes=st.lists(
        st.integers(min_value=100, max_value=5_000).map(float), min_size=1, max_size=5
    ),
)
def test_volume_capped_partial_fills_add_up_to_the_order(
    quantity: float, cap: float, volumes: list[float]
) -> None:
    model = FillModel(FillConfig(volume_cap=cap))
    order: WorkingOrder | None = WorkingOrder(OrderSide.BUY, quantity)
    filled: list[float] = []
    index = 0
    while order is not None:
        volume = volumes[index % len(volumes)]
        step = model.step(order, make_bar(100.0, 101.0, 99.0, 100.0, volume=volume))
        assert step.fill is not None
        assert step.fill.quantity <= cap * volume
        if step.order is not None:  # not the last fill: as much as the bar allows
            assert step.fill.quantity == cap * volume
        filled.append(step.fill.quantity)
        order = step.order
        index += 1

    assert math.fsum(filled) == pytest.approx(quantity, rel=1e-12)


@settings(max_examples=100, deadline=None)
@given(
    order=working_orders(),
    bar=bars(volume=st.sampled_from([0.0, 5.0, 1e6])),
    commission=commission_configs,
    slippage=slippage_configs,
)
def test_costs_are_never_negative(
    order: WorkingOrder, bar: Bar, commission: CommissionConfig, slippage: SlippageConfig
) -> None:
    fill = FillModel(commission=commission, slippage=slippage).fill(order, bar)

    if fill is not None:
        assert fill.commission >= 0.0
        assert fill.slippage >= 0.0
        assert int(fill.side) * (fill.price - fill.bar_price) >= 0.0


@numba.njit
def _first_limit_fill(
    side: int, limit: float, opens: np.ndarray, highs: np.ndarray, lows: np.ndarray
) -> tuple[int, float]:
    for i in range(opens.shape[0]):
        filled, price, _, _ = _nb.match_order_nb(
            _nb.LIMIT, side, 1.0, limit, np.nan, np.nan, np.nan, np.nan, False,
            opens[i], highs[i], lows[i], opens[i], 1.0, np.nan, False,
        )  # fmt: skip
        if filled > 0.0:
            return i, price
    return -1, np.nan


def test_kernels_are_callable_from_compiled_code() -> None:
    opens = np.array([100.0, 99.0, 97.0])
    highs = np.array([101.0, 100.0, 98.0])
    lows = np.array([99.0, 98.5, 96.0])

    assert _first_limit_fill(1, 98.0, opens, highs, lows) == (2, 97.0)


# ---------------------------------------------------------------- helpers


def _kernel_state(order: WorkingOrder) -> tuple[object, ...]:
    def number(value: float | None) -> float:
        return math.nan if value is None else value

    return (
        int(order.order_type),
        int(order.side),
        order.quantity,
        number(order.limit_price),
        number(order.stop_price),
        number(order.trail_amount),
        number(order.trail_percent),
        number(order.trail_extreme),
        order.triggered,
    )


def _composed(
    order: WorkingOrder,
    state: tuple[object, ...],
    bar_values: tuple[float, ...],
    at_close: bool,
    *,
    cap: float,
    commission: CommissionConfig,
    slippage: SlippageConfig,
) -> tuple[object, ...]:
    """Chain the primitive kernels by hand: match, slip taker fills, charge."""
    filled, bar_price, triggered, extreme = _nb.match_order_nb(*state, *bar_values, cap, at_close)
    if filled <= 0.0:
        return 0.0, math.nan, math.nan, 0.0, order.fee_basis, triggered, extreme
    maker = order.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
    price = bar_price
    if not maker:
        price = _nb.slippage_nb(
            int(order.side), bar_price, filled, bar_values[4], *slippage_arguments(slippage)
        )
    amount, basis = _nb.commission_nb(
        filled,
        price,
        maker,
        order.filled_quantity == 0.0,
        order.fee_basis,
        *commission_arguments(commission),
    )
    return filled, bar_price, price, amount, basis, triggered, extreme


def _same(left: tuple[object, ...], right: tuple[object, ...]) -> bool:
    if len(left) != len(right):
        return False
    for a, b in zip(left, right, strict=True):
        if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
            continue
        if a != b:
            return False
    return True
