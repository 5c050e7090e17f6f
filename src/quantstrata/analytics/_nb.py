"""Compiled kernels of the drawdown analysis: NumPy arrays in, NumPy arrays out."""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

__all__ = ["max_drawdown_nb", "underwater_periods_nb"]


@numba.njit(cache=True)
def underwater_periods_nb(
    equity: np.ndarray[Any, Any],
) -> tuple[
    np.ndarray[Any, Any],
    np.ndarray[Any, Any],
    np.ndarray[Any, Any],
    np.ndarray[Any, Any],
    np.ndarray[Any, Any],
]:
    """Find every stretch spent below a previous peak of ``equity`` (positive values).

    Return ``(peak, trough, end, depth, recovered)`` arrays with one entry per period: the
    index of the peak the period starts from, of its lowest point, of its end (the first
    point back at or above the peak, or the last point when the curve never recovered), the
    depth ``1 - trough / peak`` and whether the peak was regained.
    """
    n = equity.shape[0]
    capacity = n // 2 + 1
    peaks = np.empty(capacity, dtype=np.int64)
    troughs = np.empty(capacity, dtype=np.int64)
    ends = np.empty(capacity, dtype=np.int64)
    depths = np.empty(capacity, dtype=np.float64)
    recovered = np.empty(capacity, dtype=np.bool_)
    count = 0
    if n == 0:
        return peaks[:0], troughs[:0], ends[:0], depths[:0], recovered[:0]
    peak_value = equity[0]
    peak_index = 0
    trough_index = 0
    depth = 0.0
    underwater = False
    for i in range(1, n):
        value = equity[i]
        if value >= peak_value:
            if underwater:
                peaks[count] = peak_index
                troughs[count] = trough_index
                ends[count] = i
                depths[count] = depth
                recovered[count] = True
                count += 1
                underwater = False
            peak_value = value
            peak_index = i
        else:
            drop = 1.0 - value / peak_value
            if not underwater:
                underwater = True
                trough_index = i
                depth = drop
            elif drop > depth:
                trough_index = i
                depth = drop
    if underwater:
        peaks[count] = peak_index
        troughs[count] = trough_index
        ends[count] = n - 1
        depths[count] = depth
        recovered[count] = False
        count += 1
    return peaks[:count], troughs[:count], ends[:count], depths[:count], recovered[:count]


@numba.njit(cache=True)
def max_drawdown_nb(equity: np.ndarray[Any, Any]) -> float:
    """Return the largest ``1 - equity[t] / max(equity[0..t])`` in one pass (0.0 when empty)."""
    deepest = 0.0
    if equity.shape[0] == 0:
        return deepest
    peak = equity[0]
    for value in equity:
        peak = max(peak, value)
        deepest = max(deepest, 1.0 - value / peak)
    return deepest
