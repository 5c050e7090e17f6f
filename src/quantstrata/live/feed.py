"""The one interface every market-data feed implements for the live runtime.

A feed delivers closed bars with the catalog's convention (``ts`` is the bar's open time,
UTC). Implementations: replay from the catalog, the simulated venue's stream, and the network
providers' stream clients (TickDB, ccxt). A feed reconnects and backfills on its own; the
runtime only sees bars, in order per symbol, without duplicates.

Two things pass between a feed and the runtime besides bars. ``after``: the open time of the
last bar time the runtime handled (from its journal on a restart, or the last bar it received
when it restarts a feed that stopped); a feed that can backfill starts right after it, so a
restart loses nothing and repeats nothing. ``on_lag``: a feed that measures how far its
connection is behind the market calls it, with a description, whenever it is behind past its
own bound; the runtime turns that into a degraded health state and an alert. Only a
``realtime`` feed (its bars are the market's now, not history replayed) has late bars at all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

import polars as pl

from quantstrata.model.bar import Bar
from quantstrata.model.interval import Interval

__all__ = ["Feed", "LagListener"]

LagListener = Callable[[str], None]
"""Called by a feed with a description (no secret in it) when it falls behind the market."""


@runtime_checkable
class Feed(Protocol):
    """Deliver closed bars for a set of symbols at one interval."""

    @property
    def name(self) -> str:
        """A short name for logs and health reports."""
        ...

    async def history(
        self, symbols: Sequence[str], interval: Interval, end: datetime, bars: int
    ) -> pl.DataFrame:
        """Return up to ``bars`` closed bars per symbol opening before ``end`` (warm-up)."""
        ...

    @property
    def realtime(self) -> bool:
        """Whether bars arrive as the market makes them (``False``: history replayed)."""
        ...

    def bars(
        self,
        symbols: Sequence[str],
        interval: Interval,
        *,
        after: datetime | None = None,
        on_lag: LagListener | None = None,
    ) -> AsyncIterator[Bar]:
        """Yield closed bars as they complete, in time order per symbol, without duplicates.

        With ``after``, start with the bars opening after it (backfilled where the feed can).
        Iterating again after the iteration raised starts the feed anew (the runtime's
        restart after a stop).
        """
        ...

    async def ack(self, ts: datetime) -> None:
        """Note that the runtime finished handling the bars opening at ``ts``.

        A venue replaying in lockstep waits for it before it fills the next bar; a streaming
        feed has nothing to do.
        """
        ...

    async def close(self) -> None:
        """Stop streaming; safe to call twice."""
        ...
