"""Row checks of bar validation, computed as vectorised Polars masks.

A single pass of column reductions first tells whether every value check passes (the usual
case); only when one fails does each check build a boolean mask per column, and only the rows
that fail are turned into :class:`DataIssue` records, so clean data never meets a Python loop.
Order and duplicate checks run per symbol on NumPy arrays, and only on symbols whose times are
not strictly increasing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import polars as pl

from quantstrata.core.errors import DataIssue, SchemaError, TimezoneError
from quantstrata.model.bar import BAR_COLUMNS, BAR_SCHEMA, PRICE_COLUMNS
from quantstrata.process._validate_symbols import IntArray, SymbolTimes

__all__ = [
    "CHECK_ORDER",
    "OHLC_CHECKS",
    "ROW",
    "UNREPAIRABLE",
    "RowFindings",
    "check_rows",
    "check_schema",
]

ROW = "__quantstrata_row"
_VALUE_COLUMNS = (*PRICE_COLUMNS, "volume")
_SEPARATOR = "|"

CHECK_ORDER: tuple[str, ...] = (
    "missing_value",
    "non_finite",
    "non_positive_price",
    "negative_volume",
    "high_below_body",
    "low_above_body",
    "high_below_low",
    "duplicate_timestamp",
    "out_of_order",
)
"""Row checks in the order their issues are listed for one row."""

_MESSAGES = {
    "missing_value": "value is missing (null)",
    "non_finite": "value is not finite (NaN or infinite)",
    "non_positive_price": "price is zero or negative",
    "negative_volume": "volume is negative",
    "high_below_body": "high is below max(open, close)",
    "low_above_body": "low is above min(open, close)",
    "high_below_low": "high is below low",
    "out_of_order": "timestamp is earlier than a previous bar of the same symbol",
}
# Rows failing these have no well-defined fix: the repair policy drops them.
UNREPAIRABLE = frozenset({"missing_value", "non_finite", "non_positive_price", "negative_volume"})
OHLC_CHECKS = frozenset({"high_below_body", "low_above_body", "high_below_low"})


@dataclass(frozen=True, slots=True)
class RowFindings:
    """Issues of the row checks and the row sets the policies act on (input positions)."""

    issues: tuple[DataIssue, ...]
    flagged: frozenset[int]
    unrepairable: frozenset[int]
    ohlc: frozenset[int]
    out_of_order: frozenset[int]
    duplicate_extra: frozenset[int]
    duplicate_conflict: frozenset[int]


def check_schema(frame: object) -> pl.DataFrame:
    """Return ``frame`` if it has the canonical bar schema; raise :class:`SchemaError` if not."""
    if not isinstance(frame, pl.DataFrame):
        raise SchemaError(
            f"validate_bars needs a Polars DataFrame of canonical bars, got "
            f"{type(frame).__name__}; convert other inputs with quantstrata.process.to_bars"
        )
    issues: list[DataIssue] = []
    for name, dtype in BAR_SCHEMA.items():
        if name not in frame.columns:
            issues.append(DataIssue("missing_column", "canonical column is missing", column=name))
            continue
        actual = frame.schema[name]
        if name == "ts" and isinstance(actual, pl.Datetime) and actual.time_zone is None:
            issues.append(DataIssue("naive_timestamp", "timestamps have no timezone", column=name))
        elif actual != dtype:
            issues.append(
                DataIssue("wrong_dtype", f"expected dtype {dtype}", column=name, value=str(actual))
            )
    if not issues and tuple(frame.columns[: len(BAR_COLUMNS)]) != BAR_COLUMNS:
        issues.append(
            DataIssue(
                "column_order",
                f"canonical columns must come first, in the order {', '.join(BAR_COLUMNS)}",
                value=", ".join(frame.columns),
            )
        )
    if issues:
        error = TimezoneError if {i.check for i in issues} == {"naive_timestamp"} else SchemaError
        problems = "1 problem" if len(issues) == 1 else f"{len(issues)} problems"
        message = f"frame does not have the canonical bar schema ({problems})"
        raise error(message, tuple(issues))
    return frame


def check_rows(frame: pl.DataFrame, parts: list[SymbolTimes]) -> RowFindings:
    """Run every row check on a frame of canonical schema and describe the failing rows.

    ``parts`` holds the frame's times split by symbol (see :func:`split_by_symbol`).
    """
    order_flags = _order_flags(frame.height, parts)
    if not order_flags and _values_look_clean(frame):
        return RowFindings((), *([frozenset[int]()] * 6))
    flags = frame.select(_mask_expressions()).with_columns(**order_flags)
    failing = flags.with_row_index(ROW).filter(pl.any_horizontal(pl.exclude(ROW)))
    if failing.height == 0:
        empty: frozenset[int] = frozenset()
        return RowFindings((), empty, empty, empty, empty, empty, empty)
    issues: list[DataIssue] = []
    rows_by_check: dict[str, set[int]] = {}
    for name in flags.columns:
        check, column = name.split(_SEPARATOR)
        rows = failing.filter(pl.col(name)).get_column(ROW)
        if rows.len() == 0:
            continue
        rows_by_check.setdefault(check, set()).update(rows.to_list())
        if check != "duplicate_timestamp":
            issues.extend(_describe(frame, rows, check, column))
    duplicates = _duplicate_groups(frame, sorted(rows_by_check.get("duplicate_timestamp", ())))
    issues.extend(duplicates.issues)
    rank = {check: index for index, check in enumerate(CHECK_ORDER)}
    issues.sort(key=lambda issue: (issue.row, rank[issue.check], issue.column))

    def rows_of(checks: frozenset[str]) -> frozenset[int]:
        return frozenset().union(*(rows_by_check.get(check, set()) for check in checks))

    return RowFindings(
        issues=tuple(issues),
        flagged=frozenset(failing.get_column(ROW).to_list()),
        unrepairable=rows_of(UNREPAIRABLE),
        ohlc=rows_of(OHLC_CHECKS),
        out_of_order=frozenset(rows_by_check.get("out_of_order", set())),
        duplicate_extra=duplicates.extra,
        duplicate_conflict=duplicates.conflict,
    )


def _values_look_clean(frame: pl.DataFrame) -> bool:
    """Tell in one pass of reductions whether every value check passes (the common case).

    Much cheaper than building a mask per check; the masks are built only when this fails.
    """
    if frame.height == 0:
        return True
    if any(frame.get_column(name).null_count() for name in ("ts", "symbol", *_VALUE_COLUMNS)):
        return False
    stats = (
        frame.lazy()
        .select(
            *(pl.col(name).is_nan().any().alias(f"{name}_nan") for name in _VALUE_COLUMNS),
            *(pl.col(name).min().alias(f"{name}_min") for name in _VALUE_COLUMNS),
            *(pl.col(name).max().alias(f"{name}_max") for name in _VALUE_COLUMNS),
            (pl.col("high") < pl.max_horizontal("open", "close")).any().alias("high_low"),
            (pl.col("low") > pl.min_horizontal("open", "close")).any().alias("low_high"),
            (pl.col("high") < pl.col("low")).any().alias("crossed"),
        )
        .collect()
        .row(0, named=True)
    )
    finite = all(
        not stats[f"{name}_nan"] and math.isfinite(stats[f"{name}_max"]) for name in _VALUE_COLUMNS
    )
    positive = all(stats[f"{name}_min"] > 0 for name in PRICE_COLUMNS)
    consistent = not (stats["high_low"] or stats["low_high"] or stats["crossed"])
    return finite and positive and stats["volume_min"] >= 0 and consistent


def _flag(expression: pl.Expr, check: str, column: str) -> pl.Expr:
    return expression.fill_null(value=False).alias(f"{check}{_SEPARATOR}{column}")


def _mask_expressions() -> list[pl.Expr]:
    expressions = [
        _flag(pl.col(name).is_null(), "missing_value", name)
        for name in ("ts", "symbol", *_VALUE_COLUMNS)
    ]
    for name in _VALUE_COLUMNS:
        column = pl.col(name)
        expressions.append(_flag(~column.is_finite(), "non_finite", name))
        if name == "volume":
            expressions.append(_flag((column < 0) & column.is_finite(), "negative_volume", name))
        else:
            expressions.append(
                _flag((column <= 0) & column.is_finite(), "non_positive_price", name)
            )
    usable = pl.all_horizontal(
        [pl.col(name).is_finite() & (pl.col(name) > 0) for name in PRICE_COLUMNS]
    )
    high, low = pl.col("high"), pl.col("low")
    body_top = pl.max_horizontal("open", "close")
    body_bottom = pl.min_horizontal("open", "close")
    expressions.extend(
        [
            _flag(usable & (high < body_top), "high_below_body", "high"),
            _flag(usable & (low > body_bottom), "low_above_body", "low"),
            _flag(usable & (high < low), "high_below_low", "high"),
        ]
    )
    return expressions


def _order_flags(height: int, parts: list[SymbolTimes]) -> dict[str, pl.Series]:
    """Flag out-of-order and duplicated timestamps within each symbol (none if all is sorted)."""
    late: list[IntArray] = []
    repeated: list[IntArray] = []
    for part in parts:
        times = part.times
        if times.size < 2 or bool(np.all(times[1:] > times[:-1])):
            continue
        running = np.maximum.accumulate(times)
        late.append(part.rows[1:][times[1:] < running[:-1]])
        order = np.argsort(times, kind="stable")
        same = times[order][1:] == times[order][:-1]
        involved = np.zeros(times.size, dtype=np.bool_)
        involved[1:] |= same
        involved[:-1] |= same
        repeated.append(part.rows[order[involved]])
    flags = {}
    for check, found in (("duplicate_timestamp", repeated), ("out_of_order", late)):
        rows = np.concatenate(found) if found else np.empty(0, dtype=np.int64)
        if rows.size:
            mask = np.zeros(height, dtype=np.bool_)
            mask[rows] = True
            name = f"{check}{_SEPARATOR}ts"
            flags[name] = pl.Series(name, mask)
    return flags


def _describe(frame: pl.DataFrame, rows: pl.Series, check: str, column: str) -> list[DataIssue]:
    values = [_display(value) for value in frame.get_column(column).gather(rows).to_list()]
    symbols = frame.get_column("symbol").gather(rows).to_list()
    message = _MESSAGES[check]
    if check in OHLC_CHECKS:
        context = frame.select(PRICE_COLUMNS).gather(rows).rows()
        return [
            DataIssue(
                check,
                f"{message} (open {o:.10g}, high {h:.10g}, low {lo:.10g}, close {c:.10g})",
                row,
                column,
                value,
                symbol,
            )
            for row, value, symbol, (o, h, lo, c) in zip(
                rows.to_list(), values, symbols, context, strict=True
            )
        ]
    return [
        DataIssue(check, message, row, column, value, symbol)
        for row, value, symbol in zip(rows.to_list(), values, symbols, strict=True)
    ]


@dataclass(frozen=True, slots=True)
class _Duplicates:
    issues: list[DataIssue]
    extra: frozenset[int]
    conflict: frozenset[int]


def _duplicate_groups(frame: pl.DataFrame, rows: list[int]) -> _Duplicates:
    """Describe each duplicated row; exact copies after the first are extra, others conflict."""
    if not rows:
        return _Duplicates([], frozenset(), frozenset())
    subset = frame.with_row_index(ROW).filter(pl.col(ROW).is_in(rows))
    groups = subset.group_by("symbol", "ts", maintain_order=True).agg(
        pl.col(ROW).alias("rows"),
        pl.struct(pl.exclude(ROW)).n_unique().alias("variants"),
    )
    issues: list[DataIssue] = []
    extra: set[int] = set()
    conflict: set[int] = set()
    for symbol, ts, members, variants in groups.iter_rows():
        same = variants == 1
        shown = ", ".join(str(member) for member in members[:10])
        kind = "identical values" if same else "different values"
        message = f"timestamp repeated in {len(members)} rows ({shown}) with {kind}"
        issues.extend(
            DataIssue("duplicate_timestamp", message, member, "ts", _display(ts), symbol)
            for member in members
        )
        if same:
            extra.update(members[1:])
        else:
            conflict.update(members)
    return _Duplicates(issues, frozenset(extra), frozenset(conflict))


def _display(value: object) -> object:
    """Show timestamps as ISO 8601 text, which reads better in messages than a datetime repr."""
    return value.isoformat() if isinstance(value, datetime) else value
