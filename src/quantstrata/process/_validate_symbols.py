"""Split bar times by symbol once, for the order checks and the gap checks of validation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

__all__ = ["IntArray", "SymbolTimes", "split_by_symbol", "without_rows"]

IntArray = np.ndarray[Any, np.dtype[np.int64]]


@dataclass(frozen=True, slots=True)
class SymbolTimes:
    """One symbol's bar times (nanoseconds, in frame order) and their input row positions."""

    symbol: str
    times: IntArray
    rows: IntArray


def split_by_symbol(frame: pl.DataFrame, row: str) -> list[SymbolTimes]:
    """Split ``ts`` and the ``row`` column by symbol, keeping frame order; skip null keys."""
    usable = frame.select("symbol", "ts", row).filter(
        pl.col("ts").is_not_null() & pl.col("symbol").is_not_null()
    )
    if usable.height == 0:
        return []
    symbols = usable.get_column("symbol")
    if bool((symbols == symbols[0]).all()):
        return [_symbol_times(str(symbols[0]), usable.get_column("ts"), usable.get_column(row))]
    groups = usable.group_by("symbol", maintain_order=True).agg("ts", row)
    return [
        _symbol_times(str(symbol), groups.get_column("ts")[index], groups.get_column(row)[index])
        for index, symbol in enumerate(groups.get_column("symbol"))
    ]


def without_rows(parts: list[SymbolTimes], rows: set[int]) -> list[SymbolTimes]:
    """Return ``parts`` without the given input rows, leaving out symbols that lose every row."""
    if not rows:
        return parts
    removed = np.fromiter(sorted(rows), dtype=np.int64, count=len(rows))
    kept = []
    for part in parts:
        keep = ~np.isin(part.rows, removed)
        if keep.any():
            kept.append(SymbolTimes(part.symbol, part.times[keep], part.rows[keep]))
    return kept


def _symbol_times(symbol: str, ts: pl.Series, rows: pl.Series) -> SymbolTimes:
    return SymbolTimes(symbol, ts.cast(pl.Int64).to_numpy(), rows.cast(pl.Int64).to_numpy())
