"""TickDB as a live :class:`~quantstrata.live.feed.Feed`: REST warm-up plus the stream client.

Bars follow the catalog's convention (``ts`` is the open time, UTC). Reconnection, backfill and
de-duplication happen inside :class:`~quantstrata.data.stream.TickDBStream`; this adapter
turns its bars into :class:`~quantstrata.model.bar.Bar` values, starts the stream after the bar
the runtime names (``after``: backfilled over REST) and passes the stream's lateness alarm on
(``on_lag``). After a fatal stop (the stream raised), :meth:`TickDBFeed.bars` may be called
again: a new stream starts, after the bar the runtime names.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import polars as pl

from quantstrata.core.clock import Clock
from quantstrata.core.errors import ConfigError
from quantstrata.core.secrets import Secret
from quantstrata.data.sources import AsyncTickDBClient, TickDBConfig
from quantstrata.data.stream import StreamConfig, TickDBStream
from quantstrata.live.feed import LagListener
from quantstrata.model.bar import Bar
from quantstrata.model.identifiers import Symbol
from quantstrata.model.interval import Interval

__all__ = ["TickDBFeed"]


class TickDBFeed:
    """Closed TickDB bars for the live runtime; one stream at a time."""

    def __init__(
        self,
        api_key: Secret,
        *,
        config: TickDBConfig | None = None,
        stream_config: StreamConfig | None = None,
        clock: Clock | None = None,
    ) -> None:
        """Prepare the REST client; the stream opens when :meth:`bars` is first iterated.

        ``clock`` measures how far the stream is behind the market (the wall clock if ``None``).
        """
        self.config = config or TickDBConfig()
        self._key = api_key
        self._stream_config = stream_config or StreamConfig(url=self.config.websocket_url)
        self._rest = AsyncTickDBClient(api_key, config=self.config)
        self._stream: TickDBStream | None = None
        self._clock = clock
        self._streaming = False
        self._closed = False

    @property
    def name(self) -> str:
        """Return ``tickdb``."""
        return "tickdb"

    @property
    def realtime(self) -> bool:
        """Return ``True``: TickDB streams the market as it trades."""
        return True

    def __repr__(self) -> str:
        """Show the endpoints, never the key."""
        return f"TickDBFeed(rest={self._rest!r})"

    async def history(
        self, symbols: Sequence[str], interval: Interval, end: datetime, bars: int
    ) -> pl.DataFrame:
        """Return up to ``bars`` closed bars per symbol opening before ``end``."""
        if not interval.is_fixed:
            raise ConfigError(f"history needs a fixed-length interval, got {interval}")
        start = end - interval.duration * bars
        frames = [await self._rest.klines(symbol, interval, start, end) for symbol in symbols]
        frames = [frame.tail(bars) for frame in frames if frame.height]
        if not frames:
            return pl.DataFrame(schema={"ts": pl.Datetime("ns", "UTC"), "symbol": pl.String})
        return pl.concat(frames).sort(["symbol", "ts"])

    async def bars(
        self,
        symbols: Sequence[str],
        interval: Interval,
        *,
        after: datetime | None = None,
        on_lag: LagListener | None = None,
    ) -> AsyncIterator[Bar]:
        """Yield closed bars as they complete, in time order per symbol, without duplicates.

        ``after``: start with the bars opening after it (the gap comes over REST).
        """
        if self._streaming:
            raise ConfigError("this TickDBFeed is already streaming; open one feed per stream")
        if self._closed:
            return
        self._streaming = True
        self._stream = TickDBStream(
            self._key,
            symbols,
            interval,
            self._rest.klines,
            config=self._stream_config,
            clock=self._clock,
            resume_after=after,
            on_lag=on_lag,
        )
        try:
            async for built in self._stream.bars():
                yield Bar(
                    datetime.fromtimestamp(built.ts_ms / 1000, UTC),
                    Symbol(built.symbol),
                    built.open,
                    built.high,
                    built.low,
                    built.close,
                    built.volume,
                )
        finally:
            await self._stream.close()
            self._streaming = False

    async def ack(self, ts: datetime) -> None:
        """Do nothing: a streaming provider does not wait for the runtime."""
        del ts

    async def close(self) -> None:
        """Stop streaming and close the HTTP pool; safe to call twice."""
        self._closed = True
        if self._stream is not None:
            await self._stream.close()
        await self._rest.close()
