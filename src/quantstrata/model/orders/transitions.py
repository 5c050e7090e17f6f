"""The order transition table: the one place that says which event moves an order where.

The backtester, the paper broker and the live order manager all change order status only
through :func:`next_status`. Every pair ``(status, event kind)`` is exactly one of:

- **legal**, listed in :data:`TRANSITIONS` with the status it leads to (possibly the same
  status: a fill on a partly filled order keeps it ``PARTIAL`` while its quantities change);
- **ignored**, listed in :data:`IGNORED`: the event is a harmless duplicate or a late message
  that cannot change what the order did or may still do. The order stays exactly as it was and
  the caller is told so (:class:`~quantstrata.model.orders.order.OrderUpdate`), to log it;
- **illegal**, everything else: :func:`next_status` raises :class:`InvalidTransitionError`.
  Illegal pairs are bugs in our own bookkeeping (a second ``SUBMITTED`` for one client order
  id, a cancel request for an order the venue has not acknowledged) or venue messages that
  contradict facts already recorded in a way that may hide risk: an acknowledgement or a fill
  for an order we wrote off as rejected (a live order or a trade nobody books), a fill beyond
  the quantity of a filled order, a rejection of an order with fills. The order manager treats
  them as reconciliation alarms.

Rules the table encodes, by design:

- Out-of-order venue updates are accepted: a fill before the acknowledgement moves ``SENDING``
  (or ``UNKNOWN``) straight to ``PARTIAL``/``FILLED``; a late acknowledgement never moves an
  order backwards. On ``PARTIAL`` and ``PENDING_CANCEL`` it is a legal self-transition that
  records the venue order id (an order that filled before its acknowledgement may not have
  one yet); on ``PENDING`` (already acknowledged) it is an ignored duplicate.
- A timeout makes an order ``UNKNOWN``, never ``REJECTED``; only the venue's answers resolve it
  (any of its messages, or the answer to a query: ``RESOLVED_FOUND``/``RESOLVED_NOT_FOUND``).
  A query answer that arrives after the venue already spoke directly is ignored: it may be
  staler than what we know.
- Cancels are requested only for orders the venue has acknowledged (``PENDING``, ``PARTIAL``):
  a cancel for an order still in flight or unknown can fail ambiguously, so the order manager
  defers it until the acknowledgement or the resolution. A second cancel request while one is
  pending is ignored.
- A cancel racing a fill resolves by the quantities: ``PENDING_CANCEL`` plus a fill of the rest
  is ``FILLED``; plus a partial fill stays ``PENDING_CANCEL``; a rejected cancel returns the
  order to work (``PENDING``, which the order turns into ``PARTIAL`` when it has fills).
- Terminal states (``FILLED``, ``CANCELLED``, ``REJECTED``, ``EXPIRED``) never change status.
  Late acknowledgements, rejections, cancel requests, cancel rejections, cancellations,
  expiries, timeouts and query answers on them are ignored. Fills are facts, so they are never
  ignored: a late fill on ``CANCELLED`` or ``EXPIRED`` is booked with the status kept (the
  cancel confirmation overtook an execution that happened before it); a fill on ``FILLED`` is
  an overfill and a fill on ``REJECTED`` a trade on an order written off, both illegal, as is
  an acknowledgement of a ``REJECTED`` order (it lives at the venue after all).
- ``SUBMITTED`` is illegal in every status: it creates an order
  (:meth:`~quantstrata.model.orders.order.Order.submit`), and a second one for the same client
  order id is a bug.
- A rejection of an order that has fills is illegal (``PARTIAL``; ``PENDING_CANCEL`` with
  fills, which the order checks): the venue cannot un-trade, it must cancel the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from quantstrata.core.errors import QuantstrataError
from quantstrata.model.orders.enums import OrderStatus
from quantstrata.model.orders.events import OrderEventKind

__all__ = [
    "IGNORED",
    "TRANSITIONS",
    "InvalidTransitionError",
    "OrderStateError",
    "is_ignored",
    "next_status",
]

_S = OrderStatus
_E = OrderEventKind


class OrderStateError(QuantstrataError):
    """An event cannot be applied to an order; the order is left unchanged."""


class InvalidTransitionError(OrderStateError):
    """The transition table forbids applying an event of kind ``event`` in ``status``."""

    def __init__(self, status: OrderStatus, event: OrderEventKind, detail: str = "") -> None:
        """Build the error naming the status, the event kind and, optionally, why."""
        why = f": {detail}" if detail else ""
        super().__init__(f"illegal order transition: {event} in status {status}{why}")
        self.status = status
        self.event = event


TRANSITIONS: Mapping[tuple[OrderStatus, OrderEventKind], OrderStatus] = MappingProxyType(
    {
        # in flight: sent, no answer yet
        (_S.SENDING, _E.ACCEPTED): _S.PENDING,
        (_S.SENDING, _E.REJECTED): _S.REJECTED,
        (_S.SENDING, _E.PARTIAL_FILL): _S.PARTIAL,
        (_S.SENDING, _E.FILL): _S.FILLED,
        (_S.SENDING, _E.CANCELLED): _S.CANCELLED,
        (_S.SENDING, _E.EXPIRED): _S.EXPIRED,
        (_S.SENDING, _E.TIMED_OUT): _S.UNKNOWN,
        # unknown: any answer from the venue settles it
        (_S.UNKNOWN, _E.ACCEPTED): _S.PENDING,
        (_S.UNKNOWN, _E.REJECTED): _S.REJECTED,
        (_S.UNKNOWN, _E.PARTIAL_FILL): _S.PARTIAL,
        (_S.UNKNOWN, _E.FILL): _S.FILLED,
        (_S.UNKNOWN, _E.CANCELLED): _S.CANCELLED,
        (_S.UNKNOWN, _E.EXPIRED): _S.EXPIRED,
        (_S.UNKNOWN, _E.RESOLVED_FOUND): _S.PENDING,
        (_S.UNKNOWN, _E.RESOLVED_NOT_FOUND): _S.REJECTED,
        # accepted, nothing filled
        (_S.PENDING, _E.REJECTED): _S.REJECTED,
        (_S.PENDING, _E.PARTIAL_FILL): _S.PARTIAL,
        (_S.PENDING, _E.FILL): _S.FILLED,
        (_S.PENDING, _E.CANCEL_REQUESTED): _S.PENDING_CANCEL,
        (_S.PENDING, _E.CANCELLED): _S.CANCELLED,
        (_S.PENDING, _E.EXPIRED): _S.EXPIRED,
        # partly filled, working
        (_S.PARTIAL, _E.ACCEPTED): _S.PARTIAL,
        (_S.PARTIAL, _E.PARTIAL_FILL): _S.PARTIAL,
        (_S.PARTIAL, _E.FILL): _S.FILLED,
        (_S.PARTIAL, _E.CANCEL_REQUESTED): _S.PENDING_CANCEL,
        (_S.PARTIAL, _E.CANCELLED): _S.CANCELLED,
        (_S.PARTIAL, _E.EXPIRED): _S.EXPIRED,
        # cancel sent, not confirmed: fills may still arrive
        (_S.PENDING_CANCEL, _E.ACCEPTED): _S.PENDING_CANCEL,
        (_S.PENDING_CANCEL, _E.REJECTED): _S.REJECTED,
        (_S.PENDING_CANCEL, _E.PARTIAL_FILL): _S.PENDING_CANCEL,
        (_S.PENDING_CANCEL, _E.FILL): _S.FILLED,
        (_S.PENDING_CANCEL, _E.CANCEL_REJECTED): _S.PENDING,
        (_S.PENDING_CANCEL, _E.CANCELLED): _S.CANCELLED,
        (_S.PENDING_CANCEL, _E.EXPIRED): _S.EXPIRED,
        # terminal: only late fills on cancelled or expired orders are booked
        (_S.CANCELLED, _E.PARTIAL_FILL): _S.CANCELLED,
        (_S.CANCELLED, _E.FILL): _S.CANCELLED,
        (_S.EXPIRED, _E.PARTIAL_FILL): _S.EXPIRED,
        (_S.EXPIRED, _E.FILL): _S.EXPIRED,
    }
)
"""Legal ``(status, event kind)`` pairs and the status each leads to."""

_LATE_ON_TERMINAL = (
    _E.ACCEPTED,
    _E.REJECTED,
    _E.CANCEL_REQUESTED,
    _E.CANCEL_REJECTED,
    _E.CANCELLED,
    _E.EXPIRED,
    _E.TIMED_OUT,
    _E.RESOLVED_FOUND,
    _E.RESOLVED_NOT_FOUND,
)
_STALE_QUERY_ANSWERS = (_E.RESOLVED_FOUND, _E.RESOLVED_NOT_FOUND)

IGNORED: frozenset[tuple[OrderStatus, OrderEventKind]] = frozenset(
    {
        (_S.UNKNOWN, _E.TIMED_OUT),
        (_S.PENDING, _E.ACCEPTED),
        (_S.PENDING, _E.CANCEL_REJECTED),
        (_S.PENDING, _E.TIMED_OUT),
        (_S.PARTIAL, _E.CANCEL_REJECTED),
        (_S.PARTIAL, _E.TIMED_OUT),
        (_S.PENDING_CANCEL, _E.CANCEL_REQUESTED),
        (_S.PENDING_CANCEL, _E.TIMED_OUT),
        *(
            (status, kind)
            for status in (_S.PENDING, _S.PARTIAL, _S.PENDING_CANCEL)
            for kind in _STALE_QUERY_ANSWERS
        ),
        *((_S.FILLED, kind) for kind in _LATE_ON_TERMINAL),
        *((_S.CANCELLED, kind) for kind in _LATE_ON_TERMINAL),
        *((_S.EXPIRED, kind) for kind in _LATE_ON_TERMINAL),
        *((_S.REJECTED, kind) for kind in _LATE_ON_TERMINAL if kind is not _E.ACCEPTED),
    }
)
"""``(status, event kind)`` pairs that leave the order exactly as it is."""


def next_status(status: OrderStatus, event: OrderEventKind) -> OrderStatus:
    """Return the status an order in ``status`` moves to on an event of kind ``event``.

    An ignored pair returns ``status`` itself (use :func:`is_ignored` to tell it from a legal
    self-transition); an illegal pair raises :class:`InvalidTransitionError`.
    """
    target = TRANSITIONS.get((status, event))
    if target is not None:
        return target
    if (status, event) in IGNORED:
        return status
    raise InvalidTransitionError(status, event)


def is_ignored(status: OrderStatus, event: OrderEventKind) -> bool:
    """Return whether an event of kind ``event`` leaves an order in ``status`` unchanged."""
    return (status, event) in IGNORED
