"""Historical OHLCV from any ccxt exchange into canonical bars and the catalog, paged.

ccxt returns at most ``limit`` candles per call; :func:`fetch_ccxt_bars` pages with
:mod:`~quantstrata.data.sources.ccxt_pages` (the live feed's paging too), so ranges of any
length arrive complete, sorted and without repeats. ccxt's own rate limiter
(``enableRateLimit``) spaces the calls.
``ccxt`` is an optional extra (``pip install 'quantstrata[ccxt]'``), imported only when an
exchange is opened by name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import polars as pl

from quantstrata.core._extras import require
from quantstrata.core.clock import ns_from_datetime, utc_bound
from quantstrata.core.errors import ConfigError
from quantstrata.data.catalog import Catalog, WriteSummary
from quantstrata.data.sources._frames import merge_pages, write_fetched
from quantstrata.data.sources.ccxt_pages import ccxt_timeframe, fetch_ohlcv_range
from quantstrata.model.bar import BAR_COLUMNS, BAR_SCHEMA
from quantstrata.model.interval import Interval
from quantstrata.process.normalize import to_bars

__all__ = ["ccxt_public_exchange", "fetch_ccxt_bars", "fetch_ccxt_to_catalog"]


def ccxt_public_exchange(exchange: str) -> Any:
    """Return ccxt's synchronous client of ``exchange`` (e.g. ``"binance"``) without keys.

    Public market data (OHLCV history) needs no key; ccxt's rate limiter is on.
    """
    ccxt = require("ccxt", "ccxt market data")
    exchange_class = getattr(ccxt, exchange, None)
    if exchange_class is None:
        raise ConfigError(f"ccxt has no exchange {exchange!r}")
    return exchange_class({"enableRateLimit": True})


def fetch_ccxt_bars(
    exchange: Any,
    symbols: Sequence[str],
    *,
    interval: str | Interval,
    start: datetime | str,
    end: datetime | str,
    limit: int = 1000,
    on_symbol: Callable[[str, int], None] | None = None,
) -> pl.DataFrame:
    """Return the bars of ``symbols`` with ``start <= ts < end`` from a ccxt exchange, merged.

    ``exchange`` is a ccxt client (any configuration: a gateway URL, options) or an exchange
    id such as ``"binance"`` (see :func:`ccxt_public_exchange`); ``limit`` is the candles per
    request; ``on_symbol(symbol, rows)`` is called after each symbol (a progress bar's hook).
    """
    client = ccxt_public_exchange(exchange) if isinstance(exchange, str) else exchange
    step = Interval.parse(interval)
    lower, upper = utc_bound(start, "start"), utc_bound(end, "end")
    if lower is None or upper is None or lower >= upper:
        raise ConfigError(f"need start < end, got start={start!r} end={end!r}")
    frames = []
    for symbol in symbols:
        frame = _fetch_symbol(client, symbol, step, (lower, upper), limit)
        frames.append(frame)
        if on_symbol is not None:
            on_symbol(symbol, frame.height)
    return merge_pages(frames, lower, upper)


def fetch_ccxt_to_catalog(
    exchange: Any,
    catalog: Catalog,
    symbols: Sequence[str],
    *,
    interval: str | Interval,
    start: datetime | str,
    end: datetime | str,
    limit: int = 1000,
    on_symbol: Callable[[str, int], None] | None = None,
) -> WriteSummary:
    """Fetch ``[start, end)`` of every symbol from a ccxt exchange and write it into ``catalog``."""
    bars = fetch_ccxt_bars(
        exchange, symbols, interval=interval, start=start, end=end, limit=limit,
        on_symbol=on_symbol,
    )  # fmt: skip
    return write_fetched(catalog, bars, interval)


def _fetch_symbol(
    exchange: Any, symbol: str, step: Interval, bounds: tuple[datetime, datetime], limit: int
) -> pl.DataFrame:
    """Return the bars of ``symbol`` in ``bounds``, paged by :func:`fetch_ohlcv_range`."""
    since, until = (ns_from_datetime(bound) // 1_000_000 for bound in bounds)
    rows = fetch_ohlcv_range(exchange, symbol, ccxt_timeframe(step), (since, until), limit)
    if not rows:
        return pl.DataFrame(schema=BAR_SCHEMA)
    return to_bars(rows, symbol=symbol, interval=step, validation=None).select(BAR_COLUMNS)
