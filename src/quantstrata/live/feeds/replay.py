"""Replay a bar frame (the catalog's, a sample's) as a live feed: paper trading on history.

Bars before ``start`` are the history a strategy warms up on; bars from ``start`` on are
delivered one bar time after another, ``pause`` seconds apart (0: as fast as the runtime
takes them).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import datetime

import polars as pl

from quantstrata.core.errors import ConfigError, UnknownSymbolError
from quantstrata.live.feed import LagListener
from quantstrata.model.bar import BAR_COLUMNS, Bar
from quantstrata.model.interval import Interval, interval_from_times

__all__ = ["ReplayFeed", "replay_interval"]


class ReplayFeed:
    """A :class:`~quantstrata.live.feed.Feed` over a canonical bar frame."""

    def __init__(
        self,
        bars: pl.DataFrame,
        interval: Interval | str,
        *,
        start: datetime | None = None,
        pause: float = 0.0,
        name: str = "replay",
    ) -> None:
        """Replay ``bars`` of ``interval`` from ``start`` (all when ``None``), ``pause`` s apart."""
        if pause < 0:
            raise ConfigError(f"pause must be >= 0 seconds, got {pause!r}")
        self.interval = Interval.parse(interval) if isinstance(interval, str) else interval
        self._bars = bars.select(BAR_COLUMNS).sort("ts", "symbol", maintain_order=True)
        self._start = start
        self._pause = pause
        self._name = name
        self._closed = False
        self.acknowledged: datetime | None = None

    @property
    def name(self) -> str:
        """The feed's short name."""
        return self._name

    async def history(
        self, symbols: Sequence[str], interval: Interval, end: datetime, bars: int
    ) -> pl.DataFrame:
        """Return up to ``bars`` bars per symbol that open before ``end`` and the replay start."""
        self._check(interval)
        cutoff = end if self._start is None else min(end, self._start)
        before = self._select(symbols).filter(pl.col("ts") < cutoff)
        if self._start is None:
            before = before.clear()
        return before.group_by("symbol", maintain_order=True).tail(bars).sort("ts", "symbol")

    @property
    def realtime(self) -> bool:
        """Return ``False``: replayed history is never late."""
        return False

    async def bars(
        self,
        symbols: Sequence[str],
        interval: Interval,
        *,
        after: datetime | None = None,
        on_lag: LagListener | None = None,
    ) -> AsyncIterator[Bar]:
        """Yield the replayed bars of ``symbols`` in time order (only those after ``after``).

        ``on_lag`` is never called: a replay is not behind any market.
        """
        del on_lag
        self._check(interval)
        frame = self._select(symbols)
        if self._start is not None:
            frame = frame.filter(pl.col("ts") >= self._start)
        if after is not None:
            frame = frame.filter(pl.col("ts") > after)
        for group in frame.partition_by("ts", maintain_order=True):
            if self._closed:
                return
            for row in group.iter_rows():
                yield Bar(*row)
            await asyncio.sleep(self._pause)

    async def ack(self, ts: datetime) -> None:
        """Remember the last bar time the runtime handled."""
        self.acknowledged = ts

    async def close(self) -> None:
        """Stop replaying; safe to call twice."""
        self._closed = True

    def _check(self, interval: Interval) -> None:
        if interval != self.interval:
            raise ConfigError(f"the feed replays {self.interval} bars, not {interval}")

    def _select(self, symbols: Sequence[str]) -> pl.DataFrame:
        missing = sorted(set(symbols) - set(self._bars["symbol"].unique()))
        if missing:
            raise UnknownSymbolError(f"the replayed bars hold no {missing}")
        return self._bars.filter(pl.col("symbol").is_in(list(symbols)))


def replay_interval(bars: pl.DataFrame) -> str:
    """Return the bar interval of ``bars`` (``"1d"`` below two bars of a symbol).

    The rule is :func:`~quantstrata.model.interval.interval_from_times`: the most common step
    between two bars of a symbol.
    """
    per_symbol = bars.sort("symbol", "ts").partition_by("symbol", maintain_order=True)
    found = interval_from_times(part["ts"].dt.epoch("ns").to_numpy() for part in per_symbol)
    return "1d" if found is None else str(found)
