"""The event loop's compiled target step: the signal loop's own kernel, called with flat arrays.

Passing tuples of arrays from Python to a Numba function costs more than the work itself (each
element is typed in Python), so this kernel takes the arrays one by one and hands them on.
``settings`` and ``costs`` are laid out as for ``simulate_targets_nb`` (``round_lots`` last in
``settings``, then three contract terms per symbol; three lot values per symbol in ``costs``),
so volume-capped fills are rounded to lots exactly as in the signal loop.

Numba's cache is checked against this file only, not the kernels it inlines: this module must
change whenever the signature or layout of :func:`quantstrata.backtest._nb._execute_pending_nb`
does, or a stale compiled copy would be loaded.
"""

from __future__ import annotations

import numba
import numpy as np

from quantstrata.backtest import _nb

__all__ = ["execute_targets_nb"]


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
