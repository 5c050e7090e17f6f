"""The stream survives every connect failure and backfill error (real sockets on 127.0.0.1).

A :class:`~tests.kit.chaos_proxy.ChaosProxy` in front of the fake TickDB breaks connections
before the server's HTTP 101 answer; a REST fault breaks the backfill during recovery.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from tests.kit.tickdb_server import FakeTickDB, HttpFault
from tests.kit.tickdb_stream import StreamRun, check_bars, run_stream

SYMBOLS = ["BTCUSDT", "700.HK"]


def _bars(count: int):
    def enough(run: StreamRun) -> bool:
        return all(len(run.bars.get(symbol, [])) >= count for symbol in SYMBOLS)

    return enough


@pytest.mark.asyncio
@pytest.mark.parametrize("fault", ["drop_before_handshake", "garbage_handshake", "status_503"])
async def test_a_broken_handshake_is_retried_and_the_bars_keep_coming(fault: str):
    with FakeTickDB(trades_per_second=300, proxy=True) as server:
        server.inject(fault, fault, fault)  # the first three connections fail before the 101
        run = await run_stream(server, SYMBOLS, until=_bars(15))
    assert run.error is None
    assert server.proxy is not None
    assert server.proxy.applied == [fault] * 3
    assert run.stream.counters.connections == 1  # one opened; three failed to open
    assert run.stream.counters.reconnects == 3
    assert run.stream.counters.delays_outside_policy == 0
    check_bars(server, run, SYMBOLS)


@pytest.mark.asyncio
async def test_a_rest_error_during_backfill_is_retried_and_the_bars_stay_right():
    with FakeTickDB(trades_per_second=300) as server:
        down = HttpFault(503, {"code": 5000, "message": "maintenance"})
        server.inject(*[down] * 14)  # more than twice the REST client's own retries
        run = await run_stream(server, SYMBOLS, until=_bars(15), timeout=30)
    assert run.error is None
    assert any("backfill" in reason for reason in run.stream.counters.reasons)
    check_bars(server, run, SYMBOLS)


@pytest.mark.asyncio
async def test_a_refused_key_over_rest_during_backfill_stops_with_an_alert():
    with FakeTickDB(trades_per_second=300) as server:
        server.inject(HttpFault(401, {"code": 1001, "message": "Invalid or expired token"}))
        run = await run_stream(server, SYMBOLS, until=lambda run: False, timeout=10)
    assert run.error is not None
    assert "1001" in str(run.error) or "key" in str(run.error)
    assert run.alerts


@pytest.mark.asyncio
async def test_a_late_duplicate_first_after_each_reconnect_leaves_every_bar_right():
    with FakeTickDB(trades_per_second=300) as server:
        rounds = 6
        for _ in range(rounds):
            server.inject("late_first")
        injected = asyncio.create_task(_faults(server, ["disconnect"] * (rounds - 1), 0.3))
        run = await run_stream(
            server,
            SYMBOLS,
            until=lambda run: run.stream.counters.connections >= rounds and _bars(60)(run),
        )
        await injected
    assert server.faults_applied.count("late_first") == rounds
    assert run.error is None
    check_bars(server, run, SYMBOLS)


async def _faults(server: FakeTickDB, faults: list[str], every: float) -> None:
    for fault in faults:
        await asyncio.sleep(every)
        server.inject(fault)


@pytest.mark.asyncio
async def test_a_throttled_link_is_detected_and_replaced_within_the_lateness_bound():
    # A link slowed to 3 KB/s still answers pings (late); the market runs 3,000 s a second,
    # so a bound of 600 market seconds is 0.2 s of wall time behind.
    with FakeTickDB(trades_per_second=300, proxy=True) as server:
        injected = asyncio.create_task(_faults(server, ["throttle"], 0.5))
        run = await run_stream(
            server,
            SYMBOLS,
            until=lambda run: run.stream.counters.connections >= 2 and _bars(40)(run),
            max_lag_seconds=600.0,
            heartbeat_seconds=5.0,  # pings alone would not notice within the test
            protocol_ping_seconds=None,
            stale_after_seconds=30.0,
        )
        await injected
    counters = run.stream.counters
    assert counters.lag_reconnects >= 1
    assert any("behind the market" in reason for reason in counters.reasons)
    assert any("degraded" in alert for alert in run.alerts)
    check_bars(server, run, SYMBOLS)


@pytest.mark.asyncio
async def test_a_new_stream_resumes_after_the_last_bar_a_stopped_one_delivered():
    with FakeTickDB(trades_per_second=300) as server:
        first = await run_stream(server, SYMBOLS, until=_bars(10))
        last = min(first.bars[symbol][-1][0] for symbol in SYMBOLS)
        after = datetime.fromtimestamp(last / 1000, UTC)
        second = await run_stream(server, SYMBOLS, until=_bars(10), resume_after=after)
    for symbol in SYMBOLS:
        assert second.bars[symbol][0][0] == last + server.tape.interval_ms  # nothing skipped
    check_bars(server, second, SYMBOLS)
