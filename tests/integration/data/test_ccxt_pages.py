"""One paging of ccxt's fetch_ohlcv: the history fetcher and the live feed walk the same pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from quantstrata.data.sources import fetch_ccxt_bars
from quantstrata.data.sources.ccxt_pages import OhlcvPages, ccxt_timeframe, fetch_ohlcv_range
from quantstrata.live.feeds import CcxtFeed
from quantstrata.model.interval import Interval
from tests.kit.fake_binance import FakeBinance, ccxt_config, ccxt_public_client

BARS = 2_300


def _kline_starts(server: FakeBinance, since: int) -> list[int]:
    return [
        int(query["startTime"])
        for path, query in server.requests[since:]
        if path == "/api/v3/klines"
    ]


@pytest.mark.asyncio
async def test_the_fetcher_and_the_feed_page_alike_and_agree_with_the_tape() -> None:
    with FakeBinance(bars=BARS) as server:
        tape = server.tape
        start_ms, end_ms = tape.start_ms, tape.start_ms + BARS * tape.interval_ms
        candles = fetch_ohlcv_range(
            ccxt_public_client(server), "BTC/USDT", "1m", (start_ms, end_ms), 1000
        )
        fetcher_pages = _kline_starts(server, 0)
        before = len(server.requests)
        start = datetime.fromtimestamp(start_ms / 1000, UTC)
        frame = fetch_ccxt_bars(
            ccxt_public_client(server), ["BTC/USDT"], interval="1m", start=start,
            end=start + timedelta(minutes=BARS),
        )  # fmt: skip
        bars_pages = _kline_starts(server, before)
        before = len(server.requests)
        feed = CcxtFeed(ccxt_config(server))
        try:
            history = await feed.history(
                ["BTC/USDT"], Interval.parse("1m"), start + timedelta(minutes=BARS), BARS
            )
        finally:
            await feed.close()
        feed_pages = _kline_starts(server, before)
        truth = tape.closed_bars(0, start_ms, end_ms, server.released)
    assert [row[0] for row in candles] == [bar.time for bar in truth][:BARS]
    assert [tuple(row[:6]) for row in candles] == [bar.values() for bar in truth][:BARS]
    assert fetcher_pages == bars_pages == feed_pages
    minute = 60_000  # each page starts 1 ms after the newest candle; an empty page ends it
    after = [start_ms + last * minute + 1 for last in (999, 1999, BARS - 1)]
    assert fetcher_pages == [start_ms, *after]
    assert frame.height == history.height == BARS


def test_overlapping_and_stray_candles_are_kept_once_in_order() -> None:
    pages = OhlcvPages(100, 400)
    assert pages.since == 100
    pages.take([[300, 1.0], [100, 1.0], [200, 1.0], [50, 9.0], [400, 9.0]])
    assert pages.since == 301
    pages.take([[300, 2.0], [350, 1.0]])  # an exchange that repeats the last candle
    assert pages.since == 351
    pages.take([])
    assert pages.since is None
    assert [row[0] for row in pages.candles] == [100, 200, 300, 350]
    assert pages.params == {"until": 399}


def test_an_empty_range_asks_nothing_and_months_are_capital_m() -> None:
    assert OhlcvPages(5, 5).since is None
    assert ccxt_timeframe("1mo") == "1M"
    assert ccxt_timeframe(Interval.parse("15m")) == "15m"
