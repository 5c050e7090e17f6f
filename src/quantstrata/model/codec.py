"""Orders, fills, positions and bars as plain JSON values, and back.

One spelling for every place a model value leaves the process: the simulated venue's REST and
WebSocket bodies, its state file, and the clients that talk to it (which share no code with the
venue but this layer). Enums travel as lower-case names (``"buy"``, ``"limit"``, ``"gtc"``),
times as ISO 8601 text in UTC, an order request's ``tag`` stays with the client.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from quantstrata.model.bar import Bar
from quantstrata.model.identifiers import ClientOrderId, Symbol, TradeId, VenueOrderId
from quantstrata.model.orders import (
    Fill,
    Liquidity,
    Order,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from quantstrata.model.position import Position

__all__ = [
    "bar_to_json",
    "fill_from_json",
    "fill_to_json",
    "iso",
    "order_from_json",
    "order_to_json",
    "parse_time",
    "position_to_json",
    "request_from_json",
    "request_to_json",
]

_PRICES = ("limit_price", "stop_price", "trail_amount", "trail_percent")


def iso(moment: datetime) -> str:
    """Return ``moment`` as ISO 8601 text in UTC."""
    return moment.astimezone(UTC).isoformat()


def parse_time(text: str) -> datetime:
    """Read ISO 8601 text written by :func:`iso` as UTC (a time without offset means UTC)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def request_to_json(request: OrderRequest) -> dict[str, Any]:
    """Return the wire form of an order request (its ``tag`` stays with the client)."""
    values: dict[str, Any] = {
        "symbol": str(request.symbol),
        "side": request.side.name.lower(),
        "quantity": request.quantity,
        "order_type": request.order_type.name.lower(),
        "time_in_force": request.time_in_force.name.lower(),
        "reduce_only": request.reduce_only,
    }
    values.update({name: getattr(request, name) for name in _PRICES})
    return values


def request_from_json(values: dict[str, Any]) -> OrderRequest:
    """Build an order request from its wire form; raise ``InvalidOrderError`` when invalid."""
    return OrderRequest(
        Symbol(values["symbol"]),
        OrderSide[str(values["side"]).upper()],
        float(values["quantity"]),
        OrderType[str(values.get("order_type", "market")).upper()],
        **{name: values.get(name) for name in _PRICES},
        time_in_force=TimeInForce[str(values.get("time_in_force", "gtc")).upper()],
        reduce_only=bool(values.get("reduce_only", False)),
    )


def fill_to_json(fill: Fill) -> dict[str, Any]:
    """Return the wire form of a fill."""
    return {
        "trade_id": str(fill.trade_id),
        "client_order_id": str(fill.order_id),
        "venue_order_id": None if fill.venue_order_id is None else str(fill.venue_order_id),
        "symbol": str(fill.symbol),
        "side": fill.side.name.lower(),
        "quantity": fill.quantity,
        "price": fill.price,
        "commission": fill.commission,
        "liquidity": fill.liquidity.value,
        "ts": iso(fill.ts),
    }


def fill_from_json(values: dict[str, Any]) -> Fill:
    """Build a fill from its wire form."""
    venue_id = values.get("venue_order_id")
    return Fill(
        ClientOrderId(values["client_order_id"]),
        TradeId(values["trade_id"]),
        Symbol(values["symbol"]),
        OrderSide[str(values["side"]).upper()],
        float(values["quantity"]),
        float(values["price"]),
        float(values["commission"]),
        parse_time(values["ts"]),
        Liquidity(values["liquidity"]),
        None if venue_id is None else VenueOrderId(venue_id),
    )


def order_to_json(order: Order) -> dict[str, Any]:
    """Return the wire form of an order (without its fills)."""
    return {
        "client_order_id": str(order.order_id),
        "venue_order_id": None if order.venue_order_id is None else str(order.venue_order_id),
        **request_to_json(order.request),
        "status": order.status.value,
        "filled_quantity": order.filled_quantity,
        "average_fill_price": order.average_fill_price if order.filled_quantity > 0 else None,
        "reason": order.reason,
        "created_at": iso(order.created_at),
        "updated_at": iso(order.updated_at),
    }


def order_from_json(values: dict[str, Any], trade_ids: frozenset[TradeId]) -> Order:
    """Rebuild an order from its wire form and the trade ids of its fills."""
    venue_id = values.get("venue_order_id")
    average = values.get("average_fill_price")
    return Order(
        ClientOrderId(values["client_order_id"]),
        request_from_json(values),
        OrderStatus(values["status"]),
        parse_time(values["created_at"]),
        parse_time(values["updated_at"]),
        float(values["filled_quantity"]),
        0.0 if average is None else float(average),
        None if venue_id is None else VenueOrderId(venue_id),
        trade_ids,
        str(values.get("reason", "")),
    )


def position_to_json(position: Position) -> dict[str, Any]:
    """Return the wire form of a position."""
    return {
        "symbol": str(position.symbol),
        "quantity": position.quantity,
        "average_price": position.average_price,
        "realized_pnl": position.realized_pnl,
        "total_commission": position.total_commission,
    }


def bar_to_json(bar: Bar) -> dict[str, Any]:
    """Return the wire form of a bar (``ts`` is its open time)."""
    return {
        "ts": iso(bar.ts),
        "symbol": str(bar.symbol),
        "open": bar.open,
        "high": bar.high,
        "low": bar.low,
        "close": bar.close,
        "volume": bar.volume,
    }
