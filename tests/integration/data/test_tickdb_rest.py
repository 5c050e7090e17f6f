"""The TickDB REST clients against the fake server: paging, retries, rate limits, auth."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import polars as pl
import pytest

from quantstrata.core.clock import SimulatedClock
from quantstrata.core.secrets import Secret
from quantstrata.data.catalog import Catalog
from quantstrata.data.sources import (
    AsyncTickDBClient,
    AuthenticationError,
    HttpConfig,
    ProviderUnavailableError,
    RateLimiter,
    RetryPolicy,
    TickDBClient,
    TickDBConfig,
    fetch_tickdb_to_catalog,
)
from tests.kit.tickdb_server import FakeTickDB, HttpFault
from tests.kit.tickdb_tape import Tape

BARS = 2_500
TAPE = Tape(("BTCUSDT", "700.HK"))


def _moment(milliseconds: int) -> datetime:
    return datetime.fromtimestamp(milliseconds / 1000, UTC)


START = _moment(TAPE.start_ms)
END = _moment(TAPE.start_ms + BARS * TAPE.interval_ms)


@pytest.fixture
def server():
    with FakeTickDB(tape=TAPE, released=BARS * 6 + 6) as fake:
        yield fake


def _client(server: FakeTickDB, sleeps: list[float], **retry: object) -> TickDBClient:
    config = TickDBConfig(
        base_url=server.url,
        requests_per_minute=600_000,
        http=HttpConfig(retry=RetryPolicy(**retry)) if retry else HttpConfig(),
    )
    return TickDBClient(
        Secret(server.api_key),
        config=config,
        clock=SimulatedClock(datetime(2026, 1, 1, tzinfo=UTC)),
        limiter=RateLimiter(600_000),
        uniform=lambda low, high: high,
        sleep=sleeps.append,
    )


def _frame_of_truth(server: FakeTickDB, symbol: str) -> list[tuple[object, ...]]:
    return server.truth(server.tape.symbols.index(symbol))[:BARS]


def test_a_long_range_is_paged_within_the_limit_and_matches_the_tape(server: FakeTickDB):
    with _client(server, []) as client:
        bars = client.klines("BTCUSDT", "1m", START, END)
    kline_requests = [params for path, params in server.requests if path == "/v1/market/kline"]
    assert len(kline_requests) == 3
    assert all(int(params["limit"]) <= 1000 for params in kline_requests)
    rows = [
        (int(row[0].timestamp() * 1000), *row[1:])
        for row in bars.select("ts", "open", "high", "low", "close", "volume").iter_rows()
    ]
    assert rows == _frame_of_truth(server, "BTCUSDT")
    assert bars["ts"].dtype == pl.Datetime("ns", "UTC")


def test_server_errors_are_retried_with_backoff_then_succeed(server: FakeTickDB):
    server.inject(
        HttpFault(500, {"code": 5000, "message": "Internal server error"}),
        HttpFault(503, {"code": "5002", "message": "Service temporarily unavailable"}),
    )
    sleeps: list[float] = []
    with _client(server, sleeps, base_seconds=0.5) as client:
        bars = client.klines("BTCUSDT", "1m", START, START + timedelta(minutes=10))
    assert bars.height == 10
    assert sleeps == [0.5, 1.0]


def test_rate_limits_wait_what_the_server_asks(server: FakeTickDB):
    date = format_datetime(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=42), usegmt=True)
    server.inject(
        HttpFault(429, {"code": "3001", "message": "Rate limit exceeded"}, {"Retry-After": "7"}),
        HttpFault(429, {"code": 3001, "message": "Rate limit exceeded"}, {"Retry-After": date}),
        HttpFault(
            200,
            {"code": 3001, "message": "Rate limit", "reset_at": 1_767_225_600 + 25},
        ),
    )
    sleeps: list[float] = []
    with _client(server, sleeps) as client:
        client.klines("BTCUSDT", "1m", START, START + timedelta(minutes=5))
    assert sleeps == [7.0, 42.0, 25.0]


def test_retries_run_out_into_a_typed_error(server: FakeTickDB):
    for _ in range(3):
        server.inject(HttpFault(500, {"code": 5000, "message": "boom"}))
    sleeps: list[float] = []
    with (
        _client(server, sleeps, max_attempts=3) as client,
        pytest.raises(ProviderUnavailableError, match="3 attempt"),
    ):
        client.klines("BTCUSDT", "1m", START, START + timedelta(minutes=5))
    assert len(sleeps) == 2


def test_a_network_error_is_retried():
    sleeps: list[float] = []
    config = TickDBConfig(
        base_url="http://127.0.0.1:9",
        http=HttpConfig(connect_timeout_seconds=0.5, retry=RetryPolicy(max_attempts=2)),
    )
    client = TickDBClient(Secret("k" * 20), config=config, sleep=sleeps.append)
    with pytest.raises(ProviderUnavailableError, match="network error"):
        client.klines("BTCUSDT", "1m", START, START + timedelta(minutes=5))
    assert len(sleeps) == 1


def test_a_wrong_key_is_fatal_at_once_and_never_shown(server: FakeTickDB):
    sleeps: list[float] = []
    secret = "wrong-key-0123456789"
    client = TickDBClient(
        Secret(secret),
        config=TickDBConfig(base_url=server.url, requests_per_minute=600_000),
        sleep=sleeps.append,
    )
    with pytest.raises(AuthenticationError, match="refused the API key") as caught:
        client.klines("BTCUSDT", "1m", START, END)
    assert sleeps == []
    assert secret not in str(caught.value)
    assert secret not in repr(client)


def test_fetch_tickdb_to_catalog_writes_sorted_unique_bars(server: FakeTickDB, tmp_path: Path):
    catalog = Catalog(tmp_path / "catalog")
    progress: list[tuple[int, int]] = []
    with _client(server, []) as client:
        summary = fetch_tickdb_to_catalog(
            client,
            catalog,
            ["BTCUSDT", "700.HK"],
            interval="1m",
            start=START,
            end=END,
            progress=lambda done, total: progress.append((done, total)),
        )
        again = fetch_tickdb_to_catalog(
            client, catalog, ["BTCUSDT"], interval="1m", start=START, end=END
        )
    assert summary.rows_written == 2 * BARS
    assert again.rows_written == 0
    stored = catalog.read(interval="1m")
    assert stored.height == 2 * BARS
    assert stored.select(pl.struct("symbol", "ts").is_unique().all()).item()
    assert progress[-1] == (3, 3)


@pytest.mark.asyncio
async def test_the_async_client_pages_and_retries_the_same_way(server: FakeTickDB):
    server.inject(HttpFault(502, {"code": 5000, "message": "bad gateway"}))
    sleeps: list[float] = []

    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    client = AsyncTickDBClient(
        Secret(server.api_key),
        config=TickDBConfig(base_url=server.url, requests_per_minute=600_000),
        uniform=lambda low, high: high,
        sleep=record,
    )
    bars = await client.klines("700.HK", "1m", START, END)
    latest = await client.latest(["BTCUSDT", "700.HK"], "1m")
    await client.close()
    assert bars.height == BARS
    assert sleeps == [0.5]
    assert sorted(latest["symbol"].to_list()) == ["700.HK", "BTCUSDT"]
