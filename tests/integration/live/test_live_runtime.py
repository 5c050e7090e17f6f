"""The live runtime on the paper broker: risk refusals, warm-up, graceful stop, SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from quantstrata.core.clock import LiveClock
from quantstrata.data import load_sample
from quantstrata.execution import CommissionConfig
from quantstrata.execution.fill_model import FillModel
from quantstrata.execution.risk import RiskConfig
from quantstrata.live import Live, LiveConfig
from quantstrata.live.brokers import PaperBroker
from quantstrata.live.feed import LagListener
from quantstrata.live.feeds import ReplayFeed
from quantstrata.live.journal import SqliteJournal
from quantstrata.live.state import LiveState
from quantstrata.model.bar import Bar
from quantstrata.model.interval import Interval
from quantstrata.model.orders import OrderRequest, OrderStatus
from quantstrata.strategy import EventStrategy
from quantstrata.strategy.context import StrategyContext
from quantstrata.strategy.event import BarSnapshot
from quantstrata.strategy.examples import SmaCrossover


class FarLimits(EventStrategy):
    """Rest a buy limit far below the market on every bar (it never fills)."""

    def warmup_bars(self) -> int:
        return 0

    def on_bar(self, bars: BarSnapshot, context: StrategyContext) -> None:
        context.submit(OrderRequest.limit("SPX", 1.0, bars["SPX"].close * 0.5))


def _runtime(
    strategy: object, bars: pl.DataFrame, journal: Path, **settings: object
) -> tuple[Live, PaperBroker]:
    clock = LiveClock()
    broker = PaperBroker(
        clock=clock, fill_model=FillModel(commission=CommissionConfig(rate=0.001)), cash=100_000.0
    )
    start = settings.pop("start", None)
    pause = float(settings.pop("pause", 0.0))  # type: ignore[arg-type]
    config = LiveConfig(symbols=("SPX",), journal=str(journal), **settings)  # type: ignore[arg-type]
    feed = ReplayFeed(bars, "1d", start=start, pause=pause)  # type: ignore[arg-type]
    return Live(strategy, feed, broker, config, clock=clock), broker  # type: ignore[arg-type]


class StopsOnce(ReplayFeed):
    """Replay bars, but the first stream stops with a connection error after ``after`` bars."""

    def __init__(self, bars: pl.DataFrame, stop_after: int) -> None:
        super().__init__(bars, "1d")
        self.stop_after = stop_after
        self.starts: list[datetime | None] = []

    async def bars(
        self,
        symbols: Sequence[str],
        interval: Interval,
        *,
        after: datetime | None = None,
        on_lag: LagListener | None = None,
    ) -> AsyncIterator[Bar]:
        self.starts.append(after)
        count = 0
        async for bar in super().bars(symbols, interval, after=after, on_lag=on_lag):
            if len(self.starts) == 1 and count == self.stop_after:
                raise ConnectionResetError("the provider went away")
            count += 1
            yield bar


def _state(journal: Path) -> LiveState:
    store = SqliteJournal(journal)
    try:
        return LiveState.fold(store.replay())
    finally:
        store.close()


@pytest.mark.asyncio
async def test_orders_refused_by_risk_never_reach_the_broker(tmp_path: Path) -> None:
    bars = load_sample("SPX_1d").head(120)
    live, broker = _runtime(
        SmaCrossover(fast=5, slow=20),
        bars,
        tmp_path / "j.sqlite",
        risk=RiskConfig(max_order_notional=1_000.0),
    )
    summary = await live.run_async()
    assert summary.orders_sent == 0
    assert summary.risk_rejections > 0
    assert await broker.open_orders() == []
    assert await broker.fills() == []
    assert any("max_order_notional" in alert for alert in summary.alerts)
    assert _state(tmp_path / "j.sqlite").rejections == summary.risk_rejections


@pytest.mark.asyncio
async def test_warm_up_feeds_history_then_trades_the_held_target(tmp_path: Path) -> None:
    bars = load_sample("SPX_1d").head(200)
    start = bars["ts"][150]
    strategy = SmaCrossover(fast=5, slow=20)
    live, broker = _runtime(strategy, bars, tmp_path / "j.sqlite", start=start)
    summary = await live.run_async()
    assert summary.bar_times == 50
    expected = strategy.compute_targets(bars.head(151))["target"].drop_nulls()[-1]
    fills = await broker.fills()
    first_target_order = min(fills, key=lambda fill: fill.ts) if fills else None
    if expected > 0:
        assert first_target_order is not None
        assert first_target_order.ts == bars["ts"][151]
    assert summary.alerts == ()


@pytest.mark.asyncio
async def test_stop_cancels_open_orders_when_asked_and_closes_the_journal(tmp_path: Path) -> None:
    bars = load_sample("SPX_1d").head(400)
    journal = tmp_path / "j.sqlite"
    live, broker = _runtime(
        FarLimits(), bars, journal, pause=0.01, cancel_on_shutdown=True, warm_up=False
    )
    stop = asyncio.Event()
    running = asyncio.create_task(live.run_async(stop))
    while live.manager.state.submitted < 5:
        await asyncio.sleep(0.01)
    stop.set()
    summary = await asyncio.wait_for(running, timeout=30)
    assert summary.stopped_by == "stop requested"
    assert 5 <= summary.bar_times < 400
    state = _state(journal)
    assert state.orders
    assert all(order.status is OrderStatus.CANCELLED for order in state.orders.values())
    assert await broker.open_orders() == []


def test_sigterm_stops_the_command_gracefully(tmp_path: Path) -> None:
    journal = tmp_path / "j.sqlite"
    command = [
        sys.executable, "-c", "from quantstrata.cli.app import main; raise SystemExit(main())",
        "live", "quantstrata.strategy.examples:SmaCrossover", "--data", "SPX",
        "--venue", "paper", "--pause", "0.02", "--journal", str(journal),
        "--param", "fast=3", "--param", "slow=8",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(os.environ)
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (journal.exists() and _state(journal).orders):
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=60)
    text = output.decode()
    assert process.returncode == 0, text
    assert "stop requested" in text
    state = _state(journal)
    assert state.orders
    assert not [order for order in state.orders.values() if order.status is OrderStatus.SENDING]


@pytest.mark.asyncio
async def test_a_feed_that_stops_is_restarted_after_the_last_bar_handled(tmp_path: Path) -> None:
    bars = load_sample("SPX_1d").head(60)
    feed = StopsOnce(bars, stop_after=25)
    clock = LiveClock()
    broker = PaperBroker(clock=clock, fill_model=FillModel(), cash=100_000.0)
    config = LiveConfig(
        symbols=("SPX",),
        journal=str(tmp_path / "j.sqlite"),
        warm_up=False,
        feed_restart_base=0.01,
        feed_restart_cap=0.02,
    )
    live = Live(SmaCrossover(fast=5, slow=20), feed, broker, config, clock=clock)
    summary = await live.run_async()
    assert feed.starts == [None, bars["ts"][24]]
    assert summary.feed_restarts == 1
    assert summary.bar_times == 60  # every bar once: none lost, none repeated
    assert summary.dropped_bars == 0
    assert summary.late_bars == 0  # a replay is never late
    assert any("feed stopped" in alert and "went away" in alert for alert in summary.alerts)
