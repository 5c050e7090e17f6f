"""Read the equity curves, timestamps and frames users pass into plain NumPy arrays.

An equity curve is a Polars frame with ``ts`` and ``equity`` columns or a pandas Series with a
timezone-aware ``DatetimeIndex``. Timestamps must be timezone-aware and strictly increasing;
equity must be finite and positive. Every problem found becomes a
:class:`~quantstrata.core.errors.DataIssue` naming the row, the column and the value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

from quantstrata.core.errors import DataError, DataIssue, SchemaError, TimezoneError

__all__ = [
    "EquityCurve",
    "FloatArray",
    "IntArray",
    "TimestampInput",
    "ordered_equity",
    "read_equity",
    "read_timestamps",
    "timestamp_nanoseconds",
    "to_polars_frame",
]

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]
TimestampInput = pl.Series | pd.Series | pd.DatetimeIndex
"""Timestamps accepted by the analytics functions: a Polars or pandas column, or an index."""

_UTC_NS = pl.Datetime("ns", "UTC")


@dataclass(frozen=True, slots=True)
class EquityCurve:
    """An equity curve as arrays: ``ts`` in UTC nanoseconds and ``equity`` values."""

    ts: IntArray
    equity: FloatArray

    def __len__(self) -> int:
        """Return the number of points."""
        return int(self.ts.shape[0])

    def timestamps(self) -> pl.Series:
        """Return the timestamps as a ``Datetime("ns", "UTC")`` series named ``ts``."""
        return pl.Series("ts", self.ts, dtype=pl.Int64).cast(_UTC_NS)


def read_equity(equity: pl.DataFrame | pd.Series) -> EquityCurve:
    """Check an equity curve and return it as arrays; raise :class:`DataError` on bad input."""
    if isinstance(equity, pd.Series):
        frame = _from_pandas_series(equity)
    elif isinstance(equity, pl.DataFrame):
        frame = equity
    else:
        raise SchemaError(
            f"cannot read an equity curve from {type(equity).__name__}; pass a Polars frame "
            "with 'ts' and 'equity' columns or a pandas Series with a DatetimeIndex"
        )
    missing = [name for name in ("ts", "equity") if name not in frame.columns]
    if missing:
        raise SchemaError(
            f"the equity frame lacks column(s) {missing}; it has {frame.columns}",
            tuple(DataIssue("missing_column", "column is required", column=c) for c in missing),
        )
    if frame.height == 0:
        raise DataError("the equity curve is empty; it needs at least one point")
    ts = timestamp_nanoseconds(frame.get_column("ts"))
    values = _float_column(frame.get_column("equity"))
    issues = _increasing_issues(ts, "ts") + _positive_issues(values, "equity")
    if issues:
        raise DataError("the equity curve cannot be analysed", issues)
    return EquityCurve(ts=ts, equity=values)


def ordered_equity(ts: IntArray, equity: FloatArray) -> EquityCurve:
    """Check ``equity`` and return the curve; ``ts`` must be strictly increasing UTC ns already.

    For callers whose times are ordered by construction (a backtest's aligned bar times):
    only the equity values are checked, with the errors of :func:`read_equity`.
    """
    if ts.shape[0] == 0 or ts.shape != equity.shape:
        raise DataError(
            f"an equity curve needs equal, non-zero lengths: {ts.shape}, {equity.shape}"
        )
    values = np.ascontiguousarray(equity, dtype=np.float64)
    issues = _positive_issues(values, "equity")
    if issues:
        raise DataError("the equity curve cannot be analysed", issues)
    return EquityCurve(ts=np.ascontiguousarray(ts, dtype=np.int64), equity=values)


def read_timestamps(ts: TimestampInput) -> IntArray:
    """Return strictly increasing, timezone-aware timestamps as UTC nanoseconds."""
    if isinstance(ts, pd.DatetimeIndex):
        ts = pd.Series(ts)
    if isinstance(ts, pd.Series):
        ts = _pandas_timestamps(ts)
    if not isinstance(ts, pl.Series):
        raise SchemaError(f"cannot read timestamps from {type(ts).__name__}")
    values = timestamp_nanoseconds(ts)
    issues = _increasing_issues(values, str(ts.name or "ts"))
    if issues:
        raise DataError("timestamps must be strictly increasing", issues)
    return values


def to_polars_frame(data: pl.DataFrame | pd.DataFrame, what: str) -> pl.DataFrame:
    """Return ``data`` as a Polars frame (a pandas index named ``ts`` becomes a column)."""
    if isinstance(data, pl.DataFrame):
        return data
    if isinstance(data, pd.DataFrame):
        if isinstance(data.index, pd.DatetimeIndex):
            data = data.reset_index(names="ts" if "ts" not in data.columns else None)
        return pl.from_pandas(data)
    raise SchemaError(f"cannot read {what} from {type(data).__name__}; pass a Polars frame")


def _from_pandas_series(series: pd.Series) -> pl.DataFrame:
    if not isinstance(series.index, pd.DatetimeIndex):
        raise SchemaError(
            f"a pandas equity Series needs a DatetimeIndex; got {type(series.index).__name__}"
        )
    ts = _pandas_timestamps(pd.Series(series.index))
    values = pl.Series("equity", series.to_numpy(dtype=np.float64, na_value=np.nan))
    return pl.DataFrame([ts.alias("ts"), values])


def _pandas_timestamps(series: pd.Series) -> pl.Series:
    if not isinstance(series.dtype, pd.DatetimeTZDtype):
        raise TimezoneError(
            "timestamps have no timezone; localise them first, e.g. index.tz_localize('UTC')"
        )
    nanoseconds = series.dt.tz_convert("UTC").dt.as_unit("ns").to_numpy(dtype="datetime64[ns]")
    return pl.Series("ts", nanoseconds.astype(np.int64)).cast(_UTC_NS)


def timestamp_nanoseconds(column: pl.Series) -> IntArray:
    """Return an aware Datetime column as UTC nanoseconds; refuse other types, naive or nulls."""
    dtype = column.dtype
    if not isinstance(dtype, pl.Datetime):
        raise SchemaError(
            f"column {column.name!r} must hold datetimes, not {dtype}",
            (DataIssue("timestamp_dtype", "not a Datetime column", column=column.name),),
        )
    if dtype.time_zone is None:
        raise TimezoneError(
            f"column {column.name!r} has no timezone; use "
            "pl.col(...).dt.replace_time_zone('UTC') if the times are UTC",
            (DataIssue("naive_timestamp", "timestamps are naive", column=column.name),),
        )
    nulls = column.is_null()
    if nulls.any():
        rows = np.flatnonzero(nulls.to_numpy())
        raise DataError(
            f"column {column.name!r} has missing timestamps",
            tuple(DataIssue("missing_timestamp", "null", int(r), column.name) for r in rows),
        )
    values = column.cast(_UTC_NS).cast(pl.Int64).to_numpy()
    return np.ascontiguousarray(values, dtype=np.int64)


def _float_column(column: pl.Series) -> FloatArray:
    if not column.dtype.is_numeric():
        raise SchemaError(
            f"column {column.name!r} must be numeric, not {column.dtype}",
            (DataIssue("numeric_dtype", "not a numeric column", column=column.name),),
        )
    values = column.cast(pl.Float64).fill_null(np.nan).to_numpy()
    return np.ascontiguousarray(values, dtype=np.float64)


def _increasing_issues(ts: IntArray, column: str) -> tuple[DataIssue, ...]:
    if bool((ts[1:] > ts[:-1]).all()):
        return ()
    rows = np.flatnonzero(np.diff(ts) <= 0) + 1
    return tuple(
        DataIssue(
            "increasing_timestamps",
            "timestamp is not after the previous one",
            int(row),
            column,
            pl.Series([ts[row]]).cast(_UTC_NS).item(),
        )
        for row in rows
    )


def _positive_issues(values: FloatArray, column: str) -> tuple[DataIssue, ...]:
    if bool(((values > 0.0) & (values < np.inf)).all()):
        return ()
    bad = ~np.isfinite(values) | (values <= 0.0)
    return tuple(
        DataIssue("positive_equity", "equity must be finite and positive", int(r), column, v)
        for r, v in zip(np.flatnonzero(bad), values[bad].tolist(), strict=True)
    )
