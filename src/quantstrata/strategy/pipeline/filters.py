"""Filters: which symbols are in play at each ``ts`` (membership, listings, history, custom).

Price and liquidity screens are comparisons of factors (``latest("close") > 5``,
``average_dollar_volume(20).top(100)``); this module adds what comparisons cannot say.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import polars as pl

from quantstrata.core.errors import ConfigError, DataError, DataIssue, SchemaError
from quantstrata.model.bar import TIMESTAMP_DTYPE
from quantstrata.strategy.pipeline.terms import Filter

__all__ = ["expression_filter", "has_history", "membership", "symbols_in"]

_MEMBERSHIP_COLUMNS = ("symbol", "start", "end")
_ROW = "__pipeline_row__"


def symbols_in(symbols: Sequence[str]) -> Filter:
    """Return the filter "the row's symbol is one of ``symbols``" (a fixed universe)."""
    chosen = [str(symbol) for symbol in symbols]
    return Filter(
        lambda _columns, _universe: pl.col("symbol").is_in(chosen),
        label=f"symbols_in({len(chosen)})",
    )


def has_history(bars: int) -> Filter:
    """Return the filter "the symbol has at least ``bars`` bars up to and including this one"."""
    if isinstance(bars, bool) or not isinstance(bars, int) or bars < 1:
        raise ConfigError(f"has_history: bars must be a whole number >= 1, got {bars!r}")
    return Filter(
        lambda _columns, _universe: pl.int_range(1, pl.len() + 1).over("symbol") >= bars,
        lookback=bars - 1,
        label=f"has_history({bars})",
    )


def expression_filter(expression: pl.Expr, *, lookback: int, label: str = "expression") -> Filter:
    """Return a filter from a boolean Polars expression over bar columns, evaluated per symbol."""
    if not isinstance(expression, pl.Expr):
        raise ConfigError(f"expression_filter takes a Polars expression, got {expression!r}")
    return Filter(
        lambda _columns, _universe: expression.over("symbol").fill_null(value=False),
        lookback=lookback,
        label=label,
    )


def membership(intervals: pl.DataFrame) -> Filter:
    """Return the filter "the symbol is a member at this ``ts``" from point-in-time intervals.

    ``intervals`` has ``symbol``, ``start`` and ``end`` (timezone-aware datetimes; a null
    ``end`` means still a member): a row is in when ``start <= ts < end`` for one of its
    symbol's intervals. Index constituents over time are the usual source; as long as the table
    records when each membership began and ended, the filter never uses later knowledge.
    """
    table = _membership_table(intervals)

    def compute(frame: pl.DataFrame) -> pl.Series:
        rows = frame.select("ts", "symbol").with_row_index(_ROW)
        inside = (
            rows.join(table, on="symbol", how="inner")
            .filter(
                (pl.col("start") <= pl.col("ts"))
                & (pl.col("end").is_null() | (pl.col("ts") < pl.col("end")))
            )
            .get_column(_ROW)
            .unique()
        )
        return rows.get_column(_ROW).is_in(inside.implode()).alias("membership")

    return Filter(None, label=f"membership({table.height} intervals)", compute=compute)


def _membership_table(intervals: pl.DataFrame) -> pl.DataFrame:
    """Check the membership intervals and return them with UTC nanosecond bounds."""
    if not isinstance(intervals, pl.DataFrame):
        raise SchemaError(f"membership takes a Polars DataFrame, got {type(intervals).__name__}")
    missing = [name for name in _MEMBERSHIP_COLUMNS if name not in intervals.columns]
    if missing:
        raise SchemaError(f"membership intervals lack column(s) {missing}")
    for name in ("start", "end"):
        dtype = intervals.schema[name]
        aware = isinstance(dtype, pl.Datetime) and dtype.time_zone is not None
        if not (aware or (name == "end" and dtype == pl.Null)):
            raise SchemaError(
                f"membership column {name!r} must hold timezone-aware datetimes, got {dtype}"
            )
    table = intervals.select(
        pl.col("symbol").cast(pl.String),
        pl.col("start").cast(TIMESTAMP_DTYPE),
        pl.col("end").cast(TIMESTAMP_DTYPE),
    )
    bad = table.with_row_index("row").filter(
        pl.col("symbol").is_null()
        | pl.col("start").is_null()
        | (pl.col("end").is_not_null() & (pl.col("end") <= pl.col("start")))
    )
    if bad.height:
        issues = tuple(
            DataIssue("invalid_interval", "needs a symbol, a start and end > start", row, "end",
                      _text(end), symbol)
            for row, symbol, _start, end in bad.head(10).iter_rows()
        )  # fmt: skip
        raise DataError("membership intervals are invalid", issues)
    return table


def _text(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
