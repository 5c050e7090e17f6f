"""The TickDB stream client: a thin asyncio wrapper that carries out :class:`StreamSession`.

One connection at a time (the old socket is closed before a new one opens). Every close, clean
or not, waits a jittered backoff; TickDB 3001/3003 and a handshake 429 wait at least what the
server asks; authentication errors stop the client and call ``on_alert``. Trades become bars
through :class:`~quantstrata.data.stream.bars.BarBuilder`; gaps are filled over REST by the
``backfill`` callable, so consumers see every closed bar once, in order per symbol.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import cast

import polars as pl
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, ConnectionClosedOK

from quantstrata.core.clock import Clock, LiveClock, ns_from_datetime
from quantstrata.core.errors import QuantstrataError
from quantstrata.core.logging import get_logger
from quantstrata.core.secrets import Secret, redact
from quantstrata.data.sources.backoff import Delay
from quantstrata.data.stream.bars import BarBuilder, BuiltBar, StreamGap
from quantstrata.data.stream.config import StreamConfig
from quantstrata.data.stream.messages import (
    Acknowledged,
    ErrorMessage,
    MalformedFrame,
    Pong,
    Trade,
    decode_frame,
    one_trade,
    parse_message,
)
from quantstrata.data.stream.resilience import (
    Reconnect,
    backfill_failure,
    connect_failure,
    keep_connected,
)
from quantstrata.data.stream.session import (
    StreamCounters,
    StreamSession,
    canonical_symbol,
)
from quantstrata.model.interval import Interval

__all__ = ["Backfill", "StreamClosedError", "TickDBStream"]

_LOG = get_logger("data.stream")
_NO_TRADE = 2**63  # the lag (ns) of a check period without a trade
Backfill = Callable[[str, Interval, datetime, datetime], Awaitable[pl.DataFrame]]
"""``backfill(symbol, interval, start, end)``: the closed bars with ``start <= ts < end``.

:meth:`quantstrata.data.sources.AsyncTickDBClient.klines` has this shape.
"""


class StreamClosedError(QuantstrataError):
    """The stream stopped for good (fatal provider error); the message says why, no key in it."""


class _Restart(Exception):  # noqa: N818 - control flow inside the client only
    def __init__(self, decision: Reconnect) -> None:
        super().__init__(decision.reason)
        self.decision = decision


class TickDBStream:
    """Stream closed bars of ``interval`` for ``symbols`` from TickDB's WebSocket."""

    def __init__(
        self,
        api_key: Secret,
        symbols: Sequence[str],
        interval: str | Interval,
        backfill: Backfill,
        *,
        config: StreamConfig | None = None,
        on_alert: Callable[[str], None] | None = None,
        uniform: Callable[[float, float], float] = random.uniform,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Clock | None = None,
        resume_after: datetime | None = None,
        on_lag: Callable[[str], None] | None = None,
    ) -> None:
        """Prepare the client; nothing connects until :meth:`bars` is iterated.

        ``resume_after`` (the open time of the last bar a consumer received, e.g. from its
        journal) makes the first bars the ones after it: the stream backfills the gap over
        REST, so a restart after any stop loses nothing and repeats nothing. ``on_lag`` is
        called (besides ``on_alert``) with the reason whenever the link falls more than
        ``max_lag_seconds`` behind the market, so a consumer can judge its own health.
        """
        self.config = config or StreamConfig()
        self.interval = Interval.parse(interval)
        self.symbols = tuple(symbols)
        self.session = StreamSession(self.config, uniform)
        self.builder = BarBuilder(
            self.interval.nanoseconds // 1_000_000, self.config.late_tolerance_ms
        )
        if resume_after is not None:
            after_ms = ns_from_datetime(resume_after) // 1_000_000
            for symbol in self.symbols:
                self.builder.resume(symbol, after_ms + self.builder.interval_ms)
        self._key = api_key
        self._backfill = backfill
        self._alert = on_alert or (lambda message: _LOG.error("stream alert: %s", message))
        self._on_lag = on_lag
        self._sleep = sleep
        self._queue: asyncio.Queue[BuiltBar | None] = asyncio.Queue(self.config.queue_size)
        self._aliases: dict[str, str] = {}
        self._task: asyncio.Task[None] | None = None
        self._failure: StreamClosedError | None = None
        self._closed = False
        self._finished = False
        self._timer_decision: Reconnect | None = None
        self._streaming = False
        self._clock = clock or LiveClock()
        self._now_ns = self._clock.now_ns
        self._freshest_lag_ns = _NO_TRADE

    def __repr__(self) -> str:
        """Show the endpoint with the key masked."""
        return f"TickDBStream(url={redact(self.config.url, [self._key])!r}, symbols={self.symbols})"

    @property
    def counters(self) -> StreamCounters:
        """Return the session's counters (connections, reconnects, malformed, gaps …)."""
        return self.session.counters

    async def bars(self) -> AsyncIterator[BuiltBar]:
        """Yield closed bars as they complete; raise :class:`StreamClosedError` if fatal."""
        if self._task is None:
            self._task = asyncio.create_task(self._run())
        while True:
            # A closed stream hands over every bar it queued, then ends.
            queue = self._queue
            if not queue.empty():
                item = queue.get_nowait()  # what get() would do, without a coroutine per bar
            elif self._finished:
                item = None
            else:
                item = await queue.get()
            if item is None:
                if self._failure is not None:
                    raise self._failure
                return
            yield item

    async def close(self) -> None:
        """Stop streaming and close the connection; safe to call twice."""
        self._closed = True
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._finish()

    # ------------------------------------------------------------------ connection loop
    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            fatal = await keep_connected(
                self._connect_once,
                self.session.backoff,
                classify=lambda error: connect_failure(error, self._clock.now()),
                sleep=self._sleep,
                now=loop.time,
                stopped=lambda: self._closed,
                on_retry=self._retrying,
            )
            if fatal is not None:
                self._stop(fatal.reason)
        except Exception as error:  # noqa: BLE001 - surfaced to the consumer, never swallowed
            self._stop(f"internal error {type(error).__name__}: {error}")
        finally:
            self._finish()

    def _retrying(self, decision: Reconnect, delay: Delay) -> None:
        self.builder.taint()
        self.session.on_retry(decision, delay)
        reason = redact(decision.reason, [self._key])
        _LOG.warning("stream reconnecting in %.2fs: %s", delay.seconds, reason)

    async def _connect_once(self) -> Reconnect:
        """Open one connection and serve it to its end; a failure to open raises."""
        url = f"{self.config.url}?api_key={self._key.reveal()}"
        socket = await connect(
            url,
            open_timeout=self.config.open_timeout_seconds,
            close_timeout=self.config.close_timeout_seconds,
            ping_interval=self.config.protocol_ping_seconds,
            ping_timeout=self.config.protocol_ping_seconds,
            compression=None,
            proxy=None,
            max_queue=64,
            logger=get_logger("data.stream.websocket"),
        )
        async with socket:
            return await self._serve(socket)

    async def _serve(self, socket: ClientConnection) -> Reconnect:
        loop = asyncio.get_running_loop()
        self.session.on_connected(loop.time())
        self._streaming = False
        frames = self.session.book.resubscribe()
        if not frames and not self.session.book.symbols():
            frames = [self.session.book.request(self.config.channel, self.symbols)]
        self._timer_decision = None
        timer = asyncio.create_task(self._timer(socket))
        try:
            for frame in frames:
                await socket.send(frame)
            receive, handle, time = socket.recv, self._handle, loop.time
            while True:
                # Bytes, not text: orjson reads UTF-8 directly, without an interim str.
                closed = handle(await receive(decode=False), time())
                if closed:
                    queued = self._queue_ready(closed)
                    if queued < len(closed):
                        await self._deliver(closed[queued:])
        except ConnectionClosedOK:
            return self._timer_decision or Reconnect(f"server closed ({socket.close_code})")
        except _Restart as restart:
            return restart.decision
        except ConnectionClosed as error:
            code = error.rcvd.code if error.rcvd else "no close frame"
            return self._timer_decision or Reconnect(f"connection lost ({code})")
        finally:
            timer.cancel()
            await asyncio.gather(timer, return_exceptions=True)
            await socket.close()

    async def _timer(self, socket: ClientConnection) -> None:
        loop = asyncio.get_running_loop()
        tick = min(self.config.heartbeat_seconds, self.config.stale_after_seconds) / 4
        while True:
            await asyncio.sleep(tick)
            ping, decision = self.session.on_timer(loop.time())
            lag, self._freshest_lag_ns = self._freshest_lag_ns, _NO_TRADE
            if decision is None:
                decision = self.session.on_lag(lag / 1e9 if lag != _NO_TRADE else None)
                if decision is not None:
                    self._alert(decision.reason)
                    if self._on_lag is not None:
                        self._on_lag(decision.reason)
            if decision is not None:
                _LOG.warning("stream: %s", decision.reason)
                self._timer_decision = decision
                await socket.close(code=1000, reason="reconnect")
                return
            if ping is not None:
                await socket.send(ping)

    def _handle(self, message: str | bytes, now: float) -> list[BuiltBar | StreamGap]:
        """Apply one frame; return the bars and gaps it closed (the hot path: no awaits)."""
        counters = self.session.counters
        counters.messages += 1
        try:
            frame = decode_frame(message)
        except MalformedFrame:
            counters.malformed += 1
            return []
        trade = one_trade(frame)
        if trade is None:
            return self._handle_events(frame, now)
        # The usual frame, one trade: what _add_trades does, without the Trade and the lists.
        self.session.on_data(now)
        symbol, timestamp_ms, price, quantity, key = trade
        builder = self.builder
        lag = self._now_ns() - timestamp_ms * 1_000_000
        self._freshest_lag_ns = min(self._freshest_lag_ns, lag)
        closed = builder.add(
            self._aliases.get(symbol) or self._alias(symbol), timestamp_ms, price, quantity, key
        )
        counters.duplicates, counters.late = builder.duplicates, builder.late
        return closed

    def _handle_events(self, frame: object, now: float) -> list[BuiltBar | StreamGap]:
        try:
            events = parse_message(frame)
        except MalformedFrame:
            self.session.counters.malformed += 1
            return []
        if events and type(events[0]) is Trade:  # a trade frame holds only trades
            return self._add_trades(cast("list[Trade]", events), now)
        for event in events:
            if isinstance(event, Pong):
                self.session.on_pong(now)
            elif isinstance(event, Acknowledged):
                self.session.book.acknowledge(event)
                if not self._streaming:  # trades flow from here: older ones were missed
                    self._streaming = True
                    self.builder.reopened(self._clock.now_ns() // 1_000_000)
            elif isinstance(event, ErrorMessage):
                decision = self.session.on_error(event)
                if decision is not None:
                    raise _Restart(decision)
                self._alert(f"TickDB refused {event.command}: {event.code} {event.message}")
            else:
                self.session.on_data(now)
        return []

    def _add_trades(self, trades: list[Trade], now: float) -> list[BuiltBar | StreamGap]:
        self.session.on_data(now)
        builder = self.builder
        add, aliases = builder.add, self._aliases
        closed: list[BuiltBar | StreamGap] = []
        for symbol, timestamp_ms, price, quantity, key in trades:
            name = aliases.get(symbol) or self._alias(symbol)
            ended = add(name, timestamp_ms, price, quantity, key)
            if ended:
                closed += ended
        lag = self._now_ns() - max(trade[1] for trade in trades) * 1_000_000
        self._freshest_lag_ns = min(self._freshest_lag_ns, lag)
        counters = self.session.counters
        counters.duplicates, counters.late = builder.duplicates, builder.late
        return closed

    def _alias(self, pushed: str) -> str:
        name = canonical_symbol(pushed, self.symbols)
        self._aliases[pushed] = name
        return name

    def _queue_ready(self, closed: list[BuiltBar | StreamGap]) -> int:
        """Queue the leading bars while there is room (no awaits); return how many."""
        put = self._queue.put_nowait
        for position, item in enumerate(closed):
            if type(item) is not BuiltBar:
                return position
            try:
                put(item)
            except asyncio.QueueFull:
                return position
        return len(closed)

    async def _deliver(self, closed: list[BuiltBar | StreamGap]) -> None:
        for position, item in enumerate(closed):
            if isinstance(item, StreamGap):
                try:
                    filled = await self._fill(item)
                except Exception as error:
                    self._undeliver(closed[position:])
                    raise _Restart(backfill_failure(error)) from error
                # Backfilled bars are in hand and bounded by one range: wait for room (progress
                # after every reconnect), never drop them.
                for bar in filled:
                    await self._queue.put(bar)
            elif not await self._offer(item):
                await self._overflowed(item, closed[position + 1 :])
                return

    async def _offer(self, bar: BuiltBar) -> bool:
        if not self._queue.full():
            self._queue.put_nowait(bar)
            return True
        if self.config.overflow == "drop_oldest":
            self._queue.get_nowait()
            self.session.counters.bars_dropped += 1
            self._queue.put_nowait(bar)
            return True
        try:
            await asyncio.wait_for(self._queue.put(bar), self.config.overflow_wait_seconds)
        except TimeoutError:
            return False
        return True

    async def _overflowed(self, bar: BuiltBar, rest: list[BuiltBar | StreamGap]) -> None:
        self.session.counters.overflows += 1
        self._undeliver([bar, *rest])
        raise _Restart(Reconnect("the consumer is too slow: bar queue full"))

    def _undeliver(self, items: list[BuiltBar | StreamGap]) -> None:
        """Forget that ``items`` were closed: the next connection's gap covers them again."""
        for item in items:
            start = item.start_ms if isinstance(item, StreamGap) else item.ts_ms
            self.builder.taint(item.symbol, rewind_to_ms=start)

    async def _fill(self, gap: StreamGap) -> list[BuiltBar]:
        self.session.counters.gaps += 1
        start = datetime.fromtimestamp(gap.start_ms / 1000, UTC)
        end = datetime.fromtimestamp(gap.end_ms / 1000, UTC)
        frame = await self._backfill(gap.symbol, self.interval, start, end)
        bars = [
            BuiltBar(gap.symbol, ns_from_datetime(row[0]) // 1_000_000, *row[1:])
            for row in frame.filter(pl.col("symbol") == gap.symbol)
            .sort("ts")
            .select("ts", "open", "high", "low", "close", "volume")
            .iter_rows()
        ]
        self.session.counters.backfilled_bars += len(bars)
        return [bar for bar in bars if gap.start_ms <= bar.ts_ms < gap.end_ms]

    def _stop(self, reason: str) -> None:
        message = redact(reason, [self._key])
        self._failure = StreamClosedError(f"the TickDB stream stopped: {message}")
        self._alert(message)

    def _finish(self) -> None:
        if self._finished:
            return
        self._finished = self._closed = True
        # Wake a consumer waiting on an empty queue. A full queue needs no wake-up (the
        # consumer sees the end once it has taken every bar), and dropping a queued bar to make
        # room would leave a hole before the bars after it.
        if not self._queue.full():
            self._queue.put_nowait(None)
