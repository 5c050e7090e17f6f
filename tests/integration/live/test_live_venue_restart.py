"""The venue process goes away in the middle of a live run and comes back on its state file.

The live runtime keeps running through the outage: its feed and broker streams reconnect with
backoff, the order manager finds the venue's state unchanged, and the run ends with the same
fills as the backtest, none lost and none twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from quantstrata.data import load_sample
from quantstrata.execution import CommissionConfig
from quantstrata.live import Live, LiveConfig
from quantstrata.live.brokers import VenueFeed
from quantstrata.live.feed import LagListener
from quantstrata.live.journal import SqliteJournal
from quantstrata.live.state import LiveState
from quantstrata.model.bar import Bar
from quantstrata.model.interval import Interval
from quantstrata.model.orders import OrderStatus
from quantstrata.strategy.examples import SmaCrossover
from quantstrata.venue import VenueConfig, VenueServer
from tests.kit.live_checks import assert_consistent_with_venue, backtest_fills, fills_frame
from tests.kit.venue import KEY, broker, feed, http, wait_until

RATE = 0.001


@pytest.mark.asyncio
async def test_a_venue_restart_mid_run_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    bars = load_sample("SPX_1d").head(250)
    settings = {
        "speed": "lockstep",
        "commission": CommissionConfig(rate=RATE),
        "state": tmp_path / "venue.sqlite",
    }
    strategy = SmaCrossover(fast=5, slow=20)
    first = VenueServer(bars, VenueConfig(**settings), KEY)
    await first.start()
    config = LiveConfig(
        symbols=("SPX",), journal=str(tmp_path / "j.sqlite"), warm_up=False, reconcile_interval=1
    )
    stream, orders_client = feed(first, reconnect_max=0.2), broker(first, reconnect_max=0.2)
    live = Live(strategy, stream, orders_client, config)
    run = asyncio.create_task(live.run_async())

    async def past_half() -> bool:
        async with http(first) as client:
            return int((await client.get("/v1/status")).json()["bars_published"]) >= 120

    await wait_until(past_half, timeout=60)
    await first.stop()
    await asyncio.sleep(0.5)  # the runtime keeps trying while the venue is gone
    assert not run.done()
    second = VenueServer(bars, VenueConfig(port=first.port, **settings), KEY)
    await second.start()
    try:
        summary = await asyncio.wait_for(run, timeout=120)
        client = broker(second)
        fills = await client.fills()
        account = await client.account()
        await client.close()
        async with http(second) as admin:
            orders = (await admin.get("/v1/orders", params={"status": "all"})).json()
    finally:
        await second.stop()

    assert summary.stopped_by == "feed ended"
    assert stream.reconnects >= 1
    assert orders_client.reconnects >= 1
    store = SqliteJournal(tmp_path / "j.sqlite")
    try:
        state = LiveState.fold(store.replay())
    finally:
        store.close()
    assert_consistent_with_venue(state, fills, dict(account.positions), orders)
    assert_frame_equal(
        fills_frame(fills), backtest_fills(bars, strategy, RATE), check_exact=False, rel_tol=1e-9
    )


class _VenueGoneAt:
    """The venue's feed, with the venue stopped right after it published the bar time ``at``.

    The bar reaches the runtime only once the venue is down, so the order the runtime decides
    on it meets no venue: the outage falls between the lockstep publish and the order.
    """

    def __init__(self, inner: VenueFeed, at: datetime, stop: Callable[[], Awaitable[None]]) -> None:
        self.inner = inner
        self.at = at
        self.stop = stop
        self.stopped = False

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def realtime(self) -> bool:
        return self.inner.realtime

    async def history(
        self, symbols: Sequence[str], interval: Interval, end: datetime, bars: int
    ) -> pl.DataFrame:
        return await self.inner.history(symbols, interval, end, bars)

    async def bars(
        self,
        symbols: Sequence[str],
        interval: Interval,
        *,
        after: datetime | None = None,
        on_lag: LagListener | None = None,
    ) -> AsyncIterator[Bar]:
        async for bar in self.inner.bars(symbols, interval, after=after, on_lag=on_lag):
            if bar.ts == self.at and not self.stopped:
                self.stopped = True
                await self.stop()
            yield bar

    async def ack(self, ts: datetime) -> None:
        await self.inner.ack(ts)

    async def close(self) -> None:
        await self.inner.close()


@pytest.mark.asyncio
async def test_an_order_decided_while_the_venue_is_down_is_placed_before_the_next_bar(
    tmp_path: Path,
) -> None:
    """The venue stops after publishing a bar the strategy trades on, before the order came.

    The runtime must not acknowledge that bar (letting the restarted venue fill the next one)
    before its order reached the venue, or the order would miss its bar and the trade be lost.
    """
    bars = load_sample("SPX_1d").head(250)
    strategy = SmaCrossover(fast=5, slow=20)
    expected = backtest_fills(bars, strategy, RATE)
    times = bars["ts"].to_list()
    decided_on = times[times.index(expected["ts"][len(expected) // 2]) - 1]
    settings = {
        "speed": "lockstep",
        "commission": CommissionConfig(rate=RATE),
        "state": tmp_path / "venue.sqlite",
    }
    first = VenueServer(bars, VenueConfig(**settings), KEY)
    await first.start()
    config = LiveConfig(
        symbols=("SPX",), journal=str(tmp_path / "j.sqlite"), warm_up=False, reconcile_interval=1
    )
    stream = _VenueGoneAt(feed(first, reconnect_max=0.2), decided_on, first.stop)
    live = Live(strategy, stream, broker(first, reconnect_max=0.2), config)  # type: ignore[arg-type]
    run = asyncio.create_task(live.run_async())

    def order_in_doubt() -> bool:
        return any(order.status is OrderStatus.UNKNOWN for order in live.manager.orders.values())

    await wait_until(order_in_doubt, timeout=60)
    second = VenueServer(bars, VenueConfig(port=first.port, **settings), KEY)
    await second.start()
    try:
        summary = await asyncio.wait_for(run, timeout=120)
        client = broker(second)
        fills = await client.fills()
        await client.close()
    finally:
        await second.stop()

    assert summary.stopped_by == "feed ended"
    assert_frame_equal(fills_frame(fills), expected, check_exact=False, rel_tol=1e-9)
