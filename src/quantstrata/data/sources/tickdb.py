"""TickDB REST clients, sync and async, thin wrappers around :mod:`._tickdb_protocol`.

Both send the API key in the ``X-API-Key`` header only, wait on the provider's shared
:class:`~quantstrata.data.sources.rate_limit.RateLimiter`, retry network errors and 5xx with
jittered exponential backoff, honour ``Retry-After``/``reset_at`` on HTTP 429 and code 3001,
and stop at once on authentication errors. Ranges longer than one request are paged; the bars
come back as one canonical frame, sorted and de-duplicated, ready for the catalog.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

import httpx
import polars as pl

from quantstrata.core.clock import Clock, LiveClock, ns_from_datetime, utc_bound
from quantstrata.core.errors import ConfigError
from quantstrata.core.logging import get_logger
from quantstrata.core.secrets import Secret, redact
from quantstrata.data.catalog import Catalog, WriteSummary
from quantstrata.data.sources import _tickdb_protocol as protocol
from quantstrata.data.sources._frames import klines_frame, merge_pages, write_fetched
from quantstrata.data.sources.config import TickDBConfig
from quantstrata.data.sources.rate_limit import RateLimiter, shared_limiter
from quantstrata.model.interval import Interval

__all__ = [
    "API_KEY_VARIABLE",
    "AsyncTickDBClient",
    "TickDBClient",
    "fetch_tickdb_bars",
    "fetch_tickdb_to_catalog",
    "latest_frame",
]

API_KEY_VARIABLE = "TICKDB_API_KEY"
_LOG = get_logger("data.sources.tickdb")
_NETWORK_ERRORS = (httpx.TransportError,)
Progress = Callable[[int, int], None]


class _Base:
    """What both clients share: configuration, key, clock, limiter, jitter source."""

    def __init__(
        self,
        api_key: Secret | None = None,
        *,
        config: TickDBConfig | None = None,
        clock: Clock | None = None,
        limiter: RateLimiter | None = None,
        uniform: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self.config = config or TickDBConfig()
        self._key = api_key or Secret.from_environment(API_KEY_VARIABLE)
        self._clock = clock or LiveClock()
        self._limiter = limiter or shared_limiter(
            protocol.PROVIDER, self.config.rate_limit_per_minute
        )
        self._uniform = uniform

    def __repr__(self) -> str:
        """Show the endpoint, never the key."""
        return f"{type(self).__name__}(base_url={redact(self.config.base_url)!r})"

    def _client_options(self) -> dict[str, object]:
        http = self.config.http
        return {
            "base_url": self.config.base_url,
            "headers": {"X-API-Key": self._key.reveal()},
            "timeout": httpx.Timeout(
                http.read_timeout_seconds, connect=http.connect_timeout_seconds
            ),
        }

    def _outcome(self, response: httpx.Response) -> protocol.Outcome:
        return protocol.interpret(
            response.status_code,
            response.headers,
            response.content,
            self._clock.now(),
            limit=self.config.http.retry.max_server_wait_seconds,
        )

    def _delay(self, outcome: protocol.Outcome, attempt: int, path: str) -> float:
        delay = protocol.retry_delay(outcome, attempt, self.config.http.retry, self._uniform)
        _LOG.warning("TickDB %s: %s; retry %d in %.2fs", path, outcome.reason, attempt + 1, delay)
        return delay

    def _pages(
        self, symbol: str, interval: Interval, start: datetime | str, end: datetime | str
    ) -> list[protocol.Request]:
        lower, upper = utc_bound(start, "start"), utc_bound(end, "end")
        if lower is None or upper is None or lower >= upper:
            raise ConfigError(f"need start < end, got start={start!r} end={end!r}")
        start_ms = ns_from_datetime(lower) // 1_000_000
        end_ms = ns_from_datetime(upper) // 1_000_000
        return [
            protocol.kline_request(symbol, interval, low, high, self.config.page_limit)
            for low, high in protocol.kline_windows(
                start_ms, end_ms, interval, self.config.page_limit
            )
        ]


class TickDBClient(_Base):
    """Blocking TickDB client; ``sleep`` is injected so retry schedules are testable."""

    def __init__(
        self,
        api_key: Secret | None = None,
        *,
        config: TickDBConfig | None = None,
        clock: Clock | None = None,
        limiter: RateLimiter | None = None,
        uniform: Callable[[float, float], float] = random.uniform,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """Open an HTTP connection pool to ``config.base_url``."""
        super().__init__(api_key, config=config, clock=clock, limiter=limiter, uniform=uniform)
        self._sleep = sleep
        self._http = httpx.Client(transport=transport, **self._client_options())  # type: ignore[arg-type]

    def get(self, request: protocol.Request) -> object:
        """Send ``request`` with rate limiting and retries; return the decoded body."""
        attempt = 0
        while True:
            wait = self._limiter.reserve()
            if wait > 0:
                self._sleep(wait)
            try:
                outcome = self._outcome(self._http.get(request.path, params=request.params))
            except _NETWORK_ERRORS as error:
                outcome = protocol.network_outcome(error)
            if not outcome.retryable:
                return outcome.payload
            self._sleep(self._delay(outcome, attempt, request.path))
            attempt += 1

    def klines(
        self,
        symbol: str,
        interval: str | Interval,
        start: datetime | str,
        end: datetime | str,
        progress: Progress | None = None,
    ) -> pl.DataFrame:
        """Return the closed bars of ``symbol`` with ``start <= ts < end``, paging as needed."""
        step = Interval.parse(interval)
        requests = self._pages(symbol, step, start, end)
        pages = []
        for number, request in enumerate(requests, start=1):
            pages.append(klines_frame(self.get(request), symbol, step))
            if progress is not None:
                progress(number, len(requests))
        return merge_pages(pages, start, end)

    def latest(self, symbols: Sequence[str], interval: str | Interval) -> pl.DataFrame:
        """Return the bars now forming (not closed) for ``symbols``."""
        step = Interval.parse(interval)
        body = self.get(protocol.latest_request(list(symbols), step))
        return latest_frame(body, step)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> TickDBClient:
        """Use as a context manager."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close on exit."""
        self.close()


class AsyncTickDBClient(_Base):
    """Asyncio TickDB client with the same behaviour as :class:`TickDBClient`."""

    def __init__(
        self,
        api_key: Secret | None = None,
        *,
        config: TickDBConfig | None = None,
        clock: Clock | None = None,
        limiter: RateLimiter | None = None,
        uniform: Callable[[float, float], float] = random.uniform,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """Prepare an async HTTP connection pool to ``config.base_url``."""
        super().__init__(api_key, config=config, clock=clock, limiter=limiter, uniform=uniform)
        self._sleep = sleep
        self._http = httpx.AsyncClient(transport=transport, **self._client_options())  # type: ignore[arg-type]

    async def get(self, request: protocol.Request) -> object:
        """Send ``request`` with rate limiting and retries; return the decoded body."""
        attempt = 0
        while True:
            wait = self._limiter.reserve()
            if wait > 0:
                await self._sleep(wait)
            try:
                response = await self._http.get(request.path, params=request.params)
                outcome = self._outcome(response)
            except _NETWORK_ERRORS as error:
                outcome = protocol.network_outcome(error)
            if not outcome.retryable:
                return outcome.payload
            await self._sleep(self._delay(outcome, attempt, request.path))
            attempt += 1

    async def klines(
        self,
        symbol: str,
        interval: str | Interval,
        start: datetime | str,
        end: datetime | str,
    ) -> pl.DataFrame:
        """Return the closed bars of ``symbol`` with ``start <= ts < end``, paging as needed."""
        step = Interval.parse(interval)
        pages = [
            klines_frame(await self.get(request), symbol, step)
            for request in self._pages(symbol, step, start, end)
        ]
        return merge_pages(pages, start, end)

    async def latest(self, symbols: Sequence[str], interval: str | Interval) -> pl.DataFrame:
        """Return the bars now forming (not closed) for ``symbols``."""
        step = Interval.parse(interval)
        return latest_frame(await self.get(protocol.latest_request(list(symbols), step)), step)

    async def close(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()


def latest_frame(body: object, interval: Interval) -> pl.DataFrame:
    """Read a ``kline/latest`` body (a list of per-symbol kline blocks) into one bar frame."""
    data = body.get("data") if isinstance(body, dict) else None
    blocks = data if isinstance(data, list) else []
    frames = [
        klines_frame({"code": 0, "data": block}, str(block.get("symbol")), interval)
        for block in blocks
        if isinstance(block, dict)
    ]
    return merge_pages(frames, None, None)


def fetch_tickdb_bars(
    client: TickDBClient,
    symbols: Sequence[str],
    *,
    interval: str | Interval,
    start: datetime | str,
    end: datetime | str,
    progress: Progress | None = None,
) -> pl.DataFrame:
    """Return the bars of every symbol with ``start <= ts < end`` from TickDB, merged.

    ``progress(page, pages)`` is called after each page of the current symbol.
    """
    frames = [client.klines(symbol, interval, start, end, progress) for symbol in symbols]
    return merge_pages(frames, None, None)


def fetch_tickdb_to_catalog(
    client: TickDBClient,
    catalog: Catalog,
    symbols: Sequence[str],
    *,
    interval: str | Interval,
    start: datetime | str,
    end: datetime | str,
    progress: Progress | None = None,
) -> WriteSummary:
    """Fetch ``[start, end)`` of every symbol from TickDB and write the bars into ``catalog``."""
    bars = fetch_tickdb_bars(
        client, symbols, interval=interval, start=start, end=end, progress=progress
    )
    return write_fetched(catalog, bars, interval)
