"""One entry point from anything users hold to the canonical bar frame: :func:`to_bars`.

The result has the columns of :data:`~quantstrata.model.bar.BAR_SCHEMA` first (``ts`` is the bar
open time in UTC nanoseconds), then the input's other columns in snake_case, numeric ones as
Float64. Rows keep the input's order, so every reported row number is the row the user gave;
sorting and the other checks belong to :func:`quantstrata.process.validate.validate_bars`, which
runs last unless ``validation=None``.

Nothing is guessed: naive times need ``timezone=``, epoch numbers outside one unit's plausible
window need ``time_unit=``, dates readable both month-first and day-first need ``time_format=``,
and a symbol given twice must agree.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import polars as pl

from quantstrata.core.errors import ConfigError, DataIssue, SchemaError
from quantstrata.model.bar import PRICE_COLUMNS
from quantstrata.model.identifiers import Symbol
from quantstrata.model.interval import Interval
from quantstrata.process._columns import INDEX_COLUMN, ROLE_ALIASES, ColumnPlan, plan_columns
from quantstrata.process._issues import issues_where
from quantstrata.process._sources import RawFrame, read_source
from quantstrata.process._timestamps import (
    check_time_unit,
    check_timezone,
    opens_from_start,
    to_utc,
)

if TYPE_CHECKING:
    from quantstrata.process._timestamps import TimeUnit

__all__ = ["to_bars"]

_VALUE_COLUMNS = (*PRICE_COLUMNS, "volume")


def to_bars(
    data: object,
    *,
    symbol: str | None = None,
    timezone: str | None = None,
    start: datetime | date | str | None = None,
    interval: str | Interval | None = None,
    validation: str | None = "raise",
    calendar: str | None = None,
    time_unit: str | None = None,
    time_format: str | None = None,
    missing_volume: float | None = None,
) -> pl.DataFrame:
    """Turn ``data`` into the canonical bar frame and validate it.

    ``data`` may be a pandas or Polars DataFrame (or LazyFrame) with any column casing and the
    timestamps in a column or the index (pandas: also a ``(symbol, ts)`` MultiIndex, or
    yfinance-style ``(field, ticker)`` column levels, read as one row per ticker and time); a
    dict of columns; a list of row dicts; ccxt rows ``[ms, open, high, low, close, volume]``; a
    2-D NumPy array with 6 columns (epoch time first) or 5 columns (``open, high, low, close,
    volume``, times generated from ``start`` every ``interval``); a structured NumPy array; or
    a TickDB kline response (whole, its ``data``, or its ``klines`` list).

    ``symbol`` names the instrument when the data has no ``symbol``/``ticker`` column.
    ``timezone`` (IANA name) places naive timestamps; aware ones must not disagree with it.
    ``time_unit`` (``s``, ``ms``, ``us``, ``ns``) reads epoch numbers; ``time_format`` (strftime
    codes) reads text timestamps. ``missing_volume`` fills a missing volume column (e.g. ``0.0``
    for FX quotes). ``validation`` is the policy passed to ``validate_bars`` (``"raise"``,
    ``"drop"``, ``"repair"``) with ``calendar`` and ``interval``; ``None`` skips validation.

    Raises SchemaError (or its subclass TimezoneError) whose issues name the rows, columns and
    values at fault, DataError for a TickDB error response, and whatever ``validate_bars`` raises.
    """
    zone = check_timezone(timezone)
    unit = check_time_unit(time_unit)
    raw = read_source(data)
    plan = plan_columns(raw.frame.columns)
    interval = _agreed_interval(interval, raw.interval)
    _check_required(raw, plan, symbol=symbol, start=start, missing_volume=missing_volume)
    ts = _timestamps(
        raw,
        plan,
        timezone=zone,
        time_unit=unit,
        time_format=time_format,
        start=start,
        interval=interval,
    )
    symbols = _symbols(raw, plan, symbol)
    values = _numeric_columns(raw, plan, missing_volume)
    frame = pl.DataFrame([ts, symbols, *values])
    if validation is None:
        return frame
    from quantstrata.process.validate import validate_bars

    return validate_bars(frame, policy=validation, calendar=calendar, interval=interval).bars


def _shown(name: str) -> str:
    return "index" if name == INDEX_COLUMN else name


def _agreed_interval(given: str | Interval | None, payload: str | None) -> str | Interval | None:
    if payload is None:
        return given
    if given is None:
        return payload
    left, right = Interval.parse(given), Interval.parse(payload)
    fixed = left.is_fixed and right.is_fixed
    if (left.seconds != right.seconds) if fixed else (left != right):
        raise SchemaError(
            f"interval={given!r} disagrees with the payload's interval {payload!r}",
            (DataIssue("interval_mismatch", "intervals differ", column="interval", value=given),),
        )
    return given


def _check_required(
    raw: RawFrame,
    plan: ColumnPlan,
    *,
    symbol: str | None,
    start: object,
    missing_volume: float | None,
) -> None:
    """Raise one SchemaError listing every required column that is missing."""
    needed = dict.fromkeys(_VALUE_COLUMNS, True)
    needed["volume"] = missing_volume is None
    needed["symbol"] = symbol is None and raw.symbol is None
    needed["ts"] = start is None
    has_ts = raw.has_timestamps and "ts" in plan.roles
    if start is not None and has_ts:
        raise SchemaError(
            f"the data has timestamps in column {_shown(plan.roles['ts'])!r}; drop start=",
            (DataIssue("start_with_timestamps", "start given twice", column=plan.roles["ts"]),),
        )
    if not raw.has_timestamps and start is None:
        raise SchemaError(
            "a 5-column array has no timestamps; pass start= (aware, or with timezone=) and "
            "interval=, or add the epoch times as a first column",
            (DataIssue("missing_column", "no timestamps", column="ts"),),
        )
    missing = [role for role, need in needed.items() if need and role not in plan.roles]
    if missing:
        raise SchemaError(
            f"missing column(s) {missing}; found {raw.frame.columns}",
            tuple(
                DataIssue(
                    "missing_column",
                    f"no column named any of {sorted(ROLE_ALIASES[role])}"
                    + (" (or pass symbol=)" if role == "symbol" else "")
                    + (" (or pass missing_volume=0.0)" if role == "volume" else ""),
                    column=role,
                )
                for role in missing
            ),
        )


def _timestamps(
    raw: RawFrame,
    plan: ColumnPlan,
    *,
    timezone: str | None,
    time_unit: TimeUnit | None,
    time_format: str | None,
    start: object,
    interval: str | Interval | None,
) -> pl.Series:
    if start is not None:
        return opens_from_start(start, interval, raw.frame.height, timezone)
    if time_unit is not None and raw.time_unit is not None and time_unit != raw.time_unit:
        raise SchemaError(
            f"{raw.source} times are epoch {raw.time_unit!r} by definition; drop time_unit=",
            (DataIssue("time_unit_mismatch", "unit differs", column="ts", value=time_unit),),
        )
    column = plan.roles["ts"]
    series = to_utc(
        raw.frame.get_column(column),
        column=_shown(column),
        timezone=timezone,
        time_unit=time_unit or raw.time_unit,
        time_format=time_format,
    )
    return series.alias("ts")


def _symbols(raw: RawFrame, plan: ColumnPlan, given: str | None) -> pl.Series:
    height = raw.frame.height
    declared = _checked_symbol(given, "symbol=")
    from_payload = _checked_symbol(raw.symbol, "the payload's symbol")
    if declared and from_payload and declared != from_payload:
        raise SchemaError(
            f"symbol={declared!r} disagrees with the payload's symbol {from_payload!r}",
            (DataIssue("symbol_mismatch", "symbols differ", column="symbol", value=declared),),
        )
    if "symbol" not in plan.roles:
        text = declared or from_payload
        return pl.repeat(text, height, dtype=pl.String, eager=True).alias("symbol")
    column = plan.roles["symbol"]
    series = raw.frame.get_column(column)
    values = series.cast(pl.String, strict=False)
    issues = issues_where(
        values.is_null(), series, check="missing_symbol", message="no symbol", column=column
    )
    if declared is not None:
        issues += issues_where(
            values != declared,
            series,
            check="symbol_mismatch",
            message=f"differs from symbol={declared!r}",
            column=column,
        )
    for value in values.unique().drop_nulls().to_list():
        issues += _symbol_text_issues(value, values, column)
    if issues:
        raise SchemaError(f"bad values in symbol column {column!r}", issues)
    return values.alias("symbol")


def _checked_symbol(value: str | None, where: str) -> str | None:
    if value is None:
        return None
    try:
        return str(Symbol(value))
    except ConfigError as error:
        raise SchemaError(
            f"invalid {where}: {error}",
            (DataIssue("invalid_symbol", str(error), column="symbol", value=value),),
        ) from error


def _symbol_text_issues(text: str, values: pl.Series, column: str) -> tuple[DataIssue, ...]:
    try:
        Symbol(text)
    except ConfigError as error:
        return issues_where(
            values == text, values, check="invalid_symbol", message=str(error), column=column
        )
    return ()


def _numeric_columns(
    raw: RawFrame, plan: ColumnPlan, missing_volume: float | None
) -> list[pl.Series]:
    """Return open, high, low, close, volume, then the extras; raise on non-numeric values."""
    frame = raw.frame
    columns: list[pl.Series] = []
    issues: list[DataIssue] = []
    for role in _VALUE_COLUMNS:
        if role not in plan.roles:  # only volume may be missing, with missing_volume given
            fill = float(missing_volume) if missing_volume is not None else float("nan")
            columns.append(pl.repeat(fill, frame.height, dtype=pl.Float64, eager=True).alias(role))
            continue
        name = plan.roles[role]
        series, found = _to_float(frame.get_column(name), _shown(name))
        columns.append(series.alias(role))
        issues.extend(found)
    for name, snake in plan.extras:
        series = frame.get_column(name)
        if series.dtype.is_numeric() or (snake in raw.numeric_text and series.dtype == pl.String):
            series, found = _to_float(series, name)
            issues.extend(found)
        columns.append(series.alias(snake))
    if issues:
        raise SchemaError("some prices or volumes are not numbers", tuple(issues))
    return columns


def _to_float(series: pl.Series, column: str) -> tuple[pl.Series, tuple[DataIssue, ...]]:
    dtype = series.dtype
    if dtype == pl.Float64:
        return series, ()
    if dtype.is_numeric() or dtype == pl.Null:
        return series.cast(pl.Float64), ()
    if dtype != pl.String:
        first = series.head(1).to_list()
        issue = DataIssue(
            "non_numeric",
            f"column of type {dtype} is not numeric",
            row=0 if first else None,
            column=column,
            value=first[0] if first else None,
        )
        return series, (issue,)
    numbers = series.str.strip_chars().cast(pl.Float64, strict=False)
    bad = numbers.is_null() & series.is_not_null()
    found = issues_where(bad, series, check="non_numeric", message="not a number", column=column)
    return numbers, found
