"""Closed bars from polling ``kline/latest`` against the fake server."""

from __future__ import annotations

import pytest

from quantstrata.core.secrets import Secret
from quantstrata.data.sources import AsyncTickDBClient
from quantstrata.data.stream import KlinePoller
from tests.kit.tickdb_server import FakeTickDB
from tests.kit.tickdb_stream import rest_config


@pytest.mark.asyncio
async def test_polling_latest_yields_each_closed_bar_once_in_order():
    with FakeTickDB(trades_per_second=300) as server:
        client = AsyncTickDBClient(Secret(server.api_key), config=rest_config(server))
        poller = KlinePoller(
            client.latest, client.klines, ["BTCUSDT", "700.HK"], "1m", period_seconds=0.05
        )
        found: dict[str, list[tuple[object, ...]]] = {}
        async for bar in poller.bars():
            found.setdefault(bar.symbol, []).append(
                (bar.ts_ms, bar.open, bar.high, bar.low, bar.close, bar.volume)
            )
            if all(len(found.get(name, [])) >= 15 for name in ("BTCUSDT", "700.HK")):
                break
        await client.close()
    for number, name in enumerate(("BTCUSDT", "700.HK")):
        bars = found[name]
        truth = [bar for bar in server.truth(number) if bars[0][0] <= bar[0] <= bars[-1][0]]
        assert bars == truth
