"""Historical US-equity bars from Alpaca's market data API into canonical bars and the catalog.

:func:`fetch_alpaca_bars` asks alpaca-py's ``StockHistoricalDataClient`` (``GET
/v2/stocks/bars``; the SDK follows ``next_page_token``) for ``[start, end)`` of every symbol,
from the ``iex`` feed (free) or ``sip`` (all exchanges, a paid plan). An HTTP 429 waits at
least the server's ``Retry-After`` (full-jitter backoff otherwise) and asks again, up to
``max_attempts``; the SDK's own retries are off (:func:`bounded_client`). Daily and longer bars
carry Alpaca's session date at midnight UTC, the catalog's convention; intraday bars keep
their UTC open time. Keys come from ``$APCA_API_KEY_ID`` and ``$APCA_API_SECRET_KEY`` unless
a client is given. ``alpaca-py`` is an optional extra (``pip install 'quantstrata[alpaca]'``),
imported only here and in the live connector, at run time.
"""

from __future__ import annotations

import random
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

import polars as pl

from quantstrata.core._extras import require
from quantstrata.core.clock import utc_bound
from quantstrata.core.errors import ConfigError
from quantstrata.core.secrets import Secret, redact
from quantstrata.data.sources._frames import merge_pages, write_fetched
from quantstrata.data.sources.backoff import backoff_delay, parse_retry_after
from quantstrata.data.sources.errors import (
    AuthenticationError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitedError,
    RequestRejectedError,
)
from quantstrata.model.bar import BAR_COLUMNS, BAR_SCHEMA
from quantstrata.model.interval import Interval, IntervalUnit

if TYPE_CHECKING:
    from quantstrata.data.catalog import Catalog, WriteSummary

__all__ = [
    "ALPACA_DATA_URL",
    "ALPACA_KEY_VARIABLE",
    "ALPACA_SECRET_VARIABLE",
    "alpaca_data_client",
    "alpaca_sdk",
    "bars_from_alpaca",
    "bounded_client",
    "fetch_alpaca_bars",
    "fetch_alpaca_to_catalog",
]

ALPACA_KEY_VARIABLE = "APCA_API_KEY_ID"
ALPACA_SECRET_VARIABLE = "APCA_API_SECRET_KEY"  # noqa: S105 - a variable name
ALPACA_DATA_URL = "https://data.alpaca.markets"
_UNITS = {
    IntervalUnit.MINUTE: "Minute",
    IntervalUnit.HOUR: "Hour",
    IntervalUnit.DAY: "Day",
    IntervalUnit.WEEK: "Week",
    IntervalUnit.MONTH: "Month",
}


def alpaca_sdk(module: str) -> Any:
    """Import ``alpaca.<module>`` from alpaca-py, or say which extra to install.

    alpaca-py imports ``websockets.legacy`` (deprecated since websockets 14) for its own
    streams, which quantstrata does not use; that warning is silenced here.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "websockets.legacy", DeprecationWarning)
        return require(f"alpaca.{module}", "Alpaca")


def bounded_client(client: Any, timeout_seconds: float) -> Any:
    """Switch off alpaca-py's own retries and give each of its requests a timeout.

    alpaca-py's REST clients take neither a retry count of 0 nor a timeout; its REST base
    keeps both on the instance (``_retry``, ``_session``), which is where they are set, so
    the caller's policy (backoff with jitter, ``Retry-After``) is the only one.
    """
    client._retry = 0
    client._retry_codes = []
    session = client._session
    send = session.request

    def request(method: str, url: str, **options: Any) -> Any:
        options.setdefault("timeout", timeout_seconds)
        return send(method, url, **options)

    session.request = request
    return client


def alpaca_data_client(
    key_id: Secret | None = None,
    secret_key: Secret | None = None,
    *,
    url: str | None = None,
    timeout_seconds: float = 10.0,
) -> Any:
    """Return alpaca-py's ``StockHistoricalDataClient`` (raw JSON answers, bounded)."""
    key = key_id or Secret.from_environment(ALPACA_KEY_VARIABLE)
    secret = secret_key or Secret.from_environment(ALPACA_SECRET_VARIABLE)
    client = alpaca_sdk("data.historical.stock").StockHistoricalDataClient(
        key.reveal(),
        secret.reveal(),
        raw_data=True,
        url_override=(url or ALPACA_DATA_URL).rstrip("/"),
    )
    return bounded_client(client, timeout_seconds)


def _timeframe(interval: Interval) -> Any:
    unit = _UNITS.get(interval.unit)
    if unit is None:
        raise ConfigError(f"Alpaca has no {interval} bars; use minutes, hours, days or longer")
    frames = alpaca_sdk("data.timeframe")
    return frames.TimeFrame(interval.count, getattr(frames.TimeFrameUnit, unit))


def bars_from_alpaca(
    raw: Mapping[str, Sequence[Mapping[str, Any]]], interval: Interval
) -> pl.DataFrame:
    """Return canonical bars from Alpaca's ``{symbol: [{t, o, h, l, c, v, ...}]}`` answer."""
    daily = not interval.is_fixed or interval.duration >= timedelta(days=1)
    rows = []
    for symbol, bars in raw.items():
        for bar in bars:
            ts = _moment(bar["t"])
            if daily:
                ts = datetime(ts.year, ts.month, ts.day, tzinfo=UTC)
            rows.append((ts, str(symbol), *(float(bar[key]) for key in ("o", "h", "l", "c", "v"))))
    if not rows:
        return pl.DataFrame(schema=BAR_SCHEMA)
    return pl.DataFrame(rows, schema=BAR_SCHEMA, orient="row").select(BAR_COLUMNS)


def _moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def fetch_alpaca_bars(
    client: Any,
    symbols: Sequence[str],
    *,
    interval: str | Interval,
    start: datetime | str,
    end: datetime | str,
    feed: str = "iex",
    adjustment: str = "all",
    max_attempts: int = 5,
    sleep: Callable[[float], None] = time.sleep,
    on_symbol: Callable[[str, int], None] | None = None,
) -> pl.DataFrame:
    """Return the bars of ``symbols`` with ``start <= ts < end`` from Alpaca, merged.

    ``client`` is a ``StockHistoricalDataClient`` (a test server, other keys) or ``None`` for
    :func:`alpaca_data_client` keyed from the environment. ``adjustment`` is Alpaca's
    (``raw``, ``split``, ``dividend``, ``all``); ``on_symbol(symbol, rows)`` is called after
    each symbol.
    """
    source = client if client is not None else alpaca_data_client()
    step = Interval.parse(interval)
    lower, upper = utc_bound(start, "start"), utc_bound(end, "end")
    if lower is None or upper is None or lower >= upper:
        raise ConfigError(f"need start < end, got start={start!r} end={end!r}")
    if feed not in ("iex", "sip"):
        raise ConfigError(f"Alpaca feed must be iex or sip, got {feed!r}")
    requests = alpaca_sdk("data.requests")
    frames = []
    for symbol in symbols:
        request = requests.StockBarsRequest(
            symbol_or_symbols=[symbol],
            timeframe=_timeframe(step),
            start=lower,
            end=upper - timedelta(microseconds=1),
            feed=feed,
            adjustment=adjustment,
        )
        raw = _with_retries(partial(source.get_stock_bars, request), max_attempts, sleep)
        frame = bars_from_alpaca(raw or {}, step)
        frames.append(frame)
        if on_symbol is not None:
            on_symbol(symbol, frame.height)
    return merge_pages(frames, lower, upper)


def _with_retries(call: Callable[[], Any], attempts: int, sleep: Callable[[float], None]) -> Any:
    for attempt in range(attempts):
        try:
            return call()
        except Exception as error:  # noqa: BLE001 - the SDK raises requests' and its own
            response = getattr(error, "response", None)
            status = getattr(response, "status_code", None)
            if status != 429 or attempt + 1 == attempts:
                body = str(getattr(response, "text", "") or error)
                raise _provider_error(status, redact(body)[:300]) from None
            headers = dict(getattr(response, "headers", {}) or {})
            wait = parse_retry_after(headers.get("Retry-After"), datetime.now(UTC)) or 0.0
            sleep(backoff_delay(attempt, base=0.5, cap=30.0, uniform=random.uniform, floor=wait))
    raise ProviderUnavailableError("no attempt made", provider="alpaca")  # pragma: no cover


def _provider_error(status: int | None, body: str) -> ProviderError:
    message = f"Alpaca bars request failed (HTTP {status}): {body}"
    if status in (401, 403):
        hint = f"; check ${ALPACA_KEY_VARIABLE} and ${ALPACA_SECRET_VARIABLE}"
        return AuthenticationError(message + hint, provider="alpaca", code=status)
    if status == 429:
        return RateLimitedError(message, provider="alpaca", code=status)
    if status is not None and 400 <= status < 500:
        return RequestRejectedError(message, provider="alpaca", code=status)
    return ProviderUnavailableError(message, provider="alpaca", code=status)


def fetch_alpaca_to_catalog(
    client: Any,
    catalog: Catalog,
    symbols: Sequence[str],
    *,
    interval: str | Interval,
    start: datetime | str,
    end: datetime | str,
    feed: str = "iex",
    adjustment: str = "all",
    on_symbol: Callable[[str, int], None] | None = None,
) -> WriteSummary:
    """Fetch ``[start, end)`` of every symbol from Alpaca and write it into ``catalog``."""
    bars = fetch_alpaca_bars(
        client, symbols, interval=interval, start=start, end=end, feed=feed,
        adjustment=adjustment, on_symbol=on_symbol,
    )  # fmt: skip
    return write_fetched(catalog, bars, interval)
