"""``data fetch --provider ccxt|yfinance`` and ``stream --provider ccxt`` against local fakes."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import yfinance

from quantstrata.cli.app import main
from quantstrata.data.catalog import Catalog
from tests.kit.fake_binance import FakeBinance
from tests.kit.fake_yahoo import FakeYahoo


def test_data_fetch_from_ccxt_pages_into_the_catalog(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    root = tmp_path / "catalog"
    with FakeBinance(bars=1_500) as server:
        code = main([
            "data", "fetch", "--provider", "ccxt", "--exchange", "binance",
            "--exchange-url", server.url, "--symbols", "BTC/USDT", "--interval", "1m",
            "--from", "2023-11-14T22:13:00", "--to", "2023-11-15T22:13:00",
            "--catalog", str(root),
        ])  # fmt: skip
        klines = [query for path, query in server.requests if path == "/api/v3/klines"]
    assert code == 0
    stored = Catalog(root).read(interval="1m")
    assert stored.height == 1_440
    assert stored["symbol"].unique().to_list() == ["BTC/USDT"]
    assert len(klines) >= 2  # 1,440 bars take two pages of at most 1,000
    assert "1,440 rows written" in capsys.readouterr().out


def test_data_fetch_from_yfinance_into_the_catalog(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    yfinance.set_tz_cache_location(str(tmp_path / "yfinance-cache"))
    root = tmp_path / "catalog"
    with FakeYahoo() as server:
        code = main([
            "data", "fetch", "--provider", "yfinance", "--yahoo-url", server.url,
            "--symbols", "GOOG", "--interval", "5m", "--from", "2012-01-30",
            "--to", "2012-02-01", "--catalog", str(root),
        ])  # fmt: skip
    assert code == 0
    stored = Catalog(root).read(interval="5m")
    assert stored.height == 155
    assert "155 rows written" in capsys.readouterr().out


def test_an_unknown_provider_is_refused(capsys: pytest.CaptureFixture[str]):
    code = main(["data", "fetch", "--provider", "nope", "--symbols", "X", "-i", "1d",
                 "--from", "2024-01-01", "--to", "2024-01-02"])  # fmt: skip
    assert code == 1
    assert "tickdb, ccxt, yfinance" in capsys.readouterr().err


def test_stream_from_ccxt_prints_closed_bars(capsys: pytest.CaptureFixture[str]):
    with FakeBinance(bars=40) as server:

        def publish() -> None:
            deadline = time.monotonic() + 20
            while not server.stream.subscribed("btcusdt@kline_1m"):
                if time.monotonic() > deadline:
                    return
                time.sleep(0.01)
            for index in range(6):
                server.publish(index)

        publisher = threading.Thread(target=publish, daemon=True)
        publisher.start()
        code = main([
            "stream", "--provider", "ccxt", "--exchange", "binance", "--symbols", "BTC/USDT",
            "--interval", "1m", "--exchange-url", server.url,
            "--exchange-ws-url", server.stream.url, "--bars", "4",
        ])  # fmt: skip
        publisher.join(5)
        first = server.tape.bar(0, server.tape.start_ms)
    assert code == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if " BTC/USDT open=" in line]
    assert len(lines) == 4
    assert first is not None
    assert f"open={float(first.open):g}" in lines[0]
    assert lines[0].startswith("2023-11-14 22:13:00+00:00")
