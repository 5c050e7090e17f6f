"""Closed bars by polling TickDB's ``kline/latest`` instead of streaming trades.

:class:`LatestTracker` is the decision without I/O: given the open time of the bar now forming,
it says which closed range to fetch. :class:`KlinePoller` polls, fetches that range over REST and
yields each closed bar once, in order per symbol (the same bars and convention as the stream).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime

import polars as pl

from quantstrata.core.clock import ns_from_datetime
from quantstrata.data.stream.bars import BuiltBar
from quantstrata.data.stream.client import Backfill
from quantstrata.model.interval import Interval

__all__ = ["KlinePoller", "LatestTracker"]

Latest = Callable[[Sequence[str], Interval], Awaitable[pl.DataFrame]]


class LatestTracker:
    """Remember, per symbol, up to where closed bars were delivered."""

    def __init__(self) -> None:
        """Start knowing nothing: the first observation only sets the starting point."""
        self._delivered_until: dict[str, int] = {}

    def observe(self, symbol: str, forming_open_ms: int) -> tuple[int, int] | None:
        """Return the ``[start, end)`` range (ms) that closed since the last observation."""
        previous = self._delivered_until.get(symbol)
        if previous is None:
            self._delivered_until[symbol] = forming_open_ms
            return None
        if forming_open_ms <= previous:
            return None
        self._delivered_until[symbol] = forming_open_ms
        return previous, forming_open_ms


class KlinePoller:
    """Yield closed bars found by polling ``latest`` every ``period_seconds``."""

    def __init__(
        self,
        latest: Latest,
        klines: Backfill,
        symbols: Sequence[str],
        interval: str | Interval,
        *,
        period_seconds: float = 1.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """Use ``latest`` (``AsyncTickDBClient.latest``) and ``klines`` (``.klines``)."""
        self.symbols = tuple(symbols)
        self.interval = Interval.parse(interval)
        self.tracker = LatestTracker()
        self._latest = latest
        self._klines = klines
        self._period = period_seconds
        self._sleep = sleep

    async def bars(self) -> AsyncIterator[BuiltBar]:
        """Poll forever, yielding every bar that closed since the first poll."""
        while True:
            forming = await self._latest(self.symbols, self.interval)
            for symbol, moment in forming.select("symbol", "ts").iter_rows():
                closed = self.tracker.observe(symbol, ns_from_datetime(moment) // 1_000_000)
                if closed is not None:
                    for bar in await self._fetch(symbol, *closed):
                        yield bar
            await self._sleep(self._period)

    async def _fetch(self, symbol: str, start_ms: int, end_ms: int) -> list[BuiltBar]:
        frame = await self._klines(
            symbol,
            self.interval,
            datetime.fromtimestamp(start_ms / 1000, UTC),
            datetime.fromtimestamp(end_ms / 1000, UTC),
        )
        return [
            BuiltBar(symbol, ns_from_datetime(row[0]) // 1_000_000, *row[1:])
            for row in frame.sort("ts")
            .select("ts", "open", "high", "low", "close", "volume")
            .iter_rows()
        ]
