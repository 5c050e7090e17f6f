"""``quantstrata data fetch`` and ``quantstrata stream`` against the fake TickDB server."""

from __future__ import annotations

from pathlib import Path

import pytest

from quantstrata.cli.app import main
from quantstrata.data.catalog import Catalog
from tests.kit.tickdb_server import FakeTickDB

BARS = 1_500


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch):
    with FakeTickDB(released=BARS * 6 + 6) as fake:
        monkeypatch.setenv("TICKDB_API_KEY", fake.api_key)
        monkeypatch.setenv("TICKDB_BASE_URL", fake.url)
        yield fake


def test_data_fetch_pages_into_the_catalog(
    server: FakeTickDB, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    root = tmp_path / "catalog"
    start = server.tape.start_ms
    arguments = [
        "data", "fetch", "--provider", "tickdb", "--symbols", "BTCUSDT,700.HK",
        "--interval", "1m", "--from", "2023-11-14T22:13:00", "--to", "2023-11-15T23:13:00",
        "--plan", "enterprise", "--catalog", str(root),
    ]  # fmt: skip
    assert main(arguments) == 0
    output = capsys.readouterr().out
    stored = Catalog(root).read(interval="1m")
    assert stored.height == 2 * 1_500
    assert f"{stored.height:,} rows written" in output
    assert int(stored["ts"].min().timestamp() * 1000) == start  # type: ignore[union-attr]
    assert server.api_key not in output


def test_data_fetch_without_a_key_says_which_variable(
    server: FakeTickDB, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.delenv("TICKDB_API_KEY")
    code = main(["data", "fetch", "--symbols", "BTCUSDT", "-i", "1m", "--from", "2023-11-15",
                 "--to", "2023-11-16"])  # fmt: skip
    assert code == 1
    assert "TICKDB_API_KEY" in capsys.readouterr().err


def test_stream_prints_live_bars(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    with FakeTickDB(trades_per_second=300) as server:
        monkeypatch.setenv("TICKDB_API_KEY", server.api_key)
        code = main([
            "stream", "--provider", "tickdb", "--symbols", "BTCUSDT", "--interval", "1m",
            "--base-url", server.url, "--ws-url", server.ws_url, "--bars", "5",
        ])  # fmt: skip
    assert code == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if " BTCUSDT open=" in line]
    assert len(lines) == 5
    assert all("+00:00" in line for line in lines)
