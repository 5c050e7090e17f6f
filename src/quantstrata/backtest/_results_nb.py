"""Compiled kernel of the result builder: the equity curve from cash, positions and marks."""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["equity_curve_nb"]


@numba.njit(cache=True, error_model="numpy")
def equity_curve_nb(
    cash: np.ndarray, positions: np.ndarray, marks: np.ndarray, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return ``positions_value, gross, equity, drawdown, gross_exposure`` per bar in one pass.

    Fills ``values`` (position × mark, 0 where flat). Each row is summed left to right, as
    NumPy sums rows of fewer than eight symbols, so the figures equal the array formulas.
    """
    bars, symbols = positions.shape
    positions_value = np.empty(bars)
    gross = np.empty(bars)
    equity = np.empty(bars)
    drawdown = np.empty(bars)
    exposure = np.empty(bars)
    peak = -math.inf
    for bar in range(bars):
        net = 0.0
        total = 0.0
        for symbol in range(symbols):
            quantity = positions[bar, symbol]
            value = 0.0 if quantity == 0.0 else quantity * marks[bar, symbol]
            values[bar, symbol] = value
            net = value if symbol == 0 else net + value
            total = abs(value) if symbol == 0 else total + abs(value)
        positions_value[bar] = net
        gross[bar] = total
        level = cash[bar] + net
        equity[bar] = level
        if level > peak or math.isnan(level) or bar == 0:
            peak = level
        drawdown[bar] = 1.0 - level / peak if peak > 0.0 else 0.0
        exposure[bar] = total / level
    return positions_value, gross, equity, drawdown, exposure
