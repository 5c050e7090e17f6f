"""Turn a boolean mask of bad rows into :class:`DataIssue` records, capped to a readable count."""

from __future__ import annotations

import polars as pl

from quantstrata.core.errors import DataIssue

__all__ = ["MAX_REPORTED", "issues_where"]

MAX_REPORTED = 20


def issues_where(
    mask: pl.Series,
    values: pl.Series,
    *,
    check: str,
    message: str,
    column: str | None,
    symbol: str | None = None,
    limit: int = MAX_REPORTED,
) -> tuple[DataIssue, ...]:
    """Describe the first ``limit`` rows where ``mask`` is true, naming row, column and value.

    Rows are zero-based positions, so they match the input as the user gave it.
    """
    rows = mask.fill_null(value=False).arg_true().head(limit)
    picked = values.gather(rows).to_list()
    return tuple(
        DataIssue(check, message, row=int(row), column=column, value=value, symbol=symbol)
        for row, value in zip(rows.to_list(), picked, strict=True)
    )
