"""CcxtFeed streams klines through the real ccxt.pro.binance from the fake Binance WebSocket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest

from quantstrata.live import Feed
from quantstrata.live.feeds import CcxtFeed
from quantstrata.model.bar import Bar
from quantstrata.model.interval import Interval
from tests.kit.fake_binance import FakeBinance, ccxt_config

STREAM = "btcusdt@kline_1m"


def _truth(server: FakeBinance, first: int, last: int) -> list[tuple[float, ...]]:
    rows = []
    for index in range(first, last):
        bar = server.tape.bar(0, server.tape.start_ms + index * server.tape.interval_ms)
        assert bar is not None
        rows.append(bar.values())
    return rows


def _values(bars: list[Bar]) -> list[tuple[float, ...]]:
    return [
        (int(bar.ts.timestamp() * 1000), bar.open, bar.high, bar.low, bar.close, bar.volume)
        for bar in bars
    ]


async def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


async def _take(stream: AsyncIterator[Bar], count: int) -> list[Bar]:
    async with asyncio.timeout(10):
        return [await anext(stream) for _ in range(count)]


@pytest.mark.asyncio
@pytest.mark.parametrize("for_symbols", [True, False], ids=["watch_for_symbols", "watch_each"])
async def test_closed_bars_stream_and_a_reconnect_backfills_the_gap(for_symbols: bool):
    with FakeBinance(bars=40) as server:
        feed = CcxtFeed(ccxt_config(server))
        assert isinstance(feed, Feed)
        # Exchanges without watchOHLCVForSymbols are watched one symbol at a time.
        feed.exchange.has["watchOHLCVForSymbols"] = for_symbols
        stream = feed.bars(["BTC/USDT"], Interval.parse("1m"))
        try:
            first = asyncio.ensure_future(anext(stream))
            await _until(lambda: server.stream.subscribed(STREAM) > 0)
            for index in range(5):
                server.publish(index)
            got = [await asyncio.wait_for(first, 10), *await _take(stream, 3)]
            assert _values(got) == _truth(server, 0, 4)  # bar 4 is still forming
            subscriptions = server.stream.subscriptions
            server.stream.drop()
            pending = asyncio.ensure_future(anext(stream))
            await _until(lambda: server.stream.subscriptions > subscriptions)
            await _until(lambda: server.stream.subscribed(STREAM) > 0)
            # bars 5..8 were published while the feed was away; it resumes at bar 9
            server.publish(9)
            server.publish(10)
            got += [await asyncio.wait_for(pending, 10), *await _take(stream, 5)]
        finally:
            await feed.close()
    assert _values(got) == _truth(server, 0, 10)
    assert feed.reconnects >= 1
    assert feed.backfilled == 5
    assert len({bar.ts for bar in got}) == len(got)


@pytest.mark.asyncio
async def test_history_returns_closed_bars_before_the_end():
    with FakeBinance(bars=1_500) as server:
        feed = CcxtFeed(ccxt_config(server))
        end = datetime.fromtimestamp(server.tape.start_ms / 1000, UTC) + timedelta(minutes=1_200)
        try:
            frame = await feed.history(["BTC/USDT"], Interval.parse("1m"), end, 1_100)
        finally:
            await feed.close()
    assert frame.height == 1_100
    rows = [
        (int(ts.timestamp() * 1000), o, h, lo, c, v)
        for ts, o, h, lo, c, v in frame.select(
            "ts", "open", "high", "low", "close", "volume"
        ).iter_rows()
    ]
    assert rows == _truth(server, 100, 1_200)


@pytest.mark.asyncio
async def test_a_backfill_that_fails_through_every_rest_retry_is_retried_not_fatal():
    with FakeBinance(bars=40) as server:
        feed = CcxtFeed(ccxt_config(server, max_attempts=2))
        stream = feed.bars(["BTC/USDT"], Interval.parse("1m"))
        try:
            first = asyncio.ensure_future(anext(stream))
            await _until(lambda: server.stream.subscribed(STREAM) > 0)
            for index in range(3):
                server.publish(index)
            got = [await asyncio.wait_for(first, 10), await anext(stream)]
            subscriptions = server.stream.subscriptions
            server.stream.drop()
            server.fail_klines(5)  # the REST API is down for more than two rounds of retries
            pending = asyncio.ensure_future(anext(stream))
            await _until(lambda: server.stream.subscriptions > subscriptions)
            await _until(lambda: server.stream.subscribed(STREAM) > 0)
            index = 6
            while not pending.done():  # the market moves on; each update retries the backfill
                server.publish(index)
                index += 1
                await asyncio.wait([pending], timeout=0.2)
            got += [pending.result(), *await _take(stream, index - 4)]
        finally:
            await feed.close()
    assert len(server.requests) > 5  # the failed attempts, then the backfill that worked
    assert _values(got) == _truth(server, 0, index - 1)  # the last one published still forms
    assert len({bar.ts for bar in got}) == len(got)
