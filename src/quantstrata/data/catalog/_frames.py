"""Checking and shaping bar frames on their way into and out of the catalog.

Files store ``ts``, the price and volume columns and any extra columns; ``symbol`` and
``interval`` live only in the partition path, so hive readers (Polars, DuckDB) never see the
same column twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

import polars as pl

from quantstrata.core.errors import (
    BarValidationError,
    ConfigError,
    DataIssue,
    SchemaError,
)
from quantstrata.model.bar import BAR_COLUMNS, BAR_SCHEMA, TIMESTAMP_DTYPE
from quantstrata.model.identifiers import Symbol
from quantstrata.process.validate import validate_bars

__all__ = [
    "FILE_VALUE_COLUMNS",
    "canonical_order",
    "check_bar_frame",
    "empty_bars",
    "sort_and_deduplicate",
    "validate_rows",
]

FILE_VALUE_COLUMNS: tuple[str, ...] = tuple(name for name in BAR_COLUMNS if name != "symbol")
_NUMERIC_EXTRA = (pl.Float64, pl.Float32, pl.Int64, pl.Int32, pl.Int16, pl.Int8, pl.UInt64)
_HINT = "turn the data into a canonical bar frame first, e.g. with quantstrata.process.to_bars"


def check_bar_frame(bars: object) -> pl.DataFrame:
    """Return ``bars`` with the canonical schema, raising :class:`SchemaError` on a bad shape.

    Integer or float32 extra columns are widened to float64; everything else must already match
    :data:`~quantstrata.model.bar.BAR_SCHEMA`.
    """
    if not isinstance(bars, pl.DataFrame):
        raise SchemaError(
            f"the catalog stores Polars bar frames, got {type(bars).__name__}; {_HINT}"
        )
    issues: list[DataIssue] = []
    for name, dtype in BAR_SCHEMA.items():
        if name not in bars.columns:
            issues.append(DataIssue("missing_column", "required column is missing", column=name))
        elif bars.schema[name] != dtype:
            issues.append(
                DataIssue(
                    "column_dtype",
                    f"column has type {bars.schema[name]}, expected {dtype}",
                    column=name,
                    value=str(bars.schema[name]),
                )
            )
    extras = [name for name in bars.columns if name not in BAR_SCHEMA]
    issues.extend(
        DataIssue(
            "column_dtype",
            f"extra column has type {bars.schema[name]}, expected a number",
            column=name,
            value=str(bars.schema[name]),
        )
        for name in extras
        if not isinstance(bars.schema[name], _NUMERIC_EXTRA)
    )
    if issues:
        raise SchemaError(f"the frame is not a canonical bar frame; {_HINT}", tuple(issues))
    frame = bars.select(*BAR_COLUMNS, *(pl.col(name).cast(pl.Float64) for name in extras))
    _check_symbols(frame)
    return frame


def _check_symbols(frame: pl.DataFrame) -> None:
    issues: list[DataIssue] = []
    nulls = frame.get_column("symbol").is_null()
    if nulls.any():
        row = int(nulls.arg_true()[0])
        issues.append(DataIssue("null_symbol", "symbol is missing", row=row, column="symbol"))
    column = frame.get_column("symbol")
    first = column.drop_nulls().head(1).to_list()
    single = bool(first) and bool(frame.select((pl.col("symbol") == first[0]).all()).item())
    for value in first if single else column.drop_nulls().unique().to_list():
        try:
            Symbol(value)
        except ConfigError as error:
            issues.append(DataIssue("invalid_symbol", str(error), column="symbol", value=value))
    if frame.get_column("ts").is_null().any():
        row = int(frame.get_column("ts").is_null().arg_true()[0])
        issues.append(DataIssue("null_timestamp", "timestamp is missing", row=row, column="ts"))
    if issues:
        raise SchemaError("the frame has unusable symbols or timestamps", tuple(issues))


def sort_and_deduplicate(frame: pl.DataFrame, row_column: str) -> tuple[pl.DataFrame, int]:
    """Return ``frame`` sorted by ``(symbol, ts)`` without repeated rows, and how many were dropped.

    Sorting is skipped when the input is already in order. Two rows with the same ``(symbol, ts)``
    and the same values are one bar given twice; with different values they cannot both be
    stored, and :class:`BarValidationError` names them by their input row.
    """
    symbol, ts = pl.col("symbol"), pl.col("ts")
    in_order = (symbol > symbol.shift(1)) | ((symbol == symbol.shift(1)) & (ts >= ts.shift(1)))
    if not frame.select(in_order.fill_null(value=True).all()).item():
        frame = frame.sort("symbol", "ts", maintain_order=True)
    same_key = ((ts == ts.shift(1)) & (symbol == symbol.shift(1))).fill_null(value=False)
    if not frame.select(same_key.any()).item():
        return frame, 0
    values = [name for name in frame.columns if name not in {"symbol", "ts", row_column}]
    same_values = pl.all_horizontal(
        [pl.col(name).eq_missing(pl.col(name).shift(1)) for name in values]
    )
    marked = frame.with_columns(
        same_key.alias("__same_key"), (same_key & same_values).alias("__repeat")
    )
    clashing = marked.filter(pl.col("__same_key") & ~pl.col("__repeat"))
    if clashing.height:
        raise BarValidationError(
            f"{clashing.height} rows share a (symbol, ts) with a different bar",
            tuple(
                DataIssue(
                    "duplicate_timestamp",
                    f"another row has the same symbol and timestamp {record['ts'].isoformat()} "
                    "with different values",
                    row=record[row_column],
                    column="ts",
                    value=record["ts"],
                    symbol=record["symbol"],
                )
                for record in clashing.head(100).iter_rows(named=True)
            ),
        )
    kept = marked.filter(~pl.col("__repeat")).drop("__same_key", "__repeat")
    return kept, frame.height - kept.height


def validate_rows(frame: pl.DataFrame, row_column: str) -> None:
    """Validate bars with the processing layer, reporting issues at the user's input rows.

    The frame was sorted and de-duplicated first, so each issue's row is mapped back through
    ``row_column`` to the position the user gave.
    """
    try:
        validate_bars(frame.drop(row_column), policy="raise", check_gaps=False)
    except BarValidationError as error:
        positions = frame.get_column(row_column).to_list()
        issues = tuple(
            issue
            if issue.row is None or not 0 <= issue.row < len(positions)
            else replace(issue, row=positions[issue.row])
            for issue in error.issues
        )
        raise BarValidationError(
            "the bars failed validation; nothing was written. Clean them first, e.g. "
            "with quantstrata.process.validate.validate_bars(bars, policy='drop' or 'repair')",
            issues,
        ) from None


def canonical_order(columns: Iterable[str]) -> list[str]:
    """Return ``columns`` in canonical order: the bar schema first, extras after as given."""
    present = list(columns)
    return [name for name in BAR_COLUMNS if name in present] + [
        name for name in present if name not in BAR_SCHEMA
    ]


def empty_bars(extra: Iterable[str] = ()) -> pl.DataFrame:
    """Return an empty canonical frame with optional extra float columns."""
    schema = dict(BAR_SCHEMA) | dict.fromkeys(extra, pl.Float64())
    return pl.DataFrame(schema=schema)


def timestamp_literal(moment: datetime) -> pl.Expr:
    """Return ``moment`` as a literal of the canonical timestamp type."""
    return pl.lit(moment).cast(TIMESTAMP_DTYPE)
