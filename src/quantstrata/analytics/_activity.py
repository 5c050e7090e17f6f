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
import numpy.typing as npt
import pandas as pd
import polars as pl

from quantstrata.analytics._inputs import EquityCurve, timestamp_nanoseconds, to_polars_frame
from quantstrata.core.errors import DataError, DataIssue, SchemaError
from quantstrata.model.bar import same_times

__all__ = ["exposure", "ordered_positions", "read_positions", "traded_notional"]

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
    nanoseconds = timestamp_nanoseconds(frame.get_column("ts"))
    ordered = _by_symbol_then_time(frame, nanoseconds)
    if _has_repeated_keys(ordered):
        duplicated = np.flatnonzero(frame.select("symbol", "ts").is_duplicated().to_numpy())
        raise DataError(
            "positions hold several rows for one symbol and time",
            tuple(DataIssue("duplicate_position", "duplicate", int(r), "ts") for r in duplicated),
        )
    _check_finite(frame)
    return ordered.with_columns(pl.col("ts").cast(_UTC_NS))


def ordered_positions(
    symbol: str, ts: pl.Series, position: npt.NDArray[np.float64], price: pl.Series
) -> pl.DataFrame:
    """Return one symbol's positions in :func:`read_positions`'s form without sorting them.

    For callers whose rows are one per strictly increasing ``Datetime("ns", "UTC")`` time by
    construction (a backtest of one symbol): only the positions are checked (finite).
    """
    frame = pl.DataFrame(
        [
            pl.Series("ts", ts, dtype=_UTC_NS),
            pl.Series("position", position, dtype=pl.Float64),
            price.cast(pl.Float64).alias("price"),
        ]
    ).select(pl.lit(symbol, dtype=pl.String).alias("symbol"), "ts", "position", "price")
    if not bool(np.isfinite(position).all()):
        _check_finite(frame)
    return frame


def _check_finite(frame: pl.DataFrame) -> None:
    """Refuse positions that are not finite numbers, naming the rows."""
    finite = pl.col("position").is_finite().fill_null(value=False)
    if not frame.select(finite.all()).item():
        bad = frame.select(~finite).to_series().to_numpy()
        raise DataError(
            "positions must be finite numbers",
            tuple(
                DataIssue("finite_position", "not finite", int(r), "position")
                for r in np.flatnonzero(bad)
            ),
        )


def _by_symbol_then_time(frame: pl.DataFrame, nanoseconds: np.ndarray) -> pl.DataFrame:
    """Return ``frame`` sorted by symbol then time; one symbol in time order is left as it is."""
    symbol = frame.get_column("symbol")
    if (
        frame.height
        and symbol.null_count() == 0
        and bool((symbol == symbol[0]).all())
        and bool((np.diff(nanoseconds) > 0).all())
    ):
        return frame
    return frame.sort("symbol", "ts")


def _has_repeated_keys(ordered: pl.DataFrame) -> bool:
    """Return whether a frame sorted by symbol then time repeats a ``(symbol, ts)`` pair."""
    nanoseconds = ordered.get_column("ts").to_physical().to_numpy()
    tied = np.flatnonzero(np.diff(nanoseconds) == 0)
    if tied.shape[0] == 0:
        return False
    symbol = ordered.get_column("symbol")
    return bool(symbol.gather(tied).eq_missing(symbol.gather(tied + 1)).any())


def _segment_starts(positions: pl.DataFrame) -> np.ndarray:
    """Return the first row of each symbol in a frame sorted by symbol then time."""
    if positions.height == 0:
        return np.zeros(0, dtype=np.int64)
    # One query for the ends: a one-symbol backtest's symbol column is a constant, which
    # get_column would write out as a million strings.
    first, last, nulls = positions.select(
        pl.col("symbol").first().alias("first"),
        pl.col("symbol").last().alias("last"),
        pl.col("symbol").null_count().alias("nulls"),
    ).row(0)
    if nulls == 0 and first == last:
        return np.zeros(1, dtype=np.int64)
    symbol = positions.get_column("symbol")
    changed = symbol.ne_missing(symbol.shift(1)).fill_null(value=True).to_numpy()
    changed[0] = True
    return np.flatnonzero(changed)


def exposure(curve: EquityCurve, positions: pl.DataFrame) -> float:
    """Return the fraction of equity bars at which any symbol holds a non-zero position.

    ``positions`` is :func:`read_positions`'s frame. A row holds from the first bar at or after
    its time until the first bar at or after the symbol's next row.
    """
    bars = len(curve)
    if positions.is_empty():
        return 0.0
    ts = positions.get_column("ts").to_physical().to_numpy()
    held = positions.get_column("position").to_numpy() != 0.0
    starts = _segment_starts(positions)
    if starts.shape[0] == 1 and same_times(ts, curve.ts):
        return float(np.mean(held))
    first = np.searchsorted(curve.ts, ts, side="left")
    until = np.empty_like(first)
    until[:-1] = first[1:]
    until[starts[1:] - 1] = bars
    until[-1] = bars
    opened = np.bincount(first[held], minlength=bars + 1)
    closed = np.bincount(until[held], minlength=bars + 1)
    invested = np.cumsum(opened - closed)[:bars] > 0
    return float(np.mean(invested))


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
        position = positions.get_column("position").to_numpy()
        change = np.empty_like(position, dtype=np.float64)
        np.subtract(position[1:], position[:-1], out=change[1:])
        starts = _segment_starts(positions)
        change[starts] = position[starts]
        price = positions.get_column("price").to_numpy()
        np.abs(change, out=change)  # in place: one buffer instead of three temporaries
        np.multiply(change, price, out=change)
        return _finite_sum(pl.Series(change), "position changes × price")
    return _NAN


def _finite_sum(values: pl.Series, what: str) -> float:
    total = float(values.fill_null(np.nan).sum())
    if not math.isfinite(total):
        raise DataError(f"cannot value the traded notional: {what} has missing values")
    return total
