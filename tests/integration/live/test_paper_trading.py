"""Order manager + paper broker + journal: a small paper-trading session, then a restart."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from quantstrata.core.clock import SimulatedClock
from quantstrata.execution.risk import RiskConfig, RiskEngine
from quantstrata.live.brokers.paper import PaperBroker
from quantstrata.live.journal import SqliteJournal
from quantstrata.live.orders import OrderManager
from quantstrata.live.reconcile import reconcile
from quantstrata.live.state import LiveState
from quantstrata.model.bar import Bar
from quantstrata.model.orders import OrderRequest, OrderStatus
from tests.kit.live import settle

DAY0 = datetime(2024, 1, 2, tzinfo=UTC)
CLOSES = [100.0, 102.0, 101.0, 105.0, 104.0, 108.0]


def _bar(index: int) -> Bar:
    close = CLOSES[index]
    open_ = CLOSES[index - 1] if index else close
    return Bar(
        DAY0 + timedelta(days=index),
        "AAA",
        open_,
        max(open_, close) + 1,
        min(open_, close) - 1,
        close,
        1e6,
    )  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_paper_session_fills_next_open_and_survives_a_restart(tmp_path: Path) -> None:
    clock = SimulatedClock(DAY0)
    paper = PaperBroker(clock=clock, cash=100_000.0)
    path = tmp_path / "journal.sqlite"
    journal = SqliteJournal(path)
    manager = OrderManager(
        paper,
        journal,
        run_id="paper",
        clock=clock,
        risk=RiskEngine(RiskConfig(max_position_units=100)),
    )
    manager.set_cash(100_000.0, "start")
    consumer = asyncio.create_task(manager.consume_updates())
    for index in range(len(CLOSES)):
        bar = _bar(index)
        clock.set_time(bar.ts + timedelta(hours=23))
        await paper.on_bar(bar)
        await settle()
        if index in (1, 3):
            target = 10.0 if index == 1 else 0.0
            held = manager.state.position("AAA").quantity
            await manager.submit(OrderRequest.market("AAA", target - held), last_price=bar.close)
    await settle()
    orders = list(manager.orders.values())
    assert [o.status for o in orders] == [OrderStatus.FILLED, OrderStatus.FILLED]
    assert [o.average_fill_price for o in orders] == [CLOSES[1], CLOSES[3]]
    position = manager.state.position("AAA")
    assert position.is_flat
    assert position.realized_pnl == pytest.approx(10 * (CLOSES[3] - CLOSES[1]))
    account = await paper.account()
    assert manager.state.cash == pytest.approx(account.cash)
    report = await reconcile(manager)
    assert report.clean
    await paper.close()
    await consumer
    journal.close()

    reopened = SqliteJournal(path)
    restarted = OrderManager(paper, reopened, run_id="paper", clock=clock)
    assert restarted.state == manager.state
    assert LiveState.fold(reopened.replay()) == restarted.state
    reopened.close()
