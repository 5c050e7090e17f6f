"""Shared checks for processing steps that take canonical bar frames.

These helpers refuse frames that are not bar frames (typed errors naming the column), bring rows
into ``(symbol, ts)`` order without paying for a sort when they already are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from quantstrata.core.errors import DataError, DataIssue, SchemaError, TimezoneError
from quantstrata.model.bar import BAR_COLUMNS, TIMESTAMP_DTYPE

__all__ = [
    "BoolArray",
    "IntArray",
    "OrderedBars",
    "check_bar_frame",
    "require_columns",
    "sort_by_symbol_time",
]

IntArray = np.ndarray[Any, np.dtype[np.int64]]
BoolArray = np.ndarray[Any, np.dtype[np.bool_]]

_MAX_ISSUES = 50
_UINT16_LIMIT = 65_536


def require_columns(frame: pl.DataFrame, columns: tuple[str, ...], what: str) -> None:
    """Raise :class:`SchemaError` naming every column of ``columns`` that ``frame`` lacks."""
    missing = [name for name in columns if name not in frame.columns]
    if missing:
        issues = tuple(
            DataIssue("missing_column", f"{what} needs column {name!r}", column=name)
            for name in missing
        )
        raise SchemaError(f"{what} is missing columns {missing}", issues)


def check_bar_frame(bars: object, what: str = "bars") -> pl.DataFrame:
    """Return ``bars`` with ``ts`` as ``Datetime("ns", "UTC")`` after checking it is a bar frame.

    Raise :class:`SchemaError` for a non-Polars input or missing columns and
    :class:`TimezoneError` for naive or non-UTC timestamps (converting them would guess).
    """
    if not isinstance(bars, pl.DataFrame):
        raise SchemaError(
            f"{what} must be a Polars DataFrame of canonical bars, got {type(bars).__name__}; "
            "convert it with quantstrata.process.normalize.to_bars first"
        )
    require_columns(bars, BAR_COLUMNS, what)
    dtype = bars.schema["ts"]
    if not isinstance(dtype, pl.Datetime):
        raise SchemaError(
            f"{what}: column 'ts' must be a UTC Datetime, got {dtype}",
            (DataIssue("ts_dtype", "ts is not a Datetime", column="ts", value=str(dtype)),),
        )
    if dtype.time_zone != "UTC":
        raise TimezoneError(
            f"{what}: column 'ts' must be in UTC, got time zone {dtype.time_zone!r}",
            (DataIssue("ts_timezone", "ts is not UTC", column="ts", value=dtype.time_zone),),
        )
    if dtype != TIMESTAMP_DTYPE:
        return bars.with_columns(pl.col("ts").cast(TIMESTAMP_DTYPE))
    return bars


@dataclass(frozen=True, slots=True)
class OrderedBars:
    """Bars in ``(symbol, ts)`` order, as a permutation of the frame the user passed in.

    ``times`` holds the sorted ``ts`` as nanoseconds since the epoch, ``rows`` the input row of
    each sorted position, and ``new_symbol`` marks the first sorted row of every symbol. The
    input is only gathered into sorted order when a caller needs the whole frame.
    """

    source: pl.DataFrame
    times: IntArray
    rows: IntArray
    new_symbol: BoolArray
    already_sorted: bool

    def frame(self) -> pl.DataFrame:
        """Return the bars as a frame in ``(symbol, ts)`` order."""
        return self.source if self.already_sorted else self.source[pl.Series(self.rows)]

    def gather(self, name: str, positions: IntArray) -> pl.Series:
        """Return column ``name`` at the sorted ``positions``."""
        return self.source.get_column(name).gather(pl.Series(self.rows[positions]))

    def values(self, column: pl.Series) -> np.ndarray[Any, Any]:
        """Return ``column`` (a column of the input frame) as a NumPy array in sorted order."""
        array = column.to_numpy()
        return array if self.already_sorted else array[self.rows]

    def symbol_times(self) -> list[IntArray]:
        """Return each symbol's sorted times (views, no copy), for :func:`interval_from_times`."""
        return np.split(self.times, np.flatnonzero(self.new_symbol)[1:])

    def row_of(self, position: int) -> int:
        """Return the input row of sorted position ``position``."""
        return int(self.rows[position])


def sort_by_symbol_time(bars: pl.DataFrame) -> OrderedBars:
    """Return ``bars`` ordered by ``(symbol, ts)``, without a sort when they already are.

    Raise :class:`DataError` for null timestamps or symbols and for duplicate ``(symbol, ts)``
    pairs, naming the input row of each.
    """
    _refuse_nulls(bars)
    times = bars.get_column("ts").dt.epoch("ns").to_numpy()
    symbols = bars.get_column("symbol")
    if symbols.is_sorted():
        new_symbol = _run_starts(symbols)
        if bool(np.all((np.diff(times) > 0) | new_symbol[1:])):
            rows = np.arange(bars.height, dtype=np.int64)
            return OrderedBars(bars, times, rows, new_symbol, already_sorted=True)
    # Sorting integer codes is many times faster than sorting the symbol strings; an Enum of
    # the sorted distinct symbols gives codes in the symbols' own order.
    codes = symbols.cast(pl.Enum(symbols.unique().sort().to_list())).to_physical().to_numpy()
    codes = codes.astype(np.int64, copy=False)
    # Feeds interleave symbols in time order: a stable sort by symbol alone then suffices, and
    # NumPy sorts 16-bit keys stably by radix sort.
    narrow = codes.astype(np.uint16) if codes.max() < _UINT16_LIMIT else codes
    order = np.argsort(narrow, kind="stable")
    new_symbol = np.diff(codes[order], prepend=-1) != 0
    if not np.all((np.diff(times[order]) > 0) | new_symbol[1:]):
        order = np.lexsort((times, codes))
        new_symbol = np.diff(codes[order], prepend=-1) != 0
    order = order.astype(np.int64, copy=False)
    ordered = OrderedBars(bars, times[order], order, new_symbol, already_sorted=False)
    _refuse_duplicates(ordered)
    return ordered


def _run_starts(symbols: pl.Series) -> BoolArray:
    starts = (symbols != symbols.shift(1)).fill_null(value=True)
    return starts.to_numpy().astype(np.bool_, copy=False)


def _refuse_duplicates(ordered: OrderedBars) -> None:
    repeated = np.flatnonzero((np.diff(ordered.times) == 0) & ~ordered.new_symbol[1:]) + 1
    if repeated.size == 0:
        return
    issues = tuple(
        DataIssue(
            "duplicate_timestamp",
            "another bar of this symbol has the same ts",
            row=ordered.row_of(position),
            column="ts",
            value=str(ordered.source.get_column("ts")[ordered.row_of(position)]),
            symbol=ordered.source.get_column("symbol")[ordered.row_of(position)],
        )
        for position in repeated[:_MAX_ISSUES]
    )
    raise DataError(f"{repeated.size} duplicate (symbol, ts) bars", issues)


def _refuse_nulls(bars: pl.DataFrame) -> None:
    issues: list[DataIssue] = []
    for name in ("ts", "symbol"):
        rows = bars.select(pl.col(name).is_null().arg_true()).get_column(name)
        issues.extend(
            DataIssue("null_key", f"{name} is null", row=int(row), column=name)
            for row in rows.head(_MAX_ISSUES)
        )
    if issues:
        raise DataError("bars have null timestamps or symbols", tuple(issues))
