"""Alpaca's Trading API v2 read into quantstrata's order model, and back: plain logic, no sockets.

Alpaca sends orders, trade updates, account activities and the account as JSON objects
(decimals as strings, times as RFC 3339 text). These functions turn them into
:class:`~quantstrata.live.broker.VenueOrder`, :class:`~quantstrata.model.orders.Fill`,
order events and :class:`~quantstrata.live.broker.AccountSnapshot` values, an
:class:`~quantstrata.model.orders.OrderRequest` (or a :class:`~quantstrata.model.orders.Bracket`
or :class:`~quantstrata.model.orders.OneCancelsOther`) into the body of ``POST /v2/orders``, and
a refusal's status and body into an :class:`AlpacaRefusal`. A structure that cannot be read
raises :class:`~quantstrata.live.brokers._venue_messages.MalformedMessageError`.

A fill's trade id is ``<venue order id>-<cumulative filled quantity>``: the ``trade_updates``
stream and the account activities both carry the order's cumulative quantity after each
execution, so the same execution gets the same id from either source and is booked once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from quantstrata.core.errors import ConfigError
from quantstrata.live.broker import AccountSnapshot, OrderRejectedError, VenueOrder
from quantstrata.live.brokers._venue_messages import MalformedMessageError
from quantstrata.model.identifiers import ClientOrderId, Symbol, TradeId, VenueOrderId
from quantstrata.model.orders import (
    QUANTITY_TOLERANCE,
    Bracket,
    Cancelled,
    Expired,
    Fill,
    FillEvent,
    InvalidOrderError,
    Liquidity,
    OneCancelsOther,
    OrderEvent,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    Rejected,
    TimeInForce,
)

__all__ = [
    "AlpacaOrderOptions",
    "AlpacaRefusal",
    "AlpacaTimeInForce",
    "account_from_alpaca",
    "client_order_id",
    "events_from_trade_update",
    "fill_from_activity",
    "group_body",
    "order_body",
    "refusal_of",
    "session_from_clock",
    "trade_id",
    "venue_order_from_alpaca",
]

AlpacaTimeInForce = Literal["day", "gtc", "ioc", "fok", "opg", "cls"]
"""Alpaca's times in force for equities; ``fok``, ``opg`` and ``cls`` have no backtest twin."""

_TIME_IN_FORCE: Mapping[TimeInForce, AlpacaTimeInForce] = {
    TimeInForce.GTC: "gtc",
    TimeInForce.DAY: "day",
    TimeInForce.IOC: "ioc",
}
_FROM_TIME_IN_FORCE: Mapping[str, TimeInForce] = {
    "gtc": TimeInForce.GTC,
    "day": TimeInForce.DAY,
    "ioc": TimeInForce.IOC,
    "fok": TimeInForce.IOC,
    "opg": TimeInForce.DAY,
    "cls": TimeInForce.DAY,
}
_ORDER_TYPE: Mapping[OrderType, str] = {
    OrderType.MARKET: "market",
    OrderType.LIMIT: "limit",
    OrderType.STOP: "stop",
    OrderType.STOP_LIMIT: "stop_limit",
    OrderType.TRAILING_STOP: "trailing_stop",
}
_FROM_ORDER_TYPE = {text: kind for kind, text in _ORDER_TYPE.items()}
_STATUS: Mapping[str, OrderStatus] = {
    "new": OrderStatus.PENDING,
    "accepted": OrderStatus.PENDING,
    "pending_new": OrderStatus.PENDING,
    "accepted_for_bidding": OrderStatus.PENDING,
    "pending_review": OrderStatus.PENDING,
    "held": OrderStatus.PENDING,
    "calculated": OrderStatus.PENDING,
    "stopped": OrderStatus.PENDING,
    "suspended": OrderStatus.PENDING,
    "done_for_day": OrderStatus.PENDING,
    "pending_replace": OrderStatus.PENDING,
    "partially_filled": OrderStatus.PARTIAL,
    "pending_cancel": OrderStatus.PENDING_CANCEL,
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELLED,
    "replaced": OrderStatus.CANCELLED,
    "expired": OrderStatus.EXPIRED,
    "rejected": OrderStatus.REJECTED,
}
"""Alpaca order statuses; a replaced order is over (its successor is a new order)."""


class AlpacaRefusal(StrEnum):
    """Why Alpaca refused an order (HTTP 403 or 422), as a typed reason."""

    INSUFFICIENT_BUYING_POWER = "insufficient buying power"
    NOT_SHORTABLE = "not shortable"
    PATTERN_DAY_TRADER = "pattern day trader"
    MARKET_CLOSED = "market closed"
    WASH_TRADE = "wash trade"
    FRACTIONAL = "fractional quantity not accepted"
    INVALID = "invalid order"
    UNSUPPORTED = "not supported"


_REFUSAL_WORDS: tuple[tuple[AlpacaRefusal, tuple[str, ...]], ...] = (
    (AlpacaRefusal.WASH_TRADE, ("wash trade",)),
    (AlpacaRefusal.PATTERN_DAY_TRADER, ("pattern day", "day trading", "pdt")),
    (
        AlpacaRefusal.NOT_SHORTABLE,
        ("not shortable", "cannot be sold short", "not allowed to short", "short sell"),
    ),
    (AlpacaRefusal.INSUFFICIENT_BUYING_POWER, ("insufficient buying power", "insufficient qty")),
    (AlpacaRefusal.FRACTIONAL, ("fractional", "not fractionable")),
    (AlpacaRefusal.MARKET_CLOSED, ("market is closed", "market closed", "market hours")),
)


@dataclass(frozen=True, slots=True)
class AlpacaOrderOptions:
    """What an Alpaca order can ask beyond an :class:`OrderRequest`.

    - ``time_in_force``: one of Alpaca's (``fok``, ``opg``, ``cls`` have no backtest twin);
      ``None`` keeps the request's.
    - ``extended_hours``: may fill in the pre- and after-market sessions (Alpaca takes only
      ``day`` limit orders there).
    - ``notional``: trade this many dollars instead of the request's quantity (market ``day``
      orders only).
    """

    time_in_force: AlpacaTimeInForce | None = None
    extended_hours: bool = False
    notional: float | None = None


def _refuse(order_id: ClientOrderId, reason: AlpacaRefusal, detail: str) -> OrderRejectedError:
    return OrderRejectedError(f"order {order_id} not sent: {detail}", reason)


def _is_whole(value: float) -> bool:
    return value == int(value)


def _number(value: float) -> str:
    return format(value, ".10g") if _is_whole(value) else repr(float(value))


_FRACTIONAL_TYPES = frozenset(
    {OrderType.MARKET, OrderType.LIMIT, OrderType.STOP, OrderType.STOP_LIMIT}
)


def _time_in_force(
    order_id: ClientOrderId, request: OrderRequest, chosen: AlpacaOrderOptions
) -> AlpacaTimeInForce:
    """Return the time in force Alpaca gets for ``request``: the one rule of fractional orders.

    Alpaca takes a fractional quantity only in a simple ``day`` market, limit, stop or
    stop-limit order. A fractional market order asked ``gtc`` (the live runtime's target
    orders) is sent ``day``: a market order fills at the next bar's open, and one decided
    while the market is closed is sent at the open, so both fill in the same session and DAY
    changes nothing. Any other fractional order Alpaca would refuse is refused here, before
    sending, saying what to do.
    """
    tif = chosen.time_in_force or _TIME_IN_FORCE[request.time_in_force]
    if chosen.notional is not None or _is_whole(request.quantity):
        return tif
    kind = _ORDER_TYPE[request.order_type].replace("_", "-")
    if request.order_type not in _FRACTIONAL_TYPES:
        raise _fractional(
            order_id,
            request,
            "a market, limit, stop or stop-limit order",
            f"this is a {kind} order",
        )
    if request.order_type is OrderType.MARKET and tif == "gtc":
        return "day"
    if tif != "day":
        raise _fractional(
            order_id,
            request,
            "a day order",
            f"this {kind} order is {tif}",
            "or use TimeInForce.DAY",
        )
    return tif


def _fractional(
    order_id: ClientOrderId, request: OrderRequest, only: str, found: str, other: str = ""
) -> OrderRejectedError:
    advice = f"round the quantity to whole shares {other}".rstrip()
    return _refuse(
        order_id,
        AlpacaRefusal.FRACTIONAL,
        f"Alpaca takes a fractional quantity ({_number(request.quantity)}) only in {only}, "
        f"and {found}: {advice}",
    )


def order_body(
    order_id: ClientOrderId, request: OrderRequest, options: AlpacaOrderOptions | None = None
) -> dict[str, Any]:
    """Return the JSON body of ``POST /v2/orders`` for ``request``, or raise a refusal.

    The time in force is the request's (or the options'): a ``day`` order expires as in the
    backtest. The one exception is a fractional market ``gtc`` order, sent ``day`` (see
    :func:`_time_in_force`, the rule of fractional orders). Alpaca's rules that a request alone
    can break are checked before anything is sent: a fractional quantity only in a ``day``
    market, limit, stop or stop-limit order (an ``AlpacaRefusal.FRACTIONAL`` rejection),
    extended hours only in ``day`` limit orders, a notional amount only in a market ``day``
    order.
    ``reduce_only`` is sent as Alpaca's closing position intent (``sell_to_close``,
    ``buy_to_close``).
    """
    chosen = options or AlpacaOrderOptions()
    tif = _time_in_force(order_id, request, chosen)
    body: dict[str, Any] = {
        "symbol": str(request.symbol),
        "side": "buy" if request.side is OrderSide.BUY else "sell",
        "type": _ORDER_TYPE[request.order_type],
        "time_in_force": tif,
        "client_order_id": str(order_id),
    }
    if chosen.notional is not None:
        if request.order_type is not OrderType.MARKET or tif != "day":
            raise _refuse(
                order_id,
                AlpacaRefusal.INVALID,
                "a notional order must be a market day order",
            )
        body["notional"] = _number(chosen.notional)
    else:
        body["qty"] = _number(request.quantity)
    if chosen.extended_hours:
        if request.order_type is not OrderType.LIMIT or tif != "day":
            raise _refuse(
                order_id,
                AlpacaRefusal.INVALID,
                "extended hours take only day limit orders at Alpaca",
            )
        body["extended_hours"] = True
    if request.reduce_only:
        body["position_intent"] = (
            "sell_to_close" if request.side is OrderSide.SELL else "buy_to_close"
        )
    body.update(_prices(request))
    return body


def _prices(request: OrderRequest) -> dict[str, str]:
    prices: dict[str, str] = {}
    if request.limit_price is not None:
        prices["limit_price"] = _number(request.limit_price)
    if request.stop_price is not None:
        prices["stop_price"] = _number(request.stop_price)
    if request.trail_amount is not None:
        prices["trail_price"] = _number(request.trail_amount)
    if request.trail_percent is not None:
        prices["trail_percent"] = _number(request.trail_percent * 100.0)
    return prices


def group_body(
    order_id: ClientOrderId,
    group: Bracket | OneCancelsOther,
    options: AlpacaOrderOptions | None = None,
) -> dict[str, Any]:
    """Return the body of one Alpaca advanced order for a bracket or an OCO pair.

    A bracket with both exits is ``order_class=bracket``, with one exit ``oto``. An OCO pair
    must be a take-profit limit and a stop (or stop-limit) exit on the same side, as Alpaca's
    ``oco`` class is; its first member is the order (``limit``) Alpaca numbers.
    """
    members = (group.entry,) if isinstance(group, Bracket) else group.orders
    if not all(_is_whole(member.quantity) for member in members):
        raise _refuse(
            order_id,
            AlpacaRefusal.FRACTIONAL,
            "Alpaca takes a fractional quantity only in a simple order, not in a bracket, OCO "
            "or OTO: round the quantity to whole shares",
        )
    if isinstance(group, Bracket):
        body = order_body(order_id, group.entry, options)
        both = group.stop_loss is not None and group.take_profit is not None
        body["order_class"] = "bracket" if both else "oto"
        if group.take_profit is not None:
            body["take_profit"] = {"limit_price": _number(group.take_profit)}
        if group.stop_loss is not None:
            body["stop_loss"] = {"stop_price": _number(group.stop_loss)}
        return body
    limit, stop = _oco_legs(order_id, group)
    body = order_body(order_id, limit, options)
    body["order_class"] = "oco"
    body["take_profit"] = {"limit_price": body.pop("limit_price")}
    body["type"] = "limit"
    loss: dict[str, str] = {"stop_price": _number(stop.stop_price or 0.0)}
    if stop.limit_price is not None:
        loss["limit_price"] = _number(stop.limit_price)
    body["stop_loss"] = loss
    return body


def _oco_legs(order_id: ClientOrderId, group: OneCancelsOther) -> tuple[OrderRequest, OrderRequest]:
    first, second = group.orders
    limits = [r for r in (first, second) if r.order_type is OrderType.LIMIT]
    stops = [r for r in (first, second) if r.order_type in (OrderType.STOP, OrderType.STOP_LIMIT)]
    same = first.side is second.side and math.isclose(first.quantity, second.quantity)
    if len(limits) != 1 or len(stops) != 1 or not same:
        raise _refuse(
            order_id,
            AlpacaRefusal.UNSUPPORTED,
            "an Alpaca OCO order is one limit and one stop (or stop-limit) order on the same "
            "side and quantity",
        )
    return _without_reduce_only(limits[0]), _without_reduce_only(stops[0])


def _without_reduce_only(request: OrderRequest) -> OrderRequest:
    if not request.reduce_only:
        return request
    return OrderRequest(
        request.symbol,
        request.side,
        request.quantity,
        request.order_type,
        limit_price=request.limit_price,
        stop_price=request.stop_price,
        time_in_force=request.time_in_force,
    )


def refusal_of(status: int, body: str) -> AlpacaRefusal:
    """Return the typed reason of a 403 or 422 answer from its JSON (or plain) body."""
    message = body
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if isinstance(parsed, Mapping):
        message = str(parsed.get("message", body))
    lowered = message.lower()
    for refusal, words in _REFUSAL_WORDS:
        if any(word in lowered for word in words):
            return refusal
    return AlpacaRefusal.INVALID if status == 422 else AlpacaRefusal.UNSUPPORTED


def client_order_id(order: Mapping[str, Any]) -> ClientOrderId:
    """Return the order's client id; orders placed elsewhere get ``venue-<id>``."""
    text = order.get("client_order_id")
    if isinstance(text, str) and text:
        try:
            return ClientOrderId(text)
        except ConfigError:
            pass
    return ClientOrderId(f"venue-{order.get('id')}"[:36])


def _time(text: object) -> datetime:
    if not isinstance(text, str):
        raise MalformedMessageError(f"an Alpaca time must be RFC 3339 text, got {text!r:.80}")
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise MalformedMessageError(f"an Alpaca time must carry its offset, got {text!r:.80}")
    return moment


def session_from_clock(clock: Mapping[str, Any]) -> tuple[bool, timedelta]:
    """Read ``GET /v2/clock``: whether the regular session is open, and for how long.

    The duration runs to ``next_close`` when open, to ``next_open`` when closed, on Alpaca's
    own time (its ``timestamp``), so a host's clock never enters it.
    """
    now = _time(clock.get("timestamp"))
    is_open = clock.get("is_open")
    if not isinstance(is_open, bool):
        raise MalformedMessageError(f"Alpaca's clock has no is_open flag: {is_open!r:.80}")
    change = _time(clock.get("next_close" if is_open else "next_open"))
    return is_open, change - now


def _float(value: object) -> float:
    if value is None or value == "":
        return 0.0
    return float(value)  # type: ignore[arg-type]


def _request_of(order: Mapping[str, Any]) -> OrderRequest:
    kind = _FROM_ORDER_TYPE.get(str(order.get("type") or order.get("order_type")))
    if kind is None:
        raise MalformedMessageError(f"unknown Alpaca order type {order.get('type')!r:.40}")
    quantity = _float(order.get("qty")) or _float(order.get("filled_qty"))
    prices: dict[str, float | None] = {}
    if kind in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        prices["limit_price"] = _float(order.get("limit_price"))
    if kind in (OrderType.STOP, OrderType.STOP_LIMIT):
        prices["stop_price"] = _float(order.get("stop_price"))
    if kind is OrderType.TRAILING_STOP:
        if order.get("trail_percent") not in (None, ""):
            prices["trail_percent"] = _float(order.get("trail_percent")) / 100.0
        else:
            prices["trail_amount"] = _float(order.get("trail_price"))
    tif = _FROM_TIME_IN_FORCE.get(str(order.get("time_in_force")), TimeInForce.GTC)
    return OrderRequest(
        Symbol(str(order["symbol"])),
        OrderSide.BUY if order["side"] == "buy" else OrderSide.SELL,
        quantity,
        kind,
        time_in_force=tif,
        **prices,  # type: ignore[arg-type]
    )


def venue_order_from_alpaca(order: Mapping[str, Any]) -> VenueOrder:
    """Return what Alpaca reports about one order (the JSON of ``GET /v2/orders/{id}``)."""
    try:
        status = _STATUS.get(str(order.get("status")))
        if status is None:
            raise MalformedMessageError(f"unknown Alpaca order status {order.get('status')!r:.40}")
        average = order.get("filled_avg_price")
        updated = order.get("updated_at") or order.get("submitted_at") or order.get("created_at")
        return VenueOrder(
            order_id=client_order_id(order),
            venue_order_id=VenueOrderId(str(order["id"])),
            symbol=Symbol(str(order["symbol"])),
            request=_request_of(order),
            status=status,
            filled_quantity=_float(order.get("filled_qty")),
            average_fill_price=None if average in (None, "") else float(average),
            updated_at=_time(updated),
        )
    except (KeyError, TypeError, ValueError, ConfigError, InvalidOrderError) as error:
        raise MalformedMessageError(f"unreadable Alpaca order: {error}") from None


def trade_id(venue_order_id: object, cumulative: object) -> TradeId:
    """Return the trade id of the execution that brought the order to ``cumulative`` filled."""
    return TradeId(f"{venue_order_id}-{_number(_float(cumulative))}")


def fill_from_activity(activity: Mapping[str, Any], order_id: ClientOrderId) -> Fill:
    """Return the fill of one ``FILL`` account activity of ``order_id`` (commission-free)."""
    try:
        return Fill(
            order_id=order_id,
            trade_id=trade_id(activity["order_id"], activity["cum_qty"]),
            symbol=Symbol(str(activity["symbol"])),
            side=OrderSide.BUY if activity["side"] == "buy" else OrderSide.SELL,
            quantity=float(activity["qty"]),
            price=float(activity["price"]),
            commission=0.0,
            ts=_time(activity["transaction_time"]),
            liquidity=Liquidity.TAKER,
            venue_order_id=VenueOrderId(str(activity["order_id"])),
        )
    except (KeyError, TypeError, ValueError, ConfigError, InvalidOrderError) as error:
        raise MalformedMessageError(f"unreadable Alpaca fill activity: {error}") from None


def events_from_trade_update(data: Mapping[str, Any]) -> list[OrderEvent]:
    """Return the order events of one ``trade_updates`` message's ``data``.

    ``fill`` and ``partial_fill`` give a fill; ``canceled``, ``expired``, ``rejected`` and
    ``replaced`` end the order; ``new``, ``pending_*``, ``accepted`` and the rest say nothing
    the order manager does not learn from the submit's answer, so they give no event.
    """
    try:
        order = data["order"]
        event = str(data["event"])
        order_id = client_order_id(order)
        when = _time(data.get("timestamp") or order.get("updated_at"))
        if event in ("fill", "partial_fill"):
            return [FillEvent(_fill_of_update(data, order, order_id, when))]
        if event == "canceled":
            return [Cancelled(order_id, when)]
        if event == "replaced":
            return [Cancelled(order_id, when, "replaced")]
        if event == "expired":
            return [Expired(order_id, when)]
        if event == "rejected":
            return [Rejected(order_id, when, "rejected by Alpaca")]
    except (KeyError, TypeError, ValueError, ConfigError, InvalidOrderError) as error:
        raise MalformedMessageError(f"unreadable Alpaca trade update: {error}") from None
    return []


def _fill_of_update(
    data: Mapping[str, Any], order: Mapping[str, Any], order_id: ClientOrderId, when: datetime
) -> Fill:
    return Fill(
        order_id=order_id,
        trade_id=trade_id(order["id"], order["filled_qty"]),
        symbol=Symbol(str(order["symbol"])),
        side=OrderSide.BUY if order["side"] == "buy" else OrderSide.SELL,
        quantity=float(data["qty"]),
        price=float(data["price"]),
        commission=0.0,
        ts=when,
        liquidity=Liquidity.TAKER,
        venue_order_id=VenueOrderId(str(order["id"])),
    )


def account_from_alpaca(
    account: Mapping[str, Any], positions: Sequence[Mapping[str, Any]], as_of: datetime
) -> AccountSnapshot:
    """Return cash and signed position quantities from ``/v2/account`` and ``/v2/positions``.

    The account's ``equity`` and ``maintenance_margin`` are kept when reported (margin
    reconciliation).
    """
    try:
        held: dict[str, float] = {}
        for position in positions:
            quantity = float(position["qty"])
            if position.get("side") == "short" and quantity > 0:
                quantity = -quantity
            if abs(quantity) > QUANTITY_TOLERANCE:
                held[str(position["symbol"])] = quantity
        equity, maintenance = account.get("equity"), account.get("maintenance_margin")
        return AccountSnapshot(
            float(account["cash"]),
            held,
            as_of,
            equity=None if equity is None else float(equity),
            maintenance_margin=None if maintenance is None else float(maintenance),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise MalformedMessageError(f"unreadable Alpaca account: {error}") from None
