"""One test per fill rule, on hand-made bars whose expected fills are worked out by hand."""

from __future__ import annotations

import pytest

from quantstrata.core.errors import ConfigError
from quantstrata.execution import (
    BracketLeg,
    FillConfig,
    FillModel,
    FillPolicy,
    IntrabarPolicy,
    SlippageConfig,
    WorkingBracket,
    WorkingOrder,
)
from quantstrata.model.instrument import AssetClass, Instrument
from quantstrata.model.orders import InvalidOrderError
from quantstrata.model.orders.enums import OrderSide, OrderType
from tests.kit.execution import make_bar

BUY, SELL = OrderSide.BUY, OrderSide.SELL
MODEL = FillModel()


def _price(order: WorkingOrder, *bars: tuple[float, float, float, float]) -> float | None:
    """Step ``order`` through ``bars`` (open, high, low, close); return the first fill price."""
    for index, (open_, high, low, close) in enumerate(bars):
        step = MODEL.step(order, make_bar(open_, high, low, close, index=index))
        if step.fill is not None:
            return step.fill.bar_price
        assert step.order is not None
        order = step.order
    return None


def _limit(side: OrderSide, limit: float) -> WorkingOrder:
    return WorkingOrder(side, 10.0, OrderType.LIMIT, limit_price=limit)


def _stop(side: OrderSide, stop: float) -> WorkingOrder:
    return WorkingOrder(side, 10.0, OrderType.STOP, stop_price=stop)


def _stop_limit(side: OrderSide, stop: float, limit: float) -> WorkingOrder:
    return WorkingOrder(side, 10.0, OrderType.STOP_LIMIT, stop_price=stop, limit_price=limit)


# ---------------------------------------------------------------- market


def test_market_order_fills_at_the_open_of_the_fill_bar() -> None:
    result = MODEL.fill(WorkingOrder(BUY, 10.0), make_bar(100.0, 105.0, 95.0, 102.0))

    assert result is not None
    assert (result.quantity, result.bar_price, result.price) == (10.0, 100.0, 100.0)
    assert result.complete


def test_market_order_slippage_goes_against_the_trader() -> None:
    model = FillModel(slippage=SlippageConfig(fixed_basis_points=10.0))
    bar = make_bar(100.0, 105.0, 95.0, 102.0)

    bought = model.fill(WorkingOrder(BUY, 10.0), bar)
    sold = model.fill(WorkingOrder(SELL, 10.0), bar)

    assert bought is not None
    assert sold is not None
    assert bought.price == pytest.approx(100.1, abs=1e-12)
    assert sold.price == pytest.approx(99.9, abs=1e-12)
    assert bought.slippage == pytest.approx(1.0) == sold.slippage


# ---------------------------------------------------------------- limit


@pytest.mark.parametrize(
    ("side", "limit", "bar", "expected"),
    [
        pytest.param(BUY, 98.0, (100.0, 101.0, 97.0, 99.0), 98.0, id="buy-inside-bar"),
        pytest.param(BUY, 98.0, (96.0, 97.0, 95.0, 96.5), 96.0, id="buy-gap-down-at-open"),
        pytest.param(BUY, 98.0, (100.0, 101.0, 98.0, 99.0), 98.0, id="buy-touch"),
        pytest.param(BUY, 98.0, (100.0, 101.0, 98.5, 99.0), None, id="buy-not-reached"),
        pytest.param(SELL, 102.0, (100.0, 103.0, 99.0, 101.0), 102.0, id="sell-inside-bar"),
        pytest.param(SELL, 102.0, (104.0, 105.0, 103.5, 104.0), 104.0, id="sell-gap-up-at-open"),
        pytest.param(SELL, 102.0, (100.0, 101.9, 99.0, 101.0), None, id="sell-not-reached"),
    ],
)
def test_limit_order(
    side: OrderSide, limit: float, bar: tuple[float, float, float, float], expected: float | None
) -> None:
    assert _price(_limit(side, limit), bar) == expected


def test_limit_fill_is_a_maker_fill_without_slippage() -> None:
    model = FillModel(slippage=SlippageConfig(fixed_basis_points=50.0))

    result = model.fill(_limit(BUY, 98.0), make_bar(100.0, 101.0, 97.0, 99.0))

    assert result is not None
    assert result.price == result.bar_price == 98.0
    assert result.liquidity == "maker"


# ---------------------------------------------------------------- stop


@pytest.mark.parametrize(
    ("side", "stop", "bar", "expected"),
    [
        pytest.param(BUY, 102.0, (100.0, 103.0, 99.0, 101.0), 102.0, id="buy-inside-bar"),
        pytest.param(BUY, 102.0, (104.0, 105.0, 103.0, 104.0), 104.0, id="buy-gap-up-at-open"),
        pytest.param(BUY, 102.0, (100.0, 101.0, 99.0, 100.5), None, id="buy-not-reached"),
        pytest.param(SELL, 98.0, (100.0, 101.0, 97.0, 99.0), 98.0, id="sell-inside-bar"),
        pytest.param(SELL, 98.0, (96.0, 97.0, 95.0, 96.0), 96.0, id="sell-gap-down-at-open"),
        pytest.param(SELL, 98.0, (100.0, 101.0, 98.5, 99.0), None, id="sell-not-reached"),
    ],
)
def test_stop_order(
    side: OrderSide, stop: float, bar: tuple[float, float, float, float], expected: float | None
) -> None:
    assert _price(_stop(side, stop), bar) == expected


def test_stop_fill_is_a_taker_fill_with_slippage() -> None:
    model = FillModel(slippage=SlippageConfig(spread=0.2))

    result = model.fill(_stop(BUY, 102.0), make_bar(100.0, 103.0, 99.0, 101.0))

    assert result is not None
    assert result.bar_price == 102.0
    assert result.price == pytest.approx(102.1, abs=1e-12)
    assert result.liquidity == "taker"


# ---------------------------------------------------------------- stop-limit


@pytest.mark.parametrize(
    ("order", "bars", "expected"),
    [
        pytest.param(
            _stop_limit(BUY, 102.0, 103.0),
            [(100.0, 104.0, 99.0, 101.0)],
            102.0,
            id="trigger-at-stop",
        ),
        pytest.param(
            _stop_limit(BUY, 102.0, 103.0), [(102.5, 104.0, 102.0, 103.0)], 102.5, id="gap-in-limit"
        ),
        pytest.param(
            _stop_limit(BUY, 102.0, 103.0),
            [(104.0, 105.0, 102.8, 103.5)],
            103.0,
            id="gap-past-limit-comes-back",
        ),
        pytest.param(
            _stop_limit(BUY, 102.0, 103.0),
            [(104.0, 105.0, 103.5, 104.5)],
            None,
            id="gap-past-limit-stays-out",
        ),
        pytest.param(
            _stop_limit(BUY, 102.0, 101.0),
            [(100.0, 104.0, 99.0, 101.0), (100.5, 101.5, 100.2, 101.0)],
            100.5,
            id="limit-below-stop-waits-for-next-bar",
        ),
        pytest.param(
            _stop_limit(SELL, 98.0, 97.0), [(100.0, 101.0, 96.0, 99.0)], 98.0, id="sell-trigger"
        ),
        pytest.param(
            _stop_limit(SELL, 98.0, 97.0),
            [(96.0, 97.5, 95.0, 96.0)],
            97.0,
            id="sell-gap-past-limit",
        ),
        pytest.param(
            _stop_limit(BUY, 102.0, 103.0), [(100.0, 101.0, 99.0, 100.0)], None, id="not-triggered"
        ),
    ],
)
def test_stop_limit_order(
    order: WorkingOrder, bars: list[tuple[float, float, float, float]], expected: float | None
) -> None:
    assert _price(order, *bars) == expected


def test_stop_limit_trigger_without_fill_is_remembered() -> None:
    step = MODEL.step(_stop_limit(BUY, 102.0, 101.0), make_bar(100.0, 104.0, 99.0, 101.0))

    assert step.fill is None
    assert step.order is not None
    assert step.order.triggered


# ---------------------------------------------------------------- trailing stop


def _trailing(side: OrderSide, **trail: float) -> WorkingOrder:
    return WorkingOrder(side, 10.0, OrderType.TRAILING_STOP, **trail)


def test_trailing_stop_follows_the_best_price_then_fills() -> None:
    order = _trailing(SELL, trail_amount=2.0, trail_extreme=100.0)

    # Stop 98 is not reached (low 99.5); the high of 103 moves it to 101; the next bar
    # trades down through 101 from an open of 102 and fills there.
    assert _price(order, (100.0, 103.0, 99.5, 102.0), (102.0, 102.5, 100.5, 101.0)) == 101.0


def test_trailing_stop_is_tested_before_the_bar_moves_it() -> None:
    order = _trailing(SELL, trail_amount=2.0, trail_extreme=100.0)

    step = MODEL.step(order, make_bar(100.0, 110.0, 99.0, 100.0))

    # Moving first would give a stop of 108, inside this bar: that would be look-ahead.
    assert step.fill is None
    assert step.order is not None
    assert step.order.trail_extreme == 110.0
    assert step.order.trailing_stop == 108.0


def test_trailing_stop_by_percent_for_a_buy() -> None:
    order = _trailing(BUY, trail_percent=0.1, trail_extreme=100.0)

    step = MODEL.step(order, make_bar(100.0, 105.0, 90.0, 95.0))

    assert step.fill is None
    assert step.order is not None
    assert step.order.trailing_stop == pytest.approx(99.0)
    assert _price(step.order, (97.0, 100.0, 96.0, 99.5)) == pytest.approx(99.0)


def test_trailing_stop_gap_fills_at_the_open() -> None:
    order = _trailing(SELL, trail_amount=2.0, trail_extreme=100.0)

    assert _price(order, (95.0, 96.0, 94.0, 95.5)) == 95.0


def test_trailing_stop_without_extreme_starts_from_the_first_open() -> None:
    order = _trailing(SELL, trail_amount=2.0)

    assert _price(order, (100.0, 100.5, 97.5, 98.0)) == 98.0


# ---------------------------------------------------------------- brackets


def _bracket_fill(
    bracket: WorkingBracket, bar: tuple[float, float, float, float], intrabar: IntrabarPolicy
) -> tuple[BracketLeg | None, float | None]:
    model = FillModel(FillConfig(intrabar=intrabar))
    step = model.step_bracket(bracket, make_bar(*bar))
    return step.leg, None if step.fill is None else step.fill.bar_price


LONG_EXIT = WorkingBracket(SELL, 5.0, stop_loss=95.0, take_profit=105.0)
SHORT_EXIT = WorkingBracket(BUY, 5.0, stop_loss=105.0, take_profit=95.0)
ADVERSE, FAVOURABLE = IntrabarPolicy.ADVERSE_FIRST, IntrabarPolicy.FAVOURABLE_FIRST
SL, TP = BracketLeg.STOP_LOSS, BracketLeg.TAKE_PROFIT


@pytest.mark.parametrize(
    ("bracket", "bar", "intrabar", "expected"),
    [
        pytest.param(LONG_EXIT, (100.0, 106.0, 94.0, 100.0), ADVERSE, (SL, 95.0), id="both-adv"),
        pytest.param(
            LONG_EXIT, (100.0, 106.0, 94.0, 100.0), FAVOURABLE, (TP, 105.0), id="both-fav"
        ),
        pytest.param(LONG_EXIT, (93.0, 107.0, 92.0, 100.0), FAVOURABLE, (SL, 93.0), id="gap-sl"),
        pytest.param(LONG_EXIT, (106.0, 107.0, 94.0, 100.0), ADVERSE, (TP, 106.0), id="gap-tp"),
        pytest.param(LONG_EXIT, (100.0, 106.0, 96.0, 105.0), ADVERSE, (TP, 105.0), id="tp-only"),
        pytest.param(LONG_EXIT, (100.0, 104.0, 94.0, 96.0), FAVOURABLE, (SL, 95.0), id="sl-only"),
        pytest.param(LONG_EXIT, (100.0, 104.0, 96.0, 101.0), ADVERSE, (None, None), id="inside"),
        pytest.param(SHORT_EXIT, (100.0, 106.0, 94.0, 100.0), ADVERSE, (SL, 105.0), id="short-adv"),
        pytest.param(
            SHORT_EXIT, (100.0, 106.0, 94.0, 100.0), FAVOURABLE, (TP, 95.0), id="short-fav"
        ),
        pytest.param(
            SHORT_EXIT, (107.0, 108.0, 94.0, 100.0), FAVOURABLE, (SL, 107.0), id="short-gap"
        ),
    ],
)
def test_bracket_exit(
    bracket: WorkingBracket,
    bar: tuple[float, float, float, float],
    intrabar: IntrabarPolicy,
    expected: tuple[BracketLeg | None, float | None],
) -> None:
    assert _bracket_fill(bracket, bar, intrabar) == expected


def test_bracket_partly_filled_leaves_the_reached_leg_working() -> None:
    model = FillModel(FillConfig(volume_cap=0.01))

    step = model.step_bracket(LONG_EXIT, make_bar(100.0, 101.0, 94.0, 96.0, volume=200.0))

    assert (step.bracket, step.leg) == (None, SL)
    assert step.fill is not None
    assert (step.fill.quantity, step.fill.bar_price) == (2.0, 95.0)
    assert step.order is not None
    assert (step.order.order_type, step.order.triggered, step.order.quantity) == (
        OrderType.STOP,
        True,
        3.0,
    )


def test_bracket_take_profit_on_an_empty_bar_keeps_both_legs() -> None:
    model = FillModel(FillConfig(volume_cap=0.5))

    step = model.step_bracket(LONG_EXIT, make_bar(100.0, 106.0, 99.0, 105.0, volume=0.0))

    assert step.bracket is not None
    assert (step.leg, step.fill, step.order) == (None, None, None)


def test_bracket_with_legs_on_the_wrong_sides_is_refused() -> None:
    with pytest.raises(InvalidOrderError, match="stop_loss below"):
        WorkingBracket(SELL, 1.0, stop_loss=105.0, take_profit=95.0)


# ---------------------------------------------------------------- volume


def test_volume_cap_fills_part_and_leaves_the_rest_working() -> None:
    model = FillModel(FillConfig(volume_cap=0.1))

    first = model.step(WorkingOrder(BUY, 10.0), make_bar(100.0, 101.0, 99.0, 100.0, volume=50.0))
    assert first.fill is not None
    assert first.order is not None
    second = model.step(first.order, make_bar(101.0, 102.0, 100.0, 101.0, volume=100.0, index=1))

    assert (first.fill.quantity, first.fill.bar_price, first.order.quantity) == (5.0, 100.0, 5.0)
    assert second.fill is not None
    assert (second.fill.quantity, second.fill.bar_price, second.order) == (5.0, 101.0, None)


def test_zero_volume_bar_fills_nothing_under_a_cap_but_keeps_the_trigger() -> None:
    model = FillModel(FillConfig(volume_cap=0.5))

    step = model.step(_stop(BUY, 102.0), make_bar(100.0, 103.0, 99.0, 101.0, volume=0.0))
    assert step.fill is None
    assert step.order is not None
    later = model.step(step.order, make_bar(99.0, 100.0, 98.0, 99.5, volume=100.0, index=1))

    # Triggered, the stop is a market order: it fills at the next open although 99 < 102.
    assert step.order.triggered
    assert later.fill is not None
    assert later.fill.bar_price == 99.0


def test_zero_volume_bar_fills_in_full_without_a_cap() -> None:
    result = MODEL.fill(WorkingOrder(BUY, 10.0), make_bar(100.0, 101.0, 99.0, 100.0, volume=0.0))

    assert result is not None
    assert result.quantity == 10.0


def test_lot_rounding_rounds_partial_fills_down_to_whole_lots() -> None:
    instrument = Instrument("TEST", AssetClass.CRYPTO, "USD", lot_size=0.1)
    model = FillModel(FillConfig(volume_cap=0.1, round_lots=True), instrument=instrument)

    first = model.step(WorkingOrder(BUY, 1.0), make_bar(100.0, 101.0, 99.0, 100.0, volume=7.77))
    assert first.fill is not None
    assert first.order is not None
    second = model.step(first.order, make_bar(100.0, 101.0, 99.0, 100.0, volume=7.77, index=1))

    assert (first.fill.quantity, first.order.quantity) == (0.7, 0.3)
    assert second.fill is not None
    assert (second.fill.quantity, second.order) == (0.3, None)


def test_lot_rounding_needs_an_instrument() -> None:
    with pytest.raises(ConfigError, match="instrument"):
        FillModel(FillConfig(round_lots=True))


# ---------------------------------------------------------------- fill policy


def test_policy_offsets() -> None:
    assert [policy.bar_offset for policy in FillPolicy] == [1, 1, 0]
    assert [policy.arrives_at_close for policy in FillPolicy] == [False, True, True]


@pytest.mark.parametrize("policy", [FillPolicy.NEXT_CLOSE, FillPolicy.THIS_CLOSE])
def test_close_policies_fill_market_orders_at_the_close(policy: FillPolicy) -> None:
    model = FillModel(FillConfig(policy=policy))

    result = model.fill(WorkingOrder(BUY, 10.0), make_bar(100.0, 105.0, 95.0, 102.0))

    assert result is not None
    assert result.bar_price == 102.0


def test_close_policy_tests_a_new_limit_only_at_the_close_then_whole_bars() -> None:
    model = FillModel(FillConfig(policy=FillPolicy.NEXT_CLOSE))

    # The low (95) reaches the limit, but the order only meets this bar at its close (102).
    first = model.step(_limit(BUY, 101.0), make_bar(100.0, 105.0, 95.0, 102.0))
    assert first.fill is None
    assert first.order is not None
    second = model.step(first.order, make_bar(102.0, 103.0, 100.0, 100.5, index=1))

    assert second.fill is not None
    assert second.fill.bar_price == 101.0


def test_invalid_orders_are_refused() -> None:
    with pytest.raises(InvalidOrderError, match="limit_price"):
        WorkingOrder(BUY, 1.0, OrderType.LIMIT)
    with pytest.raises(InvalidOrderError, match="quantity"):
        WorkingOrder(BUY, 0.0)
    with pytest.raises(InvalidOrderError, match="only one"):
        WorkingOrder(BUY, 1.0, OrderType.TRAILING_STOP, trail_amount=1.0, trail_percent=0.1)
