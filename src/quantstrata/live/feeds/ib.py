"""Interactive Brokers market data as a live :class:`~quantstrata.live.feed.Feed`: :class:`IBFeed`.

IB streams *real-time bars*: one 5-second bar per symbol (``reqRealTimeBars``, ``TRADES``).
:class:`IBFeed` builds the strategy's interval from them with the shared
:class:`~quantstrata.data.stream.bars.BarBuilder` (each 5-second bar is its open, high, low and
close in that order, its volume on the close); a bar is delivered as soon as the 5-second bar
that ends its interval arrives. The first interval seen after each (re)connection is only
partly streamed: the builder reports it as a gap, filled from IB's historical bars
(``reqHistoricalData`` at the strategy's bar size), as is everything since ``after`` on a
restart. Warm-up history comes from the same request.

Historical requests keep IB's pacing rules (:class:`HistoryPacer`: at most 60 requests in ten
minutes, the same request not again within 15 seconds); a pacing violation IB still reports
(error 162) is waited out and retried. The connection (its own client id, the broker's plus
one by default) reconnects with the shared backoff like the broker's.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from quantstrata.core.clock import Clock, LiveClock
from quantstrata.core.errors import ConfigError
from quantstrata.data.stream.bars import BarBuilder, BuiltBar, StreamGap
from quantstrata.live.broker import BrokerUnavailableError
from quantstrata.live.brokers._ib_link import IBConfig, IBLink, sdk
from quantstrata.live.feed import LagListener
from quantstrata.model.bar import BAR_SCHEMA, Bar
from quantstrata.model.identifiers import Symbol
from quantstrata.model.interval import Interval, IntervalUnit

__all__ = ["HistoryPacer", "IBFeed", "bar_size", "duration_text"]

_log = logging.getLogger("quantstrata.live.ib")
_FIVE_SECONDS_MS = 5_000
_UNITS = {
    IntervalUnit.SECOND: "secs",
    IntervalUnit.MINUTE: "mins",
    IntervalUnit.HOUR: "hours",
    IntervalUnit.DAY: "day",
    IntervalUnit.WEEK: "week",
    IntervalUnit.MONTH: "month",
}


def bar_size(interval: Interval) -> str:
    """Return IB's ``barSizeSetting`` for ``interval`` (``"5 mins"``, ``"1 hour"``, ``"1 day"``)."""
    unit = _UNITS[interval.unit]
    if interval.unit in (IntervalUnit.DAY, IntervalUnit.WEEK, IntervalUnit.MONTH):
        if interval.count != 1:
            raise ConfigError(f"IB has no {interval} bars: only 1 day, 1 week and 1 month")
        return f"1 {unit}"
    if interval.count == 1 and interval.unit is not IntervalUnit.SECOND:
        unit = unit[:-1]  # "1 min", "1 hour"
    return f"{interval.count} {unit}"


def duration_text(span: timedelta) -> str:
    """Return IB's ``durationStr`` covering ``span`` (seconds up to a day, then days, years)."""
    seconds = max(1, math.ceil(span.total_seconds()))
    if seconds <= 86_400:
        return f"{seconds} S"
    days = math.ceil(seconds / 86_400)
    if days <= 365:
        return f"{days} D"
    return f"{math.ceil(days / 365)} Y"


class HistoryPacer:
    """IB's historical-data pacing: a request waits until it is allowed (pure but the clock).

    At most ``limit`` requests in any ``window`` seconds, and an identical request (same
    contract, end, duration and bar size) not again within ``repeat_after`` seconds.
    """

    def __init__(
        self,
        now: Callable[[], float],
        *,
        limit: int = 60,
        window: float = 600.0,
        repeat_after: float = 15.0,
    ) -> None:
        """Start with no request made."""
        self._now = now
        self.limit = limit
        self.window = window
        self.repeat_after = repeat_after
        self._times: deque[float] = deque()
        self._last: dict[tuple[object, ...], float] = {}

    def wait_for(self, key: tuple[object, ...]) -> float:
        """Return how long a request ``key`` must wait now (0: it may go)."""
        now = self._now()
        while self._times and now - self._times[0] >= self.window:
            self._times.popleft()
        wait = 0.0
        if len(self._times) >= self.limit:
            wait = self._times[0] + self.window - now
        last = self._last.get(key)
        if last is not None:
            wait = max(wait, last + self.repeat_after - now)
        return max(wait, 0.0)

    def sent(self, key: tuple[object, ...]) -> None:
        """Note that request ``key`` was sent now."""
        now = self._now()
        self._times.append(now)
        self._last[key] = now


class IBFeed:
    """Closed bars of stocks from TWS / IB Gateway for the live runtime; one stream at a time."""

    def __init__(
        self,
        config: IBConfig,
        *,
        client_id: int | None = None,
        ib: Any = None,
        on_ack: Callable[[datetime], Awaitable[None]] | None = None,
        stop_after: datetime | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        uniform: Callable[[float, float], float] = random.uniform,
        clock: Clock | None = None,
    ) -> None:
        """Keep the settings; nothing connects until :meth:`history` or :meth:`bars`.

        ``on_ack`` is told each bar time the runtime finished (a lockstep test server waits
        for it); ``stop_after`` ends the stream after a bar opening at or after it.
        """
        chosen = config.client_id + 1 if client_id is None else client_id
        self.config = IBConfig(**{**_fields(config), "client_id": chosen})
        self.ib = ib if ib is not None else sdk().IB()
        self.link = IBLink(self.config, self.ib, self._connected, sleep=sleep, uniform=uniform)
        self._sleep = sleep
        self._clock = clock if clock is not None else LiveClock()
        self._on_ack = on_ack
        self._stop_after = stop_after
        self._contracts: dict[str, Any] = {}
        self._queue: asyncio.Queue[tuple[str, Any] | None] = asyncio.Queue()
        self._subscribed: list[Any] = []
        self._symbols: list[str] = []
        self._builder: BarBuilder | None = None
        self._streaming = False
        self._closed = False
        self.pacer = HistoryPacer(lambda: asyncio.get_running_loop().time())
        self.backfilled = 0
        self.paced = 0
        self._refused_pacing = False
        self.ib.barUpdateEvent += self._on_bar
        self.ib.disconnectedEvent += self._on_disconnected
        self.ib.errorEvent += self._on_error

    def __repr__(self) -> str:
        """Show the endpoint."""
        return f"IBFeed({self.config.host}:{self.config.port}, client {self.config.client_id})"

    @property
    def name(self) -> str:
        """``ib``."""
        return "ib"

    @property
    def realtime(self) -> bool:
        """Return ``True``: IB streams the market as it trades."""
        return True

    @property
    def reconnects(self) -> int:
        """How many times the socket was lost and opened again."""
        return self.link.reconnects

    async def _open(self) -> None:
        if not self.ib.isConnected():
            await self.link.open()

    async def _connected(self) -> None:
        """After every (re)connection: subscribe again; the partly seen interval is a gap."""
        self._subscribed = []
        if self._builder is not None:
            self._builder.taint()
            self._builder.reopened(int(self._clock.now().timestamp() * 1000))
        for symbol in self._symbols:
            contract = await self._contract(symbol)
            bars = self.ib.reqRealTimeBars(contract, 5, "TRADES", useRTH=False)
            self._subscribed.append(bars)

    def _on_disconnected(self) -> None:
        self.link.dropped()

    async def _contract(self, symbol: str) -> Any:
        known = self._contracts.get(symbol)
        if known is None:
            stock = sdk().Stock(symbol, self.config.exchange, self.config.currency)
            [known] = await self.ib.qualifyContractsAsync(stock)
            if known is None:
                raise ConfigError(f"IB knows no stock {symbol!r}")
            self._contracts[symbol] = known
        return known

    # ------------------------------------------------------------------ history

    async def history(
        self, symbols: Sequence[str], interval: Interval, end: datetime, bars: int
    ) -> pl.DataFrame:
        """Return up to ``bars`` closed bars per symbol opening before ``end``."""
        await self._open()
        span = interval.duration if interval.is_fixed else timedelta(days=31)
        lookback = span * bars
        if span >= timedelta(days=1):
            lookback = lookback * 1.5 + timedelta(days=10)  # weekends and holidays
        rows: list[Bar] = []
        for symbol in symbols:
            found = await self._historical(symbol, interval, end, lookback)
            closed = [bar for bar in found if bar.ts + span <= end]
            rows.extend(closed[-bars:])
        return _frame(rows)

    async def _historical(
        self, symbol: str, interval: Interval, end: datetime, span: timedelta
    ) -> list[Bar]:
        """Ask IB for ``symbol``'s bars in ``span`` before ``end`` (paced, 162 retried)."""
        contract = await self._contract(symbol)
        stamp = end.astimezone(UTC).strftime("%Y%m%d-%H:%M:%S")
        size, duration = bar_size(interval), duration_text(span)
        key = (symbol, stamp, duration, size)
        for _ in range(5):
            wait = self.pacer.wait_for(key)
            if wait > 0:
                self.paced += 1
                await self._sleep(wait)
            self.pacer.sent(key)
            found = await self.ib.reqHistoricalDataAsync(
                contract, stamp, duration, size, "TRADES", useRTH=True, formatDate=2
            )
            if found or not self._pacing_refused():
                return [_bar(symbol, item) for item in found]
        raise BrokerUnavailableError(f"IB historical bars of {symbol}: pacing violations")

    def _pacing_refused(self) -> bool:
        """Whether IB's last answer was a pacing violation (error 162); reset it."""
        refused, self._refused_pacing = self._refused_pacing, False
        return refused

    # ------------------------------------------------------------------ stream

    async def bars(
        self,
        symbols: Sequence[str],
        interval: Interval,
        *,
        after: datetime | None = None,
        on_lag: LagListener | None = None,
    ) -> AsyncIterator[Bar]:
        """Yield closed bars built from 5-second bars; gaps (and ``after``) backfilled."""
        del on_lag
        if self._streaming:
            raise ConfigError("this IBFeed is already streaming; open one feed per stream")
        if not interval.is_fixed or interval.seconds % 5:
            raise ConfigError(f"IB real-time bars build only multiples of 5 s, not {interval}")
        self._streaming = True
        self._closed = False
        self._symbols = [str(symbol) for symbol in symbols]
        builder = self._builder = BarBuilder(interval.seconds * 1000)
        if after is not None:
            for symbol in self._symbols:
                builder.resume(symbol, int((after + interval.duration).timestamp() * 1000))
        try:
            await self._open()
            if not self._subscribed:
                await self._connected()
            async for bar in self._receive(builder, interval):
                yield bar
                if self._stop_after is not None and bar.ts >= self._stop_after:
                    return
        finally:
            self._streaming = False

    async def _receive(self, builder: BarBuilder, interval: Interval) -> AsyncIterator[Bar]:
        while not self._closed:
            item = await self._queue.get()
            if item is None:
                return
            symbol, five = item
            start_ms = int(five.time.timestamp() * 1000)
            points = (
                (five.open_, 0.0),
                (five.high, 0.0),
                (five.low, 0.0),
                (five.close, float(five.volume)),
            )
            closed: list[BuiltBar | StreamGap] = []
            for offset, (price, volume) in enumerate(points):
                closed += builder.add(symbol, start_ms + offset, price, volume, (start_ms, offset))
            closed += builder.advance(start_ms + _FIVE_SECONDS_MS)
            for done in closed:
                if isinstance(done, StreamGap):
                    for bar in await self._backfill(done, interval):
                        yield bar
                else:
                    yield _built(done)

    async def _backfill(self, gap: StreamGap, interval: Interval) -> list[Bar]:
        start = datetime.fromtimestamp(gap.start_ms / 1000, UTC)
        end = datetime.fromtimestamp(gap.end_ms / 1000, UTC)
        found = await self._historical(gap.symbol, interval, end, end - start)
        bars = [bar for bar in found if start <= bar.ts < end]
        self.backfilled += len(bars)
        return bars

    def _on_bar(self, bars: Any, has_new_bar: bool) -> None:
        if has_new_bar and bars in self._subscribed and bars:
            self._queue.put_nowait((str(bars.contract.symbol), bars[-1]))

    def _on_error(self, _request_id: int, code: int, message: str, _contract: Any = None) -> None:
        if code == 162 and "pacing" in message.lower():
            self._refused_pacing = True

    async def ack(self, ts: datetime) -> None:
        """Tell ``on_ack`` (a lockstep test server) the runtime handled ``ts``; else nothing."""
        if self._on_ack is not None:
            await self._on_ack(ts)

    async def close(self) -> None:
        """Stop streaming and disconnect; safe to call twice."""
        self._closed = True
        self._queue.put_nowait(None)
        await self.link.close()


def _fields(config: IBConfig) -> dict[str, Any]:
    return {name: getattr(config, name) for name in config.__dataclass_fields__}


def _bar(symbol: str, item: Any) -> Bar:
    """Return our bar of an IB historical bar (``date``: a date for daily bars, else UTC)."""
    moment = item.date
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return Bar(
        moment.astimezone(UTC),
        Symbol(symbol),
        float(item.open),
        float(item.high),
        float(item.low),
        float(item.close),
        float(item.volume),
    )


def _built(done: BuiltBar) -> Bar:
    moment = datetime.fromtimestamp(done.ts_ms / 1000, UTC)
    return Bar(moment, Symbol(done.symbol), done.open, done.high, done.low, done.close, done.volume)


def _frame(rows: list[Bar]) -> pl.DataFrame:
    frame = pl.DataFrame([bar.as_row for bar in rows], schema=BAR_SCHEMA, orient="row")
    return frame.sort("symbol", "ts")
