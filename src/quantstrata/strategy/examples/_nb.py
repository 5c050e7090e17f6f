"""Compiled kernels of the example strategies: NumPy arrays in, NumPy arrays out."""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["crossover_targets_nb"]


@numba.njit(cache=True)
def crossover_targets_nb(  # noqa: PLR0917
    close: np.ndarray, fast: int, slow: int, start: int, below: float, out: np.ndarray
) -> np.ndarray:
    """Fill ``out`` with the SMA crossover's targets in one pass over ``close``.

    ``1.0`` where SMA(fast) > SMA(slow), else ``below``; NaN until the slow average exists.
    ``start`` is the first finite close (everything after it finite) and ``fast < slow``.
    Both averages are the running totals of ``indicators.moving_average._nb.sma_nb``, the same
    additions in the same order, so they equal :func:`~quantstrata.indicators.sma` bit for bit;
    keeping the two totals in one loop overlaps their dependency chains.
    """
    n = close.shape[0]
    first_fast, first_slow = start + fast - 1, start + slow - 1
    out[: min(first_slow, n)] = np.nan
    if first_slow >= n:
        return out
    fast_total, slow_total = 0.0, 0.0
    for index in range(start, first_fast):
        fast_total += close[index]
        slow_total += close[index]
    for index in range(first_fast, first_slow):
        fast_total += close[index]
        fast_total -= close[index - fast + 1]
        slow_total += close[index]
    for index in range(first_slow, n):
        value = close[index]
        fast_total += value
        slow_total += value
        fast_average = fast_total / fast
        slow_average = slow_total / slow
        fast_total -= close[index - fast + 1]
        slow_total -= close[index - slow + 1]
        out[index] = 1.0 if fast_average > slow_average else below
    return out
