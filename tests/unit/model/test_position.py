from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantstrata.model.orders.enums import OrderSide
from quantstrata.model.orders.fill import Fill
from quantstrata.model.position import Position, PositionError
from tests.kit.orders import SYMBOL, make_fill

_BUY, _SELL = OrderSide.BUY, OrderSide.SELL


def _fill(signed: float, price: float, commission: float = 0.0, trade: str = "t") -> Fill:
    side = _BUY if signed > 0 else _SELL
    return make_fill(trade, abs(signed), price, side=side, commission=commission)


def _run(*fills: Fill) -> Position:
    position = Position.flat(SYMBOL)
    for fill in fills:
        position = position.apply(fill)
    return position


def test_a_flat_position_holds_and_earns_nothing():
    flat = Position.flat(SYMBOL)
    assert flat.is_flat
    assert not flat.is_long
    assert not flat.is_short
    assert (flat.quantity, flat.average_price, flat.realized_pnl) == (0.0, 0.0, 0.0)
    assert flat.unrealized_pnl(123.0) == 0.0


def test_open_and_add_average_the_entry_price():
    position = _run(_fill(10, 100.0), _fill(30, 120.0))
    assert position.quantity == 40.0
    assert position.average_price == pytest.approx((10 * 100 + 30 * 120) / 40)
    assert position.realized_pnl == 0.0
    assert position.unrealized_pnl(130.0) == pytest.approx(40 * 130 - (10 * 100 + 30 * 120))


def test_partial_close_realizes_the_closed_part_and_keeps_the_entry_price():
    position = _run(_fill(10, 100.0), _fill(-4, 110.0, commission=1.0))
    assert position.quantity == 6.0
    assert position.average_price == 100.0
    assert position.realized_pnl == pytest.approx(4 * (110 - 100) - 1.0)
    assert position.gross_realized_pnl == pytest.approx(40.0)
    assert position.total_commission == 1.0


def test_full_close_goes_flat_with_average_price_zero():
    position = _run(_fill(-5, 50.0), _fill(5, 40.0))
    assert position.is_flat
    assert position.average_price == 0.0
    assert position.realized_pnl == pytest.approx(5 * (50 - 40))


def test_closing_within_float_error_is_a_full_close():
    position = _run(_fill(0.1, 10.0), _fill(0.2, 10.0), _fill(-0.3, 11.0))
    assert 0.1 + 0.2 - 0.3 != 0
    assert position.is_flat
    assert position.average_price == 0.0


@pytest.mark.parametrize("direction", [1, -1])
def test_a_flip_realizes_the_old_side_and_opens_the_rest_at_the_fill_price(direction: int):
    position = _run(_fill(direction * 3, 100.0), _fill(-direction * 5, 90.0))
    assert position.quantity == -direction * 2
    assert position.average_price == 90.0
    assert position.realized_pnl == pytest.approx(direction * 3 * (90 - 100))
    assert position.is_short == (direction == 1)


def test_a_fill_for_another_symbol_is_refused():
    with pytest.raises(PositionError, match="ETH"):
        Position.flat(SYMBOL).apply(make_fill("t", 1.0, symbol="ETH/USDT"))


@pytest.mark.parametrize(
    ("quantity", "average_price"),
    [(0.0, 5.0), (2.0, 0.0), (-2.0, -5.0), (math.nan, 1.0), (1.0, math.inf)],
)
def test_inconsistent_positions_are_refused(quantity: float, average_price: float):
    with pytest.raises(PositionError):
        Position(SYMBOL, quantity, average_price)


_fills = st.lists(
    st.tuples(
        st.sampled_from([-3.0, -2.5, -1.0, -0.1, 0.1, 0.2, 0.5, 1.0, 2.0, 3.0]),
        st.floats(1.0, 1000.0, allow_nan=False, allow_infinity=False),
        st.sampled_from([0.0, 0.01, 1.25]),
    ),
    max_size=25,
)


@settings(max_examples=100, deadline=None)
@given(fills=_fills, mark=st.floats(1.0, 1000.0))
def test_pnl_equals_cash_flow_accounting_at_any_mark(
    fills: list[tuple[float, float, float]], mark: float
):
    position = Position.flat(SYMBOL)
    cash, held = 0.0, 0.0
    prices: list[float] = []
    for index, (signed, price, commission) in enumerate(fills):
        position = position.apply(_fill(signed, price, commission, trade=f"t{index}"))
        cash += -signed * price - commission
        held += signed
        prices.append(price)
        scale = sum(abs(s) * p for s, p, _ in fills[: index + 1]) + abs(held) * mark
        assert position.total_pnl(mark) == pytest.approx(cash + held * mark, abs=1e-9 * scale)
        assert position.quantity == pytest.approx(held, abs=1e-9)
        assert position.total_commission == pytest.approx(
            math.fsum(c for _, _, c in fills[: index + 1])
        )
        if position.is_flat:
            assert position.average_price == 0.0
        else:
            assert min(prices) - 1e-9 <= position.average_price <= max(prices) + 1e-9
