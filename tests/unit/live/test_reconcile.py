"""Reconciliation: typed mismatches; adopt, book, halt; a failed query skips the cycle."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from quantstrata.core.clock import SimulatedClock
from quantstrata.execution.risk import RiskEngine, TradingState
from quantstrata.live.journal import Alarm, SqliteJournal
from quantstrata.live.orders import OrderManager
from quantstrata.live.reconcile import (
    MismatchKind,
    compare_fills,
    compare_orders,
    compare_positions,
    reconcile,
)
from quantstrata.live.state import LiveState
from quantstrata.model.identifiers import ClientOrderId, Symbol
from quantstrata.model.orders import Order, OrderRequest, OrderStatus, Submitted
from quantstrata.model.position import Position
from tests.kit.live import START, SYMBOL, ScriptedVenue, settle
from tests.kit.live_checks import lose_unflushed_tail


def _rig(tmp_path: Path) -> tuple[ScriptedVenue, SqliteJournal, OrderManager, RiskEngine]:
    clock = SimulatedClock(START)
    venue = ScriptedVenue(clock)
    journal = SqliteJournal(tmp_path / "j.sqlite")
    risk = RiskEngine()
    return venue, journal, OrderManager(venue, journal, run_id="rc", clock=clock, risk=risk), risk


def _buy(quantity: float = 2.0) -> OrderRequest:
    return OrderRequest.market(str(SYMBOL), quantity)


@pytest.mark.asyncio
async def test_pure_comparisons_name_each_kind(tmp_path: Path) -> None:
    venue, journal, _manager, _ = _rig(tmp_path)
    ours = {
        ClientOrderId("a"): Order.submit(Submitted(ClientOrderId("a"), START, _buy())).apply(
            __import__("quantstrata.model.orders", fromlist=["Accepted"]).Accepted(
                ClientOrderId("a"), START, "V1"
            )
        )
    }
    foreign = venue.adopt_foreign("b", _buy()).report()
    kinds = [m.kind for m in compare_orders(ours, [foreign])]
    assert kinds == [MismatchKind.UNKNOWN_VENUE_ORDER, MismatchKind.MISSING_AT_VENUE]
    fill = venue.execute("b", 1.0, push=False)
    assert [m.kind for m in compare_fills(ours, [fill, fill])] == [MismatchKind.UNKNOWN_FILL]
    positions = {SYMBOL: Position(SYMBOL, 1.0, 100.0)}
    mismatch = compare_positions(positions, {str(SYMBOL): 1.5, "ETH": 0.0})
    assert [(m.kind, m.ours, m.theirs) for m in mismatch] == [(MismatchKind.POSITION, 1.0, 1.5)]
    assert compare_positions(positions, {str(SYMBOL): 1.0}) == []
    journal.close()


@pytest.mark.asyncio
async def test_missing_fill_is_booked_once(tmp_path: Path) -> None:
    venue, journal, manager, _ = _rig(tmp_path)
    order = await manager.submit(_buy(2.0))
    venue.execute(order.order_id, 1.5, push=False)
    report = await reconcile(manager)
    assert [m.kind for m in report.mismatches] == [MismatchKind.MISSING_FILL]
    assert report.booked == ("T1",)
    assert manager.order(order.order_id).status is OrderStatus.PARTIAL
    assert manager.positions[SYMBOL].quantity == 1.5
    again = await reconcile(manager)
    assert again.clean
    assert LiveState.fold(journal.replay()) == manager.state
    journal.close()


@pytest.mark.asyncio
async def test_unknown_venue_order_is_adopted_and_flagged(tmp_path: Path) -> None:
    venue, journal, manager, _ = _rig(tmp_path)
    venue.adopt_foreign("manual-7", _buy(3.0))
    venue.execute("manual-7", 1.0, push=False)
    report = await reconcile(manager)
    assert report.adopted == ("manual-7",)
    adopted = manager.order("manual-7")
    assert adopted.status is OrderStatus.PARTIAL
    assert adopted.filled_quantity == 1.0
    assert manager.positions[SYMBOL].quantity == 1.0
    alarms = [r.entry.kind for r in journal.replay() if isinstance(r.entry, Alarm)]
    assert "adopted_order" in alarms
    assert (await reconcile(manager)).clean
    journal.close()


@pytest.mark.asyncio
async def test_filled_orders_lost_with_the_journal_tail_are_adopted_foreign_ones_alarm(
    tmp_path: Path,
) -> None:
    venue, journal, manager, risk = _rig(tmp_path)
    first = await manager.submit(_buy(2.0))
    venue.execute(first.order_id, 2.0, push=False)
    second = await manager.submit(_buy(1.0))
    venue.execute(second.order_id, 0.5, push=False)
    venue.execute(second.order_id, 0.5, push=False)
    await settle()
    journal.close()
    # a power loss took every order-flow entry after the flushed client-id reservation
    assert lose_unflushed_tail(tmp_path / "j.sqlite") > 0
    journal = SqliteJournal(tmp_path / "j.sqlite")
    restarted = OrderManager(venue, journal, run_id="rc", clock=manager.clock, risk=risk)
    assert restarted.orders == {}
    report = await reconcile(restarted)
    assert report.adopted == (first.order_id, second.order_id)
    assert restarted.order(first.order_id).status is OrderStatus.FILLED
    assert restarted.order(second.order_id).trade_ids == {"T2", "T3"}
    assert restarted.positions[SYMBOL].quantity == 3.0
    assert report.halted == ()
    assert risk.trading_state(str(SYMBOL)) is TradingState.ACTIVE
    assert LiveState.fold(journal.replay()) == restarted.state
    # a fill of an order that is not this run's is only alarmed: the position check halts
    venue.adopt_foreign("manual-9", _buy(1.0))
    venue.execute("manual-9", 1.0, push=False)
    later = await reconcile(restarted)
    assert later.adopted == ()
    assert [m.kind for m in later.mismatches] == [
        MismatchKind.UNKNOWN_FILL,
        MismatchKind.POSITION,
    ]
    assert later.halted == (SYMBOL,)
    journal.close()


@pytest.mark.asyncio
async def test_position_mismatch_halts_the_symbol_and_survives_restart(tmp_path: Path) -> None:
    venue, journal, manager, risk = _rig(tmp_path)
    venue.positions["ETH/USD"] = 4.0
    report = await reconcile(manager)
    assert report.halted == (Symbol("ETH/USD"),)
    assert risk.trading_state("ETH/USD") is TradingState.HALTED
    assert risk.trading_state(str(SYMBOL)) is TradingState.ACTIVE
    restarted = OrderManager(venue, journal, run_id="rc", clock=manager.clock, risk=RiskEngine())
    assert restarted.risk is not None
    assert restarted.risk.trading_state("ETH/USD") is TradingState.HALTED
    journal.close()


@pytest.mark.asyncio
async def test_reducing_on_mismatch_is_configurable(tmp_path: Path) -> None:
    venue, journal, manager, risk = _rig(tmp_path)
    venue.positions[str(SYMBOL)] = -1.0
    await reconcile(manager, on_position_mismatch=TradingState.REDUCING)
    assert risk.trading_state(str(SYMBOL)) is TradingState.REDUCING
    journal.close()


@pytest.mark.asyncio
async def test_failed_query_skips_the_cycle_and_changes_nothing(tmp_path: Path) -> None:
    venue, journal, manager, risk = _rig(tmp_path)
    order = await manager.submit(_buy(2.0))
    venue.execute(order.order_id, 2.0, push=False)
    venue.unavailable = True
    before = journal.last_sequence
    report = await reconcile(manager)
    assert report.skipped
    assert "venue down" in report.reason
    assert journal.last_sequence == before
    assert risk.symbol_states == {}
    assert SYMBOL not in manager.positions
    journal.close()


@pytest.mark.asyncio
async def test_order_missing_at_venue_is_resolved_by_query(tmp_path: Path) -> None:
    venue, journal, manager, _ = _rig(tmp_path)
    order = await manager.submit(_buy(2.0))
    venue.book[order.order_id].status = OrderStatus.CANCELLED
    manager.clock.advance(int(timedelta(seconds=1).total_seconds() * 1e9))  # type: ignore[attr-defined]
    report = await reconcile(manager)
    assert [m.kind for m in report.mismatches] == [MismatchKind.MISSING_AT_VENUE]
    assert manager.order(order.order_id).status is OrderStatus.CANCELLED
    await settle()
    journal.close()
