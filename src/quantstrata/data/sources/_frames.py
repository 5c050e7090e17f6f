"""Provider answers to canonical bar frames: one page at a time, then merged."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import polars as pl

from quantstrata.core.clock import utc_bound
from quantstrata.core.errors import SchemaError
from quantstrata.model.bar import BAR_COLUMNS, BAR_SCHEMA
from quantstrata.model.interval import Interval
from quantstrata.process.normalize import to_bars

if TYPE_CHECKING:
    from quantstrata.data.catalog import Catalog, WriteSummary

__all__ = ["klines_frame", "merge_pages", "write_fetched"]


def klines_frame(body: object, symbol: str, interval: Interval) -> pl.DataFrame:
    """Turn one TickDB kline body into canonical bars labelled ``symbol`` (as requested).

    TickDB may push a symbol without its market suffix (``700`` for ``700.HK``); the bars are
    stored under the name the caller asked for.
    """
    data = body.get("data") if isinstance(body, Mapping) else None
    if not isinstance(data, Mapping) or not isinstance(data.get("klines"), list):
        raise SchemaError("the TickDB response has no data.klines list")
    klines = data["klines"]
    if not klines:
        return pl.DataFrame(schema=BAR_SCHEMA)
    frame = to_bars(klines, symbol=symbol, interval=interval, validation=None)
    return frame.select(BAR_COLUMNS)


def merge_pages(
    pages: Sequence[pl.DataFrame],
    start: datetime | str | None,
    end: datetime | str | None,
) -> pl.DataFrame:
    """Concatenate pages, keep ``start <= ts < end``, sort by (symbol, ts), drop repeats."""
    frames = [page for page in pages if page.height]
    if not frames:
        return pl.DataFrame(schema=BAR_SCHEMA)
    merged = pl.concat(frames, how="vertical_relaxed")
    lower, upper = utc_bound(start, "start"), utc_bound(end, "end")
    if lower is not None:
        merged = merged.filter(pl.col("ts") >= lower)
    if upper is not None:
        merged = merged.filter(pl.col("ts") < upper)
    return merged.unique(subset=["symbol", "ts"], keep="last", maintain_order=True).sort(
        ["symbol", "ts"]
    )


def write_fetched(catalog: Catalog, bars: pl.DataFrame, interval: str | Interval) -> WriteSummary:
    """Write fetched ``bars`` into ``catalog``; fetched bars replace stored ones at the same time.

    The provider is the source of truth for the range it was asked for (corrections included),
    so every fetcher writes with ``on_conflict="overwrite"``.
    """
    return catalog.write(bars, interval=interval, on_conflict="overwrite")
