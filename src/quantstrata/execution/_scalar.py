"""Pure-Python twins of the sizing kernels of :mod:`quantstrata.execution._nb`, for one bar.

The live runtime sizes a handful of targets per bar; calling a compiled kernel per symbol costs
more in dispatch (type checks, boxing) than the arithmetic itself. These functions do the same
IEEE double operations in the same order as the kernels (which are compiled without fastmath,
so no reassociation or fused multiply-add), and return bit-identical results; the test suite
checks that with Hypothesis against the kernels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["cap_leverage", "equity", "round_lots", "target_position"]


def round_lots(quantity: float, lot_size: float, min_quantity: float) -> float:
    """Return :func:`~quantstrata.execution._nb.round_lots_nb` of the same arguments."""
    if lot_size <= 0.0:
        return quantity
    size = float(math.floor(abs(quantity) / lot_size * (1.0 + 1e-9))) * lot_size
    if size < min_quantity:
        return 0.0
    return size if quantity > 0.0 else -size


def equity(cash: float, positions: Sequence[float], marks: Sequence[float]) -> float:
    """Return the equity of :func:`~quantstrata.execution._nb.equity_nb` (cash + Σ pos × mark)."""
    total = cash
    for position, mark in zip(positions, marks, strict=True):
        if position != 0.0:
            total += position * mark
    return total


def target_position(
    target: float, units: bool, equity: float, price: float, allow_short: bool
) -> float:
    """Return :func:`~quantstrata.execution._nb.target_position_nb` of the same arguments."""
    desired = float(target)
    if not units:
        desired = target * equity / price if equity > 0.0 else 0.0
    if not allow_short and desired < 0.0:
        desired = 0.0
    return desired


def cap_leverage(  # noqa: PLR0917
    current: float,
    desired: float,
    price: float,
    other_gross: float,
    equity: float,
    max_leverage: float,
) -> float:
    """Return :func:`~quantstrata.execution._nb.cap_leverage_nb` of the same arguments."""
    room = max(max_leverage * max(equity, 0.0) - other_gross, 0.0) / price
    same_side = current * desired > 0.0
    if abs(desired) <= room or (same_side and abs(desired) <= abs(current)):
        return desired
    limit = max(room, abs(current)) if same_side else room
    return limit if desired > 0.0 else -limit
