"""The event loop's compiled target steps: the signal loops' own kernels, called with flat arrays.

:func:`execute_targets_nb` executes targets sized at the fill (``size_at="fill"``);
:func:`decide_targets_nb` sizes targets at the decision (the live runtime's sizing kernel) and
works out the fill each resulting market order gets on the first bar it meets, so the loop can
book it there without the simulated exchange when no one observes the order.

Passing tuples of arrays from Python to a Numba function costs more than the work itself (each
element is typed in Python), so this kernel takes the arrays one by one and hands them on.
``settings`` and ``costs`` are laid out as for ``simulate_targets_nb`` (``round_lots`` last in
``settings``, then three contract terms per symbol; three lot values per symbol in ``costs``),
so volume-capped fills are rounded to lots exactly as in the signal loop.

Numba's cache is checked against this file only, not the kernels it inlines: this module must
change whenever the signature or layout of :func:`quantstrata.backtest._nb._execute_pending_nb`
or :func:`quantstrata.backtest._nb.fill_whole_nb` does, or a stale compiled copy would be loaded.
"""

from __future__ import annotations

import numba
import numpy as np

from quantstrata.backtest import _nb
from quantstrata.execution._nb import size_targets_nb

__all__ = ["decide_targets_nb", "execute_targets_nb"]


@numba.njit(cache=True)
def execute_targets_nb(  # noqa: PLR0917
    bar: int,
    offset: int,
    has_bar: np.ndarray,
    pending_from: np.ndarray,
    opens: np.ndarray,
    highs: np.ndarray,
    lows: np.ndarray,
    closes: np.ndarray,
    volumes: np.ndarray,
    carried_closes: np.ndarray,
    positions: np.ndarray,
    marks: np.ndarray,
    account: np.ndarray,
    settings: np.ndarray,
    costs: np.ndarray,
    orders_index: np.ndarray,
    orders_values: np.ndarray,
) -> tuple[int, bool]:
    """Mark at the closes known now, execute the pending targets of ``bar``; return the orders.

    Marks are the closes carried forward to bar ``bar - offset`` (NaN before the first bar).
    Return the number of orders written to ``orders_index``/``orders_values`` (see
    ``simulate_targets_nb``) and whether a target is still pending.
    """
    marked = bar - offset
    for symbol in range(marks.shape[0]):
        marks[symbol] = carried_closes[marked, symbol] if marked >= 0 else np.nan
    count = _nb._execute_pending_nb(
        bar, has_bar, pending_from, (opens, highs, lows, closes, volumes),
        (positions, marks, account), settings, costs, orders_index, orders_values, 0,
    )  # fmt: skip
    waiting = False
    for symbol in range(pending_from.shape[0]):
        waiting = waiting or pending_from[symbol] >= 0
    return count, waiting


@numba.njit(cache=True)
def decide_targets_nb(  # noqa: PLR0917
    bar: int,
    offset: int,
    decided: np.ndarray,
    has_bar: np.ndarray,
    opens: np.ndarray,
    highs: np.ndarray,
    lows: np.ndarray,
    closes: np.ndarray,
    volumes: np.ndarray,
    carried_closes: np.ndarray,
    positions: np.ndarray,
    account: np.ndarray,
    waiting: np.ndarray,
    settings: np.ndarray,
    costs: np.ndarray,
    out: np.ndarray,
) -> int:
    """Size the ``decided`` targets at ``bar``'s closes into market orders and their fills.

    The orders are what :func:`~quantstrata.execution.targets.orders_for_targets` sends for the
    same account: cash ``account[0]``, targets ``account[1:]``, ``positions``, ``waiting`` (per
    symbol, the signed quantity of a target order still to fill) and the closes carried to
    ``bar`` (``0.0`` where none yet). Each order fills on its symbol's first bar from ``bar +
    offset`` as the simulated exchange fills a market order sized within the leverage cap
    (:func:`~quantstrata.backtest._nb.fill_whole_nb`, on the position held now: nothing else
    trades the symbol before). ``out`` gets one row per order, in the order sent: ``column,
    asked, capped, delta, fill bar`` (``-1``: no bar left) and, when it fills, ``traded, price,
    commission, position after``; ``waiting`` gets each order's ``delta`` and ``decided`` is
    cleared. Return the number of orders, or ``-1`` (nothing changed) when the exchange must
    take them: a decided symbol without a usable close, an order of a symbol with one still
    waiting, or an order that would not fill completely on its first bar.
    """
    count = positions.shape[0]
    prices = np.zeros(count)
    held = np.empty(count)
    lots = np.empty((count, 2))
    for symbol in range(count):
        close = carried_closes[bar, symbol]
        if not np.isnan(close):
            prices[symbol] = close
        if decided[symbol] and not (0.0 < prices[symbol] < np.inf):
            return -1
        held[symbol] = positions[symbol] + waiting[symbol]
        lots[symbol, 0], lots[symbol, 1] = costs[9 + 3 * symbol], costs[10 + 3 * symbol]
    sized = np.empty((count, 4))
    written = size_targets_nb(
        decided, account[1:], held, positions, prices, account[0], settings[0] > 0.0,
        settings[1] > 0.0, settings[2], lots, sized, settings[6:].reshape((count, 3)),
    )  # fmt: skip
    market = (opens, highs, lows, closes, volumes, has_bar)
    for order in range(written):
        symbol = int(sized[order, 0])
        if waiting[symbol] != 0.0:
            return -1
        out[order, 0:4] = sized[order]
        out[order, 4] = -1.0
        for later in range(max(bar + offset, 0), has_bar.shape[0]):
            if has_bar[later, symbol]:
                out[order, 4] = later
                break
        if out[order, 4] < 0.0:
            continue
        held_now = positions[symbol]
        whole, traded, price, commission = _nb.fill_whole_nb(
            int(out[order, 4]), symbol, market, sized[order, 3], held_now, settings, costs
        )
        if not whole:
            return -1
        out[order, 5], out[order, 6], out[order, 7] = traded, price, commission
        out[order, 8] = _nb.booked_nb(held_now, traded)
    for order in range(written):
        waiting[int(out[order, 0])] = out[order, 3]
    decided[:] = False
    return written
