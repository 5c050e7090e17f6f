"""Compiled kernels for the strategy layer: NumPy arrays in, filled output arrays out."""

import numba
import numpy as np


@numba.njit(cache=True)
def targets_from_signals_nb(  # noqa: PLR0917
    entries: np.ndarray,
    exits: np.ndarray,
    short_entries: np.ndarray,
    short_exits: np.ndarray,
    size: np.ndarray,
    out: np.ndarray,
) -> np.ndarray:
    """Fill ``out`` with the position target after each bar's signals (see targets_from_signals).

    The position is ``+size`` (long), ``-size`` (short) or 0; the size of the entry bar is held
    until the position closes. In a position, a closing signal always wins over a same-direction
    entry on the same bar; a bar carrying conflicting openings opens nothing.
    """
    position = 0.0
    for index in range(entries.shape[0]):
        long_in = entries[index]
        long_out = exits[index]
        short_in = short_entries[index]
        short_out = short_exits[index]
        if position > 0.0:
            if long_out or short_in:
                position = 0.0
                if short_in and not short_out and not long_in:
                    position = -size[index]
        elif position < 0.0:
            if short_out or long_in:
                position = 0.0
                if long_in and not long_out and not short_in:
                    position = size[index]
        elif long_in and not long_out and not short_in:
            position = size[index]
        elif short_in and not short_out and not long_in:
            position = -size[index]
        out[index] = position
    return out


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
