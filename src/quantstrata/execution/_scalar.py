"""The sizing kernels of :mod:`quantstrata.execution._nb`, run by the interpreter, for one bar.

The live runtime sizes a handful of targets per bar; calling a compiled kernel per symbol costs
more in dispatch (type checks, boxing) than the arithmetic itself. The scalar kernels are used
through their ``py_func`` (the very Python source Numba compiles), so the rules are written
once; the kernels are compiled without fastmath (no reassociation, no fused multiply-add), so
both run the same IEEE double operations in the same order and return bit-identical results,
which the test suite checks with Hypothesis. Only :func:`equity` is its own loop: ``equity_nb``
takes arrays and also sums the gross value, which sizing one bar does not need.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from quantstrata.execution import _nb

__all__ = ["cap_leverage", "equity", "round_lots", "target_position"]


def equity(cash: float, positions: Sequence[float], marks: Sequence[float]) -> float:
    """Return the equity of :func:`~quantstrata.execution._nb.equity_nb` (cash + Σ pos × mark)."""
    total = cash
    for position, mark in zip(positions, marks, strict=True):
        if position != 0.0:
            total += position * mark
    return total


round_lots: Callable[[float, float, float], float] = _nb.round_lots_nb.py_func
""":func:`~quantstrata.execution._nb.round_lots_nb`, interpreted."""
target_position: Callable[[float, bool, float, float, bool], float] = _nb.target_position_nb.py_func
""":func:`~quantstrata.execution._nb.target_position_nb`, interpreted."""
cap_leverage: Callable[[float, float, float, float, float, float], float] = (
    _nb.cap_leverage_nb.py_func
)
""":func:`~quantstrata.execution._nb.cap_leverage_nb`, interpreted."""
