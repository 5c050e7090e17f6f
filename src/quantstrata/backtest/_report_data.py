"""The numbers behind the backtest report: checked inputs, monthly returns, decimation.

Everything here is plain Polars and NumPy so the figures module only lays things out, and the
tests can check each series against an independent computation.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from quantstrata.core.errors import DataError, DataIssue, SchemaError

__all__ = [
    "EQUITY_COLUMNS",
    "TRADE_COLUMNS",
    "check_equity",
    "check_trades",
    "finite_or_none",
    "minmax_indices",
    "monthly_returns",
    "require_columns",
    "time_labels",
    "underwater",
]

EQUITY_COLUMNS = ("ts", "equity")
"""Columns of the equity frame the report reads."""

TRADE_COLUMNS = (
    "symbol",
    "direction",
    "entry_ts",
    "exit_ts",
    "quantity",
    "entry_price",
    "exit_price",
    "pnl",
    "return",
)
"""Columns of the trades frame the report reads (``commission`` and ``bars_held`` if present)."""

_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def require_columns(frame: pl.DataFrame, name: str, columns: Iterable[str]) -> None:
    """Raise :class:`SchemaError` naming every column of ``columns`` missing from ``frame``."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        issues = tuple(
            DataIssue("missing_column", f"the {name} frame has no {column!r} column", None, column)
            for column in missing
        )
        raise SchemaError(f"cannot report on this result: the {name} frame is incomplete", issues)


def check_equity(equity: pl.DataFrame) -> pl.DataFrame:
    """Return ``ts`` and ``equity`` sorted by time, refusing an empty or non-finite curve."""
    require_columns(equity, "equity", EQUITY_COLUMNS)
    if equity.height == 0:
        raise DataError("cannot report on an empty equity curve")
    curve = equity.select(pl.col("ts"), pl.col("equity").cast(pl.Float64)).sort("ts")
    values = curve["equity"].to_numpy()
    bad = np.flatnonzero(~np.isfinite(values) | (values <= 0.0))
    if bad.size:
        issues = tuple(
            DataIssue("equity_value", "equity must be finite and positive", int(row), "equity")
            for row in bad[:10]
        )
        raise DataError(f"{bad.size} equity values are not finite and positive", issues)
    return curve


def check_trades(trades: pl.DataFrame, symbols: Iterable[str]) -> None:
    """Refuse a trades frame without the report's columns or with symbols that have no bars."""
    require_columns(trades, "trades", TRADE_COLUMNS)
    known = set(symbols)
    issues = tuple(
        DataIssue("unknown_symbol", "a trade's symbol has no bars", row, "symbol", symbol)
        for row, symbol in enumerate(trades["symbol"].to_list())
        if symbol not in known
    )
    if issues:
        raise DataError("trades refer to symbols missing from the bars", issues)


def monthly_returns(curve: pl.DataFrame) -> pl.DataFrame:
    """Return ``year``, ``month`` and ``return`` (a fraction) for every month with equity.

    A month's return compares its last equity value with the previous month's last value; the
    first month compares with the curve's first value. Months are calendar months in UTC;
    a month without any equity point is absent (not zero).
    """
    first = float(curve["equity"][0])
    month_ends = (
        curve.sort("ts")
        .group_by(pl.col("ts").dt.year().alias("year"), pl.col("ts").dt.month().alias("month"))
        .agg(pl.col("equity").last().alias("close"))
        .sort("year", "month")
    )
    previous = pl.col("close").shift(1).fill_null(first)
    return month_ends.select(
        pl.col("year").cast(pl.Int32),
        pl.col("month").cast(pl.Int8),
        (pl.col("close") / previous - 1.0).alias("return"),
    )


def underwater(equity: FloatArray) -> FloatArray:
    """Return the drawdown below the running peak as a non-positive fraction."""
    return equity / np.maximum.accumulate(equity) - 1.0


def minmax_indices(values: FloatArray, max_points: int) -> IntArray:
    """Return sorted row positions that keep each bucket's lowest and highest value.

    With more than ``max_points`` values the series is cut into ``max_points // 2`` equal
    buckets and only each bucket's extremes (plus the first and last value) are kept, so
    spikes and drawdown troughs survive the thinning. Short series come back whole.
    """
    count = int(values.shape[0])
    if count <= max_points:
        return np.arange(count, dtype=np.int64)
    buckets = max(max_points // 2, 1)
    edges = np.linspace(0, count, buckets + 1).astype(np.int64)
    kept = [0, count - 1]
    for start, stop in itertools.pairwise(edges.tolist()):
        if stop > start:
            chunk = values[start:stop]
            kept.extend((start + int(np.argmin(chunk)), start + int(np.argmax(chunk))))
    return np.unique(np.asarray(kept, dtype=np.int64))


def time_labels(ts: pl.Series) -> list[str]:
    """Return UTC timestamps as ``YYYY-MM-DD HH:MM:SS`` strings, the form plotly reads as dates."""
    utc = ts.dt.convert_time_zone("UTC") if isinstance(ts.dtype, pl.Datetime) else ts
    return [str(label) for label in utc.dt.strftime(_TIME_FORMAT).to_list()]


def finite_or_none(values: Iterable[Any]) -> list[float | None]:
    """Return the values as floats, with NaN, infinities and nulls as ``None`` (JSON null)."""
    result: list[float | None] = []
    for value in values:
        number = None if value is None else float(value)
        result.append(number if number is not None and math.isfinite(number) else None)
    return result
