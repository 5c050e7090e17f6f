from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import pytest

from quantstrata.core.errors import ConfigError, QuantstrataError
from quantstrata.model.identifiers import ClientOrderId, TradeId, VenueOrderId
from quantstrata.model.orders.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from quantstrata.model.orders.events import Accepted, Rejected, Resolved, TimedOut
from quantstrata.model.orders.fill import Fill, Liquidity
from quantstrata.model.orders.request import (
    Bracket,
    InvalidOrderError,
    OneCancelsOther,
    OrderRequest,
)
from tests.kit.orders import ORDER_ID, START, SYMBOL, make_fill

_PRICES = {
    "limit_price": 100.0,
    "stop_price": 95.0,
    "trail_amount": 2.0,
    "trail_percent": 0.05,
}
_NEEDS: dict[OrderType, tuple[str, ...]] = {
    OrderType.MARKET: (),
    OrderType.LIMIT: ("limit_price",),
    OrderType.STOP: ("stop_price",),
    OrderType.STOP_LIMIT: ("limit_price", "stop_price"),
    OrderType.TRAILING_STOP: ("trail_amount",),
}


def _request(**fields: Any) -> OrderRequest:
    arguments: dict[str, Any] = {"symbol": SYMBOL, "side": OrderSide.BUY, "quantity": 1.0}
    arguments.update(fields)
    return OrderRequest(**arguments)


def test_errors_are_typed_value_errors():
    assert issubclass(InvalidOrderError, QuantstrataError)
    assert issubclass(InvalidOrderError, ValueError)


@pytest.mark.parametrize(
    "quantity", [math.nan, math.inf, -math.inf, 0.0, -1.0, -0.0, True, "1", None]
)
def test_bad_quantities_are_refused_naming_field_and_value(quantity: object):
    with pytest.raises(InvalidOrderError) as raised:
        _request(quantity=quantity)
    assert raised.value.field == "quantity"
    assert raised.value.value is quantity
    assert "quantity" in str(raised.value)
    assert repr(quantity) in str(raised.value)


@pytest.mark.parametrize("order_type", list(OrderType))
def test_each_type_accepts_exactly_its_prices(order_type: OrderType):
    prices = {name: _PRICES[name] for name in _NEEDS[order_type]}
    request = _request(order_type=order_type, **prices)
    for name in _PRICES:
        assert (getattr(request, name) is not None) == (name in prices)


@pytest.mark.parametrize(
    ("order_type", "missing"),
    [(kind, name) for kind, names in _NEEDS.items() for name in names],
)
def test_missing_prices_are_refused(order_type: OrderType, missing: str):
    prices = {name: _PRICES[name] for name in _NEEDS[order_type] if name != missing}
    with pytest.raises(InvalidOrderError, match=f"needs.*{missing}") as raised:
        _request(order_type=order_type, **prices)
    assert raised.value.field == missing


@pytest.mark.parametrize(
    ("order_type", "extra"),
    [
        (kind, name)
        for kind in OrderType
        for name in _PRICES
        if name not in _NEEDS[kind]
        and not (kind is OrderType.TRAILING_STOP and name == "trail_percent")
    ],
)
def test_extra_prices_are_refused(order_type: OrderType, extra: str):
    prices = {name: _PRICES[name] for name in _NEEDS[order_type]}
    prices[extra] = _PRICES[extra]
    with pytest.raises(InvalidOrderError) as raised:
        _request(order_type=order_type, **prices)
    assert raised.value.field == extra
    assert repr(_PRICES[extra]) in str(raised.value)


@pytest.mark.parametrize("price", [math.nan, math.inf, 0.0, -5.0])
@pytest.mark.parametrize("field", ["limit_price", "stop_price"])
def test_bad_prices_are_refused(field: str, price: float):
    with pytest.raises(InvalidOrderError) as raised:
        _request(
            order_type=OrderType.STOP_LIMIT,
            **{**_PRICES, "trail_amount": None, "trail_percent": None, field: price},
        )
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({}, "trail_amount"),
        ({"trail_amount": 1.0, "trail_percent": 0.1}, "trail_percent"),
        ({"trail_percent": 1.0}, "trail_percent"),
    ],
)
def test_trailing_stops_need_exactly_one_trail(fields: dict[str, float], field: str):
    with pytest.raises(InvalidOrderError) as raised:
        _request(order_type=OrderType.TRAILING_STOP, **fields)
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("side", 0),
        ("side", True),
        ("side", "BUY"),
        ("order_type", 9),
        ("time_in_force", -1),
        ("reduce_only", 1),
        ("tag", "a\nb"),
        ("symbol", " BTC"),
        ("symbol", 42),
    ],
)
def test_other_bad_fields_are_refused(field: str, value: object):
    with pytest.raises(InvalidOrderError) as raised:
        _request(**{field: value})
    assert raised.value.field == field
    assert repr(value) in str(raised.value)


def test_plain_integers_become_enums():
    request = _request(side=-1, order_type=1, limit_price=10, time_in_force=2, quantity=3)
    assert request.side is OrderSide.SELL
    assert request.order_type is OrderType.LIMIT
    assert request.time_in_force is TimeInForce.IOC
    assert isinstance(request.quantity, float)
    assert request.signed_quantity == -3.0


@pytest.mark.parametrize(
    ("signed", "side", "quantity"), [(2.5, OrderSide.BUY, 2.5), (-4, OrderSide.SELL, 4.0)]
)
def test_constructors_take_a_signed_quantity(signed: float, side: OrderSide, quantity: float):
    market = OrderRequest.market("SPY", signed, tag="entry")
    limit = OrderRequest.limit("SPY", signed, 10.0, time_in_force=TimeInForce.DAY)
    stop = OrderRequest.stop("SPY", signed, 9.0, reduce_only=True)
    for request in (market, limit, stop):
        assert (request.side, request.quantity) == (side, quantity)
    assert (market.order_type, market.tag) == (OrderType.MARKET, "entry")
    assert (limit.limit_price, limit.time_in_force) == (10.0, TimeInForce.DAY)
    assert (stop.stop_price, stop.reduce_only) == (9.0, True)


@pytest.mark.parametrize("signed", [0.0, math.nan])
def test_constructors_refuse_a_quantity_without_a_sign(signed: float):
    with pytest.raises(InvalidOrderError, match="signed_quantity"):
        OrderRequest.market("SPY", signed)


# ------------------------------------------------------------------------------ brackets


def test_bracket_exits_are_opposite_reduce_only_orders_for_the_entry_quantity():
    entry = OrderRequest.limit("SPY", 5, 100.0)
    bracket = Bracket(entry, stop_loss=95.0, take_profit=110.0)
    stop, target = bracket.stop_loss_request, bracket.take_profit_request
    assert stop is not None
    assert target is not None
    assert (stop.side, stop.quantity, stop.order_type) == (OrderSide.SELL, 5.0, OrderType.STOP)
    assert (target.order_type, target.limit_price) == (OrderType.LIMIT, 110.0)
    assert stop.stop_price == 95.0
    assert stop.reduce_only
    assert target.reduce_only
    assert Bracket(entry, take_profit=120.0).stop_loss_request is None


@pytest.mark.parametrize(
    ("signed", "stop_loss", "take_profit", "field"),
    [
        (5, 105.0, 110.0, "stop_loss"),  # long stop above entry
        (5, 95.0, 99.0, "take_profit"),  # long target below entry
        (-5, 95.0, 90.0, "stop_loss"),  # short stop below entry
        (-5, 105.0, 101.0, "take_profit"),  # short target above entry
        (5, 95.0, None, None),
        (5, None, None, "stop_loss"),
        (5, math.nan, 110.0, "stop_loss"),
    ],
)
def test_bracket_prices_must_lie_on_the_right_sides(
    signed: float, stop_loss: float | None, take_profit: float | None, field: str | None
):
    entry = OrderRequest.limit("SPY", signed, 100.0)
    if field is None:
        Bracket(entry, stop_loss, take_profit)
        return
    with pytest.raises(InvalidOrderError) as raised:
        Bracket(entry, stop_loss, take_profit)
    assert raised.value.field == field


def test_market_entry_brackets_check_stop_against_target():
    entry = OrderRequest.market("SPY", -1)
    Bracket(entry, stop_loss=110.0, take_profit=90.0)
    with pytest.raises(InvalidOrderError, match="above"):
        Bracket(entry, stop_loss=90.0, take_profit=110.0)


def test_one_cancels_other_needs_two_requests_for_one_symbol():
    first, second = OrderRequest.limit("SPY", 1, 99.0), OrderRequest.stop("SPY", 1, 101.0)
    assert OneCancelsOther(first, second).orders == (first, second)
    with pytest.raises(InvalidOrderError) as raised:
        OneCancelsOther(first, OrderRequest.stop("QQQ", 1, 101.0))
    assert raised.value.field == "second"
    with pytest.raises(InvalidOrderError):
        OneCancelsOther(first, "not a request")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- fills, ids, events


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("quantity", 0.0),
        ("price", math.nan),
        ("commission", -0.01),
        ("commission", math.inf),
        ("liquidity", "both"),
        ("ts", datetime(2024, 1, 1)),  # naive on purpose
        ("trade_id", ""),
        ("order_id", "has space"),
        ("side", 2),
    ],
)
def test_bad_fills_are_refused(field: str, value: object):
    good = make_fill("t1", 1.0)
    arguments = {name: getattr(good, name) for name in Fill.__dataclass_fields__}
    arguments[field] = value
    with pytest.raises(InvalidOrderError) as raised:
        Fill(**arguments)
    assert raised.value.field == field


def test_fills_take_liquidity_as_text_and_sign_their_quantity():
    fill = make_fill("t1", 2.0, 50.0, side=OrderSide.SELL)
    assert fill.signed_quantity == -2.0
    assert fill.value == 100.0
    arguments = {name: getattr(fill, name) for name in Fill.__dataclass_fields__}
    assert Fill(**{**arguments, "liquidity": "maker"}).liquidity is Liquidity.MAKER


@pytest.mark.parametrize(
    "text", ["a", "ORD_2024-01-01_0001", "0" * 36, "550e8400-e29b-41d4-a716-446655440000"]
)
def test_client_order_ids_that_venues_accept(text: str):
    assert ClientOrderId(text) == text
    assert repr(ClientOrderId(text)) == f"ClientOrderId({text!r})"


@pytest.mark.parametrize("text", ["", "0" * 37, "has space", "a/b", "a.b", "é", "a:b", " a", "a\n"])
def test_client_order_ids_venues_would_refuse_are_refused(text: str):
    with pytest.raises(ConfigError, match="client order id"):
        ClientOrderId(text)


@pytest.mark.parametrize("kind", [VenueOrderId, TradeId])
def test_venue_ids_keep_any_printable_text(kind: type[str]):
    assert kind("BINANCE:12345/x y") == "BINANCE:12345/x y"
    for bad in ("", " 1", "1\t2", 12):
        with pytest.raises(ConfigError):
            kind(bad)


def test_events_check_their_fields():
    with pytest.raises(InvalidOrderError, match="reason"):
        Rejected(ORDER_ID, START, "  ")
    with pytest.raises(InvalidOrderError, match="ts"):
        TimedOut(ORDER_ID, datetime(2024, 1, 1), "x")
    with pytest.raises(InvalidOrderError, match="venue_order_id"):
        Accepted(ORDER_ID, START, "")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "venue_id", "fills", "field"),
    [
        (None, "V1", 0, "venue_status"),
        (None, None, 1, "venue_status"),
        (OrderStatus.SENDING, "V1", 0, "venue_status"),
        (OrderStatus.UNKNOWN, "V1", 0, "venue_status"),
        (OrderStatus.PENDING, None, 0, "venue_order_id"),
        (OrderStatus.PENDING, "V1", 1, "fills"),
        (OrderStatus.REJECTED, "V1", 1, "fills"),
        (OrderStatus.FILLED, "V1", 0, "fills"),
        (OrderStatus.PARTIAL, "V1", 0, "fills"),
    ],
)
def test_resolutions_a_venue_cannot_give_are_refused(
    status: OrderStatus | None, venue_id: str | None, fills: int, field: str
):
    with pytest.raises(InvalidOrderError) as raised:
        Resolved(
            ORDER_ID,
            START,
            status,
            venue_id,  # type: ignore[arg-type]
            tuple(make_fill(f"t{index}", 1.0) for index in range(fills)),
        )
    assert raised.value.field == field


def test_resolution_fills_must_belong_to_the_order():
    with pytest.raises(InvalidOrderError, match="fills"):
        Resolved(
            ORDER_ID,
            START,
            OrderStatus.PARTIAL,
            VenueOrderId("V1"),
            (make_fill("t1", 1.0, order_id="other"),),
        )
