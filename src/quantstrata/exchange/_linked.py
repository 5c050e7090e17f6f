"""Working orders and the links between them: one-cancels-other pairs and brackets.

- **One-cancels-other**: each order of the pair names the other (``partner``); when either
  fills, even in part, the other is cancelled.
- **Bracket**: the entry works alone and carries its :class:`Bracket`. Once the entry is done
  with a fill, its exits (the stop-loss and/or the take-profit, each an order of its own, both
  reduce-only, for the quantity the entry filled) work together as one
  :class:`~quantstrata.execution.WorkingBracket` stepped by the fill model, which decides which
  exit a bar reaches first; the other is cancelled. What of the filled exit is left works on as
  a plain order.

The model has no one-triggers-other group (``model/orders/request.py``): a bracket is the only
order that triggers others.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from quantstrata.exchange._values import WorkingEntry
from quantstrata.execution import WorkingBracket, WorkingOrder
from quantstrata.model.identifiers import ClientOrderId
from quantstrata.model.orders import Bracket, Order, OrderRequest, OrderSide, OrderType

__all__ = [
    "Working",
    "bracket_exits",
    "exit_pair",
    "linked_pairs",
    "saved_entries",
    "unreached_leg",
]


@dataclass(slots=True, eq=False)
class Working:
    """A working order (or a bracket's exit pair) and what links it to other orders.

    ``ids`` are the orders it holds (one, or a bracket's exits); ``expires`` is the session close
    of a DAY order (``None``: never). ``capped`` and ``reason`` record a cut by the order rules
    and why the rest is cancelled.
    """

    order_id: ClientOrderId
    symbol: int
    state: WorkingOrder | WorkingBracket
    expires: datetime | None
    partner: ClientOrderId | None = None
    bracket: Bracket | None = None
    legs: tuple[ClientOrderId | None, ClientOrderId | None] = (None, None)
    capped: bool = False
    reason: str = "rest cancelled"
    ids: tuple[ClientOrderId, ...] = field(default=())


def bracket_exits(
    bracket: Bracket, filled: float
) -> tuple[tuple[OrderRequest | None, OrderRequest | None], WorkingBracket]:
    """Return the exit requests (stop-loss, take-profit) and their pair for ``filled`` units."""
    requests = tuple(
        None if request is None else replace(request, quantity=filled)
        for request in (bracket.stop_loss_request, bracket.take_profit_request)
    )
    state = WorkingBracket(
        OrderSide(-bracket.entry.side),
        filled,
        bracket.stop_loss,
        bracket.take_profit,
        arrived=True,
    )
    return (requests[0], requests[1]), state


def exit_pair(
    stop: Working, take: Working, stop_request: OrderRequest, take_request: OrderRequest
) -> Working | None:
    """Return a bracket's exits, working alone as ``stop`` and ``take``, as one bracket.

    ``None`` when they are not a bracket's exits: a stop and a limit order of one symbol, one
    side and one quantity, neither filled yet.
    """
    one, other = stop.state, take.state
    shaped = (
        isinstance(one, WorkingOrder)
        and isinstance(other, WorkingOrder)
        and stop_request.order_type is OrderType.STOP
        and take_request.order_type is OrderType.LIMIT
        and stop_request.symbol == take_request.symbol
        and stop_request.side == take_request.side
        and stop_request.quantity == take_request.quantity
        and one.filled_quantity == other.filled_quantity == 0.0
    )
    if not shaped:
        return None
    arrived = one.arrived and other.arrived
    try:
        state = WorkingBracket(
            stop_request.side,
            stop_request.quantity,
            stop_request.stop_price,
            take_request.limit_price,
            arrived=arrived,
        )
    except ValueError:
        return None
    ids = (stop.order_id, take.order_id)
    return Working(stop.order_id, stop.symbol, state, stop.expires, legs=ids, ids=ids)


def unreached_leg(state: WorkingBracket, request: OrderRequest) -> WorkingOrder:
    """Return an exit of the bracket ``state`` (its order's ``request``) as a plain order."""
    leg = WorkingOrder.from_request(replace(request, quantity=state.quantity))
    return replace(leg, arrived=state.arrived)


def saved_entries(
    working: Iterable[Working], orders: Mapping[ClientOrderId, Order]
) -> list[WorkingEntry]:
    """Return the working orders, oldest first, each as a plain order (a saved book).

    A bracket's entry still to fill is left out; the exits of a bracket are given as their
    plain orders, not yet reached (:func:`linked_pairs` says which to link again).
    """
    entries = []
    for item in working:
        if item.bracket is not None:
            continue
        if isinstance(item.state, WorkingOrder):
            entries.append(WorkingEntry(item.order_id, item.state, item.expires))
            continue
        for leg_id in item.ids:
            state = unreached_leg(item.state, orders[leg_id].request)
            entries.append(WorkingEntry(leg_id, state, item.expires))
    return entries


def linked_pairs(working: Iterable[Working]) -> list[tuple[ClientOrderId, ClientOrderId, bool]]:
    """Return the linked working pairs: (first, second, whether a bracket's exits)."""
    found = []
    for item in working:
        if item.partner is not None and item.order_id < item.partner:
            found.append((item.order_id, item.partner, False))
        elif isinstance(item.state, WorkingBracket) and len(item.ids) == 2:
            found.append((item.ids[0], item.ids[1], True))
    return found
