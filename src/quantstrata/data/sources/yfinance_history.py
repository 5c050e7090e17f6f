"""Daily and intraday history from Yahoo Finance (``yfinance``) into canonical bars and the catalog.

``yfinance`` is an optional extra (``pip install 'quantstrata[yfinance]'``), imported only when
a fetch runs (:func:`fetch_yfinance_bars`, :func:`fetch_yfinance_to_catalog`).
:func:`bars_from_yfinance` turns the pandas frame ``Ticker.history`` returns into the canonical
bar frame:

- daily and longer bars keep their session *date* at midnight UTC (the catalog's convention
  for daily data, and what the bundled samples use); Yahoo stamps them at midnight in the
  exchange's time zone;
- intraday bars are converted from the exchange's time zone to UTC (``ts`` is the open time);
- rows Yahoo sends without prices (``null`` quotes, e.g. a halted interval) are dropped;
- prices are as traded by default (``adjusted=False``); with ``adjusted=True`` Yahoo's
  split- and dividend-adjusted OHLC are kept instead.

Yahoo accepts these intervals: 1m, 2m, 5m, 15m, 30m, 60m, 90m, 1h, 1d, 5d, 1wk, 1mo, 3mo;
quantstrata names them ``1m`` … ``1h``, ``1d``, ``5d``, ``1w``, ``1M``, ``3M``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import pandas as pd
import polars as pl

from quantstrata.core._extras import require
from quantstrata.core.clock import utc_bound
from quantstrata.core.errors import ConfigError
from quantstrata.data.catalog import Catalog, WriteSummary
from quantstrata.data.sources._frames import merge_pages, write_fetched
from quantstrata.data.sources.errors import ProviderUnavailableError
from quantstrata.model.bar import BAR_COLUMNS, BAR_SCHEMA
from quantstrata.model.interval import Interval, IntervalUnit
from quantstrata.process.normalize import to_bars

__all__ = [
    "bars_from_yfinance",
    "fetch_yfinance_bars",
    "fetch_yfinance_to_catalog",
    "redirected_session",
    "yahoo_interval",
]

_INTRADAY_MINUTES = frozenset({1, 2, 5, 15, 30, 60, 90})


def yahoo_interval(interval: str | Interval) -> str:
    """Return Yahoo's name of ``interval`` (``1w`` → ``1wk``), or raise :class:`ConfigError`."""
    step = Interval.parse(interval)
    unit, count = step.unit, step.count
    names = {
        (IntervalUnit.HOUR, 1): "1h",
        (IntervalUnit.DAY, 1): "1d",
        (IntervalUnit.DAY, 5): "5d",
        (IntervalUnit.WEEK, 1): "1wk",
        (IntervalUnit.MONTH, 1): "1mo",
        (IntervalUnit.MONTH, 3): "3mo",
    }
    if unit is IntervalUnit.MINUTE and count in _INTRADAY_MINUTES:
        return f"{count}m"
    name = names.get((unit, count))
    if name is None:
        raise ConfigError(
            f"Yahoo Finance has no {step} bars; use 1m, 2m, 5m, 15m, 30m, 60m, 90m, 1h, 1d, "
            "5d, 1w, 1M or 3M"
        )
    return name


def bars_from_yfinance(frame: pd.DataFrame, symbol: str, interval: str | Interval) -> pl.DataFrame:
    """Return the canonical bars of one ticker's ``Ticker.history`` frame (see module doc)."""
    step = Interval.parse(interval)
    if frame.empty:
        return pl.DataFrame(schema=BAR_SCHEMA)
    index = frame.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise ConfigError(
            f"a yfinance frame for {symbol} needs a time-zone-aware DatetimeIndex, "
            f"got {type(index).__name__}"
        )
    intraday = step.is_fixed and step.seconds < 86_400
    times = index.tz_convert("UTC") if intraday else index.tz_localize(None).normalize()
    columns = {name.lower().replace(" ", "_"): name for name in frame.columns}
    missing = [name for name in ("open", "high", "low", "close", "volume") if name not in columns]
    if missing:
        raise ConfigError(f"a yfinance frame for {symbol} lacks columns {missing}")
    table = pd.DataFrame(
        {
            "ts": times if intraday else times.tz_localize("UTC"),
            **{name: frame[columns[name]].to_numpy(dtype="float64") for name in BAR_COLUMNS[2:]},
        }
    )
    table = table.dropna(subset=["open", "high", "low", "close"])
    table["volume"] = table["volume"].fillna(0.0)
    return to_bars(table, symbol=symbol, interval=step).select(BAR_COLUMNS)


def fetch_yfinance_bars(
    symbols: Sequence[str],
    *,
    interval: str | Interval,
    start: datetime | str,
    end: datetime | str,
    adjusted: bool = False,
    session: Any = None,
    on_symbol: Callable[[str, int], None] | None = None,
) -> pl.DataFrame:
    """Return the bars of ``symbols`` with ``start <= ts < end`` from Yahoo Finance.

    ``session`` is passed to ``yfinance.Ticker`` (a ``requests`` or ``curl_cffi`` session);
    ``on_symbol(symbol, rows)`` is called after each symbol (a progress bar's hook).
    """
    yfinance = require("yfinance", "Yahoo Finance history")
    step = Interval.parse(interval)
    lower, upper = utc_bound(start, "start"), utc_bound(end, "end")
    if lower is None or upper is None or lower >= upper:
        raise ConfigError(f"need start < end, got start={start!r} end={end!r}")
    name = yahoo_interval(step)
    frames = []
    for symbol in symbols:
        ticker = yfinance.Ticker(symbol, session=session)
        try:
            with warnings.catch_warnings():
                # yfinance's own use of deprecated pandas API is not the caller's concern.
                warnings.simplefilter("ignore", DeprecationWarning)
                warnings.simplefilter("ignore", FutureWarning)
                raw = ticker.history(
                    start=lower, end=upper, interval=name, auto_adjust=adjusted, actions=False
                )
        except Exception as error:  # noqa: BLE001 - yfinance raises requests', curl's and its own errors
            message = f"Yahoo Finance history of {symbol} failed: {type(error).__name__}: {error}"
            raise ProviderUnavailableError(message, provider="yfinance") from None
        # yfinance logs a failed request and returns an empty frame; like its own download(),
        # read the error it kept on the price-history object.
        failure = getattr(getattr(ticker, "_price_history", None), "_last_error", None)
        if failure:
            message = f"Yahoo Finance history of {symbol} failed: {failure}"
            raise ProviderUnavailableError(message, provider="yfinance")
        bars = bars_from_yfinance(raw, symbol, step)
        frames.append(bars)
        if on_symbol is not None:
            on_symbol(symbol, bars.height)
    return merge_pages(frames, lower, upper)


def fetch_yfinance_to_catalog(
    catalog: Catalog,
    symbols: Sequence[str],
    *,
    interval: str | Interval,
    start: datetime | str,
    end: datetime | str,
    adjusted: bool = False,
    session: Any = None,
    on_symbol: Callable[[str, int], None] | None = None,
) -> WriteSummary:
    """Fetch ``[start, end)`` of every symbol from Yahoo Finance and write it into ``catalog``."""
    bars = fetch_yfinance_bars(
        symbols, interval=interval, start=start, end=end, adjusted=adjusted, session=session,
        on_symbol=on_symbol,
    )  # fmt: skip
    return write_fetched(catalog, bars, interval)


def redirected_session(base_url: str) -> Any:
    """Return a ``requests`` session for yfinance that sends every request to ``base_url``.

    Yahoo's host names are fixed inside yfinance; this session keeps the path and query and
    swaps scheme and host (the original host travels in ``X-Original-Host``), for a gateway,
    a recording proxy, or a local fake in tests.
    """
    from urllib.parse import urlsplit, urlunsplit

    import requests
    from requests.adapters import HTTPAdapter

    target = urlsplit(base_url)
    if target.scheme not in ("http", "https") or not target.netloc:
        raise ConfigError(f"the Yahoo base URL must be http(s)://host[:port], got {base_url!r}")

    class _Redirect(HTTPAdapter):
        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            parts = urlsplit(request.url)
            request.headers["X-Original-Host"] = parts.netloc
            request.url = urlunsplit((target.scheme, target.netloc, parts.path, parts.query, ""))
            return super().send(request, *args, **kwargs)

    session = requests.Session()
    session.mount("https://", _Redirect())
    session.mount("http://", _Redirect())
    return session
