"""Bars become bar times: complete, in order, each at most once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from quantstrata.live._bar_times import BarGrouper
from quantstrata.model.bar import Bar

START = datetime(2024, 1, 2, tzinfo=UTC)


def _bar(symbol: str, day: int) -> Bar:
    return Bar(START + timedelta(days=day), symbol, 10.0, 11.0, 9.0, 10.5, 100.0)


async def _stream(items: Sequence[Bar | float | Exception]) -> AsyncIterator[Bar]:
    for item in items:
        if isinstance(item, float):
            await asyncio.sleep(item)
        elif isinstance(item, Exception):
            raise item
        else:
            yield item


async def _groups(grouper: BarGrouper, items: Sequence[Bar | float | Exception]) -> list[list]:
    return [
        [(bar.symbol, (bar.ts - START).days) for bar in group]
        async for group in grouper.groups(_stream(items))
    ]


@pytest.mark.asyncio
async def test_a_bar_time_is_complete_when_every_symbol_has_its_bar() -> None:
    items = [_bar("B", 0), _bar("A", 0), _bar("A", 1), _bar("B", 1)]
    assert await _groups(BarGrouper(["A", "B"]), items) == [
        [("A", 0), ("B", 0)],
        [("A", 1), ("B", 1)],
    ]


@pytest.mark.asyncio
async def test_a_later_bar_closes_an_incomplete_bar_time() -> None:
    grouper = BarGrouper(["A", "B"], grace=5.0)
    items = [_bar("A", 0), _bar("A", 1), _bar("B", 1)]
    assert await _groups(grouper, items) == [[("A", 0)], [("A", 1), ("B", 1)]]


@pytest.mark.asyncio
async def test_without_grace_an_idle_feed_closes_the_bar_time() -> None:
    items = [_bar("A", 0), 0.05, _bar("B", 0)]
    grouper = BarGrouper(["A", "B"])
    assert await _groups(grouper, items) == [[("A", 0)]]
    assert grouper.late_bars == 1


@pytest.mark.asyncio
async def test_grace_waits_for_a_slow_symbol() -> None:
    items = [_bar("A", 0), 0.05, _bar("B", 0)]
    assert await _groups(BarGrouper(["A", "B"], grace=1.0), items) == [[("A", 0), ("B", 0)]]


@pytest.mark.asyncio
async def test_late_duplicate_and_unknown_bars_are_dropped_and_counted() -> None:
    grouper = BarGrouper(["A"])
    items = [_bar("A", 1), 0.01, _bar("A", 1), _bar("A", 0), _bar("Z", 2), _bar("A", 2)]
    assert await _groups(grouper, items) == [[("A", 1)], [("A", 2)]]
    assert grouper.late_bars == 3


@pytest.mark.asyncio
async def test_a_failing_feed_raises_after_the_bars_it_delivered() -> None:
    grouper = BarGrouper(["A"])
    seen: list[int] = []

    async def consume() -> None:
        async for group in grouper.groups(_stream([_bar("A", 0), ConnectionError("feed lost")])):
            seen.append((group[0].ts - START).days)  # noqa: PERF401 - the order of events matters

    with pytest.raises(ConnectionError, match="feed lost"):
        await consume()
    assert seen == [0]


def test_every_feed_implements_the_feed_protocol() -> None:
    from quantstrata.live.brokers import VenueFeed
    from quantstrata.live.feed import Feed
    from quantstrata.live.feeds import ReplayFeed, TickDBFeed

    for feed_class in (ReplayFeed, TickDBFeed, VenueFeed):
        missing = [
            name
            for name in ("name", "history", "bars", "ack", "close")
            if not hasattr(feed_class, name)
        ]
        assert missing == [], feed_class.__name__
    assert Feed is not None
