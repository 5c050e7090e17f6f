"""Read bar files users already have (CSV, gzipped CSV, Parquet) and load them into a catalog.

Common layouts are recognised from the header:

* **Yahoo** – ``Date,Open,High,Low,Close,Adj Close,Volume`` with dates like ``1/4/1999``
  (month first, as Yahoo's US exports write them); ``Adj Close`` becomes the extra column
  ``adj_close``.
* **pandas** – what ``DataFrame.to_csv`` writes for a time index: an unnamed first column of
  timestamps, then ``Open,High,Low,Close,Volume`` (the bundled samples' source files).
* **ccxt** – ``timestamp,open,high,low,close,volume`` with epoch milliseconds, with or without
  the header line.
* **canonical** – the catalog's own columns (``ts, symbol, open, …``), e.g. a Parquet export.

Text dates without a time of day (``2024-03-15``, ``3/15/2024``) are session labels and become
00:00 UTC of that date, the convention of every daily bar in quantstrata; ``timezone`` places
timestamps that carry a time of day but no offset. When the file has no ``symbol`` column and
``symbol`` is not given, the symbol is the file name up to the first ``_`` with the extensions
removed: ``SPX_1d.csv.gz`` → ``SPX``, ``BRK.B_daily.parquet`` → ``BRK.B``.

Everything after reading goes through :func:`quantstrata.process.normalize.to_bars`, so files get
the same checks and error messages as any other input. Reading is Polars' multi-threaded CSV
reader with no Python loop over rows. ``null`` in a price or volume column (Yahoo writes it for
days without data) is a missing value, which validation reports or drops like any other.

Errors about rows of a CSV file name the file line (counted from 1, the header is line 1, as
editors count); each :class:`~quantstrata.core.errors.DataIssue` keeps ``row``, the zero-based
position among the data rows, and carries the file line as ``line``.
"""

from __future__ import annotations

import csv
import gzip
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from enum import StrEnum
from pathlib import Path

import polars as pl

from quantstrata.core.errors import CatalogError, DataError, DataIssue, SchemaError
from quantstrata.data.catalog import Catalog, OnConflict, WriteSummary
from quantstrata.model.interval import Interval
from quantstrata.process.normalize import to_bars
from quantstrata.process.validate import inferred_interval

__all__ = [
    "FileLayout",
    "import_file",
    "numbered_by_file_line",
    "read_bars_file",
    "symbol_from_path",
]

_PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})
_TEXT_SUFFIXES = frozenset({".csv", ".txt", ".gz", ".gzip"})
_CCXT_COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")
_YAHOO_DATE_FORMAT = "%m/%d/%Y"
_DATE_ONLY_LENGTH = 10
_GZIP_MAGIC = b"\x1f\x8b"
_FLOAT_COLUMNS = frozenset(
    {"open", "high", "low", "close", "volume", "adj_close", "o", "h", "l", "c", "v", "vol"}
    | {"quote_volume", "open_interest", "vwap"}
)
_NUMBER = re.compile(r"^\s*-?\d+(\.\d*)?([eE][+-]?\d+)?\s*$")
_NULL_TEXT = "null"


class FileLayout(StrEnum):
    """The column layouts :func:`read_bars_file` knows; ``auto`` recognises them from the header."""

    AUTO = "auto"
    YAHOO = "yahoo"
    PANDAS = "pandas"
    CCXT = "ccxt"
    CANONICAL = "canonical"


def symbol_from_path(path: str | Path) -> str:
    """Return the symbol a file name implies: the name without extensions, up to the first ``_``."""
    name = Path(path).name
    while True:
        suffix = Path(name).suffix.lower()
        if suffix not in _PARQUET_SUFFIXES | _TEXT_SUFFIXES:
            break
        name = name[: -len(suffix)]
    symbol = name.split("_", 1)[0]
    if not symbol:
        raise SchemaError(
            f"cannot take a symbol from the file name {Path(path).name!r}; pass symbol="
        )
    return symbol


def read_bars_file(
    path: str | Path,
    *,
    symbol: str | None = None,
    timezone: str | None = None,
    layout: str | FileLayout = FileLayout.AUTO,
    time_format: str | None = None,
    time_unit: str | None = None,
    interval: str | Interval | None = None,
    missing_volume: float | None = None,
    validation: str | None = "raise",
    calendar: str | None = None,
) -> pl.DataFrame:
    """Read a CSV (optionally gzipped) or Parquet file of bars into the canonical frame.

    ``layout`` forces one of :class:`FileLayout` when the header is unusual. ``time_format``
    (strftime codes) and ``time_unit`` (``s``/``ms``/``us``/``ns`` for epoch numbers) override
    what the layout implies. ``interval``, ``validation``, ``calendar`` and ``missing_volume`` go
    to :func:`~quantstrata.process.normalize.to_bars`. Rows keep the file's order: an issue's
    ``row`` is the data row (0 = first row after the header) and, for a CSV, its message names
    the file line (the header is line 1).
    """
    source = Path(path)
    chosen = _layout(layout)
    with _file_lines(source, chosen):
        return _read_bars(
            source, chosen,
            symbol=symbol, timezone=timezone, time_format=time_format, time_unit=time_unit,
            interval=interval, missing_volume=missing_volume, validation=validation,
            calendar=calendar,
        )  # fmt: skip


def _read_bars(
    source: Path,
    chosen: FileLayout,
    *,
    symbol: str | None,
    timezone: str | None,
    time_format: str | None,
    time_unit: str | None,
    interval: str | Interval | None,
    missing_volume: float | None,
    validation: str | None,
    calendar: str | None,
) -> pl.DataFrame:
    frame = _read_table(source, chosen)
    frame = _name_time_column(frame, chosen)
    if chosen is FileLayout.AUTO and _looks_like_yahoo(frame.columns):
        chosen = FileLayout.YAHOO
    date_only = _is_date_only(frame)
    if chosen is FileLayout.YAHOO and time_format is None and _has_slash_dates(frame):
        time_format = _YAHOO_DATE_FORMAT
    if chosen is FileLayout.CCXT and time_unit is None:
        time_unit = "ms"
    has_symbol = any(name.lower() in {"symbol", "ticker"} for name in frame.columns)
    if symbol is None and not has_symbol:
        symbol = symbol_from_path(source)
    return to_bars(
        frame,
        symbol=symbol,
        timezone="UTC" if date_only else timezone,
        interval=interval,
        validation=validation,
        calendar=calendar,
        time_unit=time_unit,
        time_format=time_format,
        missing_volume=missing_volume,
    )


def import_file(
    catalog: Catalog,
    path: str | Path,
    *,
    interval: str | Interval,
    symbol: str | None = None,
    on_conflict: str | OnConflict = OnConflict.RAISE,
    timezone: str | None = None,
    layout: str | FileLayout = FileLayout.AUTO,
    time_format: str | None = None,
    time_unit: str | None = None,
    missing_volume: float | None = None,
    validation: str = "raise",
    calendar: str | None = None,
) -> WriteSummary:
    """Read ``path`` with :func:`read_bars_file` and write the bars to ``catalog``.

    With ``validation="raise"`` (the default) the bars are validated once, by
    :meth:`Catalog.write`; ``"drop"`` or ``"repair"`` clean them while reading. Bars whose
    most common step is not ``interval`` raise :class:`DataError` (nothing is written).
    """
    bars = read_bars_file(
        path,
        symbol=symbol,
        timezone=timezone,
        layout=layout,
        time_format=time_format,
        time_unit=time_unit,
        interval=interval,
        missing_volume=missing_volume,
        validation=None if validation == "raise" else validation,
        calendar=calendar,
    )
    _refuse_other_interval(bars, Interval.parse(interval), Path(path))
    source = Path(path)
    with _file_lines(source, _layout(layout)):
        return catalog.write(bars, interval=interval, on_conflict=on_conflict)


def _refuse_other_interval(bars: pl.DataFrame, interval: Interval, source: Path) -> None:
    """Raise :class:`DataError` when the bars are spaced by another interval than ``interval``."""
    found = inferred_interval(bars)
    if found is None or found == interval:
        return
    if found.is_fixed and interval.is_fixed and found.nanoseconds == interval.nanoseconds:
        return
    raise DataError(
        f"the bars of {source.name} are {found} apart (the most common step), not {interval}; "
        f"import them with interval {found}",
        (DataIssue("interval_mismatch", f"bars are {found} apart", column="ts", value=str(found)),),
    )


def numbered_by_file_line(
    path: str | Path,
    issues: tuple[DataIssue, ...],
    *,
    layout: str | FileLayout = FileLayout.AUTO,
) -> tuple[DataIssue, ...]:
    """Return ``issues`` about rows read from the CSV ``path`` with their file ``line`` set.

    The file line counts from 1 with the header as line 1 (a header-less ccxt dump starts at
    line 1 with data). Issues of a Parquet file, and issues without a row, are returned as given.
    """
    first_line = _first_data_line(Path(path), _layout(layout))
    if first_line is None:
        return issues
    return tuple(
        replace(issue, line=issue.row + first_line)
        if issue.row is not None and issue.line is None
        else issue
        for issue in issues
    )


def _first_data_line(path: Path, layout: FileLayout) -> int | None:
    """Return the file line of the first data row of a CSV, or ``None`` for a Parquet file."""
    if path.suffix.lower() in _PARQUET_SUFFIXES or not path.is_file():
        return None
    try:
        names = _header(path)
    except (OSError, UnicodeDecodeError):
        return None
    header_less = layout in {FileLayout.CCXT, FileLayout.AUTO} and _header_is_data(names)
    return 1 if header_less else 2


@contextmanager
def _file_lines(path: Path, layout: FileLayout) -> Iterator[None]:
    """Re-raise a data error about rows of ``path`` with each issue's file line."""
    try:
        yield
    except DataError as error:
        if isinstance(error, CatalogError):  # conflicts name stored bars, not file rows
            raise
        issues = numbered_by_file_line(path, error.issues, layout=layout)
        if issues == error.issues:
            raise
        raise type(error)(f"{path.name}: {error.summary}", issues) from error


def _layout(value: str | FileLayout) -> FileLayout:
    try:
        return FileLayout(value)
    except ValueError:
        choices = ", ".join(repr(member.value) for member in FileLayout)
        raise SchemaError(f"layout={value!r} is not one of {choices}") from None


def _read_table(path: Path, layout: FileLayout) -> pl.DataFrame:
    if not path.is_file():
        raise DataError(f"bar file {path} does not exist or is not a file")
    try:
        if path.suffix.lower() in _PARQUET_SUFFIXES:
            return pl.read_parquet(path, hive_partitioning=False)
        names = _header(path)
        if layout in {FileLayout.CCXT, FileLayout.AUTO} and _header_is_data(names):
            if len(names) != len(_CCXT_COLUMNS):
                raise SchemaError(
                    f"{path.name} has no header and {len(names)} columns; a header-less file "
                    f"must have the ccxt columns {', '.join(_CCXT_COLUMNS)}"
                )
            schema = {name: pl.Float64() for name in _CCXT_COLUMNS} | {"timestamp": pl.Int64()}
            return _read_csv(path, schema, has_header=False)
        # Prices and volumes are read as floats outright: no inference that a later row breaks.
        floats = {name: pl.Float64() for name in names if _fold(name) in _FLOAT_COLUMNS}
        return _read_csv(path, floats, has_header=True)
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as error:
        raise SchemaError(f"cannot read {path.name} as a table of bars: {error}") from error


def _read_csv(path: Path, types: Mapping[str, pl.DataType], *, has_header: bool) -> pl.DataFrame:
    """Read a CSV with the given column ``types`` (``null`` in a number column is missing).

    With a header the types override inference for the columns named; without one they are the
    whole schema. A value that is not a number raises :class:`SchemaError` naming its file line.
    """
    nulls = dict.fromkeys(types, _NULL_TEXT) or None
    try:
        if has_header:
            return pl.read_csv(
                path, schema_overrides=types, infer_schema_length=10_000, null_values=nulls
            )
        return pl.read_csv(path, has_header=False, schema=types, null_values=nulls)
    except pl.exceptions.ComputeError:
        _refuse_first_non_number(path, list(types), has_header=has_header)
        raise


def _refuse_first_non_number(path: Path, columns: list[str], *, has_header: bool) -> None:
    """Raise :class:`SchemaError` naming the file line and column of the first non-number."""
    text = pl.read_csv(path, infer_schema=False, has_header=has_header)
    if not has_header:
        text = text.rename(dict(zip(text.columns, columns, strict=False)))
    first_line = 2 if has_header else 1
    for name in columns:
        values = text.get_column(name)
        parsed = values.str.strip_chars().cast(pl.Float64, strict=False)
        bad = (parsed.is_null() & values.is_not_null() & (values != _NULL_TEXT)).arg_true()
        if bad.len() == 0:
            continue
        row = int(bad[0])
        issue = DataIssue(
            "not_a_number",
            "is not a number",
            row=row,
            column=name,
            value=values[row],
            line=row + first_line,
        )
        raise SchemaError(f"{path.name} has text where column {name!r} needs a number", (issue,))


def _header(path: Path) -> list[str]:
    """Return the first line's fields without decompressing or parsing the whole file."""
    with path.open("rb") as raw:
        magic = raw.read(2)
    if magic == _GZIP_MAGIC:
        with gzip.open(path, "rt", encoding="utf-8-sig", newline="") as text:
            line = text.readline()
    else:
        with path.open(encoding="utf-8-sig", newline="") as text:
            line = text.readline()
    return next(csv.reader([line]), [])


def _fold(name: str) -> str:
    return name.strip().lower().replace(" ", "_")


def _looks_like_yahoo(names: list[str]) -> bool:
    folded = {name.strip().lower() for name in names}
    return {"date", "adj close"} <= folded


def _header_is_data(names: list[str]) -> bool:
    return bool(names) and all(_NUMBER.match(name) for name in names)


def _name_time_column(frame: pl.DataFrame, layout: FileLayout) -> pl.DataFrame:
    """Call the unnamed first column (a pandas index written to CSV) ``ts``."""
    if not frame.columns:
        return frame
    first = frame.columns[0]
    unnamed = first == "" or (layout is FileLayout.PANDAS and first.lower() != "ts")
    if unnamed and "ts" not in {name.lower() for name in frame.columns}:
        return frame.rename({first: "ts"})
    return frame


def _time_column(frame: pl.DataFrame) -> str | None:
    names = {"ts", "time", "timestamp", "date", "datetime", "date_time", "open_time"}
    for name in frame.columns:
        if name.strip().lower().replace(" ", "_") in names:
            return name
    return None


def _is_date_only(frame: pl.DataFrame) -> bool:
    """Whether the time column holds calendar dates (no time of day)."""
    column = _time_column(frame)
    if column is None:
        return False
    series = frame.get_column(column)
    if series.dtype == pl.Date:
        return True
    if series.dtype != pl.String or series.null_count() == series.len():
        return False
    first = series.drop_nulls().head(1).item()
    if ":" in first:
        return False
    longest = series.str.strip_chars().str.len_chars().max()
    return isinstance(longest, int) and longest <= _DATE_ONLY_LENGTH


def _has_slash_dates(frame: pl.DataFrame) -> bool:
    column = _time_column(frame)
    if column is None or frame.get_column(column).dtype != pl.String:
        return False
    first = frame.get_column(column).drop_nulls().head(1).to_list()
    return bool(first) and "/" in first[0]
