"""No API key in any log line, exception text or repr while the TickDB clients work and fail."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest

from quantstrata.core.secrets import Secret
from quantstrata.data.sources import (
    AsyncTickDBClient,
    HttpConfig,
    ProviderError,
    RetryPolicy,
    TickDBClient,
    TickDBConfig,
)
from tests.kit.tickdb_server import FakeTickDB, HttpFault
from tests.kit.tickdb_stream import run_stream

KEY = "sk-live-7f3c9a1b5d2e4f60a8b7c6d5e4f3a2b1"


def test_no_key_in_logs_exceptions_or_reprs(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    with FakeTickDB(api_key=KEY, trades_per_second=300, released=None) as server:
        start = datetime.fromtimestamp(server.tape.start_ms / 1000, UTC)
        server.inject(
            HttpFault(500, {"code": 5000, "message": "boom"}),
            HttpFault(429, {"code": "3001", "message": "slow"}, {"Retry-After": "0"}),
        )
        config = TickDBConfig(
            base_url=server.url,
            requests_per_minute=600_000,
            http=HttpConfig(retry=RetryPolicy(base_seconds=0.01, max_attempts=2)),
        )
        client = TickDBClient(Secret(KEY), config=config, sleep=lambda seconds: None)
        texts += [repr(client), repr(config), repr(Secret(KEY)), str(Secret(KEY))]
        for attempt in range(2):
            try:
                client.klines("BTCUSDT", "1m", start, start + timedelta(minutes=3 + attempt))
            except ProviderError as error:
                texts += [str(error), repr(error)]
        wrong = TickDBClient(Secret(KEY + "x"), config=config, sleep=lambda seconds: None)
        with pytest.raises(ProviderError) as caught:
            wrong.klines("NOPE", "1m", start, start + timedelta(minutes=1))
        texts += [str(caught.value), repr(caught.value), repr(wrong)]
        server.inject("handshake_429")
        run = asyncio.run(
            run_stream(server, ["BTCUSDT"], until=lambda run: len(run.bars.get("BTCUSDT", [])) > 5)
        )
        texts += [repr(run.stream), repr(run.stream.config), *run.alerts]
        texts += list(run.stream.counters.reasons)
        bad = asyncio.run(
            run_stream(server, ["BTCUSDT"], until=lambda run: False, key=KEY + "y", timeout=3)
        )
        texts += [str(bad.error), repr(bad.error), *bad.alerts, repr(bad.stream)]
        async_client = AsyncTickDBClient(Secret(KEY), config=config)
        texts.append(repr(async_client))
        asyncio.run(async_client.close())
        client.close()
        wrong.close()
    texts += [record.getMessage() for record in caplog.records]
    texts.append(caplog.text)
    assert caplog.records, "nothing was logged: the scan would prove nothing"
    assert any("api_key=***" in text for text in texts)  # the URL was logged, masked
    leaks = [text for text in texts if KEY in text]
    assert leaks == []
