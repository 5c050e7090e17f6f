"""Alpaca market data as a live :class:`~quantstrata.live.feed.Feed`: :class:`AlpacaFeed`.

Bars stream from Alpaca's market-data WebSocket (``/v2/iex`` or ``/v2/sip`` by
:attr:`~quantstrata.live.brokers._alpaca_rest.AlpacaConfig.feed`), in the protocol alpaca-py's
``StockDataStream`` speaks (msgpack frames: ``connected``, ``auth`` -> ``authenticated``,
``subscribe`` to ``bars`` and ``updatedBars``). Alpaca sends a minute bar once the minute is
over, so every bar received is closed and is delivered at once. An *updated* bar (late trades
changed a bar already sent) cannot be delivered again (the runtime has acted on it); it is
counted in :attr:`AlpacaFeed.updated_bars` and logged.

The SDK's stream client is not used: it reconnects on its own, with no hook for a backfill.
Here every loss (a closed socket, a refused or garbled handshake, a socket silent for
``stale_after_seconds`` while "connected", alpaca-py issue #740, a failed backfill) is judged by
the shared core (:mod:`quantstrata.data.stream.resilience`) and waits as its
:class:`~quantstrata.data.sources.backoff.Backoff` says, then reconnects; the bars that closed
while away are fetched from the historical bars endpoint before any streamed bar, so none is
lost and none is delivered twice. Refused keys (``{"T": "error", "code": 402}``, a 401/403
handshake, a refused backfill) stop the feed with ``AlpacaAuthenticationError``. Warm-up
history comes from the same endpoint
(:func:`~quantstrata.data.sources.alpaca_history.fetch_alpaca_bars`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import polars as pl
import websockets

from quantstrata.core._extras import require
from quantstrata.core.clock import Clock, LiveClock
from quantstrata.core.errors import ConfigError
from quantstrata.data.sources.alpaca_history import bars_from_alpaca, fetch_alpaca_bars
from quantstrata.data.sources.backoff import Backoff
from quantstrata.data.stream.resilience import (
    Reconnect,
    StreamProtocolError,
    backfill_failure,
    connect_failure,
)
from quantstrata.live.brokers._alpaca_rest import (
    AlpacaAuthenticationError,
    AlpacaConfig,
    AlpacaCredentials,
    data_client,
    refused_keys,
)
from quantstrata.live.feed import LagListener
from quantstrata.model.bar import Bar
from quantstrata.model.interval import Interval

__all__ = ["AlpacaFeed"]

_log = logging.getLogger("quantstrata.live.alpaca")
_REFUSED_CODES = frozenset({401, 402, 409})
"""Stream error codes no reconnect can cure: not authenticated, auth failed, insufficient
subscription (a plan without ``sip``). Others (404 auth timeout, 406 connection limit, 500 …)
are retried."""


class _StreamLostError(StreamProtocolError):
    """The socket went silent, or answered the handshake out of protocol."""


class _RestartError(Exception):
    """The connection must be replaced for ``decision`` (a failed backfill)."""

    def __init__(self, decision: Reconnect) -> None:
        super().__init__(decision.reason)
        self.decision = decision


class AlpacaFeed:
    """Closed bars of US equities from Alpaca for the live runtime; one stream at a time."""

    def __init__(
        self,
        config: AlpacaConfig,
        credentials: AlpacaCredentials,
        *,
        client: Any = None,
        on_ack: Callable[[datetime], Awaitable[None]] | None = None,
        stop_after: datetime | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        uniform: Callable[[float, float], float] = random.uniform,
        clock: Clock | None = None,
    ) -> None:
        """Keep the settings; nothing connects until :meth:`bars`.

        ``client`` replaces alpaca-py's historical client; ``on_ack`` is told each bar time
        the runtime finished (a lockstep test server waits for it); ``stop_after`` ends the
        stream after the frame that delivered a bar opening at or after it (a bounded replay).
        """
        self.config = config
        self._credentials = credentials
        self.client = client if client is not None else data_client(config, credentials)
        self._on_ack = on_ack
        self._stop_after = stop_after
        self._sleep = sleep
        self._uniform = uniform
        self._clock = clock if clock is not None else LiveClock()
        self._delivered: dict[str, datetime] = {}
        self._streaming = False
        self._closed = False
        self.reconnects = 0
        self.stale = 0
        self.backfilled = 0
        self.updated_bars = 0

    def __repr__(self) -> str:
        """Show the endpoint and feed, never the keys."""
        return f"AlpacaFeed(feed={self.config.feed!r}, url={self.config.market_stream_url!r})"

    @property
    def name(self) -> str:
        """``alpaca-iex`` or ``alpaca-sip``."""
        return f"alpaca-{self.config.feed}"

    async def history(
        self, symbols: Sequence[str], interval: Interval, end: datetime, bars: int
    ) -> pl.DataFrame:
        """Return up to ``bars`` closed bars per symbol opening before ``end`` (REST)."""
        span = interval.duration if interval.is_fixed else timedelta(days=31)
        days = max(
            span * bars * 2, timedelta(days=bars * 2 + 10) if span >= timedelta(days=1) else span
        )
        frame = await self._fetch(symbols, interval, end - days, end)
        closed = frame.filter(pl.col("ts") + pl.duration(seconds=interval.seconds) <= end)
        return closed.sort("symbol", "ts").group_by("symbol", maintain_order=True).tail(bars)

    async def _fetch(
        self, symbols: Sequence[str], interval: Interval, start: datetime, end: datetime
    ) -> pl.DataFrame:
        return await asyncio.to_thread(
            fetch_alpaca_bars,
            self.client,
            list(symbols),
            interval=interval,
            start=start,
            end=end,
            feed=self.config.feed,
        )

    @property
    def realtime(self) -> bool:
        """Return ``True``: Alpaca streams the market as it trades."""
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

        ``after``: the first connection backfills every symbol from the bar after it over REST
        (the historical bars endpoint). ``on_lag`` is not called: the bar stream says nothing
        about how far behind the market it is (the runtime still judges each bar's lateness).
        """
        del on_lag
        if self._streaming:
            raise ConfigError("this AlpacaFeed is already streaming; open one feed per stream")
        if after is not None:
            for symbol in symbols:
                if self._delivered.get(str(symbol), after) <= after:
                    self._delivered[str(symbol)] = after
        self._streaming = True
        try:
            async for bar in self._stream(symbols, interval):
                yield bar
        finally:
            self._streaming = False

    async def _stream(self, symbols: Sequence[str], interval: Interval) -> AsyncIterator[Bar]:
        backoff = Backoff(
            base=self.config.backoff_base_seconds,
            cap=self.config.reconnect_cap_seconds,
            uniform=self._uniform,
            healthy_after=self.config.reconnect_cap_seconds,
        )
        loop = asyncio.get_running_loop()
        while not self._closed and not self._done(symbols):
            connection = self._connection(symbols, interval, backoff, loop.time)
            try:
                async with contextlib.aclosing(connection):
                    async for bar in connection:
                        yield bar
            except _RestartError as restart:
                decision = restart.decision
            except Exception as error:
                found = connect_failure(error, self._clock.now())
                if found is None:
                    raise
                decision = found
            else:
                return
            if decision.fatal:
                raise refused_keys("market-data stream", decision.reason) from None
            if self._closed or self._done(symbols):
                return
            self.reconnects += 1
            delay = backoff.failed(loop.time(), decision.server_wait)
            _log.info(
                "Alpaca bars stream lost (%s); reconnecting in %.2f s",
                decision.reason,
                delay.seconds,
            )
            await self._sleep(delay.seconds)

    async def _connection(
        self,
        symbols: Sequence[str],
        interval: Interval,
        backoff: Backoff,
        now: Callable[[], float],
    ) -> AsyncGenerator[Bar]:
        """Serve one connection: handshake, backfill, then streamed bars until it ends."""
        async with websockets.connect(
            self.config.market_stream_url,
            additional_headers={"Content-Type": "application/msgpack"},
            open_timeout=self.config.timeout_seconds,
            max_size=None,
        ) as socket:
            await self._handshake(socket, symbols)
            backoff.connected_at(now())
            try:
                backfilled = await self._backfill(symbols, interval)
            except Exception as error:  # judged by the shared core: retried unless refused
                raise _RestartError(backfill_failure(error)) from error
            for bar in backfilled:
                yield bar
            async for bar in self._receive(socket, symbols, interval):
                yield bar

    def _done(self, symbols: Sequence[str]) -> bool:
        """Whether a bar opening at or after ``stop_after`` was delivered (a bounded replay)."""
        del symbols
        stop = self._stop_after
        return stop is not None and any(ts >= stop for ts in self._delivered.values())

    async def _handshake(self, socket: Any, symbols: Sequence[str]) -> None:
        _expect(await self._recv(socket), "connected")
        credentials = self._credentials
        auth = {
            "action": "auth",
            "key": credentials.key_id.reveal(),
            "secret": credentials.secret_key.reveal(),
        }
        await socket.send(_msgpack().packb(auth))
        answer = await self._recv(socket)
        _check_error(answer)
        _expect(answer, "authenticated")
        wanted = list(symbols)
        await socket.send(
            _msgpack().packb({"action": "subscribe", "bars": wanted, "updatedBars": wanted})
        )
        while True:
            answer = await self._recv(socket)
            _check_error(answer)
            if any(message.get("T") == "subscription" for message in answer):
                return

    async def _recv(self, socket: Any) -> list[Mapping[str, Any]]:
        try:
            frame = await asyncio.wait_for(socket.recv(), self.config.timeout_seconds)
        except TimeoutError:
            raise _StreamLostError("no answer during the handshake") from None
        return _messages(frame)

    async def _backfill(self, symbols: Sequence[str], interval: Interval) -> list[Bar]:
        """Return the bars that closed since the last one delivered, per symbol (REST)."""
        if not self._delivered:
            return []
        start = min(self._delivered.get(s, min(self._delivered.values())) for s in symbols)
        frame = await self._fetch(symbols, interval, start, self._clock.now() + interval.duration)
        found = [
            bar for bar in (Bar(**row) for row in frame.iter_rows(named=True)) if self._fresh(bar)
        ]
        found.sort(key=lambda bar: (bar.ts, bar.symbol))
        for bar in found:
            self._delivered[str(bar.symbol)] = bar.ts
        self.backfilled += len(found)
        return found

    def _fresh(self, bar: Bar) -> bool:
        last = self._delivered.get(str(bar.symbol))
        return last is None or bar.ts > last

    async def _receive(
        self, socket: Any, symbols: Sequence[str], interval: Interval
    ) -> AsyncIterator[Bar]:
        wanted = set(symbols)
        stale = self.config.stale_after_seconds or None
        while True:
            try:
                frame = await asyncio.wait_for(socket.recv(), stale)
            except TimeoutError:
                self.stale += 1
                raise _StreamLostError(f"no data for {stale} s while connected") from None
            for message in _messages(frame):
                kind = message.get("T")
                if kind == "u":
                    self.updated_bars += 1
                    _log.info(
                        "Alpaca updated bar for %s ignored (already delivered)", message.get("S")
                    )
                    continue
                if kind != "b" or message.get("S") not in wanted:
                    continue
                bar = _bar(message, interval)
                if self._fresh(bar):
                    self._delivered[str(bar.symbol)] = bar.ts
                    yield bar
            if self._done(symbols):
                return

    async def ack(self, ts: datetime) -> None:
        """Tell ``on_ack`` (a lockstep test server) the runtime handled ``ts``; else nothing."""
        if self._on_ack is not None:
            await self._on_ack(ts)

    async def close(self) -> None:
        """Stop streaming; safe to call twice."""
        self._closed = True


def _msgpack() -> Any:
    """Return the msgpack module alpaca-py installs (the market-data stream's framing)."""
    return require("msgpack", "Alpaca's market-data stream")


def _messages(frame: str | bytes) -> list[Mapping[str, Any]]:
    msgpack = _msgpack()
    try:
        decoded = msgpack.unpackb(frame, timestamp=3) if isinstance(frame, bytes) else None
    except (ValueError, msgpack.UnpackException):
        raise _StreamLostError("an unreadable frame") from None
    if decoded is None:
        decoded = json.loads(frame)
    if isinstance(decoded, Mapping):
        return [decoded]
    if not isinstance(decoded, list):
        raise _StreamLostError("a frame that is not a list of messages")
    return [message for message in decoded if isinstance(message, Mapping)]


def _check_error(messages: list[Mapping[str, Any]]) -> None:
    """Raise for an ``error`` message: refused keys stop the feed, other codes reconnect."""
    for message in messages:
        if message.get("T") != "error":
            continue
        code, text = message.get("code"), str(message.get("msg"))[:80]
        if code in _REFUSED_CODES:
            raise AlpacaAuthenticationError(
                f"the market-data stream answered code {code} ({text})",
                code=code if isinstance(code, int) else None,
            )
        raise _StreamLostError(f"the market-data stream answered code {code} ({text})")


def _expect(messages: list[Mapping[str, Any]], word: str) -> None:
    if not any(m.get("T") == "success" and m.get("msg") == word for m in messages):
        raise _StreamLostError(f"expected {word!r}, got {messages!r:.120}")


def _bar(message: Mapping[str, Any], interval: Interval) -> Bar:
    frame = bars_from_alpaca({str(message["S"]): [message]}, interval)
    return Bar(**frame.row(0, named=True))
