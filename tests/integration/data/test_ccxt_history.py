"""The real ccxt.binance, pointed at a local fake, pages OHLCV into the catalog."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from quantstrata.data.catalog import Catalog
from quantstrata.data.sources import fetch_ccxt_bars, fetch_ccxt_to_catalog
from tests.kit.fake_binance import FakeBinance, ccxt_public_client

BARS = 2_500


def test_a_long_range_is_paged_through_ccxt_and_lands_in_the_catalog(tmp_path: Path):
    with FakeBinance(bars=BARS) as server:
        exchange = ccxt_public_client(server)
        start = datetime.fromtimestamp(server.tape.start_ms / 1000, UTC)
        end = start + timedelta(minutes=BARS)
        bars = fetch_ccxt_bars(exchange, ["BTC/USDT"], interval="1m", start=start, end=end)
        catalog = Catalog(tmp_path / "catalog")
        summary = fetch_ccxt_to_catalog(
            exchange, catalog, ["BTC/USDT"], interval="1m", start=start, end=end
        )
        tape = server.tape
        closed = tape.closed_bars(0, tape.start_ms, tape.time(BARS * 6), server.released)
        truth = [bar.values() for bar in closed][:BARS]
    klines = [query for path, query in server.requests if path == "/api/v3/klines"]
    assert len(klines) >= 6  # 3 pages per fetch, twice
    assert all(int(query["limit"]) <= 1000 for query in klines)
    rows = [
        (int(row[0].timestamp() * 1000), *row[1:])
        for row in bars.select("ts", "open", "high", "low", "close", "volume").iter_rows()
    ]
    assert rows == truth
    assert summary.rows_written == BARS
    assert catalog.read(interval="1m")["symbol"].unique().to_list() == ["BTC/USDT"]
