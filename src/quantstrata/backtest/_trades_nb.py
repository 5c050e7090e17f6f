"""Compiled kernel of the round-trip matcher: first in, first out per symbol, over fill arrays.

:func:`quantstrata.backtest.trades.round_trips` documents the rules; this loop applies them to
fills sorted by symbol, then time, then arrival, one symbol segment after another.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["round_trips_nb", "sorted_positions_nb"]

_TOLERANCE = 1e-9


@numba.njit(cache=True)
def _close_lots_nb(  # noqa: PLR0917
    row: int,
    left: float,
    quantity: float,
    price: float,
    commission: float,
    lots: np.ndarray,
    lot_rows: np.ndarray,
    queue: np.ndarray,
    trips: np.ndarray,
    trip_rows: np.ndarray,
    count: int,
) -> tuple[float, int]:
    """Close the open lots (oldest first) against ``left`` of fill ``row``; return what is left.

    ``lots[i]`` is ``quantity, price, commission`` of open lot ``i``; ``queue`` holds the
    first and one-past-last open lot. Each closed piece is written to ``trips``/``trip_rows``.
    """
    while queue[0] < queue[1] and left != 0.0 and (lots[queue[0], 0] > 0.0) != (left > 0.0):
        lot = queue[0]
        held = lots[lot, 0]
        closed = min(abs(held), abs(left))
        share = commission * closed / quantity
        entry_share = lots[lot, 2] * closed / abs(held)
        trip_rows[count, 0] = lot_rows[lot]
        trip_rows[count, 1] = row
        trips[count, 0] = closed if held > 0.0 else -closed
        trips[count, 1] = lots[lot, 1]
        trips[count, 2] = price
        trips[count, 3] = entry_share + share
        count += 1
        lots[lot, 2] -= entry_share
        lots[lot, 0] = held + closed if held < 0.0 else held - closed
        left += closed if left < 0.0 else -closed
        if abs(lots[lot, 0]) <= _TOLERANCE * closed:
            queue[0] += 1
        if abs(left) <= _TOLERANCE * quantity:
            left = 0.0
    return left, count


@numba.njit(cache=True)
def round_trips_nb(
    symbols: np.ndarray,
    signed: np.ndarray,
    prices: np.ndarray,
    commissions: np.ndarray,
    carried: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Match fills into round trips; return ``(rows, values, open_rows, open_lots)``.

    Fills are sorted by symbol code (``symbols``), then time, then arrival; ``signed`` is the
    signed quantity (buys positive). ``rows`` holds the entry and exit fill's position in that
    order and ``values`` the signed closed quantity (negative: a short), the entry and exit
    price and the commission shared to the trip, one row per trip. ``open_rows`` and
    ``open_lots`` are the lots still open at the end: the entry fill's position, and the
    signed quantity, entry price and the entry commission not yet shared to a trip.
    A row marked ``carried`` is such an open lot handed back (a streamed run matches its fills
    a stretch at a time): it opens a lot with exactly its commission.
    """
    count_fills = signed.shape[0]
    lots = np.empty((count_fills, 3))
    lot_rows = np.empty(count_fills, dtype=np.int64)
    queue = np.zeros(2, dtype=np.int64)
    trips = np.empty((2 * count_fills, 4))
    trip_rows = np.empty((2 * count_fills, 2), dtype=np.int64)
    count = 0
    open_rows = np.empty(count_fills, dtype=np.int64)
    open_lots = np.empty((count_fills, 3))
    open_count = 0
    for row in range(count_fills):
        if row == 0 or symbols[row] != symbols[row - 1]:
            queue[0] = row
            queue[1] = row
        quantity = abs(signed[row])
        left, count = _close_lots_nb(
            row, signed[row], quantity, prices[row], commissions[row], lots, lot_rows, queue,
            trips, trip_rows, count,
        )  # fmt: skip
        if left != 0.0:
            lot = queue[1]
            lots[lot, 0] = left
            lots[lot, 1] = prices[row]
            share = commissions[row] * abs(left) / quantity
            lots[lot, 2] = commissions[row] if carried[row] else share
            lot_rows[lot] = row
            queue[1] += 1
        if row == count_fills - 1 or symbols[row + 1] != symbols[row]:
            for lot in range(queue[0], queue[1]):
                open_rows[open_count] = lot_rows[lot]
                open_lots[open_count] = lots[lot]
                open_count += 1
    return trip_rows[:count], trips[:count], open_rows[:open_count], open_lots[:open_count]


@numba.njit(cache=True)
def sorted_positions_nb(values: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Return ``np.searchsorted(values, keys)`` for sorted ``values`` and sorted ``keys``.

    Each search gallops forward from the previous answer, so a few thousand fills placed
    among a million bars touch only the bars near them instead of a binary search's
    scattered cache misses.
    """
    out = np.empty(keys.shape[0], dtype=np.int64)
    length = values.shape[0]
    low = 0
    for index in range(keys.shape[0]):
        key = keys[index]
        step = 1
        high = low
        while high < length and values[high] < key:
            low = high + 1
            high += step
            step *= 2
        high = min(high, length)
        while low < high:
            middle = (low + high) // 2
            if values[middle] < key:
                low = middle + 1
            else:
                high = middle
        out[index] = low
    return out
