"""IBFeed on the fake TWS: history, 5-second bars built into the interval, gaps backfilled."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from quantstrata.data.samples import load_sample
from quantstrata.live.brokers.ib import IBConfig, LinkState
from quantstrata.live.feeds.ib import IBFeed
from quantstrata.model.bar import BAR_COLUMNS, Bar
from quantstrata.model.interval import Interval
from quantstrata.process.resample import resample
from tests.kit.fake_tws import FakeTws
from tests.kit.ib_runs import until

WARM = 20
DAY = Interval.parse("1d")
pytestmark = pytest.mark.asyncio


def _feed(tws: FakeTws, **settings: object) -> IBFeed:
    config = IBConfig(
        port=tws.port, client_id=20, backoff_base_seconds=0.05, reconnect_cap_seconds=0.2
    )
    return IBFeed(config, uniform=lambda low, high: high, **settings)  # type: ignore[arg-type]


def _frame(bars: list[Bar]) -> pl.DataFrame:
    return pl.DataFrame([bar.as_row for bar in bars], orient="row").select(BAR_COLUMNS)


async def _collect(feed: IBFeed, interval: Interval, into: list[Bar]) -> None:
    async for bar in feed.bars(["SPX"], interval):
        into.append(bar)  # noqa: PERF401 - the test watches the list grow


async def test_history_is_the_published_bars() -> None:
    source = load_sample("SPX_1d").head(60)
    with FakeTws(source, published=WARM) as tws:
        feed = _feed(tws)
        try:
            end = tws.times[WARM]  # the open of the first bar not published
            frame = await feed.history(["SPX"], DAY, end, 10)
        finally:
            await feed.close()
    expected = source.select(BAR_COLUMNS).slice(WARM - 10, 10)
    assert_frame_equal(frame.select(BAR_COLUMNS), expected)


async def test_a_pacing_violation_is_waited_out_and_retried() -> None:
    source = load_sample("SPX_1d").head(40)
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    with FakeTws(source, published=WARM) as tws:
        tws.pacing_violations = 2
        feed = _feed(tws, sleep=sleep)
        try:
            frame = await feed.history(["SPX"], DAY, tws.times[WARM], 5)
        finally:
            await feed.close()
    assert frame["close"].to_list() == source["close"].slice(WARM - 5, 5).to_list()
    assert feed.paced == 2
    assert waits == [pytest.approx(feed.pacer.repeat_after, abs=1.0)] * 2


async def test_streamed_bars_are_the_source_bars_and_a_reconnect_loses_none() -> None:
    source = load_sample("SPX_1d").head(40)
    with FakeTws(source, published=WARM) as tws:
        feed = _feed(tws)
        got: list[Bar] = []
        task = asyncio.create_task(_collect(feed, DAY, got))
        try:
            await asyncio.to_thread(tws.subscribed.wait, 10)
            for _ in range(3):
                await asyncio.to_thread(tws.publish_next_bar)
            await until(lambda: len(got) == 3)
            tws.go_down()
            await until(lambda: feed.link.state is LinkState.DOWN)
            for _ in range(2):  # closed while the feed is away
                await asyncio.to_thread(tws.publish_next_bar)
            tws.come_up()
            await until(lambda: feed.link.state is LinkState.UP and len(tws.sessions) == 1)
            await until(lambda: any(s.realtime for s in tws.sessions))
            for _ in range(3):
                await asyncio.to_thread(tws.publish_next_bar)
            await until(lambda: len(got) == 8)
        finally:
            await feed.close()
            task.cancel()
    expected = source.select(BAR_COLUMNS).slice(WARM, 8)
    assert_frame_equal(_frame(got), expected, check_dtypes=False)
    assert feed.backfilled >= 3  # the first partial bar, then the two missed and the partial


async def test_five_second_bars_are_built_into_minutes() -> None:
    start = datetime(2024, 3, 4, 14, 30, tzinfo=UTC)
    rows = []
    for index in range(36):  # three minutes of 5-second bars
        price = 100.0 + (index * 7 % 11) - 5
        rows.append(
            {
                "ts": start + timedelta(seconds=5 * index),
                "symbol": "SPX",
                "open": price,
                "high": price + 1.0,
                "low": price - 1.5,
                "close": price + 0.25,
                "volume": 10.0 + index,
            }
        )
    source = pl.DataFrame(rows).with_columns(pl.col("ts").dt.cast_time_unit("ns"))
    with FakeTws(source, interval="5s") as tws:
        feed = _feed(tws)
        got: list[Bar] = []
        task = asyncio.create_task(_collect(feed, Interval.parse("1m"), got))
        try:
            await asyncio.to_thread(tws.subscribed.wait, 10)
            while not tws.finished:
                await asyncio.to_thread(tws.publish_next_bar)
            await until(lambda: len(got) == 3)
        finally:
            await feed.close()
            task.cancel()
    expected = resample(source.select(BAR_COLUMNS), "1m", source_interval="5s")
    assert_frame_equal(
        _frame(got), expected.select(BAR_COLUMNS), check_dtypes=False, check_exact=False
    )
