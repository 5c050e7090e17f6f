"""Margin in live trading: the paper broker's call reaches the runtime; reconciliation sees it.

The account of ``tests/unit/backtest/test_margin_call.py`` without commission: 10,000 cash, a
Reg-T short of 100 ``AAA`` filled at 100 (cash 20,000). At a close of 170 the paper broker
reports equity 20,000 − 17,000 = 3,000 and maintenance 25 % × 17,000 = 4,250: reconciliation
finds the venue in a margin call and lets only reducing orders pass. When the next bar comes
(open 175) the paper broker makes the call at the last closes and buys the 100 back at 175,
an order of its own that the order manager adopts as it is announced: flat, cash 2,500.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from quantstrata.core.clock import SimulatedClock
from quantstrata.exchange import LIQUIDATION_TAG
from quantstrata.execution.risk import RiskEngine, TradingState
from quantstrata.live.brokers.paper import PaperBroker
from quantstrata.live.journal import CashSet, SqliteJournal
from quantstrata.live.orders import OrderManager
from quantstrata.live.reconcile import MismatchKind, compare_margin, reconcile
from quantstrata.live.state import LiveState
from quantstrata.model.bar import Bar
from quantstrata.model.instrument import Instrument
from quantstrata.model.orders import OrderRequest, OrderStatus
from tests.kit.live import settle

DAY0 = datetime(2024, 1, 1, tzinfo=UTC)
INSTRUMENTS = {"AAA": Instrument.of("AAA", "equity", calendar=None)}


def _bar(day: int, open_: float, close: float) -> Bar:
    high, low = max(open_, close), min(open_, close)
    return Bar(DAY0 + timedelta(days=day), "AAA", open_, high, low, close, 1_000.0)


@pytest.mark.asyncio
async def test_a_paper_margin_call_is_seen_by_reconciliation_and_adopted(tmp_path: Path) -> None:
    clock = SimulatedClock(DAY0)
    paper = PaperBroker(clock=clock, cash=10_000.0, instruments=INSTRUMENTS)
    journal = SqliteJournal(tmp_path / "j.sqlite")
    manager = OrderManager(
        paper, journal, run_id="m", clock=clock, risk=RiskEngine(instruments=INSTRUMENTS)
    )
    manager.record(CashSet(DAY0, 10_000.0, "the paper account"))
    consumer = asyncio.create_task(manager.consume_updates())
    await paper.on_bar(_bar(0, 100.0, 100.0))
    await manager.submit(OrderRequest.market("AAA", -100.0), last_price=100.0)
    await paper.on_bar(_bar(1, 100.0, 100.0))
    await paper.on_bar(_bar(2, 100.0, 170.0))
    await settle()

    account = await paper.account()
    assert (account.equity, account.maintenance_margin) == (3_000.0, 4_250.0)
    [margin] = compare_margin(account)
    assert (margin.kind, margin.ours, margin.theirs) == (MismatchKind.MARGIN, 3_000.0, 4_250.0)
    report = await reconcile(manager)
    assert [m.kind for m in report.mismatches] == [MismatchKind.MARGIN]
    assert manager.state.trading[None] is TradingState.REDUCING

    await paper.on_bar(_bar(3, 175.0, 175.0))
    await settle()
    [liquidation] = [o for o in manager.orders.values() if o.request.tag == LIQUIDATION_TAG]
    assert liquidation.status is OrderStatus.FILLED
    assert liquidation.average_fill_price == 175.0
    assert manager.positions["AAA"].is_flat  # type: ignore[index]
    assert paper.exchange.cash == 2_500.0
    assert (await reconcile(manager)).clean
    await paper.close()
    await consumer
    assert LiveState.fold(journal.replay()) == manager.state
    journal.close()
