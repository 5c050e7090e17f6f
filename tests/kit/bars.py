"""Build valid canonical bar frames for tests: consistent OHLC, positive prices and volumes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from quantstrata.data import load_sample
from quantstrata.model.bar import BAR_COLUMNS, BAR_SCHEMA, TIMESTAMP_DTYPE
from quantstrata.model.interval import Interval
from quantstrata.process.calendar import expected_bar_opens

__all__ = ["DEFAULT_START", "bar_times", "make_bars", "make_multi_symbol_bars", "sample_bars"]

DEFAULT_START = datetime(2024, 1, 2, tzinfo=UTC)


def bar_times(
    n: int, *, start: datetime = DEFAULT_START, interval: str = "1m", calendar: str | None = None
) -> pl.Series:
    """Return the first ``n`` bar open times at or after ``start``.

    Without a calendar bars follow each other every ``interval`` from ``start`` exactly; with one
    they are the calendar's expected bar opens (sessions only, daily bars at 00:00 UTC).
    """
    step = Interval.parse(interval)
    if calendar is None and step.is_fixed:
        values = np.int64(_nanoseconds(start)) + np.arange(n, dtype=np.int64) * step.nanoseconds
        return pl.Series("ts", values).cast(TIMESTAMP_DTYPE)
    # Sessions cover a fraction of the calendar: start with a generous guess, widen if short.
    length = step.seconds if step.is_fixed else 31 * 86_400
    days = 10 + n * length * 6 // 86_400
    while True:
        opens = expected_bar_opens(calendar, step, start, start + timedelta(days=days))
        if opens.len() >= n:
            return opens.head(n)
        days *= 2


def make_bars(
    n: int,
    *,
    symbol: str = "TEST",
    start: datetime = DEFAULT_START,
    interval: str = "1m",
    seed: int = 0,
    calendar: str | None = None,
    price: float = 100.0,
) -> pl.DataFrame:
    """Return ``n`` valid bars of one symbol: a random walk with consistent OHLC.

    Each bar opens at the previous close; high and low lie beyond the body by a random margin;
    volume is positive. The same arguments give the same frame.
    """
    rng = np.random.default_rng(seed)
    closes = price * np.exp(np.cumsum(rng.normal(0.0, 0.002, n)))
    opens = np.concatenate([[price], closes[:-1]])[:n]
    highs = np.maximum(opens, closes) * (1.0 + rng.uniform(0.0, 0.002, n))
    lows = np.minimum(opens, closes) * (1.0 - rng.uniform(0.0, 0.002, n))
    volumes = rng.uniform(1.0, 1_000.0, n).round(3)
    frame = pl.DataFrame(
        {
            "ts": bar_times(n, start=start, interval=interval, calendar=calendar),
            "symbol": pl.Series([symbol] * n, dtype=pl.String),
            "open": opens,
            "high": highs,
            "low": lows,
            "close": closes,
            "volume": volumes,
        }
    )
    return frame.cast(dict(BAR_SCHEMA))  # type: ignore[arg-type]


def make_multi_symbol_bars(
    n: int,
    symbols: tuple[str, ...] = ("AAA", "BBB"),
    *,
    interval: str = "1m",
    calendar: str | None = None,
    seed: int = 0,
) -> pl.DataFrame:
    """Return ``n`` bars per symbol, interleaved by time (every symbol at a time, then the next)."""
    parts = [
        make_bars(n, symbol=name, interval=interval, calendar=calendar, seed=seed + index)
        for index, name in enumerate(symbols)
    ]
    return pl.concat(parts).sort("ts", "symbol", maintain_order=True)


def _nanoseconds(moment: datetime) -> int:
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta // timedelta(microseconds=1)) * 1_000


def sample_bars(
    names: tuple[str, ...], count: int, start: datetime = datetime(2012, 1, 1, tzinfo=UTC)
) -> pl.DataFrame:
    """Return the first ``count`` bars from ``start`` of each bundled sample, by time."""
    frames = [
        load_sample(name).select(BAR_COLUMNS).filter(pl.col("ts") >= start).head(count)
        for name in names
    ]
    return pl.concat(frames).sort("ts", "symbol")
