"""Each stream-client behaviour against the fake TickDB server (real WebSocket on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import json
from itertools import pairwise

import pytest

from quantstrata.core.secrets import Secret
from quantstrata.data.sources import AsyncTickDBClient
from quantstrata.data.stream import StreamClosedError, TickDBStream
from tests.kit.tickdb_server import FakeTickDB
from tests.kit.tickdb_stream import StreamRun, check_bars, fast_config, rest_config, run_stream
from tests.kit.tickdb_tape import Tape

SYMBOLS = ["BTCUSDT", "700.HK"]


def _bars(count: int):
    def enough(run: StreamRun) -> bool:
        return all(len(run.bars.get(symbol, [])) >= count for symbol in SYMBOLS)

    return enough


async def _after(server: FakeTickDB, delay: float, *faults: str) -> None:
    await asyncio.sleep(delay)
    server.inject(*faults)


@pytest.mark.asyncio
async def test_app_heartbeat_keeps_one_healthy_connection():
    with FakeTickDB(trades_per_second=300) as server:
        run = await run_stream(
            server, SYMBOLS, until=lambda run: server.pings >= 6 and _bars(20)(run)
        )
    assert server.pings >= 6  # more pings than the two-missed-pongs limit: pongs were read
    assert run.stream.counters.connections == 1
    check_bars(server, run, SYMBOLS)


@pytest.mark.asyncio
async def test_two_missed_pongs_reconnect():
    with FakeTickDB(trades_per_second=300) as server:
        injected = asyncio.create_task(_after(server, 0.5, "stall"))
        run = await run_stream(
            server,
            SYMBOLS,
            until=lambda run: run.stream.counters.connections >= 2 and _bars(30)(run),
            stale_after_seconds=30,
        )
        await injected
    assert any("without a timely pong" in reason for reason in run.stream.counters.reasons)
    check_bars(server, run, SYMBOLS)


@pytest.mark.asyncio
async def test_no_data_on_a_subscribed_channel_reconnects():
    with FakeTickDB(trades_per_second=0) as server:
        run = await run_stream(
            server,
            SYMBOLS,
            until=lambda run: run.stream.counters.connections >= 2,
            stale_after_seconds=0.4,
        )
    assert any("no data" in reason for reason in run.stream.counters.reasons)
    assert server.pings >= 1  # pongs were answered: only liveness caught it


@pytest.mark.asyncio
async def test_accept_then_close_still_backs_off_and_grows():
    with FakeTickDB(trades_per_second=300) as server:
        server.inject("accept_then_close", "accept_then_close", "accept_then_close")
        run = await run_stream(
            server,
            SYMBOLS,
            until=lambda run: run.stream.counters.connections >= 4 and _bars(10)(run),
            backoff_base_seconds=0.05,
        )
    ceilings = [highest for _, _, highest in list(run.stream.counters.delays)[:3]]
    assert ceilings == [0.05, 0.1, 0.2]
    assert run.stream.counters.delays_outside_policy == 0
    opened = [opened for opened, _ in server.connection_log]
    assert all(later - earlier >= 0.0 for earlier, later in pairwise(opened))
    check_bars(server, run, SYMBOLS)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("fault", "least"), [("rate_limit", 0.3), ("connection_limit", 0.3), ("handshake_429", 0.3)]
)
async def test_rate_and_connection_limits_wait_what_the_server_asks(fault: str, least: float):
    with FakeTickDB(trades_per_second=300) as server:
        faults = ("handshake_429", "close") if fault == "handshake_429" else (fault,)
        injected = asyncio.create_task(_after(server, 0.4, *faults))
        run = await run_stream(
            server, SYMBOLS, until=lambda run: run.stream.counters.connections >= 2
        )
        await injected
    floors = [floor for _, floor, _ in run.stream.counters.delays]
    assert max(floors) >= least
    closes_and_opens = [
        (closed, reopened)
        for (_, closed), (reopened, _) in zip(
            server.connection_log, server.connection_log[1:], strict=False
        )
        if closed is not None
    ]
    assert any(reopened - closed >= least * 0.9 for closed, reopened in closes_and_opens)


@pytest.mark.asyncio
async def test_a_wrong_key_stops_with_an_alert_that_does_not_show_the_key():
    with FakeTickDB(trades_per_second=300) as server:
        run = await run_stream(server, SYMBOLS, until=lambda run: False, key="bad-key-424242")
    assert isinstance(run.error, StreamClosedError)
    assert run.alerts
    assert server.handshake_refusals == [401]
    for text in (str(run.error), *run.alerts, repr(run.stream)):
        assert "bad-key-424242" not in text


@pytest.mark.asyncio
async def test_one_connection_at_a_time_through_many_faults():
    with FakeTickDB(trades_per_second=400) as server:
        faults = asyncio.gather(
            *(
                _after(server, 0.3 * n, kind)
                for n, kind in enumerate(["close", "disconnect"] * 2, 1)
            )
        )
        run = await run_stream(
            server, SYMBOLS, until=lambda run: run.stream.counters.connections >= 3
        )
        await faults
    assert run.stream.counters.connections >= 3
    assert server.max_open == 1


@pytest.mark.asyncio
async def test_exactly_the_confirmed_subscriptions_are_resent():
    with FakeTickDB(trades_per_second=300) as server:
        injected = asyncio.create_task(_after(server, 0.5, "close"))
        run = await run_stream(
            server,
            [*SYMBOLS, "NOPE"],
            until=lambda run: len(server.subscribe_commands) >= 2,
        )
        await injected
    first, second = server.subscribe_commands[:2]
    assert first["data"]["symbols"] == [*SYMBOLS, "NOPE"]
    assert sorted(second["data"]["symbols"]) == sorted(SYMBOLS)
    assert run.alerts  # the refusal of NOPE was reported


@pytest.mark.asyncio
async def test_a_gap_is_backfilled_without_duplicates_or_holes():
    with FakeTickDB(trades_per_second=600) as server:
        injected = asyncio.create_task(_after(server, 0.6, "disconnect"))
        run = await run_stream(
            server,
            SYMBOLS,
            until=lambda run: run.stream.counters.connections >= 2 and _bars(60)(run),
            backoff_base_seconds=0.3,
            backoff_cap_seconds=0.3,
        )
        await injected
    counters = run.stream.counters
    # The outage leaves a gap per symbol; the first, partial bar adds one more unless the
    # connection happened to open on a bar boundary, so only the outage's are certain.
    assert counters.gaps >= len(SYMBOLS)
    assert counters.backfilled_bars > 0
    check_bars(server, run, SYMBOLS)


@pytest.mark.asyncio
async def test_a_market_without_trades_is_not_a_gap():
    tape = Tape(tuple(SYMBOLS), quiet_period=3, quiet_block=12)  # 2 of every 6 bars silent
    with FakeTickDB(tape=tape, trades_per_second=600) as server:
        run = await run_stream(server, SYMBOLS, until=_bars(20))
    assert run.stream.counters.connections == 1
    assert run.stream.counters.gaps == len(SYMBOLS)  # only each symbol's first, partial bar
    requests = [path for path, _ in server.requests if path == "/v1/market/kline"]
    assert len(requests) == len(SYMBOLS)
    counts = check_bars(server, run, SYMBOLS)
    times = [bar[0] for bar in run.bars["BTCUSDT"]]
    assert any(later - earlier > tape.interval_ms for earlier, later in pairwise(times))
    assert counts


@pytest.mark.asyncio
async def test_a_slow_consumer_overflows_the_bounded_queue_then_catches_up():
    # The consumer stalls 50 ms a bar for its first 12 bars (the queue of 2 overflows, whatever
    # the machine's load), then keeps up; the stream reconnects and backfills the hole.
    with FakeTickDB(trades_per_second=300) as server:
        run = await run_stream(
            server,
            SYMBOLS,
            until=lambda run: run.stream.counters.overflows >= 1 and _bars(40)(run),
            consumer_delay=lambda taken: 0.05 if taken < 12 else 0.0,
            queue_size=2,
            overflow="reconnect",
            overflow_wait_seconds=0.001,
        )
    assert run.stream.counters.overflows >= 1
    check_bars(server, run, SYMBOLS)


@pytest.mark.asyncio
async def test_closing_with_a_full_queue_still_hands_over_every_queued_bar():
    with FakeTickDB(trades_per_second=300) as server:
        rest = AsyncTickDBClient(Secret(server.api_key), config=rest_config(server))
        stream = TickDBStream(
            Secret(server.api_key),
            SYMBOLS,
            "1m",
            rest.klines,
            config=fast_config(server, queue_size=4, overflow_wait_seconds=30.0),
        )
        run = StreamRun(stream)
        bars = stream.bars()
        while run.count < 6:
            bar = await anext(bars)
            run.take(bar)
        while stream._queue.qsize() < 4:
            await asyncio.sleep(0.01)
        await stream.close()
        async for bar in bars:
            run.take(bar)
        await rest.close()
    assert run.count == 10
    check_bars(server, run, SYMBOLS)


@pytest.mark.asyncio
async def test_drop_oldest_counts_what_it_drops():
    with FakeTickDB(trades_per_second=1200) as server:
        run = await run_stream(
            server,
            SYMBOLS,
            until=lambda run: run.stream.counters.bars_dropped >= 1,
            consumer_delay=0.02,
            queue_size=2,
            overflow="drop_oldest",
        )
    assert run.stream.counters.bars_dropped >= 1
    assert run.stream.counters.overflows == 0


@pytest.mark.asyncio
async def test_malformed_frames_are_counted_and_skipped():
    with FakeTickDB(trades_per_second=300) as server:
        injected = asyncio.create_task(_after(server, 0.4, "malformed"))
        run = await run_stream(
            server, SYMBOLS, until=lambda run: run.stream.counters.malformed >= 3 and _bars(20)(run)
        )
        await injected
    assert run.stream.counters.malformed == 3
    assert run.stream.counters.connections == 1
    check_bars(server, run, SYMBOLS)


@pytest.mark.asyncio
async def test_duplicate_and_out_of_order_messages_change_nothing():
    with FakeTickDB(trades_per_second=300, batch=2) as server:
        injected = asyncio.create_task(_after(server, 0.3, "duplicate", "reorder"))
        run = await run_stream(
            server,
            SYMBOLS,
            until=lambda run: run.stream.counters.duplicates >= 5 and _bars(20)(run),
        )
        await injected
    assert run.stream.counters.duplicates >= 5
    check_bars(server, run, SYMBOLS)


@pytest.mark.asyncio
async def test_connections_rotate_before_their_maximum_age():
    with FakeTickDB(trades_per_second=600) as server:
        run = await run_stream(
            server,
            SYMBOLS,
            until=lambda run: run.stream.counters.connections >= 3 and _bars(30)(run),
            max_connection_age_seconds=0.4,
        )
    assert any("rotation" in reason for reason in run.stream.counters.reasons)
    check_bars(server, run, SYMBOLS)


@pytest.mark.asyncio
async def test_symbols_pushed_without_suffix_keep_the_subscribed_name():
    with FakeTickDB(trades_per_second=300, strip_suffix=True) as server:
        run = await run_stream(server, SYMBOLS, until=_bars(10))
    assert set(run.bars) == set(SYMBOLS)
    check_bars(server, run, SYMBOLS)


def test_fake_server_speaks_the_documented_subscribe_answer():
    ack = {"cmd": "subscribe", "code": 0, "message": "success"}
    assert set(ack) <= {"cmd", "code", "message", "data"}
    assert json.loads(json.dumps(ack)) == ack
