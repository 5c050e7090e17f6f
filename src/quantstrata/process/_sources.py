"""Turn each input shape users hold into one Polars frame with the user's column names.

Shapes: Polars DataFrame/LazyFrame, pandas DataFrame (index or column timestamps, MultiIndex),
dict of columns, list of row dicts, NumPy 2-D arrays (5 columns ``o h l c v`` or 6 with epoch
timestamps first) and structured arrays, ccxt ``[ms, o, h, l, c, v]`` rows, and TickDB kline
JSON (the whole response, its ``data`` object, or the ``klines`` list).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from polars.exceptions import PolarsError

from quantstrata.core.errors import DataError, DataIssue, SchemaError
from quantstrata.process._columns import INDEX_COLUMN, snake_case
from quantstrata.process._timestamps import TimeUnit

__all__ = ["CCXT_COLUMNS", "OHLCV_COLUMNS", "RawFrame", "read_source"]

OHLCV_COLUMNS = ("open", "high", "low", "close", "volume")
CCXT_COLUMNS = ("ts", *OHLCV_COLUMNS)
_TICKDB_KLINE_FIELDS = frozenset({*OHLCV_COLUMNS, "time", "quote_volume", "open_interest"})
_TICKDB_TEXT_EXTRAS = frozenset({"quote_volume", "open_interest"})
# Full names only: tickers such as C, L, O and H would match the one-letter aliases.
_FIELDS = frozenset({"open", "high", "low", "close"})


@dataclass(frozen=True, slots=True)
class RawFrame:
    """A frame with the user's column names plus what the source itself says.

    ``symbol``, ``interval`` and ``time_unit`` are fixed by the source where it defines them
    (TickDB names its symbol and interval; ccxt and TickDB times are epoch milliseconds).
    ``numeric_text`` names extra columns the source documents as numbers written as text.
    ``has_timestamps`` is false for a bare OHLCV array whose times come from ``start``.
    """

    frame: pl.DataFrame
    source: str
    symbol: str | None = None
    interval: str | None = None
    time_unit: TimeUnit | None = None
    numeric_text: frozenset[str] = frozenset()
    has_timestamps: bool = True


def read_source(data: object) -> RawFrame:
    """Read ``data`` of any supported shape; raise SchemaError naming what was expected."""
    if isinstance(data, pl.LazyFrame):
        return RawFrame(_guard("a Polars LazyFrame", data.collect), "polars")
    if isinstance(data, pl.DataFrame):
        return RawFrame(data, "polars")
    pandas = sys.modules.get("pandas")
    if pandas is not None and isinstance(data, pandas.DataFrame):
        return RawFrame(_from_pandas(data), "pandas")
    if isinstance(data, np.ndarray):
        return _from_numpy(data)
    if isinstance(data, Mapping):
        if _looks_like_tickdb_body(data):
            return _from_tickdb(data)
        return RawFrame(_from_columns(data), "columns")
    if isinstance(data, Sequence) and not isinstance(data, str | bytes):
        return _from_sequence(data)
    raise SchemaError(
        f"cannot turn {type(data).__name__} into bars; pass a pandas or Polars frame, a dict of "
        "columns, a list of row dicts, ccxt rows, a NumPy array or a TickDB kline response"
    )


def _guard(what: str, build: Any, *args: Any, **kwargs: Any) -> pl.DataFrame:
    """Call ``build`` and turn a construction failure into a SchemaError naming ``what``."""
    try:
        frame = build(*args, **kwargs)
    except (PolarsError, TypeError, ValueError, OverflowError) as error:
        raise SchemaError(f"cannot read {what}: {error}") from error
    if not isinstance(frame, pl.DataFrame):  # pragma: no cover - every builder returns a frame
        raise SchemaError(f"cannot read {what}")
    return frame


# ------------------------------------------------------------------------------------- pandas
def _from_pandas(frame: Any) -> pl.DataFrame:
    frame = _long_from_wide(frame)
    names = [str(name) for name in frame.columns]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise SchemaError(
            f"the pandas frame has duplicate column names {duplicates}",
            tuple(DataIssue("duplicate_column", "duplicate", column=name) for name in duplicates),
        )
    body = _guard("the pandas frame", pl.from_pandas, frame.set_axis(names, axis=1))
    index = _pandas_index_columns(frame.index)
    clash = sorted({series.name for series in index} & set(names))
    if clash:
        raise SchemaError(f"index level(s) {clash} have the same name as a column")
    return pl.DataFrame([*index, *body.get_columns()])


def _long_from_wide(frame: Any) -> Any:
    """Turn yfinance-style two-level columns (field, ticker) into one row per ticker and time.

    Cells that are empty for every field (a ticker not trading that day) are not bars and are
    left out; the ticker level becomes the ``symbol`` index level.
    """
    columns = frame.columns
    if columns.nlevels == 1:
        return frame
    holds_fields = [
        bool({snake_case(str(value)) for value in columns.get_level_values(level)} & _FIELDS)
        for level in range(columns.nlevels)
    ]
    if columns.nlevels != 2 or holds_fields.count(True) != 1:
        raise SchemaError(
            f"cannot read {columns.nlevels} column levels {list(columns.names)}; pass one level "
            "of field names (open, high, …) and at most one level of tickers"
        )
    long = frame.stack(level=holds_fields.index(False), future_stack=True).dropna(how="all")
    long.index = long.index.set_names("symbol", level=long.index.nlevels - 1)
    return long


def _pandas_index_columns(index: Any) -> list[pl.Series]:
    levels = [index.get_level_values(level) for level in range(index.nlevels)]
    if index.nlevels == 1 and (index.name is None and index.dtype.kind in "iu"):
        return []  # unnamed integer labels are row positions, not data
    columns: list[pl.Series] = []
    for position, level in enumerate(levels):
        if level.name is not None:
            name = str(level.name)
        elif level.dtype.kind == "M" or index.nlevels == 1:
            name = INDEX_COLUMN
        else:
            raise SchemaError(
                f"index level {position} has no name; name the levels, e.g. "
                "frame.index.names = ['symbol', 'ts']"
            )
        try:
            columns.append(pl.Series(name, level))
        except (PolarsError, TypeError, ValueError) as error:
            raise SchemaError(f"cannot read index level {name!r}: {error}") from error
    names = [column.name for column in columns]
    if names.count(INDEX_COLUMN) > 1:
        raise SchemaError("several unnamed datetime index levels; name them")
    return columns


# -------------------------------------------------------------------------------------- numpy
def _from_numpy(array: np.ndarray[Any, Any]) -> RawFrame:
    if array.dtype.names is not None:
        if array.ndim != 1:
            raise SchemaError(f"a structured array must be 1-D, got shape {array.shape}")
        columns = {str(name): array[name] for name in array.dtype.names}
        return RawFrame(_guard("the structured array", pl.DataFrame, columns), "numpy")
    if array.ndim != 2 or array.shape[1] not in (5, 6):
        raise SchemaError(
            f"a NumPy array of bars must be 2-D with 5 columns (open, high, low, close, volume; "
            f"times from start= and interval=) or 6 (epoch time first), got shape {array.shape}"
        )
    if array.dtype.kind not in "iuf":
        raise SchemaError(f"a 2-D NumPy array of bars must be numeric, got dtype {array.dtype}")
    names = OHLCV_COLUMNS if array.shape[1] == 5 else CCXT_COLUMNS
    columns = {name: array[:, position] for position, name in enumerate(names)}
    frame = _guard("the NumPy array", pl.DataFrame, columns)
    return RawFrame(frame, "numpy", has_timestamps=array.shape[1] == 6)


# ----------------------------------------------------------------------- dicts, lists, ccxt
def _from_columns(columns: Mapping[Any, Any]) -> pl.DataFrame:
    named = {str(name): values for name, values in columns.items()}
    try:
        return pl.DataFrame(named)
    except TypeError:
        return _guard("the dict of columns", pl.DataFrame, named, strict=False)
    except (PolarsError, ValueError) as error:
        raise SchemaError(f"cannot read the dict of columns: {error}") from error


def _from_sequence(rows: Sequence[Any]) -> RawFrame:
    if len(rows) == 0:
        return RawFrame(pl.DataFrame(schema=dict.fromkeys(CCXT_COLUMNS, pl.Float64)), "empty")
    first = rows[0]
    if isinstance(first, Mapping):
        if _looks_like_tickdb_kline(first):
            return _tickdb_klines(rows, symbol=None, interval=None)
        return RawFrame(_from_records(rows, "the list of row dicts"), "records")
    if isinstance(first, Sequence) and not isinstance(first, str | bytes):
        return _from_ccxt(rows)
    raise SchemaError(
        f"cannot read a list of {type(first).__name__}; pass row dicts or ccxt rows "
        "[ms, open, high, low, close, volume]"
    )


def _from_records(rows: Sequence[Any], what: str) -> pl.DataFrame:
    for position, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise SchemaError(
                f"{what}: row {position} is a {type(row).__name__}, not a dict",
                (DataIssue("row_type", "not a dict", row=position, value=row),),
            )
    return _guard(what, pl.DataFrame, rows, infer_schema_length=None)


def _from_ccxt(rows: Sequence[Any]) -> RawFrame:
    for position, row in enumerate(rows):
        if not isinstance(row, Sequence) or isinstance(row, str | bytes) or len(row) != 6:
            raise SchemaError(
                f"ccxt rows are [ms, open, high, low, close, volume]; row {position} is {row!r}",
                (DataIssue("row_shape", "not 6 values", row=position, value=row),),
            )
    frame = _guard(
        "the ccxt rows", pl.DataFrame, rows, schema=list(CCXT_COLUMNS), orient="row", strict=False
    )
    return RawFrame(frame, "ccxt", time_unit="ms")


# ------------------------------------------------------------------------------------ TickDB
def _looks_like_tickdb_body(payload: Mapping[Any, Any]) -> bool:
    """Whether a dict is a TickDB response (scalar ``code``) or its ``data`` (``klines`` list).

    A dict of columns holds lists, so a column that happens to be named ``code`` is not taken
    for a response code.
    """
    if "code" in payload:
        return isinstance(payload["code"], int | str) and (
            "message" in payload or "data" in payload
        )
    others = (value for key, value in payload.items() if key != "klines")
    return isinstance(payload.get("klines"), list) and not any(
        isinstance(value, list) for value in others
    )


def _looks_like_tickdb_kline(record: Mapping[Any, Any]) -> bool:
    """Whether a row dict has TickDB's shape: integer ``time`` and prices as decimal text."""
    return (
        set(record) <= _TICKDB_KLINE_FIELDS
        and isinstance(record.get("time"), int)
        and isinstance(record.get("open"), str)
    )


def _from_tickdb(payload: Mapping[Any, Any]) -> RawFrame:
    if "code" in payload:
        code, message = payload.get("code"), payload.get("message")
        if not _is_success(code):
            raise DataError(
                f"TickDB answered with error code {code}: {message}",
                (DataIssue("provider_error", str(message), column="code", value=code),),
            )
        data = payload.get("data")
    else:
        data = payload
    if not isinstance(data, Mapping) or not isinstance(data.get("klines"), list):
        raise SchemaError("the TickDB response has no data.klines list")
    symbol, interval = data.get("symbol"), data.get("interval")
    return _tickdb_klines(
        data["klines"],
        symbol=str(symbol) if symbol is not None else None,
        interval=str(interval) if interval is not None else None,
    )


def _is_success(code: object) -> bool:
    if type(code) is int:
        return code == 0
    return isinstance(code, str) and code.strip() == "0"


def _tickdb_klines(rows: Sequence[Any], *, symbol: str | None, interval: str | None) -> RawFrame:
    if rows:
        frame = _from_records(rows, "the TickDB klines")
    else:
        frame = pl.DataFrame(schema={"time": pl.Int64, **dict.fromkeys(OHLCV_COLUMNS, pl.String)})
    return RawFrame(
        frame,
        "tickdb",
        symbol=symbol,
        interval=interval,
        time_unit="ms",
        numeric_text=_TICKDB_TEXT_EXTRAS,
    )
