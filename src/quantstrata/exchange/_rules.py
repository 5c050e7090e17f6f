"""The rules an order meets before it fills: reduce-only and no-short limits, the leverage cap.

- **Reduce-only and no-short**: the part of an order that would open or flip a position when it
  may not is cut (:func:`allowed`).
- **max_leverage**: a fill that would take gross exposure (Σ |position × mark|, this symbol
  marked at the fill price, the others at their latest marks) above ``max_leverage × equity``
  is reduced to what the cap allows, rounded toward zero to whole lots when trading whole lots
  (:func:`leverage_allowed`). Reductions toward flat are never capped, and a position already
  beyond the cap is kept, not forced down.
"""

from __future__ import annotations

import numpy as np

from quantstrata.execution._nb import cap_leverage_nb, exposure_nb, round_lots_nb, unit_cost_nb
from quantstrata.execution.orders import FillResult
from quantstrata.model.orders import OrderRequest, OrderSide

__all__ = ["EPSILON", "allowed", "leverage_allowed"]

EPSILON = 1e-12
"""Quantities at or below this fraction of an order's are nothing."""


def allowed(request: OrderRequest, quantity: float, held: float, *, allow_short: bool) -> float:
    """Return how much of ``quantity`` may trade with ``held`` in the symbol.

    A reduce-only order never goes beyond the position (nothing when it would add to it); with
    ``allow_short`` off a sell never goes below zero.
    """
    reducing = held * float(request.side) < 0.0
    if request.reduce_only:
        return min(quantity, abs(held)) if reducing else 0.0
    if not allow_short and request.side is OrderSide.SELL:
        return min(quantity, max(held, 0.0))
    return quantity


def leverage_allowed(  # noqa: PLR0917 - the account's arrays and the cap's settings
    fill: FillResult,
    column: int,
    cash: float,
    quantities: np.ndarray,
    marks: np.ndarray,
    max_leverage: float,
    lots: tuple[float, float],
    terms: np.ndarray,
) -> float | None:
    """Return how much of ``fill`` the leverage cap allows; ``None`` when all of it.

    ``quantities`` and ``marks`` are every symbol's position and latest mark; ``column`` is
    the fill's symbol, marked at the fill price. ``terms`` are every symbol's contract terms
    (:func:`~quantstrata.execution.margin.terms_array`): a symbol with margin is held to its
    buying power (Σ initial margin ≤ equity) instead. ``0.0`` means no room at all.
    """
    marked = marks.copy()
    marked[column] = fill.price
    equity, gross = exposure_nb(cash, quantities, marked, terms)
    current = float(quantities[column])
    side = float(fill.side)
    desired = current + side * fill.quantity
    cost = float(unit_cost_nb(fill.price, terms[column]))
    other = gross - abs(current * cost)
    capped = float(cap_leverage_nb(current, desired, cost, other, equity, max_leverage))
    if abs(capped - desired) <= 1e-9 * max(abs(desired), 1.0):
        return None
    if (capped - current) * side <= 0.0:
        return 0.0
    return abs(float(round_lots_nb(capped - current, *lots)))
