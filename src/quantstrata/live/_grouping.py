"""Group a feed's bars into bar times: the bars of every symbol that share one open time.

A bar time is handed on when every traded symbol has its bar, when a bar of a later time
arrives, or when the feed has nothing more queued and ``grace`` seconds passed (a symbol without
a bar at that time: a holiday, a halt). A replaying venue sends a bar time in one message, so a
grace of 0 never splits one. A bar at or before a time already handed on is late: counted,
logged and dropped, never handled twice.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import datetime

from quantstrata.core.logging import get_logger
from quantstrata.model.bar import Bar

__all__ = ["BarGrouper"]

_LOG = get_logger("live.bars")
_END = object()


class BarGrouper:
    """Turn a stream of bars into bar times, in order, each at most once."""

    def __init__(
        self, symbols: Sequence[str], *, grace: float = 0.0, after: datetime | None = None
    ) -> None:
        """Expect bars of ``symbols`` opening after ``after``; wait ``grace`` s for missing ones."""
        self.symbols = frozenset(symbols)
        self.grace = grace
        self.late_bars = 0
        self._pending: dict[str, Bar] = {}
        self._last: datetime | None = after

    async def groups(self, stream: AsyncIterator[Bar]) -> AsyncIterator[list[Bar]]:
        """Yield each bar time's bars (sorted by symbol) until ``stream`` ends."""
        queue: asyncio.Queue[object] = asyncio.Queue()
        pump = asyncio.create_task(_pump(stream, queue))
        try:
            while True:
                item = await self._next(queue)
                if item is None:
                    yield self._flush()
                    continue
                if item is _END:
                    if self._pending:
                        yield self._flush()
                    break
                if isinstance(item, BaseException):
                    raise item
                if isinstance(item, Bar):
                    ready = self._add(item)
                    if ready is not None:
                        yield ready
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump

    async def _next(self, queue: asyncio.Queue[object]) -> object | None:
        """Return the next queued item, or ``None`` when the pending bar time is complete."""
        if self._pending and self.symbols <= set(self._pending):
            return None
        if self._pending and queue.empty():
            if self.grace <= 0:
                return None
            try:
                return await asyncio.wait_for(queue.get(), timeout=self.grace)
            except TimeoutError:
                return None
        return await queue.get()

    def _add(self, bar: Bar) -> list[Bar] | None:
        if (self._last is not None and bar.ts <= self._last) or bar.symbol not in self.symbols:
            self.late_bars += 1
            _LOG.warning("dropped a late or unexpected bar: %s at %s", bar.symbol, bar.ts)
            return None
        ready = None
        if self._pending and bar.ts > next(iter(self._pending.values())).ts:
            ready = self._flush()
        elif self._pending and bar.ts < next(iter(self._pending.values())).ts:
            self.late_bars += 1
            _LOG.warning("dropped an out-of-order bar: %s at %s", bar.symbol, bar.ts)
            return None
        self._pending[bar.symbol] = bar
        return ready

    def _flush(self) -> list[Bar]:
        bars = [self._pending[symbol] for symbol in sorted(self._pending)]
        self._pending = {}
        self._last = bars[0].ts
        return bars


async def _pump(stream: AsyncIterator[Bar], queue: asyncio.Queue[object]) -> None:
    try:
        async for bar in stream:
            queue.put_nowait(bar)
    except Exception as error:  # noqa: BLE001 - handed to the consumer, which raises it
        queue.put_nowait(error)
    queue.put_nowait(_END)
