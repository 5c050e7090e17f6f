"""The simulated venue's JSON, read into model values: plain logic, no sockets.

The clients in :mod:`quantstrata.live.brokers.venue` share no code with the venue itself (the
live layer may not import it); they read its documented JSON (``docs/venue.md``) with the
model's codec. A message that cannot be read raises :class:`MalformedMessageError`; the stream
loops count and skip it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from quantstrata.core.errors import QuantstrataError
from quantstrata.live.broker import AccountSnapshot, VenueOrder
from quantstrata.model.bar import Bar
from quantstrata.model.codec import fill_from_json, parse_time, request_from_json
from quantstrata.model.identifiers import ClientOrderId, Symbol, VenueOrderId
from quantstrata.model.orders import (
    Accepted,
    Cancelled,
    CancelRejected,
    Expired,
    FillEvent,
    OrderEvent,
    OrderStatus,
    Rejected,
    Submitted,
)

__all__ = [
    "MalformedMessageError",
    "account_from_json",
    "bars_from_message",
    "event_from_message",
    "venue_order_from_json",
]


class MalformedMessageError(QuantstrataError, ValueError):
    """A venue message is not what the protocol documents; it is skipped."""


def _read(what: str, values: object) -> Mapping[str, Any]:
    if not isinstance(values, Mapping):
        raise MalformedMessageError(f"{what} is not a JSON object: {values!r:.200}")
    return values


def event_from_message(message: Mapping[str, Any]) -> OrderEvent:
    """Return the order event an ``{"type": "order"}`` stream message reports."""
    try:
        name = message["event"]
        order_id = ClientOrderId(message["client_order_id"])
        ts = parse_time(message["ts"])
        reason = message.get("reason") or ""
        if name == "fill":
            return FillEvent(fill_from_json(dict(_read("fill", message["fill"]))))
        if name == "accepted":
            return Accepted(order_id, ts, VenueOrderId(message["venue_order_id"]))
        if name == "submitted":  # the venue's own order (a margin call's liquidation)
            return Submitted(
                order_id, ts, request_from_json(dict(_read("order", message["order"])))
            )
        if name == "rejected":
            return Rejected(order_id, ts, reason or "rejected by the venue")
        if name == "cancelled":
            return Cancelled(order_id, ts, reason)
        if name == "cancel_rejected":
            return CancelRejected(order_id, ts, reason or "cancel rejected by the venue")
        if name == "expired":
            return Expired(order_id, ts)
    except (KeyError, TypeError, ValueError) as error:
        raise MalformedMessageError(f"unreadable order update: {error}") from None
    raise MalformedMessageError(f"unknown order update event {name!r}")


def venue_order_from_json(values: Mapping[str, Any]) -> VenueOrder:
    """Return what the venue reports about one order (``GET /v1/orders/...``)."""
    try:
        average = values.get("average_fill_price")
        return VenueOrder(
            order_id=ClientOrderId(values["client_order_id"]),
            venue_order_id=VenueOrderId(values["venue_order_id"] or values["client_order_id"]),
            symbol=Symbol(values["symbol"]),
            request=request_from_json(dict(values)),
            status=OrderStatus(values["status"]),
            filled_quantity=float(values["filled_quantity"]),
            average_fill_price=None if average is None else float(average),
            updated_at=parse_time(values["updated_at"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise MalformedMessageError(f"unreadable order: {error}") from None


def account_from_json(values: Mapping[str, Any]) -> AccountSnapshot:
    """Return the account snapshot of ``GET /v1/account``."""
    try:
        positions = {str(symbol): float(qty) for symbol, qty in values["positions"].items()}
        balances = {str(code): float(cash) for code, cash in values.get("balances", {}).items()}
        as_of = parse_time(values["as_of"])
        return AccountSnapshot(float(values["cash"]), positions, as_of, balances)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise MalformedMessageError(f"unreadable account: {error}") from None


def bars_from_message(message: Mapping[str, Any]) -> list[Bar]:
    """Return the bars of a ``{"type": "bars"}`` message (or of ``GET /v1/klines`` rows)."""
    rows = message.get("bars")
    if not isinstance(rows, list):
        raise MalformedMessageError("a bars message needs a list of bars")
    try:
        return [
            Bar(
                parse_time(row["ts"]),
                Symbol(row["symbol"]),
                float(row["open"]),
                float(row["high"]),
                float(row["low"]),
                float(row["close"]),
                float(row["volume"]),
            )
            for row in rows
        ]
    except (KeyError, TypeError, ValueError) as error:
        raise MalformedMessageError(f"unreadable bar: {error}") from None
