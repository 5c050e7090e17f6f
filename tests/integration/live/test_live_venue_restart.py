"""The venue process goes away in the middle of a live run and comes back on its state file.

The live runtime keeps running through the outage: its feed and broker streams reconnect with
backoff, the order manager finds the venue's state unchanged, and the run ends with the same
fills as the backtest, none lost and none twice.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

from quantstrata.data import load_sample
from quantstrata.execution import CommissionConfig
from quantstrata.live import Live, LiveConfig
from quantstrata.live.journal import SqliteJournal
from quantstrata.live.state import LiveState
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
