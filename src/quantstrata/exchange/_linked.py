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

from dataclasses import dataclass, field, replace
from datetime import datetime

from quantstrata.execution import WorkingBracket, WorkingOrder
from quantstrata.model.identifiers import ClientOrderId
from quantstrata.model.orders import Bracket, OrderRequest, OrderSide, OrderType

__all__ = ["Working", "bracket_exits", "exit_pair"]


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
    stop: OrderRequest, state: WorkingOrder | WorkingBracket, take: OrderRequest
) -> WorkingBracket | None:
    """Return the bracket exits ``stop`` (working as ``state``) and ``take`` form, if any."""
    shaped = (
        isinstance(state, WorkingOrder)
        and stop.order_type is OrderType.STOP
        and take.order_type is OrderType.LIMIT
        and stop.symbol == take.symbol
        and stop.side == take.side
        and state.filled_quantity == 0.0
        and stop.quantity == take.quantity
    )
    if not shaped:
        return None
    try:
        return WorkingBracket(stop.side, stop.quantity, stop.stop_price, take.limit_price)
    except ValueError:
        return None
