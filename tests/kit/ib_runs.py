"""Helpers for tests of the IB connector against the fake TWS: brokers, waits, model fills."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl

from quantstrata.live import Live, LiveConfig, LiveSummary
from quantstrata.live.broker import AccountSnapshot
from quantstrata.live.brokers.ib import IBBroker, IBConfig
from quantstrata.live.feeds.ib import IBFeed
from quantstrata.live.journal import SqliteJournal
from quantstrata.live.state import LiveState
from quantstrata.model.bar import Bar
from quantstrata.model.identifiers import Symbol
from quantstrata.model.orders import Fill, OrderEvent
from tests.kit.fake_tws import FakeTws

__all__ = [
    "WARM",
    "IBRun",
    "bars_after",
    "broker_for",
    "next_event",
    "publish",
    "run_on_fake",
    "until",
]

WARM = 20
"""The bar times a fake TWS has published before a test starts (warm-up history)."""


def broker_for(tws: FakeTws, *, client_id: int = 11, **settings: object) -> IBBroker:
    """Return an :class:`IBBroker` on ``tws`` (paper, short timeouts, no jitter)."""
    config = IBConfig(
        port=tws.port,
        client_id=client_id,
        timeout_seconds=5.0,
        backoff_base_seconds=0.05,
        reconnect_cap_seconds=0.2,
        **settings,  # type: ignore[arg-type]
    )
    return IBBroker(config, uniform=lambda low, high: high)


def bars_after(tws: FakeTws, symbol: str = "SPX") -> list[Bar]:
    """The bars not published yet, oldest first."""
    return [snap[Symbol(symbol)] for snap in tws.snapshots[tws.position_index + 1 :]]


async def publish(tws: FakeTws, count: int = 1) -> None:
    """Publish the next ``count`` bars (from a worker thread: the fake answers meanwhile)."""
    for _ in range(count):
        await asyncio.to_thread(tws.publish_next_bar)


async def until(condition: Callable[[], object], timeout: float = 10.0) -> None:
    """Let the client read its socket until ``condition()`` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError("condition never held")
        await asyncio.sleep(0.01)


async def next_event(broker: IBBroker, timeout: float = 10.0) -> OrderEvent:
    """Return the broker's next order event."""
    updates = broker.updates()
    return await asyncio.wait_for(anext(updates), timeout)


@dataclass
class IBRun:
    """What one run left: the summary, the journal's state, the venue's fills and account."""

    summary: LiveSummary
    state: LiveState
    fills: list[Fill]
    account: AccountSnapshot


async def run_on_fake(tws: FakeTws, bars: pl.DataFrame, strategy: object, journal: Path) -> IBRun:
    """Trade ``strategy`` through IBBroker + IBFeed on ``tws`` (lockstep replay of ``bars``)."""
    symbols = tuple(sorted(bars["symbol"].unique()))
    broker = broker_for(tws)

    async def ack(ts: datetime) -> None:
        await asyncio.to_thread(tws.ack, ts)

    last = bars["ts"].max()
    assert isinstance(last, datetime)
    feed = IBFeed(broker.config, on_ack=ack, stop_after=last, uniform=lambda low, high: high)
    config = LiveConfig(
        symbols=symbols,
        journal=str(journal),
        warm_up=False,
        reconcile_interval=3600,
        max_bar_delay=None,  # the fake replays history: by the wall clock every bar is late
        bar_grace=2.0,  # IB streams each symbol's bars on its own subscription
    )
    tws.start_replay()
    summary = await Live(strategy, feed, broker, config).run_async()  # type: ignore[arg-type]
    checker = broker_for(tws, client_id=30)
    await checker.connect()
    try:
        fills, account = await checker.fills(), await checker.account()
    finally:
        await checker.close()
    store = SqliteJournal(journal)
    try:
        state = LiveState.fold(store.replay())
    finally:
        store.close()
    return IBRun(summary, state, fills, account)
