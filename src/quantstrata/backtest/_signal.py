"""Simulate a signal strategy: its targets through the compiled loop of :mod:`._nb`."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl

from quantstrata.backtest import _nb
from quantstrata.backtest._align import AlignedBars
from quantstrata.backtest._ledger import FILL_SCHEMA, ORDER_SCHEMA, Ledger
from quantstrata.backtest.config import BacktestConfig
from quantstrata.execution.costs import commission_arguments, slippage_arguments
from quantstrata.execution.margin import terms_array
from quantstrata.execution.targets import TARGET_TAG, leverage_tag
from quantstrata.model.bar import TIMESTAMP_DTYPE, same_times
from quantstrata.model.orders.enums import OrderStatus
from quantstrata.model.orders.fill import Liquidity
from quantstrata.strategy.signal import SignalStrategy, TargetUnit

__all__ = [
    "kernel_settings",
    "order_frames",
    "run_signal",
    "simulate",
    "target_grid",
    "target_tags",
]


def target_grid(targets: pl.DataFrame, aligned: AlignedBars) -> np.ndarray:
    """Return checked targets (one row per bar) as a ``(bars, symbols)`` array, ``NaN``: none.

    ``targets`` is :meth:`SignalStrategy.compute_targets` of the aligned bars. One symbol's
    targets are already one per aligned row, in order: they are used as they are.
    """
    values = targets.get_column("target").fill_null(np.nan).to_numpy()
    ns = targets.get_column("ts").dt.epoch("ns").to_numpy()
    if len(aligned.symbols) == 1 and same_times(ns, aligned.times):
        return values.reshape(-1, 1)
    grid = np.full(aligned.close.shape, np.nan)
    row = np.searchsorted(aligned.times, ns)
    lookup = {symbol: index for index, symbol in enumerate(aligned.symbols)}
    column = targets.get_column("symbol").replace_strict(lookup, return_dtype=pl.Int64).to_numpy()
    grid[row, column] = values
    return grid


def kernel_settings(
    config: BacktestConfig, symbols: tuple[str, ...], *, units: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Return the compiled loops' ``settings`` and ``costs`` (see ``simulate_targets_nb``).

    ``settings``: ``units, allow_short, max_leverage, at_close, volume_cap, round_lots``, then
    ``multiplier, weight, per_contract`` per symbol
    (:func:`~quantstrata.execution.margin.terms_array`);
    ``costs``: commission (5) and slippage (4) settings, then ``lot_size, min_quantity, lot
    scale`` per symbol. Every compiled loop (signal, event, decision) reads these.
    """
    fill = config.fill
    settings = np.array(
        [
            1.0 if units else 0.0,
            1.0 if config.allow_short else 0.0,
            config.max_leverage,
            1.0 if fill.policy.arrives_at_close else 0.0,
            np.nan if fill.volume_cap is None else fill.volume_cap,
            1.0 if fill.round_lots else 0.0,
            *terms_array(symbols, config.instruments, config.max_leverage).ravel().tolist(),
        ]
    )
    lots = [value for symbol in symbols for value in config.lot_rules(symbol)]
    costs = np.array(
        [*commission_arguments(config.commission), *slippage_arguments(config.slippage), *lots]
    )
    return settings, costs


Kernel = Callable[..., int]
"""A compiled loop with :func:`~quantstrata.backtest._nb.simulate_targets_nb`'s arguments."""


def simulate(  # noqa: PLR0917
    kernel: Kernel,
    grid: np.ndarray,
    aligned: AlignedBars,
    config: BacktestConfig,
    settings: np.ndarray,
    costs: np.ndarray,
    *,
    width: int,
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Run ``kernel`` on ``grid``; return its count, cash, positions and order records.

    ``width`` is the number of values the kernel writes per order.
    """
    bars, symbols = aligned.close.shape
    carry = config.carry_factors(aligned.times) if config.charges_carry() else np.zeros((0, 2))
    cash = np.empty(bars)
    positions = np.empty((bars, symbols))
    orders_index = np.empty((bars * symbols, 3), dtype=np.int64)  # rows written in full
    orders_values = np.empty((bars * symbols, width))
    count = kernel(
        aligned.open, aligned.high, aligned.low, aligned.close, aligned.volume,
        aligned.has_bar, grid, config.cash, settings, costs, config.fill.policy.bar_offset,
        cash, positions, orders_index, orders_values, carry,
    )  # fmt: skip
    return count, cash, positions, orders_index, orders_values


def target_tags(asked: np.ndarray, capped: np.ndarray) -> pl.Series:
    """Return the tags of target orders: ``target``, noting the leverage cap's cuts."""
    tolerance = 1e-9 * np.maximum(np.abs(asked), 1.0)
    reduced = np.flatnonzero(~(np.abs(asked - capped) <= tolerance))
    tags = pl.Series("tag", [TARGET_TAG], dtype=pl.String).new_from_index(0, asked.shape[0])
    if reduced.shape[0]:
        tags = tags.scatter(reduced, [leverage_tag(asked[r], capped[r]) for r in reduced])
    return tags


def run_signal(
    strategy: SignalStrategy,
    bars: pl.DataFrame,
    aligned: AlignedBars,
    config: BacktestConfig,
    targets: pl.DataFrame | None = None,
) -> Ledger:
    """Simulate the strategy's targets on ``bars`` in compiled code.

    ``targets`` are the strategy's checked targets on ``bars`` when already computed (the
    look-ahead check computes them too); otherwise they are computed here.
    """
    if targets is None:
        targets = strategy.compute_targets(bars)
    grid = target_grid(targets, aligned)
    units = strategy.target_unit is TargetUnit.UNITS
    settings, costs = kernel_settings(config, aligned.symbols, units=units)
    count, cash, positions, orders_index, orders_values = simulate(
        _nb.simulate_targets_nb, grid, aligned, config, settings, costs, width=7
    )
    orders, fills = _frames(aligned, orders_index[:count], orders_values[:count])
    return Ledger(aligned, cash, positions, fills, orders)


def _frames(
    aligned: AlignedBars, index: np.ndarray, values: np.ndarray
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Build the orders and fills frames from the kernel's order records (vectorised)."""
    filled = np.abs(values[:, 3])
    has_fill = values[:, 3] != 0.0
    return order_frames(
        aligned,
        "T",
        index[:, 2],
        created=index[:, 0],
        filled_at=index[:, 1],
        values=(values[:, 2], filled, values[:, 5], values[:, 6]),
        average=np.where(has_fill, values[:, 5], np.nan),
        tags=target_tags(values[:, 0], values[:, 1]),
        complete=(filled >= np.abs(values[:, 2]), OrderStatus.CANCELLED),
        fill_rows=np.flatnonzero(has_fill),
    )


def order_frames(
    aligned: AlignedBars,
    prefix: str,
    symbol: np.ndarray,
    *,
    created: np.ndarray,
    filled_at: np.ndarray,
    values: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    average: np.ndarray,
    tags: pl.Series,
    complete: tuple[np.ndarray, OrderStatus],
    fill_rows: np.ndarray,
    first_id: int = 1,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Build the ledger's orders and fills frames of a compiled loop's market orders.

    One row per order, numbered ``{prefix}1, {prefix}2, …`` (from ``first_id``: a streamed
    run's later stretches continue the count): ``symbol``, ``created`` and
    ``filled_at`` are bar and symbol indexes; ``values`` the signed quantity, filled quantity,
    fill price and commission. An order is ``FILLED`` where ``complete[0]``, else
    ``complete[1]``; ``fill_rows`` are the orders with a fill, in the fills frame's order.
    """
    signed, filled, price, commission = values
    times = pl.Series(aligned.times, dtype=pl.Int64).cast(TIMESTAMP_DTYPE)
    records = pl.DataFrame(
        {
            "order_id": pl.select(
                pl.format(prefix + "{}", pl.int_range(first_id, first_id + len(signed)))
            ).to_series(),
            "symbol": pl.Series(aligned.symbols, dtype=pl.String).gather(symbol),
            "created_ts": times.gather(created),
            "signed": signed,
            "filled": filled,
            "price": price,
            "commission": commission,
            "average": average,
            "complete": complete[0],
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
        status=pl.when("complete")
        .then(pl.lit(OrderStatus.FILLED.value))
        .otherwise(pl.lit(complete[1].value)),
        filled_quantity="filled",
        average_fill_price=pl.col("average").fill_nan(None),
        tag="tag",
    )
    fills = (
        records[fill_rows]
        .with_columns(ts=times.gather(filled_at[fill_rows]))
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
