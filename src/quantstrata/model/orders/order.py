"""An :class:`Order`: an immutable value that changes only by applying events to it.

``order.apply(event)`` returns the order's next value; the status moves only through the
transition table (:mod:`quantstrata.model.orders.transitions`), and the quantities follow the
fills. The rules beyond the table:

- Fills are de-duplicated by trade id: a fill whose trade id the order has seen returns the
  same order object (idempotent), in every status.
- A fill is ``FILL`` when it completes the quantity, else ``PARTIAL_FILL``; quantities within a
  relative :data:`QUANTITY_TOLERANCE` of the order's quantity count as complete, and the filled
  quantity is then set to exactly the order's quantity. Beyond it, a fill is an overfill and
  raises :class:`OverfillError`.
- ``PENDING`` means accepted with nothing filled; when the table returns ``PENDING`` for an
  order with fills (a rejected cancel of a partly filled order), the order is ``PARTIAL``.
- A rejection of an order with fills raises :class:`InvalidTransitionError`.
- An event for another client order id, a venue order id different from the one recorded, or
  a fill for another symbol or side raises :class:`OrderStateError`.

Every error leaves the order as it was (it is immutable), so a caller may log the error and go
on with the previous value.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from quantstrata.model.identifiers import ClientOrderId, Symbol, TradeId, VenueOrderId
from quantstrata.model.orders._checks import InvalidOrderError, aware_time, identifier
from quantstrata.model.orders.enums import OrderSide, OrderStatus
from quantstrata.model.orders.events import (
    NOT_FOUND_AT_VENUE,
    Accepted,
    Cancelled,
    CancelRejected,
    CancelRequested,
    Expired,
    FillEvent,
    OrderEvent,
    OrderEventKind,
    Rejected,
    Resolved,
    Submitted,
    TimedOut,
)
from quantstrata.model.orders.fill import Fill
from quantstrata.model.orders.request import OrderRequest
from quantstrata.model.orders.transitions import (
    InvalidTransitionError,
    OrderStateError,
    is_ignored,
    next_status,
)

__all__ = [
    "QUANTITY_TOLERANCE",
    "EventOutcome",
    "Order",
    "OrderUpdate",
    "OverfillError",
    "completes",
]

QUANTITY_TOLERANCE = 1e-9
"""Relative tolerance within which a filled quantity equals the order's quantity."""


def completes(filled: float, quantity: float) -> bool:
    """Whether ``filled`` completes an order of ``quantity`` (equal within the tolerance).

    The one rule of when an order is done filling: :meth:`Order.apply` makes such an order
    ``FILLED``, and the fill model leaves no working remainder after such a fill (a remainder
    of float dust would fill again on a later bar, a fill of an order already filled).
    """
    return math.isclose(filled, quantity, rel_tol=QUANTITY_TOLERANCE, abs_tol=0.0)


_ORDER = "order"
_NO_FILLS = frozenset(
    {OrderStatus.SENDING, OrderStatus.UNKNOWN, OrderStatus.PENDING, OrderStatus.REJECTED}
)
_WORKING_AT_VENUE = frozenset(
    {OrderStatus.PENDING, OrderStatus.PARTIAL, OrderStatus.PENDING_CANCEL}
)


_StatusEvent = (
    Submitted
    | Accepted
    | Rejected
    | CancelRequested
    | CancelRejected
    | Cancelled
    | Expired
    | TimedOut
)


class OverfillError(InvalidTransitionError):
    """A fill would take the filled quantity beyond the order's quantity."""

    def __init__(
        self, status: OrderStatus, event: OrderEventKind, filled: float, quantity: float
    ) -> None:
        """Build the error naming the quantity the fill would reach and the order's."""
        super().__init__(
            status,
            event,
            f"overfill: the fill would bring the filled quantity to {filled!r}, "
            f"more than the order's quantity {quantity!r}",
        )
        self.filled = filled
        self.quantity = quantity


class EventOutcome(StrEnum):
    """What applying an event did: changed the order, or left it as it was and why."""

    APPLIED = "applied"
    IGNORED = "ignored"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """The order after an event, and whether the event was applied, ignored or a duplicate."""

    order: Order
    outcome: EventOutcome


@dataclass(frozen=True, slots=True)
class Order:
    """One order's state: what was asked, where it stands, and what has filled.

    ``order_id`` is our client order id, fixed at submission and stable across restarts.
    ``filled_quantity`` is the sum of the distinct fills and ``average_fill_price`` their
    quantity-weighted mean price (``0.0`` while nothing is filled: check the quantity, not the
    price). ``trade_ids`` are the fills seen. ``venue_order_id`` is known once the venue
    acknowledged the order or reported it with a fill. ``reason`` is the text of the last event
    that gave one (rejection, cancellation, cancel rejection, timeout). ``created_at`` is the
    time of the submission, ``updated_at`` the latest event time applied (never earlier).
    """

    order_id: ClientOrderId
    request: OrderRequest
    status: OrderStatus
    created_at: datetime
    updated_at: datetime
    filled_quantity: float = 0.0
    average_fill_price: float = 0.0
    venue_order_id: VenueOrderId | None = None
    trade_ids: frozenset[TradeId] = field(default_factory=frozenset)
    reason: str = ""

    def __post_init__(self) -> None:
        """Refuse values no sequence of events can produce."""
        order_id = identifier(ClientOrderId, _ORDER, "order_id", self.order_id)
        object.__setattr__(self, "order_id", order_id)
        if not isinstance(self.request, OrderRequest):
            raise InvalidOrderError(
                f"invalid order: request must be an OrderRequest, got {self.request!r}",
                field="request",
                value=self.request,
            )
        object.__setattr__(self, "status", OrderStatus(self.status))
        object.__setattr__(self, "trade_ids", frozenset(self.trade_ids))
        aware_time(_ORDER, "created_at", self.created_at)
        aware_time(_ORDER, "updated_at", self.updated_at)
        if self.updated_at < self.created_at:
            raise InvalidOrderError(
                f"invalid order: updated_at {self.updated_at} is before created_at "
                f"{self.created_at}",
                field="updated_at",
                value=self.updated_at,
            )
        _check_quantities(self)

    @classmethod
    def submit(cls, event: Submitted) -> Order:
        """Start an order from its journaled submission: status ``SENDING``."""
        if not isinstance(event, Submitted):
            raise InvalidOrderError(
                f"invalid order: an order starts from a Submitted event, got {event!r}",
                field="event",
                value=event,
            )
        return cls(
            event.order_id,
            event.request,
            OrderStatus.SENDING,
            event.ts,
            event.ts,
        )

    @classmethod
    def replay(cls, events: Iterable[OrderEvent]) -> Order:
        """Fold a journal of one order's events, the first being its :class:`Submitted`."""
        iterator = iter(events)
        first = next(iterator, None)
        if not isinstance(first, Submitted):
            raise InvalidOrderError(
                f"invalid order journal: it must start with Submitted, got {first!r}",
                field="events",
                value=first,
            )
        order = cls.submit(first)
        for event in iterator:
            order = order.apply(event)
        return order

    @property
    def symbol(self) -> Symbol:
        """The symbol traded."""
        return self.request.symbol

    @property
    def side(self) -> OrderSide:
        """The side of the order."""
        return self.request.side

    @property
    def quantity(self) -> float:
        """The quantity asked for (positive)."""
        return self.request.quantity

    @property
    def remaining_quantity(self) -> float:
        """The quantity not yet filled (0.0 once filled; what a cancel would leave unfilled)."""
        return max(self.request.quantity - self.filled_quantity, 0.0)

    @property
    def is_terminal(self) -> bool:
        """Whether the order's status can never change again."""
        return self.status.is_terminal

    def apply(self, event: OrderEvent) -> Order:
        """Return the order after ``event`` (the same object if it was ignored or a duplicate)."""
        return self.apply_with_outcome(event).order

    def apply_with_outcome(self, event: OrderEvent) -> OrderUpdate:
        """Return the order after ``event`` and whether it was applied, ignored or a duplicate.

        Raise :class:`InvalidTransitionError` (or :class:`OverfillError`) for events the
        transition table or the quantities forbid, and :class:`OrderStateError` for events
        that do not belong to this order.
        """
        if event.order_id != self.order_id:
            raise OrderStateError(
                f"event for order {event.order_id} applied to order {self.order_id}"
            )
        if isinstance(event, FillEvent):
            return self._apply_fill(event.fill)
        if isinstance(event, Resolved):
            return self._apply_resolution(event)
        return self._apply_status_event(event)

    def _apply_status_event(self, event: _StatusEvent) -> OrderUpdate:
        kind = event.kind
        if is_ignored(self.status, kind):
            return OrderUpdate(self, EventOutcome.IGNORED)
        target = next_status(self.status, kind)
        if isinstance(event, Rejected) and self.filled_quantity > 0:
            raise InvalidTransitionError(
                self.status, kind, f"the order has {self.filled_quantity!r} filled"
            )
        if target is OrderStatus.PENDING and self.filled_quantity > 0:
            target = OrderStatus.PARTIAL
        venue_id = self.venue_order_id
        if isinstance(event, Accepted):
            venue_id = self._venue_id(event.venue_order_id)
        reason = self.reason
        if isinstance(event, Rejected | CancelRejected | Cancelled | TimedOut) and event.reason:
            reason = event.reason
        order = dataclasses.replace(
            self,
            status=target,
            venue_order_id=venue_id,
            reason=reason,
            updated_at=max(self.updated_at, event.ts),
        )
        return OrderUpdate(order, EventOutcome.APPLIED)

    def _apply_fill(self, fill: Fill) -> OrderUpdate:
        if fill.trade_id in self.trade_ids:
            return OrderUpdate(self, EventOutcome.DUPLICATE)
        if fill.symbol != self.symbol or fill.side is not self.side:
            raise OrderStateError(
                f"fill {fill.trade_id} ({fill.side.name} {fill.symbol}) does not match order "
                f"{self.order_id} ({self.side.name} {self.symbol})"
            )
        quantity = self.quantity
        filled = self.filled_quantity + fill.quantity
        complete = completes(filled, quantity)
        kind = OrderEventKind.FILL if complete else OrderEventKind.PARTIAL_FILL
        if filled > quantity and not complete:
            raise OverfillError(self.status, kind, filled, quantity)
        target = next_status(self.status, kind)
        notional = self.average_fill_price * self.filled_quantity + fill.price * fill.quantity
        venue_id = self.venue_order_id
        if fill.venue_order_id is not None:
            venue_id = self._venue_id(fill.venue_order_id)
        order = dataclasses.replace(
            self,
            status=target,
            filled_quantity=quantity if complete else filled,
            average_fill_price=notional / filled,
            venue_order_id=venue_id,
            trade_ids=self.trade_ids | {fill.trade_id},
            updated_at=max(self.updated_at, fill.ts),
        )
        return OrderUpdate(order, EventOutcome.APPLIED)

    def _apply_resolution(self, event: Resolved) -> OrderUpdate:
        kind = event.kind
        if is_ignored(self.status, kind):
            return OrderUpdate(self, EventOutcome.IGNORED)
        target = next_status(self.status, kind)
        order = dataclasses.replace(
            self,
            status=target,
            venue_order_id=self._venue_id(event.venue_order_id),
            updated_at=max(self.updated_at, event.ts),
            reason=NOT_FOUND_AT_VENUE if event.venue_status is None else self.reason,
        )
        if event.venue_status is not None:
            order = order._settle_found(event)
        return OrderUpdate(order, EventOutcome.APPLIED)

    def _settle_found(self, event: Resolved) -> Order:
        order = self
        for fill in event.fills:
            order = order._apply_fill(fill).order
        venue_status = event.venue_status
        settle: OrderEvent | None = None
        cid, ts = self.order_id, event.ts
        if venue_status is OrderStatus.CANCELLED:
            settle = Cancelled(cid, ts, "cancelled at venue (found by query)")
        elif venue_status is OrderStatus.EXPIRED:
            settle = Expired(cid, ts)
        elif venue_status is OrderStatus.REJECTED:
            settle = Rejected(cid, ts, "rejected at venue (found by query)")
        if settle is not None:
            order = order.apply(settle)
        expected = venue_status
        if venue_status in _WORKING_AT_VENUE:
            expected = OrderStatus.PARTIAL if order.filled_quantity > 0 else OrderStatus.PENDING
        if order.status is not expected:
            raise OrderStateError(
                f"the venue reports order {self.order_id} {venue_status} but its "
                f"{len(event.fills)} fills bring it to {order.status} with "
                f"{order.filled_quantity!r} of {order.quantity!r} filled"
            )
        return order

    def _venue_id(self, venue_order_id: VenueOrderId | None) -> VenueOrderId | None:
        known = self.venue_order_id
        if venue_order_id is None or known is None or known == venue_order_id:
            return venue_order_id if known is None else known
        raise OrderStateError(
            f"order {self.order_id} has venue order id {known!r}, an event reports "
            f"{venue_order_id!r}"
        )


def _check_quantities(order: Order) -> None:
    quantity, filled, price = order.quantity, order.filled_quantity, order.average_fill_price
    for name, value in (("filled_quantity", filled), ("average_fill_price", price)):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not (math.isfinite(value) and value >= 0)
        ):
            raise InvalidOrderError(
                f"invalid order: {name} must be a finite number >= 0, got {value!r}",
                field=name,
                value=value,
            )
    status = order.status
    problem = ""
    if filled > quantity:
        problem = f"more than the quantity {quantity!r}"
    elif (filled > 0) != (price > 0) or (filled > 0) != bool(order.trade_ids):
        problem = "inconsistent with average_fill_price and trade_ids (all zero or none)"
    elif status in _NO_FILLS and filled > 0:
        problem = f"but an order {status} has no fills"
    elif status is OrderStatus.PARTIAL and not 0 < filled < quantity:
        problem = "but a PARTIAL order is filled in part"
    elif status is OrderStatus.PENDING_CANCEL and filled >= quantity:
        problem = "but a PENDING_CANCEL order is not completely filled"
    elif status is OrderStatus.FILLED and filled != quantity:
        problem = f"but a FILLED order has all its quantity {quantity!r} filled"
    if problem:
        raise InvalidOrderError(
            f"invalid order: filled_quantity {filled!r} {problem}",
            field="filled_quantity",
            value=filled,
        )
