"""The feed of the bars the local simulated venue replays: :class:`VenueFeed`.

It yields the replayed bars and, in lockstep mode, acknowledges each bar time when the runtime
calls :meth:`VenueFeed.ack` (the venue fills the next bar only after that). The transport
(:mod:`quantstrata.live.brokers._venue_client`) is shared with
:class:`~quantstrata.live.brokers.venue.VenueBroker`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

import polars as pl

from quantstrata.core.errors import ConfigError
from quantstrata.core.secrets import Secret
from quantstrata.live.broker import BrokerError
from quantstrata.live.brokers._venue_client import CONNECTION_LOST, VenueClient
from quantstrata.live.brokers._venue_messages import MalformedMessageError, bars_from_message
from quantstrata.live.feed import LagListener
from quantstrata.model.bar import BAR_SCHEMA, Bar
from quantstrata.model.codec import iso
from quantstrata.model.interval import Interval

__all__ = ["VenueFeed"]


class VenueFeed(VenueClient):
    """A :class:`~quantstrata.live.feed.Feed` of the bars the simulated venue replays.

    In lockstep mode the venue waits for :meth:`ack` after each bar time; with ``auto_ack``
    the feed acknowledges a bar time itself when the consumer asks for the next bar.
    """

    def __init__(
        self,
        url: str,
        key: Secret,
        *,
        timeout: float = 5.0,
        reconnect_max: float = 2.0,
        auto_ack: bool = False,
        name: str = "sim-feed",
    ) -> None:
        """Keep the settings; the stream opens when :meth:`bars` is iterated."""
        super().__init__(url, key, timeout=timeout, reconnect_max=reconnect_max)
        self._name = name
        self.auto_ack = auto_ack
        self._acked: datetime | None = None
        self._last: datetime | None = None

    @property
    def name(self) -> str:
        """The feed's short name (``sim-feed``)."""
        return self._name

    async def history(
        self, symbols: Sequence[str], interval: Interval, end: datetime, bars: int
    ) -> pl.DataFrame:
        """Return up to ``bars`` replayed bars per symbol opening before ``end``."""
        await self._check_interval(interval)
        rows: list[dict[str, Any]] = []
        for symbol in symbols:
            params = {"symbol": symbol, "end": iso(end), "limit": bars}
            rows.extend(await self._get_json("/v1/klines", params))
        found = bars_from_message({"bars": rows})
        frame = pl.DataFrame([bar.as_row for bar in found], schema=BAR_SCHEMA, orient="row")
        return frame.sort("ts", "symbol")

    async def ack(self, ts: datetime) -> None:
        """Tell the venue every bar up to ``ts`` is handled (lockstep: it may fill the next)."""
        if self._acked is None or ts > self._acked:
            self._acked = ts
        socket = self._socket
        if socket is not None:
            with contextlib.suppress(*CONNECTION_LOST):
                await socket.send(json.dumps({"op": "ack", "ts": iso(ts)}))

    @property
    def realtime(self) -> bool:
        """Return ``False``: the venue replays history, its bars are never late."""
        return False

    async def bars(
        self,
        symbols: Sequence[str],
        interval: Interval,
        *,
        after: datetime | None = None,
        on_lag: LagListener | None = None,
    ) -> AsyncIterator[Bar]:
        """Yield replayed bars of ``symbols`` in time order, without duplicates, until the end.

        ``after``: start after that bar time; the bars the venue published since come first
        (over REST, as after a reconnect). ``on_lag`` is never called.
        """
        del on_lag
        if after is not None and (self._last is None or self._last < after):
            self._last = after
        async for snapshot in self.snapshots(symbols, interval):
            for bar in snapshot:
                yield bar

    async def snapshots(
        self, symbols: Sequence[str], interval: Interval
    ) -> AsyncIterator[list[Bar]]:
        """Yield the bars of ``symbols`` one bar time at a time (sorted by symbol).

        A bar time is complete when it is yielded, so a lockstep runtime can decide, submit
        and :meth:`ack` per bar time. Bar times without a bar of ``symbols`` are acknowledged
        by the feed itself (the runtime never sees them).
        """
        await self._check_interval(interval)
        wanted = set(symbols)
        backoff = self._backoff()
        while not self.stopped():
            try:
                async with self._connect_stream() as socket:
                    self._socket = socket
                    if self.stopped():
                        return
                    await socket.send(json.dumps({"op": "subscribe", "channels": ["bars"]}))
                    if self._acked is not None:
                        await self.ack(self._acked)
                    backoff.connected_at(asyncio.get_running_loop().time())
                    for group in await self._backfill():
                        async for snapshot in self._deliver(group, wanted):
                            yield snapshot
                    async for raw in socket:
                        message = self._read(raw)
                        if message.get("type") == "end":
                            return
                        async for snapshot in self._deliver(self._new_bars(message), wanted):
                            yield snapshot
            except (*CONNECTION_LOST, BrokerError):
                pass
            finally:
                self._socket = None
            if self.stopped():
                return
            self.reconnects += 1
            await self._pause(backoff)

    async def _deliver(self, found: list[Bar], wanted: set[str]) -> AsyncIterator[list[Bar]]:
        if not found:
            return
        ts = found[0].ts
        chosen = sorted((bar for bar in found if bar.symbol in wanted), key=lambda b: b.symbol)
        if chosen:
            yield chosen
        if self.auto_ack or not chosen:
            await self.ack(ts)

    async def close(self) -> None:
        """Stop streaming and close the HTTP client; safe to call twice."""
        await self._close_http()

    async def _check_interval(self, interval: Interval) -> None:
        status = await self._get_json("/v1/status")
        if Interval.parse(status["interval"]) != Interval.parse(interval):
            raise ConfigError(
                f"the venue replays {status['interval']} bars, the feed was asked for {interval}"
            )

    async def _backfill(self) -> list[list[Bar]]:
        """After a reconnect, return the bar times published while the stream was down."""
        last = self._last
        if last is None:
            return []
        rows = await self._get_json("/v1/klines", {"start": iso(last)})
        missed = [bar for bar in bars_from_message({"bars": rows}) if bar.ts > last]
        groups: dict[datetime, list[Bar]] = {}
        for bar in missed:
            groups.setdefault(bar.ts, []).append(bar)
        if groups:
            self._last = max(groups)
        return [groups[ts] for ts in sorted(groups)]

    def _read(self, raw: str | bytes) -> dict[str, Any]:
        try:
            message = json.loads(raw)
        except ValueError:
            message = None
        if not isinstance(message, dict):
            self.malformed_messages += 1
            return {}
        return message

    def _new_bars(self, message: dict[str, Any]) -> list[Bar]:
        """Return the bars of a ``bars`` message not delivered before (one bar time)."""
        if message.get("type") != "bars" or message.get("ts") is None:
            return []
        try:
            found = bars_from_message(message)
        except MalformedMessageError:
            self.malformed_messages += 1
            return []
        fresh = [bar for bar in found if self._last is None or bar.ts > self._last]
        if fresh:
            self._last = max(bar.ts for bar in fresh)
        return fresh
