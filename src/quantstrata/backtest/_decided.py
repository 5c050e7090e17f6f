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
from quantstrata.backtest._ledger import FILL_SCHEMA, ORDER_SCHEMA, Ledger
from quantstrata.backtest._signal import simulate, target_tags
from quantstrata.backtest.config import BacktestConfig
from quantstrata.model.bar import TIMESTAMP_DTYPE
from quantstrata.model.orders.enums import OrderStatus
from quantstrata.model.orders.fill import Liquidity

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
    count = index.shape[0]
    times = pl.Series(aligned.times, dtype=pl.Int64).cast(TIMESTAMP_DTYPE)
    asked, capped, quantity = values[:, 0], values[:, 1], values[:, 2]
    done = index[:, 2] >= 0  # orders still working at the end have no fill values
    filled = np.where(done, np.abs(values[:, 3]), 0.0)
    price = np.where(done, values[:, 4], np.nan)
    tags = target_tags(asked, capped)
    records = pl.DataFrame(
        {
            "order_id": pl.select(
                pl.format("E{}", pl.int_range(first_id, first_id + count))
            ).to_series(),
            "symbol": pl.Series(aligned.symbols, dtype=pl.String).gather(index[:, 1]),
            "created_ts": times.gather(index[:, 0]),
            "signed": quantity,
            "done": done,
            "filled": filled,
            "price": price,
            "commission": np.where(done, values[:, 5], 0.0),
            # Order.apply averages the fills: (0 × 0 + price × filled) / filled.
            "average": price * filled / np.where(done, filled, 1.0),
            "tag": tags,
        }
    ).with_columns(
        side=pl.when(pl.col("signed") > 0.0).then(pl.lit("buy")).otherwise(pl.lit("sell"))
    )
    orders = records.select(
        "order_id",
        "symbol",
        "created_ts",
        "side",
        order_type=pl.lit("market"),
        quantity=pl.col("signed").abs(),
        limit_price=pl.lit(None, dtype=pl.Float64),
        stop_price=pl.lit(None, dtype=pl.Float64),
        status=pl.when("done")
        .then(pl.lit(OrderStatus.FILLED.value))
        .otherwise(pl.lit(OrderStatus.PENDING.value)),
        filled_quantity="filled",
        average_fill_price=pl.col("average").fill_nan(None),
        tag="tag",
    )
    rows = np.flatnonzero(done)
    rows = rows[np.lexsort((index[rows, 1], index[rows, 2]))]
    fills = (
        records[rows]
        .with_columns(ts=times.gather(index[rows, 2]))
        .select(
            "ts",
            "order_id",
            trade_id=pl.col("order_id") + "-1",
            symbol="symbol",
            side="side",
            quantity="filled",
            price="price",
            commission="commission",
            liquidity=pl.lit(Liquidity.TAKER.value),
        )
    )
    return orders.cast(dict(ORDER_SCHEMA)), fills.cast(dict(FILL_SCHEMA))  # type: ignore[arg-type]
