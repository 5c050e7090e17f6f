"""The venue: replay bars, keep the book, persist it, and publish what happens.

:class:`Venue` ties the pieces together. The replay task publishes one bar time after another
at the configured speed; before publishing bar *t + 1* it matches the working orders against it
(so an order sent after bar *t* fills on *t + 1*, as in the backtest), writes the state file,
and then publishes the order updates and the bars. Every change of the book happens under one
lock; the venue's time is the replay time (the open time of the last published bar).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import polars as pl

from quantstrata.core.errors import ConfigError
from quantstrata.model.bar import BAR_COLUMNS, Bar
from quantstrata.model.codec import bar_to_json, fill_to_json, iso, order_to_json
from quantstrata.model.identifiers import ClientOrderId, Symbol
from quantstrata.model.interval import Interval
from quantstrata.model.orders import (
    Accepted,
    FillEvent,
    Order,
    OrderEvent,
    OrderRequest,
)
from quantstrata.venue._hub import BARS, ORDERS, StreamHub
from quantstrata.venue._store import VenueStore
from quantstrata.venue.book import CancelOutcome, SubmitOutcome, VenueBook
from quantstrata.venue.config import FaultConfig, ReplayMode, VenueConfig

__all__ = ["Venue", "bar_snapshots", "event_name"]

_MONTH_SECONDS = 30 * 86_400
_FAULT_REJECTION = "fault: rejected by injection"


def event_name(event: OrderEvent) -> str:
    """Return the wire name of a venue event: ``accepted``, ``fill``, ``cancelled`` …."""
    return "fill" if isinstance(event, FillEvent) else str(event.kind)


def bar_snapshots(bars: pl.DataFrame) -> tuple[list[datetime], list[dict[Symbol, Bar]]]:
    """Return the bar times of a canonical frame sorted by time, and each time's bars by symbol."""
    times: list[datetime] = []
    snapshots: list[dict[Symbol, Bar]] = []
    for frame in bars.partition_by("ts", maintain_order=True):
        now = [Bar(*row) for row in frame.select(BAR_COLUMNS).iter_rows()]
        times.append(now[0].ts)
        snapshots.append({bar.symbol: bar for bar in now})
    return times, snapshots


class Venue:
    """The simulated venue replaying ``bars`` (a canonical bar frame) at ``interval``."""

    def __init__(self, bars: pl.DataFrame, config: VenueConfig, *, interval: str) -> None:
        """Index the bars by time, open the state file and restore the book from it."""
        if bars.is_empty():
            raise ConfigError("the venue needs bars to replay, got an empty frame")
        self.config = config
        self.interval = Interval.parse(interval)
        self.bars = bars.select(BAR_COLUMNS).sort("ts", "symbol")
        self.symbols = sorted(self.bars["symbol"].unique().to_list())
        self.times, self.snapshots = bar_snapshots(self.bars)
        self.book = VenueBook(config, self.symbols, bar_length=self.interval.bar_length)
        self.store = VenueStore(config.state)
        self.store.check_dataset(self.symbols, str(self.interval))
        self.position = self._restore()
        self.faults = config.faults
        self.hub = StreamHub()
        self.finished = False
        self._lock = asyncio.Lock()
        self._held: dict[ClientOrderId, Accepted] = {}
        self._published = 0

    def _restore(self) -> int:
        cursor = self.store.load(self.book)
        if cursor is None:
            return -1
        if cursor not in self.times:
            raise ConfigError(f"state file {self.store.path} stopped at {cursor}, not in the data")
        position = self.times.index(cursor)
        for snapshot in self.snapshots[: position + 1]:
            self.book.latest.update(snapshot)
        return position

    # -- reads ---------------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        """The venue's time: the open time of the last published bar (the first before that)."""
        return self.times[max(self.position, 0)]

    def order_json(self, order: Order) -> dict[str, Any]:
        """Return the wire form of ``order`` with its fills."""
        values = order_to_json(order)
        values["fills"] = [fill_to_json(fill) for fill in self.book.fills_of(order.order_id)]
        return values

    def klines(
        self,
        symbol: str | None,
        start: datetime | None,
        end: datetime | None,
        limit: int,
    ) -> pl.DataFrame:
        """Return published bars in ``[start, end)`` (the last ``limit`` per symbol)."""
        if self.position < 0:
            return self.bars.clear()
        frame = self.bars.filter(pl.col("ts") <= self.times[self.position])
        if symbol is not None:
            frame = frame.filter(pl.col("symbol") == symbol)
        if start is not None:
            frame = frame.filter(pl.col("ts") >= start)
        if end is not None:
            frame = frame.filter(pl.col("ts") < end)
        return frame.group_by("symbol", maintain_order=True).tail(limit).sort("ts", "symbol")

    def status(self) -> dict[str, Any]:
        """Return the replay's progress and settings."""
        next_index = self.position + 1
        return {
            "symbols": self.symbols,
            "interval": str(self.interval),
            "speed": self.config.speed,
            "mode": self.config.replay_mode.value,
            "fill_policy": self.config.fill.policy.value,
            "bars_total": len(self.times),
            "bars_published": self.position + 1,
            "last_ts": None if self.position < 0 else iso(self.times[self.position]),
            "next_ts": iso(self.times[next_index]) if next_index < len(self.times) else None,
            "finished": self.finished,
            "subscribers": len(self.hub.subscribers(BARS)),
        }

    # -- orders --------------------------------------------------------------------------------

    async def submit(self, order_id: ClientOrderId, request: OrderRequest) -> SubmitOutcome:
        """Record a new order (or return the existing one); hold the answer when faulted."""
        async with self._lock:
            reject = ""
            new = order_id not in self.book.orders
            if new and self.faults.reject_next > 0:
                self._set_faults(reject_next=self.faults.reject_next - 1)
                reject = _FAULT_REJECTION
            outcome = self.book.submit(order_id, request, self.now, reject=reject)
            if outcome.created:
                self.store.commit(self.book, None)
            delay = 0.0
            if outcome.created and self.faults.delay_next_submits > 0:
                self._set_faults(delay_next_submits=self.faults.delay_next_submits - 1)
                delay = self.faults.submit_delay_seconds
        self._publish_events(outcome.events)
        if delay > 0:
            await asyncio.sleep(delay)
        return outcome

    async def cancel(self, order_id: ClientOrderId) -> CancelOutcome:
        """Cancel a working order; with the race fault it fills first and the cancel fails."""
        async with self._lock:
            outcome = self.book.cancel(order_id, self.now, race=self.faults.cancel_races_fill)
            self.store.commit(self.book, None)
        self._publish_events(outcome.events)
        return outcome

    async def link(self, first: ClientOrderId, second: ClientOrderId, *, bracket: bool) -> bool:
        """Link two working orders one-cancels-other (``bracket``: a bracket's exits, stop first).

        Return whether they are linked (both working alone); the link is in the state file.
        """
        async with self._lock:
            linked = self.book.link(first, second, bracket=bracket)
            if linked:
                self.store.commit(self.book, None)
        return linked

    def set_faults(self, faults: FaultConfig) -> None:
        """Replace the injected faults."""
        self._set_faults(**faults.model_dump())

    def _set_faults(self, **changes: Any) -> None:
        self.faults = FaultConfig.build(**{**self.faults.model_dump(), **changes})
        self.book.exchange.set_volume_cap(self.faults.volume_cap)

    # -- replay --------------------------------------------------------------------------------

    async def run(self) -> None:
        """Publish the remaining bar times at the configured speed, then an ``end`` message."""
        self.book.exchange.set_volume_cap(self.faults.volume_cap)
        mode = self.config.replay_mode
        while self.position + 1 < len(self.times):
            if mode is ReplayMode.LOCKSTEP:
                current = None if self.position < 0 else self.times[self.position]
                await self.hub.wait_for_acks(current)
            elif mode is ReplayMode.REALTIME and self.position >= 0:
                await asyncio.sleep(self._pause())
            else:
                await asyncio.sleep(0)
            await self.advance()
        self.finished = True
        self.hub.publish(BARS, self.end_message())

    def end_message(self) -> dict[str, Any]:
        """Return the message that says the replay has published its last bar."""
        return {"type": "end", "ts": iso(self.times[-1])}

    async def advance(self) -> None:
        """Match working orders against the next bar time, persist, publish orders then bars."""
        async with self._lock:
            index = self.position + 1
            snapshot = self.snapshots[index]
            events = self.book.on_bars(snapshot)
            self.position = index
            self.store.commit(self.book, self.times[index])
        self._publish_events(events)
        self.hub.publish(BARS, self.bars_message())
        self._published += 1
        every = self.faults.drop_stream_every
        if every is not None and self._published % every == 0:
            await self.hub.drop_all()

    def bars_message(self) -> dict[str, Any]:
        """Return the message of the last published bar time (``None`` bars before any)."""
        snapshot = self.snapshots[self.position] if self.position >= 0 else {}
        return {
            "type": "bars",
            "ts": iso(self.now) if self.position >= 0 else None,
            "bars": [bar_to_json(snapshot[symbol]) for symbol in sorted(snapshot)],
        }

    def _pause(self) -> float:
        seconds = self.interval.seconds if self.interval.is_fixed else _MONTH_SECONDS
        return seconds / self.config.speed_multiple

    def _publish_events(self, events: Sequence[OrderEvent]) -> None:
        for event in events:
            if isinstance(event, Accepted) and self.faults.fill_before_ack:
                self._held[event.order_id] = event
                continue
            self.hub.publish(ORDERS, self.update_message(event))
            held = self._held.pop(event.order_id, None)
            if held is not None:
                self.hub.publish(ORDERS, self.update_message(held))

    def update_message(self, event: OrderEvent) -> dict[str, Any]:
        """Return the stream message for one order event, with the order as it is now."""
        order = self.book.orders[event.order_id]
        reason = getattr(event, "reason", None)
        venue_id = event.venue_order_id if isinstance(event, Accepted) else order.venue_order_id
        return {
            "type": "order",
            "event": event_name(event),
            "client_order_id": str(event.order_id),
            "venue_order_id": None if venue_id is None else str(venue_id),
            "ts": iso(event.ts),
            "reason": reason or None,
            "fill": fill_to_json(event.fill) if isinstance(event, FillEvent) else None,
            "order": order_to_json(order),
        }

    def close(self) -> None:
        """Close the state file."""
        self.store.close()
