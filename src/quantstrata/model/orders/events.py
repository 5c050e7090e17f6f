"""What happens to an order, as frozen event values an order folds into its state.

The order manager journals each event before acting on it; an order's state is the fold of its
events (:meth:`quantstrata.model.orders.order.Order.apply`). Events come from two sides:

- ours: :class:`Submitted` (the intent is journaled and about to be sent),
  :class:`CancelRequested`, :class:`TimedOut` (no answer to a submit in time, or the connection
  dropped while sending: the order is *unknown*, never assumed rejected), :class:`Resolved`
  (the answer to querying the venue about an unknown order by its client order id);
- the venue's: :class:`Accepted` (with the venue's order id), :class:`Rejected`,
  :class:`FillEvent` (one execution), :class:`CancelRejected`, :class:`Cancelled` (asked for or
  not: self-trade prevention and the unfilled rest of an IOC order are cancellations too) and
  :class:`Expired` (time in force ran out).

Each event has an :class:`OrderEventKind`, the column of the transition table
(:mod:`quantstrata.model.orders.transitions`). A fill's kind depends on the order it hits:
:attr:`~OrderEventKind.FILL` when it completes the order, else
:attr:`~OrderEventKind.PARTIAL_FILL`; a resolution's kind is
:attr:`~OrderEventKind.RESOLVED_FOUND` or :attr:`~OrderEventKind.RESOLVED_NOT_FOUND`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from quantstrata.model.identifiers import ClientOrderId, VenueOrderId
from quantstrata.model.orders._checks import InvalidOrderError, aware_time, identifier
from quantstrata.model.orders.enums import OrderStatus
from quantstrata.model.orders.fill import Fill
from quantstrata.model.orders.request import OrderRequest

__all__ = [
    "NOT_FOUND_AT_VENUE",
    "Accepted",
    "CancelRejected",
    "CancelRequested",
    "Cancelled",
    "Expired",
    "FillEvent",
    "OrderEvent",
    "OrderEventKind",
    "Rejected",
    "Resolved",
    "Submitted",
    "TimedOut",
]

NOT_FOUND_AT_VENUE = "not found at venue"
"""The rejection reason an unknown order gets when the venue does not know its client id."""

_EVENT = "order event"
_RESOLVABLE = frozenset(
    {
        OrderStatus.PENDING,
        OrderStatus.PARTIAL,
        OrderStatus.PENDING_CANCEL,
        OrderStatus.FILLED,
        OrderStatus.CANCELLED,
        OrderStatus.REJECTED,
        OrderStatus.EXPIRED,
    }
)
"""Statuses a venue can report for an order it knows (it never reports ours: sending, unknown)."""


class OrderEventKind(StrEnum):
    """The kinds of events, the columns of the order transition table."""

    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    PARTIAL_FILL = "partial_fill"
    FILL = "fill"
    CANCEL_REQUESTED = "cancel_requested"
    CANCEL_REJECTED = "cancel_rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    TIMED_OUT = "timed_out"
    RESOLVED_FOUND = "resolved_found"
    RESOLVED_NOT_FOUND = "resolved_not_found"


@dataclass(frozen=True, slots=True)
class _OrderEventBase:
    """Fields every event but a fill carries: which order, and when (timezone-aware)."""

    order_id: ClientOrderId
    ts: datetime

    def __post_init__(self) -> None:
        """Check the order id and the time."""
        order_id = identifier(ClientOrderId, _EVENT, "order_id", self.order_id)
        object.__setattr__(self, "order_id", order_id)
        aware_time(_EVENT, "ts", self.ts)


@dataclass(frozen=True, slots=True)
class Submitted(_OrderEventBase):
    """The intent to send ``request`` is journaled; the order starts in ``SENDING``."""

    kind: ClassVar[OrderEventKind] = OrderEventKind.SUBMITTED
    request: OrderRequest

    def __post_init__(self) -> None:
        """Check the request is one."""
        _OrderEventBase.__post_init__(self)
        if not isinstance(self.request, OrderRequest):
            raise InvalidOrderError(
                f"invalid order event: request must be an OrderRequest, got {self.request!r}",
                field="request",
                value=self.request,
            )


@dataclass(frozen=True, slots=True)
class Accepted(_OrderEventBase):
    """The venue acknowledged the order and gave it ``venue_order_id``."""

    kind: ClassVar[OrderEventKind] = OrderEventKind.ACCEPTED
    venue_order_id: VenueOrderId

    def __post_init__(self) -> None:
        """Check the venue order id."""
        _OrderEventBase.__post_init__(self)
        venue_id = identifier(VenueOrderId, _EVENT, "venue_order_id", self.venue_order_id)
        object.__setattr__(self, "venue_order_id", venue_id)


@dataclass(frozen=True, slots=True)
class Rejected(_OrderEventBase):
    """The venue refused the order; ``reason`` says why in the venue's words."""

    kind: ClassVar[OrderEventKind] = OrderEventKind.REJECTED
    reason: str

    def __post_init__(self) -> None:
        """Check a reason is given."""
        _OrderEventBase.__post_init__(self)
        _require_reason(self.reason)


@dataclass(frozen=True, slots=True)
class FillEvent:
    """The venue executed part or all of the order: ``fill``.

    Its kind is not fixed: the order classifies it as ``FILL`` when it completes the order's
    quantity, else ``PARTIAL_FILL``.
    """

    fill: Fill

    def __post_init__(self) -> None:
        """Check the payload is a fill."""
        if not isinstance(self.fill, Fill):
            raise InvalidOrderError(
                f"invalid order event: fill must be a Fill, got {self.fill!r}",
                field="fill",
                value=self.fill,
            )

    @property
    def order_id(self) -> ClientOrderId:
        """The order the fill belongs to."""
        return self.fill.order_id

    @property
    def ts(self) -> datetime:
        """When the venue executed the trade."""
        return self.fill.ts


@dataclass(frozen=True, slots=True)
class CancelRequested(_OrderEventBase):
    """The intent to cancel the order is journaled and about to be sent."""

    kind: ClassVar[OrderEventKind] = OrderEventKind.CANCEL_REQUESTED


@dataclass(frozen=True, slots=True)
class CancelRejected(_OrderEventBase):
    """The venue refused a cancel (typically: the order already filled); it keeps working."""

    kind: ClassVar[OrderEventKind] = OrderEventKind.CANCEL_REJECTED
    reason: str

    def __post_init__(self) -> None:
        """Check a reason is given."""
        _OrderEventBase.__post_init__(self)
        _require_reason(self.reason)


@dataclass(frozen=True, slots=True)
class Cancelled(_OrderEventBase):
    """The venue cancelled the order, on our request or on its own (``reason`` may say why)."""

    kind: ClassVar[OrderEventKind] = OrderEventKind.CANCELLED
    reason: str = ""

    def __post_init__(self) -> None:
        """Check the reason is text."""
        _OrderEventBase.__post_init__(self)
        _require_reason(self.reason, allow_empty=True)


@dataclass(frozen=True, slots=True)
class Expired(_OrderEventBase):
    """The order's time in force ran out (a DAY order at the close, an IOC rest at once)."""

    kind: ClassVar[OrderEventKind] = OrderEventKind.EXPIRED


@dataclass(frozen=True, slots=True)
class TimedOut(_OrderEventBase):
    """Sending got no answer in time or the connection dropped: the order's fate is unknown.

    The order becomes ``UNKNOWN`` and must be resolved by querying the venue (:class:`Resolved`),
    never by resending it and never by assuming a rejection.
    """

    kind: ClassVar[OrderEventKind] = OrderEventKind.TIMED_OUT
    reason: str

    def __post_init__(self) -> None:
        """Check a reason is given."""
        _OrderEventBase.__post_init__(self)
        _require_reason(self.reason)


@dataclass(frozen=True, slots=True)
class Resolved(_OrderEventBase):
    """The venue's answer to a query about an unknown order, by its client order id.

    Not found (``venue_status`` is ``None``): the order never reached the venue and ends
    ``REJECTED`` with the reason :data:`NOT_FOUND_AT_VENUE`. Found: the venue reports its
    ``venue_order_id``, its ``venue_status`` and every execution so far in ``fills``; applying
    the resolution acknowledges the order, applies the fills, then the venue's status. A found
    order's fills must agree with its status: none for ``PENDING`` and ``REJECTED``, some for
    ``PARTIAL`` and enough for ``FILLED`` (checked against the quantity by the order).
    """

    venue_status: OrderStatus | None
    venue_order_id: VenueOrderId | None = None
    fills: tuple[Fill, ...] = ()

    def __post_init__(self) -> None:
        """Check the answer is one a venue can give."""
        _OrderEventBase.__post_init__(self)
        fills = tuple(self.fills)
        object.__setattr__(self, "fills", fills)
        if self.venue_status is None:
            if self.venue_order_id is not None or fills:
                raise InvalidOrderError(
                    "invalid resolution: an order not found at the venue has no venue_order_id "
                    f"and no fills, got venue_order_id={self.venue_order_id!r}, "
                    f"{len(fills)} fills",
                    field="venue_status",
                    value=None,
                )
            return
        self._check_found(fills)

    @classmethod
    def not_found(cls, order_id: ClientOrderId, ts: datetime) -> Resolved:
        """Build the answer "the venue has no order with this client order id"."""
        return cls(order_id, ts, None)

    @property
    def kind(self) -> OrderEventKind:
        """``RESOLVED_FOUND`` or ``RESOLVED_NOT_FOUND``."""
        if self.venue_status is None:
            return OrderEventKind.RESOLVED_NOT_FOUND
        return OrderEventKind.RESOLVED_FOUND

    def _check_found(self, fills: tuple[Fill, ...]) -> None:
        status = self.venue_status
        if status not in _RESOLVABLE:
            raise InvalidOrderError(
                f"invalid resolution: a venue cannot report status {status!r}",
                field="venue_status",
                value=status,
            )
        object.__setattr__(self, "venue_status", OrderStatus(status))
        if self.venue_order_id is None:
            raise InvalidOrderError(
                "invalid resolution: an order found at the venue needs its venue_order_id",
                field="venue_order_id",
                value=None,
            )
        venue_id = identifier(VenueOrderId, _EVENT, "venue_order_id", self.venue_order_id)
        object.__setattr__(self, "venue_order_id", venue_id)
        for fill in fills:
            if not isinstance(fill, Fill) or fill.order_id != self.order_id:
                raise InvalidOrderError(
                    f"invalid resolution: fills must be Fills of order {self.order_id}, "
                    f"got {fill!r}",
                    field="fills",
                    value=fill,
                )
        needs_fills = status in (OrderStatus.PARTIAL, OrderStatus.FILLED)
        refuses_fills = status in (OrderStatus.PENDING, OrderStatus.REJECTED)
        if (needs_fills and not fills) or (refuses_fills and fills):
            raise InvalidOrderError(
                f"invalid resolution: venue status {status} with {len(fills)} fills",
                field="fills",
                value=fills,
            )


OrderEvent = (
    Submitted
    | Accepted
    | Rejected
    | FillEvent
    | CancelRequested
    | CancelRejected
    | Cancelled
    | Expired
    | TimedOut
    | Resolved
)
"""Any event an order can receive."""


def _require_reason(reason: object, *, allow_empty: bool = False) -> None:
    if not isinstance(reason, str) or not (allow_empty or reason.strip()):
        raise InvalidOrderError(
            f"invalid order event: reason must be {'text' if allow_empty else 'non-empty text'}, "
            f"got {reason!r}",
            field="reason",
            value=reason,
        )
