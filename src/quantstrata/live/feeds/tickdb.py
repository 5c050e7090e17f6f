"""TickDB as a live :class:`~quantstrata.live.feed.Feed`: REST warm-up plus the stream client.

Bars follow the catalog's convention (``ts`` is the open time, UTC). Reconnection, backfill and
de-duplication happen inside :class:`~quantstrata.data.stream.TickDBStream`; this adapter only
turns its bars into :class:`~quantstrata.model.bar.Bar` values.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import polars as pl

from quantstrata.core.errors import ConfigError
from quantstrata.core.secrets import Secret
from quantstrata.data.sources import AsyncTickDBClient, TickDBConfig
from quantstrata.data.stream import StreamConfig, TickDBStream
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
    ) -> None:
        """Prepare the REST client; the stream opens when :meth:`bars` is first iterated."""
        self.config = config or TickDBConfig()
        self._key = api_key
        self._stream_config = stream_config or StreamConfig(url=self.config.websocket_url)
        self._rest = AsyncTickDBClient(api_key, config=self.config)
        self._stream: TickDBStream | None = None

    @property
    def name(self) -> str:
        """Return ``tickdb``."""
        return "tickdb"

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

    async def bars(self, symbols: Sequence[str], interval: Interval) -> AsyncIterator[Bar]:
        """Yield closed bars as they complete, in time order per symbol, without duplicates."""
        if self._stream is not None:
            raise ConfigError("this TickDBFeed is already streaming; open one feed per stream")
        self._stream = TickDBStream(
            self._key, symbols, interval, self._rest.klines, config=self._stream_config
        )
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

    async def ack(self, ts: datetime) -> None:
        """Do nothing: a streaming provider does not wait for the runtime."""
        del ts

    async def close(self) -> None:
        """Stop streaming and close the HTTP pool; safe to call twice."""
        if self._stream is not None:
            await self._stream.close()
        await self._rest.close()
