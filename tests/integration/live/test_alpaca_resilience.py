"""The Alpaca streams on the shared reconnect core, behind a chaos proxy: nothing lost.

A :class:`~tests.kit.chaos_proxy.ChaosProxy` stands in front of the fake Alpaca's market-data
and ``trade_updates`` WebSockets (one proxy each) and breaks the next connections before the
HTTP 101 (dropped, garbage, 503), as a load balancer with no healthy backend does. The live run
(AlpacaFeed + AlpacaBroker, lockstep replay) must still end with the backtest's fills, every
bar delivered once; a refused key stops either stream with a clear error that holds no key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from polars.testing import assert_frame_equal

from quantstrata.core.secrets import Secret
from quantstrata.live.brokers._alpaca_rest import AlpacaAuthenticationError, AlpacaCredentials
from quantstrata.live.brokers._alpaca_stream import TradeUpdates
from quantstrata.live.feeds.alpaca import AlpacaFeed
from quantstrata.model.interval import Interval
from quantstrata.strategy.examples import SmaCrossover
from tests.integration.live.alpaca_runs import AlpacaRun, alpaca_config, run_on_fake, spx_bars
from tests.kit.chaos_proxy import PROXY_FAULTS, ChaosProxy
from tests.kit.fake_alpaca import DATA, TRADING, FakeAlpaca
from tests.kit.live_checks import assert_consistent_with_venue, backtest_fills, fills_frame

_COMPARED = ("ts", "symbol", "side", "quantity", "price", "commission")
_WRONG_KEY = "PKWRONG0KEY0ID000009"
_WRONG_SECRET = "wrong-secret-value-123"


async def _run_behind_proxies(
    tmp_path: Path, during: Callable[[FakeAlpaca, ChaosProxy, ChaosProxy, int], None]
) -> tuple[AlpacaRun, ChaosProxy, ChaosProxy]:
    """Trade the SMA crossover with both streams behind proxies; check parity and the venue."""
    bars = spx_bars()
    with FakeAlpaca(bars) as fake:
        data, trading = ChaosProxy(fake.streams.port), ChaosProxy(fake.streams.port)
        await data.start()
        await trading.start()
        try:
            run = await run_on_fake(
                fake,
                bars,
                SmaCrossover(fast=3, slow=8),
                tmp_path / "j.sqlite",
                lambda n: during(fake, data, trading, n),
                data_stream_url=f"ws://127.0.0.1:{data.port}/v2/iex",
                stream_url=f"ws://127.0.0.1:{trading.port}/stream",
            )
        finally:
            await data.stop()
            await trading.stop()
        orders = fake.orders()
    assert run.summary.stopped_by == "feed ended"
    assert run.summary.bar_times == bars.height
    assert_consistent_with_venue(run.state, run.fills, dict(run.account.positions), orders)
    expected = backtest_fills(bars, SmaCrossover(fast=3, slow=8), 0.0, _COMPARED)
    assert expected.height >= 6
    assert_frame_equal(
        fills_frame(run.fills, _COMPARED).sort("ts"), expected.sort("ts"), rel_tol=1e-9
    )
    return run, data, trading


@pytest.mark.asyncio
async def test_connect_faults_before_the_101_lose_no_bar_and_no_fill(tmp_path: Path) -> None:
    def break_links(fake: FakeAlpaca, data: ChaosProxy, trading: ChaosProxy, bar: int) -> None:
        if bar in (20, 60):
            data.inject(*PROXY_FAULTS)
            fake.drop_streams(DATA)
        if bar in (40, 80):
            trading.inject(*PROXY_FAULTS)
            fake.drop_streams(TRADING)

    run, data, trading = await _run_behind_proxies(tmp_path, break_links)
    # The first round meets a connection up since the start: the drop, then every fault. A
    # second round may find the stream still reconnecting (the replay does not wait for it).
    assert data.applied[:3] == list(PROXY_FAULTS)
    assert trading.applied[:3] == list(PROXY_FAULTS)
    assert run.feed.reconnects >= 4
    assert run.broker.reconnects >= 4
    assert run.broker.resyncs >= 2  # the first sync, then one after each reconnect


@pytest.mark.asyncio
async def test_a_failed_backfill_is_retried_and_never_ends_the_feed(tmp_path: Path) -> None:
    """The bar stream drops and its backfill over REST answers 503: reconnect, fetch again."""

    def fail_backfill(fake: FakeAlpaca, data: ChaosProxy, trading: ChaosProxy, bar: int) -> None:
        del data, trading
        if bar in (25, 70):
            fake.drop_streams(DATA)
            fake.fail_next(times=2, status=503, bars_only=True)

    run, _, _ = await _run_behind_proxies(tmp_path, fail_backfill)
    assert run.summary.feed_restarts == 0  # the feed itself retried; the runtime never had to
    assert run.feed.reconnects >= 3  # a drop, then each failed backfill
    assert run.feed.backfilled >= 1


def _wrong_keys() -> AlpacaCredentials:
    return AlpacaCredentials(Secret(_WRONG_KEY), Secret(_WRONG_SECRET))


def _assert_clear(error: AlpacaAuthenticationError) -> None:
    text = str(error)
    assert "APCA_API_KEY_ID" in text
    assert _WRONG_KEY not in text
    assert _WRONG_SECRET not in text


async def _first_bar(feed: AlpacaFeed) -> datetime:
    async for bar in feed.bars(["SPX"], Interval.parse("1d")):
        return bar.ts
    raise AssertionError("the feed ended without a bar")


@pytest.mark.asyncio
async def test_a_refused_key_stops_the_bar_stream_with_a_clear_error() -> None:
    with FakeAlpaca(spx_bars(), published=5) as fake:
        data = ChaosProxy(fake.streams.port)
        await data.start()
        config = alpaca_config(fake, data_stream_url=f"ws://127.0.0.1:{data.port}/v2/iex")
        data.inject("garbage_handshake")
        fake.start_replay(lockstep=False, pause=0.05)
        feed = AlpacaFeed(config, _wrong_keys())
        try:
            with pytest.raises(AlpacaAuthenticationError, match="code 402") as caught:
                await _first_bar(feed)
        finally:
            await data.stop()
        assert fake.streams.auth_failures == 1
    assert data.applied == ["garbage_handshake"]
    assert feed.reconnects == 1
    _assert_clear(caught.value)


@pytest.mark.asyncio
async def test_a_key_refused_before_the_101_stops_the_bar_stream() -> None:
    with FakeAlpaca(spx_bars(), published=5) as fake:
        data = ChaosProxy(fake.streams.port)
        await data.start()
        config = alpaca_config(fake, data_stream_url=f"ws://127.0.0.1:{data.port}/v2/iex")
        data.inject("status_503", "status_401")
        fake.start_replay(lockstep=False, pause=0.05)
        feed = AlpacaFeed(config, AlpacaCredentials(Secret(fake.key_id), Secret(fake.secret)))
        try:
            with pytest.raises(AlpacaAuthenticationError, match="HTTP 401") as caught:
                await _first_bar(feed)
        finally:
            await data.stop()
    assert data.applied == ["status_503", "status_401"]
    assert feed.reconnects == 1
    _assert_clear(caught.value)


@pytest.mark.asyncio
async def test_a_refused_key_stops_the_trade_stream_with_a_clear_error() -> None:
    received: list[Mapping[str, Any]] = []

    async def resync() -> None:
        raise AssertionError("no re-sync without an authorized stream")

    with FakeAlpaca(spx_bars(), published=5) as fake:
        trading = ChaosProxy(fake.streams.port)
        await trading.start()
        config = alpaca_config(fake, stream_url=f"ws://127.0.0.1:{trading.port}/stream")
        trading.inject("drop_before_handshake", "status_503")
        stream = TradeUpdates(config, _wrong_keys(), received.append, resync)
        try:
            with pytest.raises(AlpacaAuthenticationError, match="unauthorized") as caught:
                await stream.run()
        finally:
            await trading.stop()
        assert fake.streams.auth_failures == 1
    assert stream.reconnects == 2
    assert received == []
    _assert_clear(caught.value)
