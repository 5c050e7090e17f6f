"""Targets to orders: sizing, netting against open orders, leverage cap, lots, sequencing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quantstrata.core.errors import ConfigError, UnknownSymbolError
from quantstrata.execution.targets import (
    TARGET_TAG,
    SizingRules,
    TargetBook,
    leverage_note,
    leverage_tag,
    no_leverage_room,
    orders_for_targets,
)
from quantstrata.model.identifiers import ClientOrderId, VenueOrderId
from quantstrata.model.orders import Accepted, Order, OrderRequest, OrderSide, Submitted

NOW = datetime(2024, 3, 1, 21, 0, tzinfo=UTC)


def _working(symbol: str, quantity: float, number: int = 1) -> Order:
    order_id = ClientOrderId(f"run-{number}")
    order = Order.submit(Submitted(order_id, NOW, OrderRequest.market(symbol, quantity)))
    return order.apply(Accepted(order_id, NOW, VenueOrderId(f"v{number}")))


def _book(
    cash: float = 10_000.0,
    positions: dict[str, float] | None = None,
    prices: dict[str, float] | None = None,
    orders: tuple[Order, ...] = (),
) -> TargetBook:
    return TargetBook(cash, positions or {}, orders, prices or {"SPX": 100.0})


def test_fraction_target_from_flat_buys_equity_over_price() -> None:
    [order] = orders_for_targets({"SPX": 0.5}, _book(), SizingRules())
    assert order.side is OrderSide.BUY
    assert order.quantity == pytest.approx(50.0)
    assert order.tag == TARGET_TAG


def test_units_target_is_the_position_itself() -> None:
    [order] = orders_for_targets(
        {"SPX": -3.0}, _book(positions={"SPX": 2.0}, cash=9_800.0), SizingRules(units=True)
    )
    assert (order.side, order.quantity) == (OrderSide.SELL, 5.0)


def test_target_already_reached_or_covered_by_a_working_order_orders_nothing() -> None:
    assert (
        orders_for_targets({"SPX": 1.0}, _book(cash=0.0, positions={"SPX": 100.0}), SizingRules())
        == []
    )
    pending = _book(orders=(_working("SPX", 100.0),))
    assert orders_for_targets({"SPX": 1.0}, pending, SizingRules()) == []


def test_working_order_is_netted_not_repeated() -> None:
    book = _book(orders=(_working("SPX", 30.0),))
    [order] = orders_for_targets({"SPX": 1.0}, book, SizingRules(units=True))
    assert (order.side, order.quantity) == (OrderSide.SELL, 29.0)


def test_leverage_cap_reduces_and_tags() -> None:
    [order] = orders_for_targets({"SPX": 2.0}, _book(), SizingRules(max_leverage=1.5))
    assert order.quantity == pytest.approx(150.0)
    assert order.tag == leverage_tag(200.0, 150.0)
    assert "leverage cap reduced 200 to 150" in order.tag


def test_no_shorting_turns_a_short_target_flat() -> None:
    [order] = orders_for_targets(
        {"SPX": -1.0}, _book(cash=0.0, positions={"SPX": 100.0}), SizingRules(allow_short=False)
    )
    assert (order.side, order.quantity) == (OrderSide.SELL, 100.0)


def test_lots_round_toward_zero_and_drop_below_minimum() -> None:
    rules = SizingRules(lots={"SPX": (10.0, 20.0)})
    [order] = orders_for_targets({"SPX": 0.57}, _book(), rules)
    assert order.quantity == 50.0
    assert orders_for_targets({"SPX": 0.15}, _book(), rules) == []


def test_reductions_come_first_so_a_rotation_is_funded() -> None:
    book = _book(cash=0.0, positions={"A": 100.0}, prices={"A": 100.0, "B": 50.0})
    orders = orders_for_targets({"B": 1.0, "A": 0.0}, book, SizingRules())
    assert [(order.symbol, order.side, order.quantity) for order in orders] == [
        ("A", OrderSide.SELL, 100.0),
        ("B", OrderSide.BUY, pytest.approx(200.0)),
    ]


def test_target_without_a_price_names_the_symbol() -> None:
    with pytest.raises(UnknownSymbolError, match="'IXIC'"):
        orders_for_targets({"IXIC": 1.0}, _book(), SizingRules())


def test_rules_refuse_bad_leverage() -> None:
    with pytest.raises(ConfigError, match="max_leverage"):
        SizingRules(max_leverage=0.0)


@given(
    target=st.floats(-2.0, 2.0),
    held=st.floats(-500.0, 500.0),
    working=st.floats(-300.0, 300.0).filter(lambda value: abs(value) > 1e-6),
    price=st.floats(1.0, 1_000.0),
)
def test_after_the_orders_fill_the_units_target_is_met(
    target: float, held: float, working: float, price: float
) -> None:
    book = TargetBook(1e7, {"SPX": held}, (_working("SPX", working),), {"SPX": price})
    rules = SizingRules(units=True, max_leverage=1e9)
    orders = orders_for_targets({"SPX": target * 100}, book, rules)
    signed = sum(float(order.side) * order.quantity for order in orders)
    assert held + working + signed == pytest.approx(target * 100, abs=1e-9)


def test_the_leverage_notes_have_one_spelling() -> None:
    assert leverage_note(200.0, 150.0) == "leverage cap reduced 200 to 150"
    assert leverage_tag(200.0, 150.0) == f"target; {leverage_note(200.0, 150.0)}"
    assert leverage_tag(200.0, 200.0) == "target"
    assert no_leverage_room(1.5) == "leverage cap: no room at max_leverage 1.5"
