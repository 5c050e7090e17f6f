"""Build canonical bar frames for processing tests: random walks on given timestamps."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import polars as pl

from quantstrata.model.bar import BAR_COLUMNS, TIMESTAMP_DTYPE

NS_PER_MINUTE = 60_000_000_000


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """Return an aware UTC datetime: ``utc(2024, 1, 2, 14, 30)``."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def random_walk_bars(
    times: Sequence[int] | np.ndarray[Any, Any],
    symbol: str = "AAA",
    *,
    seed: int = 0,
    start_price: float = 100.0,
    extras: bool = False,
) -> pl.DataFrame:
    """Return OHLC-consistent bars opening at ``times`` (ns since the epoch, UTC, sorted)."""
    rng = np.random.default_rng(seed)
    count = len(times)
    close = start_price * np.exp(np.cumsum(rng.normal(0.0, 0.002, count)))
    open_ = np.concatenate(([start_price], close[:-1])) * np.exp(rng.normal(0, 0.0005, count))
    high = np.maximum(open_, close) * (1 + rng.random(count) * 0.002)
    low = np.minimum(open_, close) * (1 - rng.random(count) * 0.002)
    # Whole-number volumes keep sums exact whatever the summation order.
    volume = rng.integers(0, 1_000, count).astype(np.float64)
    frame = pl.DataFrame(
        {
            "ts": pl.Series(np.asarray(times, dtype=np.int64)).cast(TIMESTAMP_DTYPE),
            "symbol": pl.Series([symbol] * count, dtype=pl.String),
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "volume": volume,
        }
    )
    if extras:
        frame = frame.with_columns(
            adj_close=pl.col("close") * 0.5,
            quote_volume=pl.col("volume") * 3.0,
            open_interest=pl.Series(rng.integers(0, 50, count).astype(np.float64)),
        )
    return frame


def minute_range(start: datetime, count: int, step_minutes: int = 1) -> np.ndarray[Any, Any]:
    """Return ``count`` open times ``step_minutes`` apart from ``start``, as ns integers."""
    first = int(start.timestamp()) * 1_000_000_000
    return first + np.arange(count, dtype=np.int64) * step_minutes * NS_PER_MINUTE


def multi_symbol(frames: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """Concatenate per-symbol frames and interleave them by time, as feeds deliver them."""
    return (
        pl.concat(frames)
        .sort("ts", "symbol")
        .select(*BAR_COLUMNS, *[c for c in frames[0].columns if c not in BAR_COLUMNS])
    )
