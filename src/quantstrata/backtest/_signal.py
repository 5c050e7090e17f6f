"""Simulate a signal strategy: its targets through the compiled loop of :mod:`._nb`."""

from __future__ import annotations

import numpy as np
import polars as pl

from quantstrata.backtest import _nb
from quantstrata.backtest._align import AlignedBars
from quantstrata.backtest._ledger import FILL_SCHEMA, ORDER_SCHEMA, Ledger
from quantstrata.backtest.config import BacktestConfig
from quantstrata.execution.costs import commission_arguments, slippage_arguments
from quantstrata.model.bar import TIMESTAMP_DTYPE
from quantstrata.model.orders.enums import OrderStatus
from quantstrata.model.orders.fill import Liquidity
from quantstrata.strategy.signal import SignalStrategy, TargetUnit

__all__ = ["leverage_tag", "run_signal", "target_grid"]

TARGET_TAG = "target"


def leverage_tag(asked: float, quantity: float, tolerance: float = 1e-9) -> str:
    """Return the tag of a target order: ``target``, noting a leverage-cap reduction."""
    if abs(asked - quantity) <= tolerance * max(abs(asked), 1.0):
        return TARGET_TAG
    return f"{TARGET_TAG}; leverage cap reduced {asked:.10g} to {quantity:.10g}"


def target_grid(targets: pl.DataFrame, aligned: AlignedBars) -> np.ndarray:
    """Return the targets as a ``(bars, symbols)`` array, ``NaN`` for no decision."""
    grid = np.full(aligned.close.shape, np.nan)
    ns = targets.get_column("ts").dt.epoch("ns").to_numpy()
    row = np.searchsorted(aligned.times, ns)
    lookup = {symbol: index for index, symbol in enumerate(aligned.symbols)}
    column = targets.get_column("symbol").replace_strict(lookup, return_dtype=pl.Int64).to_numpy()
    grid[row, column] = targets.get_column("target").fill_null(np.nan).to_numpy()
    return grid


def run_signal(
    strategy: SignalStrategy, bars: pl.DataFrame, aligned: AlignedBars, config: BacktestConfig
) -> Ledger:
    """Compute the strategy's targets on ``bars`` and simulate them in compiled code."""
    grid = target_grid(strategy.compute_targets(bars), aligned)
    fill = config.fill
    settings = np.array(
        [
            1.0 if strategy.target_unit is TargetUnit.UNITS else 0.0,
            1.0 if config.allow_short else 0.0,
            config.max_leverage,
            1.0 if fill.policy.arrives_at_close else 0.0,
            np.nan if fill.volume_cap is None else fill.volume_cap,
        ]
    )
    lots = [value for symbol in aligned.symbols for value in config.lot_size(symbol)]
    costs = np.array(
        [
            *commission_arguments(config.commission),
            *slippage_arguments(config.slippage),
            *lots,
        ]
    )
    bars_count, symbols = aligned.close.shape
    cash = np.empty(bars_count)
    positions = np.empty((bars_count, symbols))
    orders_index = np.zeros((bars_count * symbols, 3), dtype=np.int64)
    orders_values = np.zeros((bars_count * symbols, 7))
    count = _nb.simulate_targets_nb(
        aligned.open, aligned.high, aligned.low, aligned.close, aligned.volume,
        aligned.has_bar, grid, config.cash, settings, costs, fill.policy.bar_offset,
        cash, positions, orders_index, orders_values, config.carry_factors(aligned.times),
    )  # fmt: skip
    orders, fills = _frames(aligned, orders_index[:count], orders_values[:count])
    return Ledger(aligned, cash, positions, fills, orders)


def _frames(
    aligned: AlignedBars, index: np.ndarray, values: np.ndarray
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Build the orders and fills frames from the kernel's order records."""
    times = pl.Series(aligned.times, dtype=pl.Int64).cast(TIMESTAMP_DTYPE)
    symbols = [aligned.symbols[column] for column in index[:, 2]]
    ids = [f"T{number}" for number in range(1, index.shape[0] + 1)]
    asked, capped, quantity, filled = values[:, 0], values[:, 1], values[:, 2], values[:, 3]
    sides = ["buy" if amount > 0 else "sell" for amount in quantity]
    complete = np.abs(filled) >= np.abs(quantity)
    status = np.where(complete, OrderStatus.FILLED.value, OrderStatus.CANCELLED.value).tolist()
    has_fill = filled != 0.0
    orders = pl.DataFrame(
        {
            "order_id": ids,
            "symbol": symbols,
            "created_ts": times.gather(index[:, 0]),
            "side": sides,
            "order_type": "market",
            "quantity": np.abs(quantity),
            "limit_price": None,
            "stop_price": None,
            "status": status,
            "filled_quantity": np.abs(filled),
            "average_fill_price": np.where(has_fill, values[:, 5], np.nan),
            "tag": [leverage_tag(a, c) for a, c in zip(asked, capped, strict=True)],
        },
        schema=ORDER_SCHEMA,
    ).with_columns(pl.col("average_fill_price").fill_nan(None))
    kept = np.flatnonzero(has_fill)
    fills = pl.DataFrame(
        {
            "ts": times.gather(index[kept, 1]),
            "order_id": [ids[row] for row in kept],
            "trade_id": [f"{ids[row]}-1" for row in kept],
            "symbol": [symbols[row] for row in kept],
            "side": [sides[row] for row in kept],
            "quantity": np.abs(filled[kept]),
            "price": values[kept, 5],
            "commission": values[kept, 6],
            "liquidity": Liquidity.TAKER.value,
        },
        schema=FILL_SCHEMA,
    )
    return orders, fills
