"""A signal strategy's targets sized at the decision, in compiled code when it gives the same run.

With ``size_at="decision"`` a target is sized at its deciding close and sent as a market order,
which is what the event loop does with :class:`~quantstrata.backtest._replay.TargetReplay`.
:func:`run_decided` runs the same steps in :func:`~quantstrata.backtest._nb.simulate_decided_nb`
(with the live runtime's sizing kernel) and writes the rows the event loop would: the same
order ids (``E1``, ``E2``, … in the order the orders are sent), statuses, fills, cash and
positions, bit for bit (a Hypothesis test holds them equal).

The one rule of when the compiled loop runs (:func:`compiled_decisions`): no risk checks
(``BacktestConfig.risk`` is ``None``: the event loop runs every target order through the live
risk engine) and every target order fills completely on the first bar it meets. The second is
known only while running: an order that a volume cap, lot rounding of its fill or the no-short
rule would leave partly unfilled makes the loop stop, and the event loop runs instead.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from quantstrata.backtest import _nb
from quantstrata.backtest._align import AlignedBars
from quantstrata.backtest._ledger import Ledger
from quantstrata.backtest._signal import order_frames, simulate, target_tags
from quantstrata.backtest.config import BacktestConfig
from quantstrata.model.orders.enums import OrderStatus

__all__ = ["compiled_decisions", "run_decided"]


def compiled_decisions(config: BacktestConfig) -> bool:
    """Return whether targets sized at the decision may run compiled (no risk checks)."""
    return config.risk is None


def run_decided(
    grid: np.ndarray,
    aligned: AlignedBars,
    config: BacktestConfig,
    settings: np.ndarray,
    costs: np.ndarray,
) -> Ledger | None:
    """Simulate the target ``grid`` (bars × symbols, ``NaN``: none) sized at the decision.

    ``settings`` and ``costs`` are :func:`~quantstrata.backtest._signal.kernel_settings`.
    Return ``None`` when an order would not fill completely (the event loop's to simulate).
    """
    count, cash, positions, orders_index, orders_values = simulate(
        _nb.simulate_decided_nb, grid, aligned, config, settings, costs, width=6
    )
    if count < 0:
        return None
    orders, fills = _frames(aligned, orders_index[:count], orders_values[:count])
    return Ledger(aligned, cash, positions, fills, orders)


def _frames(
    aligned: AlignedBars, index: np.ndarray, values: np.ndarray, first_id: int = 1
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Build the orders (in the order sent) and fills (by fill bar, then symbol) frames.

    Order ids count from ``first_id`` (a streamed run's later stretches continue the count).
    """
    done = index[:, 2] >= 0  # orders still working at the end have no fill values
    filled = np.where(done, np.abs(values[:, 3]), 0.0)
    price = np.where(done, values[:, 4], np.nan)
    rows = np.flatnonzero(done)
    return order_frames(
        aligned,
        "E",
        index[:, 1],
        created=index[:, 0],
        filled_at=index[:, 2],
        values=(values[:, 2], filled, price, np.where(done, values[:, 5], 0.0)),
        # Order.apply averages the fills: (0 × 0 + price × filled) / filled.
        average=price * filled / np.where(done, filled, 1.0),
        tags=target_tags(values[:, 0], values[:, 1]),
        complete=(done, OrderStatus.PENDING),
        fill_rows=rows[np.lexsort((index[rows, 1], index[rows, 2]))],
        first_id=first_id,
    )
