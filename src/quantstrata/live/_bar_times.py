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
        """Yield each bar time's bars (sorted by symbol) until ``stream`` ends.

        The stream is read in the caller's task, so a complete bar time reaches the runtime
        without a hop through the event loop. Only while a bar time is incomplete is the next
        read started as a task, to wait for it at most ``grace`` seconds (or, without grace, to
        see whether the feed has it at hand).
        """
        iterator = aiter(stream)
        ahead: asyncio.Task[Bar] | None = None
        try:
            while True:
                if self._pending and self.symbols <= self._pending.keys():
                    yield self._flush()
                    continue
                if self._pending:
                    if ahead is None:
                        ahead = asyncio.create_task(_read(iterator))
                    if not await self._arrives(ahead):
                        yield self._flush()
                        continue
                try:
                    item = await (ahead if ahead is not None else anext(iterator))
                except StopAsyncIteration:
                    ahead = None
                    if self._pending:
                        yield self._flush()
                    return
                ahead = None
                ready = self._add(item)
                if ready is not None:
                    yield ready
        finally:
            await _settle(ahead, iterator)

    async def _arrives(self, ahead: asyncio.Task[Bar]) -> bool:
        """Whether the read ``ahead`` finishes within the grace (without grace: at once)."""
        if self.grace <= 0:
            await asyncio.sleep(0)  # the read runs first: done if the feed had a bar queued
            return ahead.done()
        done, _ = await asyncio.wait({ahead}, timeout=self.grace)
        return bool(done)

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


async def _read(iterator: AsyncIterator[Bar]) -> Bar:
    return await anext(iterator)


async def _settle(ahead: asyncio.Task[Bar] | None, iterator: AsyncIterator[Bar]) -> None:
    """Stop a read still running, then close the stream."""
    if ahead is not None:
        ahead.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await ahead
    close = getattr(iterator, "aclose", None)
    if close is not None:
        with contextlib.suppress(Exception):
            await close()
