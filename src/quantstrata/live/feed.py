"""The one interface every market-data feed implements for the live runtime.

A feed delivers closed bars with the catalog's convention (``ts`` is the bar's open time,
UTC). Implementations: replay from the catalog, the simulated venue's stream, and the network
providers' stream clients (TickDB, ccxt). A feed reconnects and backfills on its own; the
runtime only sees bars, in order per symbol, without duplicates.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

import polars as pl

from quantstrata.model.bar import Bar
from quantstrata.model.interval import Interval

__all__ = ["Feed"]


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

    def bars(self, symbols: Sequence[str], interval: Interval) -> AsyncIterator[Bar]:
        """Yield closed bars as they complete, in time order per symbol, without duplicates."""
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
