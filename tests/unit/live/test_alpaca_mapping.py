"""Alpaca's JSON and quantstrata's order model, no socket: requests, orders, fills, refusals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from quantstrata.live.broker import OrderRejectedError
from quantstrata.live.brokers._alpaca_mapping import (
    AlpacaOrderOptions,
    AlpacaRefusal,
    account_from_alpaca,
    events_from_trade_update,
    fill_from_activity,
    group_body,
    order_body,
    refusal_of,
    venue_order_from_alpaca,
)
from quantstrata.live.brokers._alpaca_rest import sdk
from quantstrata.live.brokers._venue_messages import MalformedMessageError
from quantstrata.model.identifiers import ClientOrderId, Symbol
from quantstrata.model.orders import (
    Bracket,
    Cancelled,
    Expired,
    FillEvent,
    OneCancelsOther,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    Rejected,
    TimeInForce,
)

ID = ClientOrderId("run-7")


def _order(**changes: object) -> dict[str, object]:
    order: dict[str, object] = {
        "id": "61e69015-8549-4bfd-b9c3-01e75843f47d",
        "client_order_id": "run-7",
        "symbol": "AAPL",
        "side": "buy",
        "type": "limit",
        "time_in_force": "gtc",
        "qty": "3",
        "filled_qty": "0",
        "filled_avg_price": None,
        "limit_price": "101.5",
        "stop_price": None,
        "status": "new",
        "updated_at": "2024-03-01T15:30:00.123456Z",
    }
    order.update(changes)
    return order


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (
            OrderRequest.market("AAPL", 5),
            {"type": "market", "qty": "5", "side": "buy", "time_in_force": "gtc"},
        ),
        (
            OrderRequest.limit("AAPL", -2, 101.25, time_in_force=TimeInForce.DAY),
            {"type": "limit", "limit_price": "101.25", "side": "sell", "time_in_force": "day"},
        ),
        (
            OrderRequest(Symbol("AAPL"), OrderSide.SELL, 1, OrderType.STOP_LIMIT, 99.0, 100.0),
            {"type": "stop_limit", "limit_price": "99", "stop_price": "100"},
        ),
        (
            OrderRequest(
                Symbol("AAPL"), OrderSide.SELL, 1, OrderType.TRAILING_STOP, trail_percent=0.05
            ),
            {"type": "trailing_stop", "trail_percent": "5"},
        ),
        (
            OrderRequest(
                Symbol("AAPL"), OrderSide.SELL, 1, OrderType.TRAILING_STOP, trail_amount=2.5
            ),
            {"type": "trailing_stop", "trail_price": "2.5"},
        ),
        (
            OrderRequest.market("AAPL", 0.5),
            {"qty": "0.5", "time_in_force": "day"},
        ),
        (
            OrderRequest.limit("AAPL", 0.5, 100.0, time_in_force=TimeInForce.DAY),
            {"qty": "0.5", "time_in_force": "day"},
        ),
        (
            OrderRequest.market("AAPL", -3, reduce_only=True),
            {"position_intent": "sell_to_close"},
        ),
    ],
)
def test_each_order_type_maps_to_alpaca_fields(
    request_: OrderRequest, expected: dict[str, str]
) -> None:
    body = order_body(ID, request_)
    assert body["client_order_id"] == "run-7"
    assert {key: body[key] for key in expected} == expected


def test_alpaca_time_in_force_extended_hours_and_notional_options() -> None:
    limit = OrderRequest.limit("AAPL", 1, 100.0, time_in_force=TimeInForce.DAY)
    body = order_body(ID, limit, AlpacaOrderOptions(extended_hours=True))
    assert body["extended_hours"] is True
    for tif in ("fok", "opg", "cls", "ioc"):
        assert order_body(ID, limit, AlpacaOrderOptions(time_in_force=tif))["time_in_force"] == tif
    market = OrderRequest.market("AAPL", 1)
    body = order_body(ID, market, AlpacaOrderOptions(time_in_force="day", notional=250.0))
    assert body["notional"] == "250"
    assert "qty" not in body


_INVALID, _FRACTIONAL = AlpacaRefusal.INVALID, AlpacaRefusal.FRACTIONAL
_TRAILING_DAY = OrderRequest(
    Symbol("AAPL"), OrderSide.SELL, 0.5, OrderType.TRAILING_STOP, trail_percent=0.05,
    time_in_force=TimeInForce.DAY,
)  # fmt: skip


@pytest.mark.parametrize(
    ("request_", "options", "words", "reason"),
    [
        (
            OrderRequest.market("AAPL", 1),
            AlpacaOrderOptions(extended_hours=True),
            "extended",
            _INVALID,
        ),
        (
            OrderRequest.limit("AAPL", 1, 100.0),
            AlpacaOrderOptions(time_in_force="day", notional=100.0),
            "notional",
            _INVALID,
        ),
        # a fractional quantity: the message says what to do (whole shares, or DAY)
        (
            OrderRequest.limit("AAPL", 0.5, 100.0),
            None,
            "only in a day order.*whole shares",
            _FRACTIONAL,
        ),
        (
            OrderRequest.stop("AAPL", -1.5, 95.0),
            None,
            "day order, and this stop order is gtc.*or use TimeInForce.DAY",
            _FRACTIONAL,
        ),
        (
            OrderRequest.market("AAPL", 0.5, time_in_force=TimeInForce.IOC),
            None,
            "this market order is ioc",
            _FRACTIONAL,
        ),
        (
            OrderRequest.market("AAPL", 0.5),
            AlpacaOrderOptions(time_in_force="opg"),
            "this market order is opg",
            _FRACTIONAL,
        ),
        (
            _TRAILING_DAY,
            None,
            "and this is a trailing-stop order: round the quantity to whole shares$",
            _FRACTIONAL,
        ),
    ],
)
def test_orders_alpaca_refuses_are_refused_before_sending(
    request_: OrderRequest, options: AlpacaOrderOptions | None, words: str, reason: AlpacaRefusal
) -> None:
    with pytest.raises(OrderRejectedError, match=words) as caught:
        order_body(ID, request_, options)
    assert caught.value.reason is reason


def test_a_fractional_bracket_is_refused_a_whole_one_keeps_its_time_in_force() -> None:
    with pytest.raises(OrderRejectedError, match="simple") as caught:
        group_body(ID, Bracket(OrderRequest.market("AAPL", 1.5), stop_loss=95.0))
    assert caught.value.reason is AlpacaRefusal.FRACTIONAL
    whole = group_body(ID, Bracket(OrderRequest.market("AAPL", 2), stop_loss=95.0))
    assert whole["time_in_force"] == "gtc"


def test_brackets_and_oco_pairs_become_alpaca_order_classes() -> None:
    entry = OrderRequest.limit("AAPL", 10, 100.0)
    body = group_body(ID, Bracket(entry, stop_loss=95.0, take_profit=110.0))
    assert body["order_class"] == "bracket"
    assert body["take_profit"] == {"limit_price": "110"}
    assert body["stop_loss"] == {"stop_price": "95"}
    assert group_body(ID, Bracket(entry, stop_loss=95.0))["order_class"] == "oto"
    pair = OneCancelsOther(
        OrderRequest.limit("AAPL", -10, 110.0), OrderRequest.stop("AAPL", -10, 95.0)
    )
    body = group_body(ID, pair)
    assert body["order_class"] == "oco"
    assert (body["take_profit"], body["stop_loss"]) == (
        {"limit_price": "110"},
        {"stop_price": "95"},
    )
    odd = OneCancelsOther(OrderRequest.limit("AAPL", -1, 110.0), OrderRequest.market("AAPL", -1))
    with pytest.raises(OrderRejectedError, match="OCO"):
        group_body(ID, odd)


def test_an_alpaca_order_reads_into_a_venue_order() -> None:
    venue = venue_order_from_alpaca(
        _order(status="partially_filled", filled_qty="1", filled_avg_price="101.4")
    )
    assert venue.order_id == ID
    assert venue.status is OrderStatus.PARTIAL
    assert venue.request == OrderRequest.limit("AAPL", 3, 101.5)
    assert (venue.filled_quantity, venue.average_fill_price) == (1.0, 101.4)
    assert venue.updated_at == datetime(2024, 3, 1, 15, 30, 0, 123456, tzinfo=UTC)
    assert venue_order_from_alpaca(_order(status="replaced")).status is OrderStatus.CANCELLED
    with pytest.raises(MalformedMessageError, match="status"):
        venue_order_from_alpaca(_order(status="teleported"))


def test_a_stream_fill_and_its_activity_get_the_same_trade_id() -> None:
    order = _order(status="partially_filled", filled_qty="2")
    update = {
        "event": "partial_fill",
        "timestamp": "2024-03-01T15:31:00Z",
        "price": "101.4",
        "qty": "2",
        "order": order,
    }
    (event,) = events_from_trade_update(update)
    assert isinstance(event, FillEvent)
    activity = {
        "id": "20240301153100000::abc",
        "activity_type": "FILL",
        "transaction_time": "2024-03-01T15:31:00Z",
        "price": "101.4",
        "qty": "2",
        "cum_qty": "2",
        "side": "buy",
        "symbol": "AAPL",
        "order_id": order["id"],
    }
    fill = fill_from_activity(activity, ID)
    assert fill == event.fill
    assert (fill.quantity, fill.price, fill.commission) == (2.0, 101.4, 0.0)


@pytest.mark.parametrize(
    ("event", "kind"),
    [
        ("canceled", Cancelled),
        ("replaced", Cancelled),
        ("expired", Expired),
        ("rejected", Rejected),
    ],
)
def test_order_ends_map_to_events(event: str, kind: type) -> None:
    (mapped,) = events_from_trade_update(
        {"event": event, "timestamp": "2024-03-01T15:31:00Z", "order": _order()}
    )
    assert isinstance(mapped, kind)
    assert mapped.order_id == ID


@pytest.mark.parametrize("event", ["new", "pending_new", "pending_cancel", "accepted"])
def test_acknowledgements_give_no_event(event: str) -> None:
    assert events_from_trade_update({"event": event, "order": _order()}) == []


@pytest.mark.parametrize(
    ("status", "message", "refusal"),
    [
        (403, "insufficient buying power", AlpacaRefusal.INSUFFICIENT_BUYING_POWER),
        (422, "asset AAPL is not shortable", AlpacaRefusal.NOT_SHORTABLE),
        (
            403,
            "trade denied due to pattern day trading protection",
            AlpacaRefusal.PATTERN_DAY_TRADER,
        ),
        (422, "market orders are not accepted: market is closed", AlpacaRefusal.MARKET_CLOSED),
        (403, "potential wash trade detected. use complex orders", AlpacaRefusal.WASH_TRADE),
        (422, "qty must be > 0", AlpacaRefusal.INVALID),
        (422, "fractional orders must be DAY orders", AlpacaRefusal.FRACTIONAL),
        (403, 'asset "CWVX" is not fractionable', AlpacaRefusal.FRACTIONAL),
        (403, "fractional orders are not allowed to short", AlpacaRefusal.NOT_SHORTABLE),
    ],
)
def test_refusals_map_to_typed_reasons(status: int, message: str, refusal: AlpacaRefusal) -> None:
    body = f'{{"code": {status}10000, "message": "{message}"}}'
    assert refusal_of(status, body) is refusal


def test_the_account_reads_cash_and_signed_positions() -> None:
    now = datetime(2024, 3, 1, tzinfo=UTC)
    snapshot = account_from_alpaca(
        {"cash": "1000.5"},
        [{"symbol": "AAPL", "qty": "3", "side": "long"}, {"symbol": "TSLA", "qty": "-2"}],
        now,
    )
    assert snapshot.cash == 1000.5
    assert snapshot.positions == {"AAPL": 3.0, "TSLA": -2.0}


def test_alpaca_py_accepts_every_body() -> None:
    sdk_request = sdk("trading.requests").OrderRequest
    entry = OrderRequest.limit("AAPL", 10, 100.0)
    bodies = [
        order_body(ID, OrderRequest.market("AAPL", 0.5)),
        order_body(ID, OrderRequest.stop("AAPL", -1, 90.0)),
        group_body(ID, Bracket(entry, stop_loss=95.0, take_profit=110.0)),
        group_body(ID, Bracket(entry, take_profit=110.0)),
    ]
    for body in bodies:
        fields = sdk_request(**body).to_request_fields()
        assert fields["client_order_id"] == "run-7"
        assert fields["type"] == body["type"]
