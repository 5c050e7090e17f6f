"""Any ccxt exchange as a live :class:`~quantstrata.live.feed.Feed`: :class:`CcxtFeed`.

Bars stream through ccxt's ``watch_ohlcv_for_symbols`` (``ccxt.pro``, inside the ``ccxt``
package). An exchange pushes the bar still forming over and over; a bar is *closed* when an
update of a newer bar arrives, and only then is it delivered, with its last values.

When the connection drops, ccxt raises a network error; the feed waits (the shared
:class:`~quantstrata.data.sources.backoff.Backoff`: exponential, full jitter) and watches again,
which reconnects and resubscribes. The bars that closed while it was away, and the one that was
forming, are fetched over REST (``fetch_ohlcv``) as soon as the first update after the
reconnect shows where the market is, so no bar is lost and none is delivered twice; a backfill
that fails even after the REST retries is retried the same way, never the end of the stream
(only refused keys are). Warm-up history comes from ``fetch_ohlcv`` too, paged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import polars as pl

from quantstrata.core._extras import require
from quantstrata.core.clock import Clock
from quantstrata.core.errors import ConfigError
from quantstrata.core.secrets import Secret
from quantstrata.data.sources.backoff import Backoff
from quantstrata.data.sources.ccxt_pages import OhlcvPages, ccxt_timeframe
from quantstrata.live._ccxt import CcxtCaller, CcxtConfig, CcxtCredentials, open_exchange
from quantstrata.live.broker import BrokerUnavailableError
from quantstrata.live.feed import LagListener
from quantstrata.model.bar import BAR_SCHEMA, Bar
from quantstrata.model.identifiers import Symbol
from quantstrata.model.interval import Interval

__all__ = ["CcxtFeed"]

_PAGE = 1000
_log = logging.getLogger("quantstrata.live.ccxt")


class CcxtFeed:
    """Closed bars of a ccxt exchange for the live runtime; one stream at a time."""

    def __init__(
        self,
        config: CcxtConfig,
        *,
        api_key: Secret | None = None,
        secret: Secret | None = None,
        exchange: Any = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        uniform: Callable[[float, float], float] = random.uniform,
        clock: Clock | None = None,
    ) -> None:
        """Build the exchange (or take ``exchange``); the stream opens when :meth:`bars` runs."""
        self.config = config
        credentials = CcxtCredentials(api_key, secret)
        self.exchange = exchange if exchange is not None else open_exchange(config, credentials)
        self._caller = CcxtCaller(self.exchange, config, credentials, sleep=sleep, clock=clock)
        self._sleep = sleep
        self._uniform = uniform
        self._closed = False
        self._streaming = False
        self._forming: dict[str, list[Any]] = {}
        self._delivered: dict[str, int] = {}
        self._stale: set[str] = set()
        self._watches: dict[str, asyncio.Future[list[Any]]] = {}
        self.reconnects = 0
        self.backfilled = 0

    def __repr__(self) -> str:
        """Show the exchange and symbols, never the keys."""
        return f"CcxtFeed(exchange={self.config.exchange!r}, symbols={self.config.symbols!r})"

    @property
    def name(self) -> str:
        """Return ``ccxt-<exchange>``."""
        return f"ccxt-{self.config.exchange}"

    async def history(
        self, symbols: Sequence[str], interval: Interval, end: datetime, bars: int
    ) -> pl.DataFrame:
        """Return up to ``bars`` closed bars per symbol opening before ``end``, over REST."""
        step = _step_ms(interval)
        end_ms = int(end.timestamp() * 1000)
        start_ms = end_ms - step * bars
        rows: list[Bar] = []
        for symbol in symbols:
            found = await self._fetch(symbol, interval, start_ms, end_ms)
            rows.extend(_bar(symbol, row) for row in found if row[0] + step <= end_ms)
        frame = pl.DataFrame([bar.as_row for bar in rows], schema=BAR_SCHEMA, orient="row")
        return frame.sort("symbol", "ts")

    @property
    def realtime(self) -> bool:
        """Return ``True``: the exchange streams the market as it trades."""
        return True

    async def bars(
        self,
        symbols: Sequence[str],
        interval: Interval,
        *,
        after: datetime | None = None,
        on_lag: LagListener | None = None,
    ) -> AsyncIterator[Bar]:
        """Yield closed bars as they complete, in time order per symbol, without duplicates.

        ``after``: the first update of each symbol backfills from the bar after it over REST
        (``fetch_ohlcv`` with ``since``). ``on_lag`` is not called: ccxt does not say how far
        behind the market its stream is (the runtime still judges each bar's lateness).
        """
        del on_lag
        if self._streaming:
            raise ConfigError("this CcxtFeed is already streaming; open one feed per stream")
        self._streaming = True
        try:
            async for bar in self._stream(symbols, interval, after):
                yield bar
        finally:
            self._streaming = False

    async def _stream(
        self, symbols: Sequence[str], interval: Interval, after: datetime | None
    ) -> AsyncIterator[Bar]:
        ccxt = require("ccxt", "the ccxt feed")
        if after is not None:
            after_ms = int(after.timestamp() * 1000)
            for symbol in symbols:
                if self._delivered.get(symbol, after_ms) <= after_ms:
                    self._delivered[symbol] = after_ms
                    self._stale.add(symbol)
        timeframe = ccxt_timeframe(interval)
        pairs = [[symbol, timeframe] for symbol in symbols]
        backoff = Backoff(
            base=self.config.backoff_base_seconds,
            cap=self.config.backoff_cap_seconds,
            uniform=self._uniform,
        )
        loop = asyncio.get_running_loop()
        while not self._closed:
            try:
                update = await self._watch(pairs)
                backoff.connected_at(loop.time())
                for symbol, frames in update.items():
                    for row in sorted(frames.get(timeframe, []), key=lambda candle: candle[0]):
                        for bar in await self._on_update(symbol, row, interval):
                            yield bar
            except (ccxt.NetworkError, BrokerUnavailableError) as error:
                # A lost stream, or a backfill that failed through every REST retry: both
                # are retried after a backoff; only refused keys (raised as they are) stop.
                if self.stopped():
                    return
                _log.info("%s stream lost (%s); reconnecting", self.name, type(error).__name__)
                self.reconnects += 1
                self._stale.update(self._forming)
                self._stale.update(self._delivered)
                await self._sleep(backoff.failed(loop.time()).seconds)
            except Exception:
                if self.stopped():
                    return
                raise

    async def _watch(self, pairs: list[list[str]]) -> dict[str, dict[str, list[Any]]]:
        """Return the next candle updates: one call for all symbols when the exchange can.

        Exchanges without ``watchOHLCVForSymbols`` get one ``watch_ohlcv`` per symbol; the
        first to answer wins, and the others keep waiting for the next call.
        """
        if self.exchange.has.get("watchOHLCVForSymbols"):
            found: dict[str, dict[str, list[Any]]]
            found = await self.exchange.watch_ohlcv_for_symbols(pairs)
            return found
        for symbol, timeframe in pairs:
            if symbol not in self._watches:
                call = self.exchange.watch_ohlcv(symbol, timeframe)
                self._watches[symbol] = asyncio.ensure_future(call)
        try:
            done, _ = await asyncio.wait(
                self._watches.values(), return_when=asyncio.FIRST_COMPLETED
            )
        except asyncio.CancelledError:
            self._cancel_watches()
            raise
        update: dict[str, dict[str, list[Any]]] = {}
        for symbol, timeframe in pairs:
            task = self._watches[symbol]
            if task in done:
                del self._watches[symbol]
                error = task.exception()
                if error is not None:
                    self._cancel_watches()
                    raise error
                update[symbol] = {timeframe: task.result()}
        return update

    def _cancel_watches(self) -> None:
        for task in self._watches.values():
            task.cancel()
        self._watches.clear()

    async def _on_update(self, symbol: str, row: list[Any], interval: Interval) -> list[Bar]:
        """Return the bars one update closes (none while the same bar is still forming)."""
        ts = int(row[0])
        forming = self._forming.get(symbol)
        delivered = self._delivered.get(symbol)
        if (forming is not None and ts < forming[0]) or (delivered is not None and ts <= delivered):
            return []
        if forming is not None and ts == forming[0]:
            self._forming[symbol] = row
            return []
        closed: list[list[Any]] = []
        if symbol in self._stale:
            self._stale.discard(symbol)
            first = forming[0] if forming is not None else None
            if delivered is not None:
                first = delivered + _step_ms(interval)
            if first is not None and first < ts:
                closed = await self._fetch(symbol, interval, first, ts)
                self.backfilled += len(closed)
        elif forming is not None:
            closed = [forming]
        self._forming[symbol] = row
        fresh = [candle for candle in closed if delivered is None or candle[0] > delivered]
        if fresh:
            self._delivered[symbol] = int(fresh[-1][0])
        return [_bar(symbol, candle) for candle in fresh]

    async def _fetch(
        self, symbol: str, interval: Interval, start_ms: int, end_ms: int
    ) -> list[list[Any]]:
        """Return the candles opening in ``[start_ms, end_ms)``, paged, sorted, unique."""
        timeframe = ccxt_timeframe(interval)
        pages = OhlcvPages(start_ms, end_ms)
        while (since := pages.since) is not None:
            pages.take(
                await self._caller.call(
                    "fetch_ohlcv", symbol, timeframe, since, _PAGE, pages.params
                )
            )
        return pages.candles

    def stopped(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    async def ack(self, ts: datetime) -> None:
        """Do nothing: a streaming exchange does not wait for the runtime."""
        del ts

    async def close(self) -> None:
        """Stop streaming and close ccxt's connections; safe to call twice."""
        self._closed = True
        self._cancel_watches()
        with contextlib.suppress(Exception):
            await self.exchange.close()


def _step_ms(interval: Interval | str) -> int:
    step = Interval.parse(interval)
    if not step.is_fixed:
        raise ConfigError(f"the ccxt feed needs a fixed-length interval, got {step}")
    return step.nanoseconds // 1_000_000


def _bar(symbol: str, row: Sequence[Any]) -> Bar:
    return Bar(
        datetime.fromtimestamp(int(row[0]) / 1000, UTC),
        Symbol(symbol),
        float(row[1]),
        float(row[2]),
        float(row[3]),
        float(row[4]),
        float(row[5] or 0.0),
    )
