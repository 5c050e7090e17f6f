"""How much of the time a strategy held positions, and how much it traded.

``positions`` is a Polars frame with ``ts`` and ``position`` (signed quantity held from that
bar on) and optionally ``symbol`` (several instruments) and ``price`` (to value the traded
quantity); or a pandas Series of positions with a DatetimeIndex. Rows are changes or a dense
record, in any row order: a position holds until the next row of its symbol (by time), and is 0
before its first row.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import polars as pl

from quantstrata.analytics._inputs import EquityCurve, timestamp_nanoseconds, to_polars_frame
from quantstrata.core.errors import DataError, DataIssue, SchemaError

__all__ = ["exposure", "read_positions", "traded_notional"]

_UTC_NS = pl.Datetime("ns", "UTC")
_NAN = float("nan")
_TRADE_LEG_COLUMNS = ("size", "entry_price", "exit_price")


def read_positions(positions: pl.DataFrame | pd.Series | pd.DataFrame) -> pl.DataFrame:
    """Return ``symbol``, ``ts`` (UTC ns), ``position`` and ``price`` (maybe null), sorted."""
    if isinstance(positions, pd.Series):
        positions = positions.rename("position").to_frame()
    frame = to_polars_frame(positions, "positions")
    for name in ("ts", "position"):
        if name not in frame.columns:
            raise SchemaError(f"the positions frame lacks column {name!r}; it has {frame.columns}")
    if "symbol" not in frame.columns:
        frame = frame.with_columns(pl.lit("").alias("symbol"))
    if "price" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Float64).alias("price"))
    frame = frame.select(
        pl.col("symbol").cast(pl.String),
        pl.col("ts"),
        pl.col("position").cast(pl.Float64),
        pl.col("price").cast(pl.Float64),
    )
    timestamp_nanoseconds(frame.get_column("ts"))
    duplicated = np.flatnonzero(frame.select("symbol", "ts").is_duplicated().to_numpy())
    if duplicated.shape[0]:
        raise DataError(
            "positions hold several rows for one symbol and time",
            tuple(DataIssue("duplicate_position", "duplicate", int(r), "ts") for r in duplicated),
        )
    finite = pl.col("position").is_finite().fill_null(value=False)
    bad = frame.select(~finite).to_series().to_numpy()
    if bad.any():
        raise DataError(
            "positions must be finite numbers",
            tuple(
                DataIssue("finite_position", "not finite", int(r), "position")
                for r in np.flatnonzero(bad)
            ),
        )
    return frame.with_columns(pl.col("ts").cast(_UTC_NS)).sort("symbol", "ts")


def exposure(curve: EquityCurve, positions: pl.DataFrame) -> float:
    """Return the fraction of equity bars at which any symbol holds a non-zero position."""
    bars = pl.DataFrame({"ts": curve.timestamps()})
    symbols = positions.select("symbol").unique()
    grid = bars.join(symbols, how="cross").sort("symbol", "ts")
    # Both sides are sorted by symbol then ts, which is what an asof join by symbol needs.
    held = grid.join_asof(
        positions.select("symbol", "ts", "position"),
        on="ts",
        by="symbol",
        strategy="backward",
        check_sortedness=False,
    )
    invested = held.group_by("ts").agg((pl.col("position").fill_null(0.0) != 0.0).any())
    return float(invested.get_column("position").mean())  # type: ignore[arg-type]


def traded_notional(trades: pl.DataFrame | None, positions: pl.DataFrame | None) -> float:
    """Return the currency value traded: both legs of each trade, or position changes × price.

    Trades with ``size``, ``entry_price`` and ``exit_price`` give
    ``Σ |size| · (entry_price + exit_price)``; otherwise positions with a ``price`` give
    ``Σ |position_t - position_(t-1)| · price_t`` (from 0 before the first row). NaN if
    neither is available.
    """
    if trades is not None and all(name in trades.columns for name in _TRADE_LEG_COLUMNS):
        legs = trades.select(
            pl.col("size").cast(pl.Float64).abs()
            * (pl.col("entry_price").cast(pl.Float64) + pl.col("exit_price").cast(pl.Float64))
        ).to_series()
        return _finite_sum(legs, "trades size × prices")
    if positions is not None and positions.get_column("price").null_count() < positions.height:
        changes = positions.select(
            (pl.col("position").diff().over("symbol").fill_null(pl.col("position")).abs())
            * pl.col("price")
        ).to_series()
        return _finite_sum(changes, "position changes × price")
    return _NAN


def _finite_sum(values: pl.Series, what: str) -> float:
    total = float(values.fill_null(np.nan).sum())
    if not math.isfinite(total):
        raise DataError(f"cannot value the traded notional: {what} has missing values")
    return total
