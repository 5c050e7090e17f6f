"""Compiled kernels for moving averages: NumPy arrays in, new arrays out.

Each kernel reproduces TA-Lib's arithmetic step for step (same operations in the same order), so
results match TA-Lib and the streaming classes bit for bit. Inputs start at index ``start`` (the
first finite value); everything before the first valid output is NaN.
"""

import numba
import numpy as np


@numba.njit(cache=True)
def sma_nb(values: np.ndarray, period: int, start: int) -> np.ndarray:
    """Return the simple moving average with a running total, as TA-Lib computes it."""
    size = values.shape[0]
    out = np.full(size, np.nan)
    first = start + period - 1
    if first >= size:
        return out
    total = 0.0
    for index in range(start, first):
        total += values[index]
    trailing = start
    for index in range(first, size):
        total += values[index]
        out[index] = total / period
        total -= values[trailing]
        trailing += 1
    return out


@numba.njit(cache=True)
def ema_nb(values: np.ndarray, period: int, start: int, smoothing: float) -> np.ndarray:
    """Return the EMA seeded with the mean of the first ``period`` values (as TA-Lib)."""
    size = values.shape[0]
    out = np.full(size, np.nan)
    first = start + period - 1
    if first >= size:
        return out
    total = 0.0
    for index in range(start, first + 1):
        total += values[index]
    previous = total / period
    out[first] = previous
    for index in range(first + 1, size):
        previous = ((values[index] - previous) * smoothing) + previous
        out[index] = previous
    return out
