"""Historical OHLCV from any ccxt exchange into canonical bars and the catalog, paged.

ccxt returns at most ``limit`` candles per call; :func:`fetch_ohlcv_range` walks ``since``
forward from the last candle received until ``end``, so ranges of any length arrive complete,
sorted and without repeats. ccxt's own rate limiter (``enableRateLimit``) spaces the calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import polars as pl

from quantstrata.core.clock import ns_from_datetime, utc_bound
from quantstrata.core.errors import ConfigError
from quantstrata.data.catalog import Catalog, WriteSummary
from quantstrata.data.sources._frames import merge_pages
from quantstrata.model.bar import BAR_COLUMNS, BAR_SCHEMA
from quantstrata.model.interval import Interval
from quantstrata.process.normalize import to_bars

__all__ = ["fetch_ccxt_to_catalog", "fetch_ohlcv_range"]


def fetch_ohlcv_range(
    exchange: Any,
    symbol: str,
    interval: str | Interval,
    start: datetime | str,
    end: datetime | str,
    *,
    limit: int = 1000,
) -> pl.DataFrame:
    """Return the bars of ``symbol`` with ``start <= ts < end`` from a ccxt ``exchange``."""
    step = Interval.parse(interval)
    lower, upper = utc_bound(start, "start"), utc_bound(end, "end")
    if lower is None or upper is None or lower >= upper:
        raise ConfigError(f"need start < end, got start={start!r} end={end!r}")
    since = ns_from_datetime(lower) // 1_000_000
    until = ns_from_datetime(upper) // 1_000_000
    rows: list[list[Any]] = []
    while since < until:
        page = exchange.fetch_ohlcv(
            symbol,
            timeframe=_timeframe(step),
            since=since,
            limit=limit,
            params={"until": until - 1},
        )
        page = [row for row in page if since <= row[0] < until]
        if not page:
            break
        rows.extend(page)
        since = max(row[0] for row in page) + 1
    if not rows:
        return pl.DataFrame(schema=BAR_SCHEMA)
    frame = to_bars(rows, symbol=symbol, interval=step, validation=None).select(BAR_COLUMNS)
    return merge_pages([frame], lower, upper)


def fetch_ccxt_to_catalog(
    exchange: Any,
    catalog: Catalog,
    symbols: Sequence[str],
    *,
    interval: str | Interval,
    start: datetime | str,
    end: datetime | str,
) -> WriteSummary:
    """Fetch ``[start, end)`` of every symbol and write the bars into ``catalog``."""
    frames = [fetch_ohlcv_range(exchange, symbol, interval, start, end) for symbol in symbols]
    return catalog.write(
        merge_pages(frames, None, None), interval=interval, on_conflict="overwrite"
    )


def _timeframe(interval: Interval) -> str:
    return f"{interval.count}M" if not interval.is_fixed else str(interval)
