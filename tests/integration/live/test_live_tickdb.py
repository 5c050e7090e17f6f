"""The live runtime on a TickDB feed (the fake server): lateness, restarts, a fatal stream stop.

The runtime's clock is the fake exchange's market clock, which runs far faster than the wall
clock (a 1m bar every few tenths of a second), so "late" and "behind" are judged in market time
exactly as they would be against a real exchange.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from quantstrata.core.clock import Clock
from quantstrata.core.secrets import Secret
from quantstrata.execution.fill_model import FillModel
from quantstrata.live import Live, LiveConfig
from quantstrata.live.brokers import PaperBroker
from quantstrata.live.engine import LiveSummary
from quantstrata.live.feeds import TickDBFeed
from quantstrata.live.health import HealthConfig
from quantstrata.live.journal import BarHandled, SqliteJournal
from quantstrata.live.state import LiveState
from quantstrata.model.identifiers import ClientOrderId
from quantstrata.model.orders import OrderRequest
from quantstrata.strategy import EventStrategy
from quantstrata.strategy.context import StrategyContext
from quantstrata.strategy.event import BarSnapshot
from tests.kit.tickdb_server import FakeTickDB
from tests.kit.tickdb_stream import fast_config, rest_config
from tests.kit.venue import wait_until

SYMBOL = "BTCUSDT"
MINUTE = timedelta(minutes=1)


class EveryBar(EventStrategy):
    """Buy one unit on every bar; remember how late each bar came and the order it asked for."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.seen: dict[datetime, tuple[float, ClientOrderId]] = {}

    def warmup_bars(self) -> int:
        return 0

    def on_bar(self, bars: BarSnapshot, context: StrategyContext) -> None:
        order_id = context.submit(OrderRequest.market(SYMBOL, 1.0))
        delay = (self.clock.now() - (bars.ts + MINUTE)).total_seconds()
        self.seen[bars.ts] = (delay, order_id)


def _runtime(
    server: FakeTickDB, journal: Path, stream: dict[str, Any] | None = None, **settings: Any
) -> tuple[Live, EveryBar]:
    clock = server.clock()
    feed = TickDBFeed(
        Secret(server.api_key),
        config=rest_config(server),
        stream_config=fast_config(server, **(stream or {})),
        clock=clock,
    )
    if journal.exists():  # a restart: the paper account is the journal's
        broker = PaperBroker.resume(_journal(journal)[1], clock=clock, fill_model=FillModel())
    else:
        broker = PaperBroker(clock=clock, fill_model=FillModel(), cash=1_000_000.0)
    quiet = HealthConfig(feed_stale_after=1e9, broker_stale_after=1e9, check_interval=0.05)
    config = LiveConfig(
        symbols=(SYMBOL,),
        interval="1m",
        journal=str(journal),
        warm_up=False,
        health=quiet,
        feed_restart_base=0.05,
        feed_restart_cap=0.2,
        **settings,
    )
    strategy = EveryBar(clock)
    return Live(strategy, feed, broker, config, clock=clock), strategy


async def _run_until(live: Live, condition: Callable[[], bool]) -> LiveSummary:
    stop = asyncio.Event()
    task = asyncio.create_task(live.run_async(stop))
    try:
        await wait_until(lambda: task.done() or condition(), timeout=30)
    finally:
        stop.set()
    return await asyncio.wait_for(task, 30)


def _journal(path: Path) -> tuple[list[datetime], LiveState]:
    store = SqliteJournal(path)
    try:
        entries = list(store.replay())
    finally:
        store.close()
    handled = [record.entry.ts for record in entries if isinstance(record.entry, BarHandled)]
    return handled, LiveState.fold(entries)


def _contiguous(times: list[datetime]) -> bool:
    return times == [times[0] + MINUTE * step for step in range(len(times))]


def _on_time_after_late(strategy: EveryBar, bound: float, count: int) -> bool:
    late = [ts for ts, (delay, _) in strategy.seen.items() if delay > bound]
    if not late:
        return False
    after = [ts for ts, (delay, _) in strategy.seen.items() if ts > max(late) and delay < bound]
    return len(after) >= count


@pytest.mark.asyncio
async def test_a_feed_behind_the_market_degrades_health_and_its_late_bars_are_not_traded(
    tmp_path: Path,
) -> None:
    # The market runs 200 s a wall second. A link throttled to 300 B/s falls behind; the
    # stream notices past 300 market seconds, reconnects and backfills: bars that come more
    # than 120 s after their close are handled without trading, then bars come on time again.
    bound = 120.0
    stream = {
        "max_lag_seconds": 300.0,
        "heartbeat_seconds": 5.0,  # pings alone would not notice within the test
        "protocol_ping_seconds": None,
        "stale_after_seconds": 30.0,
    }
    with FakeTickDB(trades_per_second=20, proxy=True) as server:
        live, strategy = _runtime(server, tmp_path / "j.sqlite", stream, max_bar_delay=bound)
        stop = asyncio.Event()
        task = asyncio.create_task(live.run_async(stop))
        await wait_until(lambda: task.done() or len(strategy.seen) >= 5, timeout=30)
        server.throttle(300.0)
        await wait_until(lambda: task.done() or _on_time_after_late(strategy, bound, 5), timeout=30)
        stop.set()
        summary = await asyncio.wait_for(task, 30)
    handled, state = _journal(tmp_path / "j.sqlite")
    # The strategy reads the clock after the runtime judged the bar: a bar it saw on time
    # was on time for the runtime too, and a bar the runtime found late it saw late.
    untraded = {ts for ts, (_, order_id) in strategy.seen.items() if order_id not in state.orders}
    assert untraded
    assert summary.late_bars == len(untraded)
    assert summary.risk_rejections == 0
    assert all(strategy.seen[ts][0] > bound for ts in untraded)
    assert _contiguous(sorted(strategy.seen))  # every bar reached the strategy, once
    assert handled == sorted(strategy.seen)
    texts = [alert.text() for alert in live.alerts.history]
    assert any("behind the market" in text for text in texts)  # the stream's own signal
    degraded = next(i for i, text in enumerate(texts) if "feed ok -> degraded" in text)
    assert any("feed degraded -> ok" in text for text in texts[degraded:])
    assert any("too late to trade" in text for text in texts)


@pytest.mark.asyncio
async def test_a_restart_on_the_same_journal_resumes_after_the_last_bar_it_handled(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "j.sqlite"
    bound = 300.0  # market seconds: half a wall second at 600 market seconds a wall second
    with FakeTickDB(trades_per_second=60) as server:
        first_live, first = _runtime(server, journal, max_bar_delay=bound)
        await _run_until(first_live, lambda: len(first.seen) >= 5)
        last = max(first.seen)
        # Nothing runs while the market moves on ten bars.
        horizon = int((last + 11 * MINUTE).timestamp() * 1000)
        await wait_until(lambda: server.truth(0)[-1][0] >= horizon, timeout=30)
        second_live, second = _runtime(server, journal, max_bar_delay=bound)
        summary = await _run_until(
            second_live,
            lambda: (
                any(delay < bound for delay, _ in second.seen.values()) and len(second.seen) >= 15
            ),
        )
    handled, state = _journal(journal)
    assert summary.resumed_after == last
    assert min(second.seen) == last + MINUTE  # the bars the dead run missed came first
    assert set(first.seen).isdisjoint(second.seen)  # no bar handled twice
    assert _contiguous(handled)
    assert handled == sorted({*first.seen, *second.seen})
    missed = [ts for ts in second.seen if ts <= last + 5 * MINUTE]
    assert summary.late_bars >= len(missed)
    for ts in missed:  # closed minutes before the restart: seen, not traded
        assert second.seen[ts][1] not in state.orders
    for delay, order_id in [*first.seen.values(), *second.seen.values()]:
        if delay <= bound:  # on time when the strategy saw it, so when the runtime judged it
            assert order_id in state.orders


@pytest.mark.asyncio
async def test_a_fatal_stream_stop_is_restarted_from_the_last_bar_without_loss(
    tmp_path: Path,
) -> None:
    with FakeTickDB(trades_per_second=60) as server:
        key = server.api_key
        live, strategy = _runtime(server, tmp_path / "j.sqlite", max_bar_delay=None)
        stop = asyncio.Event()
        task = asyncio.create_task(live.run_async(stop))
        await wait_until(lambda: task.done() or len(strategy.seen) >= 5, timeout=30)
        server.api_key = "a-rotated-key-0123456789"  # the provider refuses the key ...
        server.inject("disconnect")
        await wait_until(
            lambda: (
                task.done() or any(alert.title == "feed stopped" for alert in live.alerts.history)
            ),
            timeout=30,
        )
        assert not task.done()
        stopped_at = max(strategy.seen)
        server.api_key = key  # ... until the operator fixes it
        await wait_until(
            lambda: task.done() or max(strategy.seen) >= stopped_at + 10 * MINUTE, timeout=30
        )
        stop.set()
        summary = await asyncio.wait_for(task, 30)
    handled, _ = _journal(tmp_path / "j.sqlite")
    assert summary.feed_restarts >= 1
    assert _contiguous(handled)
    assert handled == sorted(strategy.seen)
    assert summary.late_bars == 0  # no bound: every bar traded
    texts = [alert.text() for alert in live.alerts.history]
    assert any("feed stopped" in text and "refused the API key" in text for text in texts)
    assert not any(key in text for text in texts)
