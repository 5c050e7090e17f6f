"""The trading side of the fake Alpaca: one account, its orders (with order classes) and fills.

Plain code (no sockets) that answers Alpaca's Trading API v2 in the JSON shapes ``alpaca-py``
parses. Matching is the simulated venue's :class:`~quantstrata.venue.book.VenueBook`, the shared
fill model: an order placed after bar *t* fills on bar *t + 1* exactly as in the backtest. This
module adds only what Alpaca has and the book has not: UUID order ids beside the client's ids,
order classes (``bracket``, ``oco``, ``oto``: legs held until their parent fills, one leg's fill
cancels the other), replacing an order, Alpaca's statuses and the ``trade_updates`` payloads
(:class:`Update`). Alpaca's time in force map to the book's: ``fok`` works as ``ioc``, ``opg``
and ``cls`` as ``day`` (the default fill policy fills at the next bar's open). A ``day`` order
expires as Alpaca's does, at the close of the session it works in (the book's one DAY rule,
on the XNYS calendar unless the config names another): the first session close after the close
of the bar it was placed on, so one placed after a session's last bar works through the next
session; it is ``expired`` stamped with that close. Alpaca takes a fractional quantity only
in a simple ``day`` market, limit, stop or stop-limit order; others get its 422 answers.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from quantstrata.model.bar import Bar
from quantstrata.model.codec import iso
from quantstrata.model.identifiers import ClientOrderId, Symbol
from quantstrata.model.orders import (
    Accepted,
    Cancelled,
    Expired,
    Fill,
    FillEvent,
    OrderEvent,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    Rejected,
    TimeInForce,
)
from quantstrata.venue.book import SubmitOutcome, VenueBook
from quantstrata.venue.config import VenueConfig

__all__ = [
    "ACCOUNT_ID",
    "AlpacaAccount",
    "AlpacaError",
    "AlpacaOrder",
    "Update",
    "asset_id",
    "number",
    "parse_moment",
]

ACCOUNT_ID = "11111111-2222-4333-8444-555555555555"
_NAMESPACE = uuid.UUID("6f1c8d2e-1a7b-4c3d-9e5f-0a1b2c3d4e5f")
_TYPES = {
    "market": OrderType.MARKET,
    "limit": OrderType.LIMIT,
    "stop": OrderType.STOP,
    "stop_limit": OrderType.STOP_LIMIT,
    "trailing_stop": OrderType.TRAILING_STOP,
}
_TIME_IN_FORCE = {
    "day": TimeInForce.DAY,
    "gtc": TimeInForce.GTC,
    "ioc": TimeInForce.IOC,
    "fok": TimeInForce.IOC,
    "opg": TimeInForce.DAY,
    "cls": TimeInForce.DAY,
}
_STATUS = {
    OrderStatus.SENDING: "pending_new",
    OrderStatus.UNKNOWN: "pending_new",
    OrderStatus.PENDING: "new",
    OrderStatus.PARTIAL: "partially_filled",
    OrderStatus.PENDING_CANCEL: "pending_cancel",
    OrderStatus.FILLED: "filled",
    OrderStatus.CANCELLED: "canceled",
    OrderStatus.REJECTED: "rejected",
    OrderStatus.EXPIRED: "expired",
}
_OPEN = frozenset({"new", "partially_filled", "pending_cancel", "held", "accepted", "pending_new"})
_CLASSES = frozenset({"simple", "bracket", "oco", "oto"})


class AlpacaError(Exception):
    """An Alpaca error answer: HTTP ``status`` with ``{"code": code, "message": message}``."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def asset_id(symbol: str) -> str:
    """Return the (stable) asset id of ``symbol``."""
    return str(uuid.uuid5(_NAMESPACE, f"asset:{symbol}"))


def number(value: float) -> str:
    """Return ``value`` as Alpaca writes amounts: a decimal string (exact for floats)."""
    return repr(float(value))


@dataclass(frozen=True, slots=True)
class Update:
    """One ``trade_updates`` event: its name, the order, when, and the fill it reports."""

    event: str
    order_id: str
    ts: datetime
    fill: Fill | None = None
    position_qty: float | None = None


@dataclass(slots=True)
class AlpacaOrder:
    """What Alpaca keeps of an order beside the book's state (the book keys it by ``id``)."""

    id: str
    client_order_id: str
    request: OrderRequest
    type: str
    time_in_force: str
    order_class: str
    extended_hours: bool
    created_at: datetime
    parent: str | None = None
    legs: list[str] = field(default_factory=list)
    status: str | None = None  # Alpaca's own status while the book does not know the order
    times: dict[str, datetime] = field(default_factory=dict)
    replaced_by: str | None = None
    replaces: str | None = None


class _LinkedBook(VenueBook):
    """The venue's book, plus Alpaca's linked legs: a leg's fill cancels its partner at once.

    Partners are linked one-cancels-other in the simulated exchange once both work, so one bar
    never fills both exits; the older leg (the stop-loss) is matched first, which is the
    backtest's ``adverse_first`` rule for a bar touching both.
    """

    def __init__(self, config: VenueConfig, symbols: list[str], bar_length: timedelta) -> None:
        super().__init__(config, symbols, bar_length)
        self.partners: dict[str, str] = {}

    def submit(
        self, order_id: ClientOrderId, request: OrderRequest, now: datetime, *, reject: str = ""
    ) -> SubmitOutcome:
        outcome = super().submit(order_id, request, now, reject=reject)
        partner = self.partners.get(str(order_id))
        if partner is not None:
            self.link(order_id, ClientOrderId(partner))
        return outcome


class AlpacaAccount:
    """One Alpaca account trading ``symbols`` on the shared fill model; thread-safe."""

    def __init__(
        self,
        config: VenueConfig,
        symbols: list[str],
        bar_length: timedelta,
    ) -> None:
        """Start flat."""
        self.book = _LinkedBook(config, symbols, bar_length)
        self.bar_length = bar_length
        self.orders: dict[str, AlpacaOrder] = {}
        self.by_client_id: dict[str, str] = {}
        self.activities: list[dict[str, Any]] = []
        self.now = datetime(1970, 1, 1, tzinfo=UTC)
        self.margin_multiplier = 2.0
        self.lock = threading.RLock()
        self._numbers = 0

    # -- orders --------------------------------------------------------------------------------

    def submit(self, body: dict[str, Any]) -> tuple[dict[str, Any], list[Update]]:
        """Create an order (with its legs) from a ``POST /v2/orders`` body."""
        with self.lock:
            client_id = str(body.get("client_order_id") or self._new_id("client"))
            if body.get("order_class") == "oco" and body.get("limit_price") is None:
                body = {**body, "limit_price": (body.get("take_profit") or {}).get("limit_price")}
            if client_id in self.by_client_id:
                raise AlpacaError(422, 40010001, "client_order_id must be unique")
            order_class = str(body.get("order_class") or "simple")
            if order_class not in _CLASSES:
                raise AlpacaError(422, 40010001, f"invalid order_class {order_class!r}")
            parent = self._order_from(body, client_id, order_class)
            self._check_buying_power(parent.request)
            legs = self._legs(body, parent)
            self._store(parent)
            for leg in legs:
                self._store(leg)
            updates = self._activate(parent)
            if order_class == "oco":
                updates += self._activate(self.orders[parent.legs[0]])
            return self.order_json(parent.id, nested=True), updates

    def cancel(self, order_id: str) -> list[Update]:
        """Cancel an open order (and its held legs); 422 when it is no longer cancelable."""
        with self.lock:
            order = self._get(order_id)
            if order.status == "held":
                return self._cancel_held(order)
            state = self.book.orders.get(ClientOrderId(order_id))
            if state is None or state.is_terminal:
                raise AlpacaError(422, 42210000, "order is not cancelable")
            outcome = self.book.cancel(ClientOrderId(order_id), self.now)
            updates = self._updates(outcome.events)
            if not outcome.cancelled:
                raise AlpacaError(422, 42210000, outcome.reason or "order is not cancelable")
            for leg in order.legs:
                updates += self._cancel_held(self.orders[leg])
            return updates

    def cancel_all(self) -> tuple[list[dict[str, Any]], list[Update]]:
        """Cancel every open order; return the per-order answers of ``DELETE /v2/orders``."""
        with self.lock:
            answers: list[dict[str, Any]] = []
            updates: list[Update] = []
            for order_id in [o.id for o in self.orders.values() if o.parent is None]:
                if self.status(order_id) in _OPEN:
                    updates += self.cancel(order_id)
                    answers.append({"id": order_id, "status": 200, "body": None})
            return answers, updates

    def replace(self, order_id: str, body: dict[str, Any]) -> tuple[dict[str, Any], list[Update]]:
        """Replace an open simple order: cancel it and place its successor (``replaces``)."""
        with self.lock:
            old = self._get(order_id)
            state = self.book.orders.get(ClientOrderId(order_id))
            if state is None or state.is_terminal or old.order_class != "simple":
                raise AlpacaError(422, 42210000, "order is not replaceable")
            fields = {
                "symbol": old.request.symbol,
                "side": "buy" if old.request.side is OrderSide.BUY else "sell",
                "type": old.type,
                "time_in_force": body.get("time_in_force") or old.time_in_force,
                "qty": body.get("qty") or state.remaining_quantity,
                "limit_price": body.get("limit_price") or old.request.limit_price,
                "stop_price": body.get("stop_price") or old.request.stop_price,
                "client_order_id": body.get("client_order_id") or self._new_id("client"),
                "extended_hours": old.extended_hours,
            }
            if old.type == "trailing_stop":
                fields["trail_price"] = body.get("trail") if old.request.trail_amount else None
                fields["trail_percent"] = body.get("trail") if old.request.trail_percent else None
                del fields["limit_price"], fields["stop_price"]
            new = self._order_from(fields, str(fields["client_order_id"]), "simple")
            self.book.cancel(ClientOrderId(order_id), self.now)
            old.status, old.replaced_by, new.replaces = "replaced", new.id, old.id
            old.times["replaced_at"] = self.now
            self._store(new)
            updates = [Update("replaced", old.id, self.now), *self._activate(new)]
            return self.order_json(new.id), updates

    def on_bars(self, bars: dict[Symbol, Bar], now: datetime) -> list[Update]:
        """Match the working orders against the next bar time (then activate filled legs)."""
        with self.lock:
            self.now = now
            return self._updates(self.book.on_bars(bars))

    # -- reads ---------------------------------------------------------------------------------

    def status(self, order_id: str) -> str:
        """Return Alpaca's status of one order."""
        order = self.orders[order_id]
        if order.status is not None:
            return order.status
        return _STATUS[self.book.orders[ClientOrderId(order_id)].status]

    def order_json(self, order_id: str, *, nested: bool = True) -> dict[str, Any]:
        """Return the order as ``GET /v2/orders/{id}`` does (``legs`` when ``nested``)."""
        order = self.orders[order_id]
        state = self.book.orders.get(ClientOrderId(order_id))
        request = order.request
        filled = state.filled_quantity if state is not None else 0.0
        updated = state.updated_at if state is not None else order.created_at
        trail_percent = request.trail_percent
        legs = [self.order_json(leg) for leg in order.legs] if nested and order.legs else None
        times = {name: iso(moment) for name, moment in order.times.items()}
        return {
            "id": order.id,
            "client_order_id": order.client_order_id,
            "created_at": iso(order.created_at),
            "updated_at": iso(max(updated, *order.times.values(), order.created_at)),
            "submitted_at": iso(order.created_at),
            "filled_at": times.get("filled_at"),
            "expired_at": times.get("expired_at"),
            "expires_at": None,
            "canceled_at": times.get("canceled_at"),
            "failed_at": times.get("failed_at"),
            "replaced_at": times.get("replaced_at"),
            "replaced_by": order.replaced_by,
            "replaces": order.replaces,
            "asset_id": asset_id(request.symbol),
            "symbol": str(request.symbol),
            "asset_class": "us_equity",
            "notional": None,
            "qty": number(request.quantity),
            "filled_qty": number(filled),
            "filled_avg_price": number(state.average_fill_price) if filled else None,
            "order_class": order.order_class,
            "order_type": order.type,
            "type": order.type,
            "side": "buy" if request.side is OrderSide.BUY else "sell",
            "position_intent": None,
            "time_in_force": order.time_in_force,
            "limit_price": _maybe(request.limit_price),
            "stop_price": _maybe(request.stop_price),
            "status": self.status(order_id),
            "extended_hours": order.extended_hours,
            "legs": legs,
            "trail_percent": None if trail_percent is None else number(trail_percent * 100.0),
            "trail_price": _maybe(request.trail_amount),
            "hwm": None,
        }

    def list_orders(self, query: dict[str, str]) -> list[dict[str, Any]]:
        """Answer ``GET /v2/orders`` (status, limit, after, until, direction, nested, symbols)."""
        with self.lock:
            nested = query.get("nested", "false").lower() == "true"
            wanted = query.get("status", "open")
            symbols = set(filter(None, query.get("symbols", "").split(",")))
            after, until = parse_moment(query.get("after")), parse_moment(query.get("until"))
            chosen = []
            for order in self.orders.values():
                if nested and order.parent is not None:
                    continue
                is_open = self.status(order.id) in _OPEN
                if (wanted == "open" and not is_open) or (wanted == "closed" and is_open):
                    continue
                if symbols and order.request.symbol not in symbols:
                    continue
                if (after and order.created_at <= after) or (until and order.created_at >= until):
                    continue
                chosen.append(order)
            if query.get("direction", "desc") == "desc":
                chosen.reverse()
            limit = min(int(query.get("limit") or 50), 500)
            return [self.order_json(order.id, nested=nested) for order in chosen[:limit]]

    def get(self, order_id: str) -> dict[str, Any]:
        """Answer ``GET /v2/orders/{id}``."""
        with self.lock:
            return self.order_json(self._get(order_id).id)

    def get_by_client_id(self, client_id: str) -> dict[str, Any]:
        """Answer ``GET /v2/orders:by_client_order_id``."""
        with self.lock:
            order_id = self.by_client_id.get(client_id)
            if order_id is None:
                raise AlpacaError(404, 40410000, "order not found")
            return self.order_json(order_id)

    def _get(self, order_id: str) -> AlpacaOrder:
        order = self.orders.get(order_id)
        if order is None:
            raise AlpacaError(404, 40410000, "order not found")
        return order

    # -- building orders -----------------------------------------------------------------------

    def _new_id(self, kind: str) -> str:
        self._numbers += 1
        return str(uuid.uuid5(_NAMESPACE, f"{kind}:{self._numbers}"))

    def _order_from(self, body: dict[str, Any], client_id: str, order_class: str) -> AlpacaOrder:
        kind = str(body.get("type") or "")
        tif = str(body.get("time_in_force") or "")
        if kind not in _TYPES or tif not in _TIME_IN_FORCE:
            raise AlpacaError(
                422, 40010001, f"invalid order type {kind!r} or time_in_force {tif!r}"
            )
        if body.get("notional") is not None:
            raise AlpacaError(422, 40010001, "notional orders are not supported by the fake")
        side = str(body.get("side") or "")
        if side not in ("buy", "sell"):
            raise AlpacaError(422, 40010001, f"invalid side {side!r}")
        symbol = str(body.get("symbol") or "")
        if Symbol(symbol) not in self.book.symbols:
            raise AlpacaError(422, 40010001, f"asset {symbol!r} not found")
        trail_percent = body.get("trail_percent")
        try:
            request = OrderRequest(
                Symbol(symbol),
                OrderSide.BUY if side == "buy" else OrderSide.SELL,
                float(body.get("qty") or 0),
                _TYPES[kind],
                limit_price=_float(body.get("limit_price")),
                stop_price=_float(body.get("stop_price")),
                trail_amount=_float(body.get("trail_price")),
                trail_percent=None if trail_percent is None else float(trail_percent) / 100.0,
                time_in_force=_TIME_IN_FORCE[tif],
                reduce_only=bool(body.get("_reduce_only")),
            )
        except ValueError as error:
            raise AlpacaError(422, 40010001, str(error)) from None
        _check_fractional(request.quantity, kind, tif, order_class)
        order_id = self._new_id("order")
        extended = bool(body.get("extended_hours"))
        return AlpacaOrder(order_id, client_id, request, kind, tif, order_class, extended, self.now)

    def _legs(self, body: dict[str, Any], parent: AlpacaOrder) -> list[AlpacaOrder]:
        kind = parent.order_class
        if kind == "simple":
            return []
        take = body.get("take_profit") or {}
        stop = body.get("stop_loss") or {}
        if kind == "oco":
            if parent.type != "limit" or not stop:
                raise AlpacaError(422, 40010001, "oco orders need type limit and a stop_loss")
            take = {}
        elif kind == "bracket" and not (take and stop):
            raise AlpacaError(422, 40010001, "bracket orders need take_profit and stop_loss")
        elif kind == "oto" and bool(take) == bool(stop):
            raise AlpacaError(422, 40010001, "oto orders need take_profit or stop_loss")
        exit_side = "sell" if parent.request.side is OrderSide.BUY else "buy"
        base = {
            "symbol": parent.request.symbol,
            "side": exit_side if kind != "oco" else ("buy" if exit_side == "sell" else "sell"),
            "qty": parent.request.quantity,
            "time_in_force": parent.time_in_force,
            "_reduce_only": True,
        }
        bodies = []
        if stop:  # first: the older leg is matched first (the backtest's adverse_first)
            kind_of_stop = "stop_limit" if stop.get("limit_price") else "stop"
            bodies.append({**base, **stop, "type": kind_of_stop})
        if take:
            bodies.append({**base, "limit_price": take.get("limit_price"), "type": "limit"})
        legs = [self._order_from(leg, self._new_id("client"), kind) for leg in bodies]
        for leg in legs:
            leg.parent, leg.status = parent.id, "held"
            parent.legs.append(leg.id)
        if len(legs) == 2:
            self.book.partners.update({legs[0].id: legs[1].id, legs[1].id: legs[0].id})
        if kind == "oco":
            self.book.partners.update({parent.id: legs[0].id, legs[0].id: parent.id})
        return legs

    def _store(self, order: AlpacaOrder) -> None:
        self.orders[order.id] = order
        self.by_client_id[order.client_order_id] = order.id

    def _activate(self, order: AlpacaOrder) -> list[Update]:
        order.status = None
        request = order.request
        outcome = self.book.submit(ClientOrderId(order.id), request, self.now)
        return self._updates(outcome.events)

    def _cancel_held(self, order: AlpacaOrder, ts: datetime | None = None) -> list[Update]:
        if order.status != "held":
            return []
        order.status = "canceled"
        order.times["canceled_at"] = ts or self.now
        return [Update("canceled", order.id, ts or self.now)]

    def _check_buying_power(self, request: OrderRequest) -> None:
        price = request.limit_price or request.stop_price or self.mark(request.symbol)
        held = self.book.position(request.symbol).quantity
        # Only the part that opens (or grows) a position needs buying power: a buy first covers
        # a short, a sell first closes a long.
        closable = max(-held, 0.0) if request.side is OrderSide.BUY else max(held, 0.0)
        opening = request.quantity - closable
        if opening > 0 and opening * price > self.buying_power() + 1e-9:
            raise AlpacaError(403, 40310000, "insufficient buying power")

    # -- events --------------------------------------------------------------------------------

    def _updates(self, events: tuple[OrderEvent, ...] | list[OrderEvent]) -> list[Update]:
        updates: list[Update] = []
        for event in events:
            order_id = str(event.order_id)
            order = self.orders[order_id]
            if isinstance(event, FillEvent):
                update = self._fill_update(order, event.fill)
                updates.append(update)
                if update.event == "fill" and order.order_class in ("bracket", "oto"):
                    updates += self._activate_legs(order)
            elif isinstance(event, Accepted):
                updates.append(Update("new", order_id, event.ts))
            elif isinstance(event, (Cancelled, Expired, Rejected)):
                name = {Cancelled: "canceled", Expired: "expired", Rejected: "rejected"}
                label = name[type(event)]
                if order.status != "replaced":
                    order.times[f"{label}_at" if label != "rejected" else "failed_at"] = event.ts
                    updates.append(Update(label, order_id, event.ts))
                updates += self._settle_legs(order, event.ts)
        return updates

    def _fill_update(self, order: AlpacaOrder, fill: Fill) -> Update:
        state = self.book.orders[ClientOrderId(order.id)]
        done = state.status is OrderStatus.FILLED
        if done:
            order.times["filled_at"] = fill.ts
        position = self.book.position(fill.symbol).quantity
        self.activities.append(self._activity(order, fill, done))
        return Update("fill" if done else "partial_fill", order.id, fill.ts, fill, position)

    def _activate_legs(self, order: AlpacaOrder) -> list[Update]:
        """Send the held legs of a bracket or oto parent that has just filled to the book."""
        legs = [self.orders[leg] for leg in order.legs]
        return [u for leg in legs if leg.status == "held" for u in self._activate(leg)]

    def _settle_legs(self, order: AlpacaOrder, ts: datetime) -> list[Update]:
        """A parent that ends without a fill takes its held legs with it."""
        state = self.book.orders[ClientOrderId(order.id)]
        if order.parent is not None or state.filled_quantity > 0:
            return []
        return [u for leg in order.legs for u in self._cancel_held(self.orders[leg], ts)]

    def _activity(self, order: AlpacaOrder, fill: Fill, done: bool) -> dict[str, Any]:
        state = self.book.orders[ClientOrderId(order.id)]
        stamp = fill.ts.astimezone(UTC).strftime("%Y%m%d%H%M%S%f")[:17]
        return {
            "id": f"{stamp}::{uuid.uuid5(_NAMESPACE, f'fill:{fill.trade_id}')}",
            "account_id": ACCOUNT_ID,
            "activity_type": "FILL",
            "transaction_time": iso(fill.ts),
            "type": "fill" if done else "partial_fill",
            "price": number(fill.price),
            "qty": number(fill.quantity),
            "side": "buy" if fill.side is OrderSide.BUY else "sell",
            "symbol": str(fill.symbol),
            "leaves_qty": number(max(state.request.quantity - state.filled_quantity, 0.0)),
            "order_id": order.id,
            "cum_qty": number(state.filled_quantity),
            "order_status": "filled" if done else "partially_filled",
        }

    # -- account -------------------------------------------------------------------------------

    def mark(self, symbol: str) -> float:
        """Return the latest close of ``symbol`` (its average price before any bar)."""
        bar = self.book.latest.get(Symbol(symbol))
        return bar.close if bar is not None else self.book.position(symbol).average_price

    def buying_power(self) -> float:
        """Return the margin buying power: multiplier × equity minus the gross exposure."""
        gross = sum(
            abs(position.market_value(self.mark(symbol)))
            for symbol, position in self.book.positions.items()
        )
        return max(self.margin_multiplier * self.book.equity() - gross, 0.0)


def _check_fractional(quantity: float, kind: str, tif: str, order_class: str) -> None:
    """Refuse a fractional quantity as Alpaca does: simple ``day`` orders of four types only."""
    if quantity == int(quantity):
        return
    if order_class != "simple":
        raise AlpacaError(422, 42210000, "fractional orders must be simple orders")
    if tif != "day":
        raise AlpacaError(422, 42210000, "fractional orders must be DAY orders")
    if kind not in ("market", "limit", "stop", "stop_limit"):
        raise AlpacaError(
            422, 42210000, "fractional orders must be market, limit, stop, or stop_limit orders"
        )


def _maybe(value: float | None) -> str | None:
    return None if value is None else number(value)


def _float(value: Any) -> float | None:
    return None if value is None or value == "" else float(value)


def parse_moment(text: str | None) -> datetime | None:
    """Read an RFC 3339 time (``Z`` or an offset; none means UTC); ``None`` when empty."""
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
