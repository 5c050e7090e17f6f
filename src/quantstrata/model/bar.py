"""The canonical bar: one schema for every source, and a value type for single bars.

A bar frame is a Polars DataFrame with the columns of :data:`BAR_SCHEMA`: ``ts`` is the bar's
*open* time in UTC with nanosecond precision (bars are labelled by their left edge and cover
``[ts, ts + interval)``), prices and volume are float64. Extra columns (``adj_close``,
``quote_volume``, ``open_interest`` …) may follow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import polars as pl

from quantstrata.core.errors import BarValidationError, DataIssue
from quantstrata.model.identifiers import Symbol

__all__ = [
    "BAR_COLUMNS",
    "BAR_SCHEMA",
    "PRICE_COLUMNS",
    "TIMESTAMP_DTYPE",
    "Bar",
    "keys_strictly_increasing",
    "same_times",
    "time_values",
]

TIMESTAMP_DTYPE = pl.Datetime("ns", "UTC")
BAR_SCHEMA = pl.Schema(
    {
        "ts": TIMESTAMP_DTYPE,
        "symbol": pl.String(),
        "open": pl.Float64(),
        "high": pl.Float64(),
        "low": pl.Float64(),
        "close": pl.Float64(),
        "volume": pl.Float64(),
    }
)
BAR_COLUMNS: tuple[str, ...] = tuple(BAR_SCHEMA.names())
PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close")


@dataclass(frozen=True, slots=True)
class Bar:
    """One OHLCV bar whose prices are consistent, checked when it is built."""

    ts: datetime
    symbol: Symbol
    open: float
    high: float
    low: float
    close: float
    volume: float

    def __post_init__(self) -> None:
        """Refuse naive times, non-finite or non-positive prices and inconsistent OHLC."""
        object.__setattr__(self, "symbol", Symbol(self.symbol))
        issues = list(_bar_issues(self))
        if issues:
            raise BarValidationError(f"invalid bar for {self.symbol} at {self.ts}", tuple(issues))

    @property
    def as_row(self) -> dict[str, object]:
        """Return the bar as a row of the canonical schema."""
        return {name: getattr(self, name) for name in BAR_COLUMNS}


def _bar_issues(bar: Bar) -> list[DataIssue]:
    issues: list[DataIssue] = []
    if bar.ts.tzinfo is None or bar.ts.utcoffset() is None:
        issues.append(DataIssue("naive_timestamp", "timestamp has no timezone", column="ts"))
    for name in (*PRICE_COLUMNS, "volume"):
        value = getattr(bar, name)
        if not math.isfinite(value):
            issues.append(DataIssue("non_finite", "value is not finite", column=name, value=value))
        elif name != "volume" and value <= 0:
            issues.append(DataIssue("non_positive_price", "price <= 0", column=name, value=value))
        elif name == "volume" and value < 0:
            issues.append(DataIssue("negative_volume", "volume < 0", column=name, value=value))
    if issues:
        return issues
    if bar.high < max(bar.open, bar.close, bar.low):
        issues.append(
            DataIssue("high_below_body", "high below open/close/low", column="high", value=bar.high)
        )
    if bar.low > min(bar.open, bar.close, bar.high):
        issues.append(
            DataIssue("low_above_body", "low above open/close/high", column="low", value=bar.low)
        )
    return issues


def same_times(left: np.ndarray, right: np.ndarray) -> bool:
    """Return whether two int64 nanosecond time arrays hold the same values.

    Columns selected from one frame share their buffer: two views of the same memory (same
    start, length and stride) are equal without comparing them, which is the common case of a
    strategy's targets laid against the bars they were computed from.
    """
    if left.shape != right.shape or left.dtype != right.dtype:
        return False
    if (
        left.__array_interface__["data"][0] == right.__array_interface__["data"][0]
        and left.strides == right.strides
    ):
        return True
    return bool(np.array_equal(left, right))


def time_values(times: pl.Series) -> np.ndarray:
    """Return a temporal column's values as integers in its own unit (null rows are undefined).

    A ``Datetime`` or ``Duration`` column is viewed without copying: ``Series.to_physical()``
    runs a Polars operation, about 0.1 ms whatever the length, which the look-ahead check's
    many small target runs would pay several times each.
    """
    if isinstance(times.dtype, pl.Datetime | pl.Duration):
        return times.to_numpy().view(np.int64)
    return times.to_physical().to_numpy()


def keys_strictly_increasing(frame: pl.DataFrame) -> bool:
    """Return whether ``frame``'s ``(ts, symbol)`` keys strictly increase (sorted, no repeats).

    This is the order of a canonical bar frame; checking it is much cheaper than sorting.

    Null keys count as unordered. Cost: one pass over ``ts``, and over the symbols of the rows
    that share a time with the row before.
    """
    ts, symbol = frame.get_column("ts"), frame.get_column("symbol")
    if ts.null_count() or symbol.null_count():
        return False
    nanoseconds = time_values(ts)
    earlier, later = nanoseconds[:-1], nanoseconds[1:]
    if bool((later > earlier).all()):
        return True
    if bool((later < earlier).any()):
        return False
    tied = np.flatnonzero(later == earlier)
    return bool((symbol.gather(tied) < symbol.gather(tied + 1)).all())
