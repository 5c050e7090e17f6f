"""The TickDB feed adapter speaks the live Feed protocol against the fake server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from quantstrata.core.secrets import Secret
from quantstrata.live.feed import Feed
from quantstrata.live.feeds import TickDBFeed
from quantstrata.model.interval import Interval
from tests.kit.tickdb_server import FakeTickDB
from tests.kit.tickdb_stream import fast_config, rest_config


@pytest.mark.asyncio
async def test_feed_warms_up_over_rest_then_streams_closed_bars():
    with FakeTickDB(trades_per_second=600, released=600, streaming=True) as server:
        feed = TickDBFeed(
            Secret(server.api_key), config=rest_config(server), stream_config=fast_config(server)
        )
        assert isinstance(feed, Feed)
        minute = Interval.parse("1m")
        end = datetime.fromtimestamp(server.tape.time(600) / 1000, UTC)
        warm = await feed.history(["BTCUSDT", "700.HK"], minute, end, bars=50)
        streamed = []
        async for bar in feed.bars(["BTCUSDT"], minute):
            streamed.append(bar)
            if len(streamed) >= 10:
                break
        await feed.close()
        await feed.close()
    assert warm.group_by("symbol").len().sort("symbol")["len"].to_list() == [50, 50]
    truth = {row[0]: row for row in server.truth(0)}
    for bar in streamed:
        moment = int(bar.ts.timestamp() * 1000)
        assert truth[moment] == (moment, bar.open, bar.high, bar.low, bar.close, bar.volume)
    assert [bar.ts for bar in streamed] == sorted({bar.ts for bar in streamed})
    assert server.api_key not in repr(feed)
