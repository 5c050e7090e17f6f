"""The order manager against a scripted venue: journal first, unknown means unknown, restarts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from quantstrata.core.clock import SimulatedClock
from quantstrata.core.errors import ConfigError
from quantstrata.execution.risk import RiskConfig, RiskEngine, RiskViolation, TradingState
from quantstrata.live.journal import (
    Alarm,
    Checkpoint,
    RiskRejection,
    SqliteJournal,
    TradingStateChange,
)
from quantstrata.live.orders import ORDER_ID_BLOCK, ORDER_IDS, OrderManager
from quantstrata.live.state import LiveState
from quantstrata.model.identifiers import ClientOrderId, VenueOrderId
from quantstrata.model.orders import (
    NOT_FOUND_AT_VENUE,
    Accepted,
    OrderRequest,
    OrderStatus,
    Submitted,
)
from tests.kit.live import START, SYMBOL, Fault, ScriptedVenue, settle
from tests.kit.live_checks import lose_unflushed_tail


@dataclass
class Rig:
    clock: SimulatedClock
    venue: ScriptedVenue
    journal: SqliteJournal
    manager: OrderManager
    path: Path
    consumer: asyncio.Task[None]

    def replayed(self) -> LiveState:
        return LiveState.fold(self.journal.replay())

    def kinds(self) -> list[str]:
        return [type(r.entry).__name__ for r in self.journal.replay()]


@pytest_asyncio.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    clock = SimulatedClock(START)
    venue = ScriptedVenue(clock)
    path = tmp_path / "journal.sqlite"
    journal = SqliteJournal(path)
    manager = OrderManager(venue, journal, run_id="r1", clock=clock)
    consumer = asyncio.create_task(manager.consume_updates())
    yield Rig(clock, venue, journal, manager, path, consumer)
    await venue.close()
    await consumer
    journal.close()


def _buy(quantity: float = 2.0) -> OrderRequest:
    return OrderRequest.market(str(SYMBOL), quantity)


@pytest.mark.asyncio
async def test_submitted_is_journaled_before_the_broker_is_called(rig: Rig) -> None:
    seen_in_journal: list[bool] = []
    original = rig.venue.submit

    async def spy(order_id: ClientOrderId, request: OrderRequest) -> VenueOrderId:
        seen_in_journal.append(
            any(
                isinstance(r.entry, Submitted) and r.entry.order_id == order_id
                for r in rig.journal.replay()
            )
        )
        return await original(order_id, request)

    rig.venue.submit = spy  # type: ignore[method-assign]
    order = await rig.manager.submit(_buy())
    assert seen_in_journal == [True]
    assert order.status is OrderStatus.PENDING
    assert order.order_id == "r1-1"
    assert order.venue_order_id == "V1"
    assert rig.kinds() == ["Checkpoint", "Submitted", "Accepted"]
    reservation = next(rig.journal.replay()).entry
    assert isinstance(reservation, Checkpoint)
    assert (reservation.label, dict(reservation.data)) == (ORDER_IDS, {"up_to": ORDER_ID_BLOCK})


@pytest.mark.asyncio
async def test_fills_move_positions_and_state_equals_the_replayed_journal(rig: Rig) -> None:
    order = await rig.manager.submit(_buy(3.0))
    rig.venue.execute(order.order_id, 1.0, price=100.0)
    rig.venue.execute(order.order_id, 2.0, price=103.0)
    await settle()
    final = rig.manager.order(order.order_id)
    assert final.status is OrderStatus.FILLED
    assert final.average_fill_price == pytest.approx(102.0)
    position = rig.manager.positions[SYMBOL]
    assert position.quantity == 3.0
    assert rig.replayed() == rig.manager.state


@pytest.mark.asyncio
async def test_rejection_by_the_venue(rig: Rig) -> None:
    rig.venue.faults.append(Fault.REJECT)
    order = await rig.manager.submit(_buy())
    assert order.status is OrderStatus.REJECTED
    assert order.reason == "insufficient margin"


@pytest.mark.asyncio
async def test_timeout_but_accepted_is_resolved_by_query_never_resent(rig: Rig) -> None:
    rig.venue.faults.append(Fault.TIMEOUT_BUT_ACCEPTED)
    order = await rig.manager.submit(_buy())
    assert order.status is OrderStatus.PENDING
    assert order.venue_order_id == "V1"
    assert len(rig.venue.received) == 1
    assert rig.kinds() == ["Checkpoint", "Submitted", "TimedOut", "Resolved"]


@pytest.mark.asyncio
async def test_timeout_not_received_resolves_to_rejected_not_found(rig: Rig) -> None:
    rig.venue.faults.append(Fault.TIMEOUT_NOT_RECEIVED)
    order = await rig.manager.submit(_buy())
    assert order.status is OrderStatus.REJECTED
    assert order.reason == NOT_FOUND_AT_VENUE
    assert len(rig.venue.received) == 1


@pytest.mark.asyncio
async def test_timeout_with_venue_down_stays_unknown_until_resolved(rig: Rig) -> None:
    rig.venue.faults.append(Fault.TIMEOUT_BUT_ACCEPTED)
    rig.venue.unavailable = True
    order = await rig.manager.submit(_buy())
    assert order.status is OrderStatus.UNKNOWN
    rig.venue.unavailable = False
    rig.venue.execute(order.order_id, 2.0, push=False)
    resolved = await rig.manager.resolve(order.order_id)
    assert resolved.status is OrderStatus.FILLED
    assert rig.manager.positions[SYMBOL].quantity == 2.0
    assert len(rig.venue.received) == 1


@pytest.mark.asyncio
async def test_place_sends_an_order_the_venue_never_got_again_under_its_id(rig: Rig) -> None:
    rig.venue.faults.append(Fault.TIMEOUT_NOT_RECEIVED)
    rig.venue.unavailable = True
    order = await rig.manager.submit(_buy())
    assert order.status is OrderStatus.UNKNOWN
    assert (await rig.manager.place(order.order_id)).status is OrderStatus.UNKNOWN
    assert len(rig.venue.received) == 1, "nothing is sent while the venue cannot be asked"
    rig.venue.unavailable = False
    placed = await rig.manager.place(order.order_id)
    assert placed.status is OrderStatus.PENDING
    assert [order_id for order_id, _ in rig.venue.received] == [order.order_id] * 2
    assert list(rig.venue.book) == [order.order_id]
    assert rig.kinds() == ["Checkpoint", "Submitted", "TimedOut", "Accepted"]
    assert rig.replayed() == rig.manager.state


@pytest.mark.asyncio
async def test_place_settles_an_order_the_venue_holds_without_sending_it(rig: Rig) -> None:
    rig.venue.faults.append(Fault.TIMEOUT_BUT_ACCEPTED)
    rig.venue.unavailable = True
    order = await rig.manager.submit(_buy())
    rig.venue.unavailable = False
    placed = await rig.manager.place(order.order_id)
    assert placed.status is OrderStatus.PENDING
    assert placed.venue_order_id == "V1"
    assert len(rig.venue.received) == 1


@pytest.mark.asyncio
async def test_fill_before_ack_goes_straight_to_filled(rig: Rig) -> None:
    rig.venue.faults.append(Fault.FILL_BEFORE_ACK)
    order = await rig.manager.submit(_buy())
    assert order.status is OrderStatus.FILLED
    assert order.venue_order_id == "V1"
    assert rig.kinds() == ["Checkpoint", "Submitted", "FillEvent"]


@pytest.mark.asyncio
async def test_duplicate_fill_is_booked_once(rig: Rig) -> None:
    order = await rig.manager.submit(_buy(2.0))
    rig.venue.execute(order.order_id, 1.0, twice=True)
    await settle()
    assert rig.manager.order(order.order_id).filled_quantity == 1.0
    assert rig.manager.positions[SYMBOL].quantity == 1.0
    assert rig.kinds().count("FillEvent") == 1


@pytest.mark.asyncio
async def test_cancel_racing_a_fill_ends_filled(rig: Rig) -> None:
    order = await rig.manager.submit(_buy(2.0))
    rig.venue.cancel_races_fill = True
    await rig.manager.cancel(order.order_id)
    await settle()
    final = rig.manager.order(order.order_id)
    assert final.status is OrderStatus.FILLED
    assert rig.manager.positions[SYMBOL].quantity == 2.0
    assert "CancelRequested" in rig.kinds()


@pytest.mark.asyncio
async def test_late_fill_on_a_cancelled_order_is_booked(rig: Rig) -> None:
    order = await rig.manager.submit(_buy(2.0))
    await rig.manager.cancel(order.order_id)
    await settle()
    assert rig.manager.order(order.order_id).status is OrderStatus.CANCELLED
    rig.venue.execute(order.order_id, 0.5)
    await settle()
    late = rig.manager.order(order.order_id)
    assert late.status is OrderStatus.CANCELLED
    assert late.filled_quantity == 0.5
    assert rig.manager.positions[SYMBOL].quantity == 0.5


@pytest.mark.asyncio
async def test_cancel_is_deferred_until_the_order_is_acknowledged(rig: Rig) -> None:
    rig.venue.faults.append(Fault.TIMEOUT_BUT_ACCEPTED)
    rig.venue.unavailable = True
    order = await rig.manager.submit(_buy())
    await rig.manager.cancel(order.order_id)
    assert rig.venue.cancels == []
    assert order.order_id in rig.manager.state.deferred_cancels
    rig.venue.unavailable = False
    await rig.manager.resolve(order.order_id)
    await settle()
    assert rig.venue.cancels == [order.order_id]
    assert rig.manager.order(order.order_id).status is OrderStatus.CANCELLED
    assert rig.manager.state.deferred_cancels == set()
    kinds = rig.kinds()
    assert kinds.index("CancelIntent") < kinds.index("CancelRequested")


@pytest.mark.asyncio
async def test_illegal_update_raises_an_alarm_and_halts_the_symbol(rig: Rig) -> None:
    rig.venue.faults.append(Fault.REJECT)
    order = await rig.manager.submit(_buy())
    outcome = await rig.manager.apply_update(Accepted(order.order_id, START, VenueOrderId("V9")))
    assert outcome is None
    alarms = [r.entry for r in rig.journal.replay() if isinstance(r.entry, Alarm)]
    assert [a.kind for a in alarms] == ["illegal_update"]
    changes = [r.entry for r in rig.journal.replay() if isinstance(r.entry, TradingStateChange)]
    assert [(c.symbol, c.state) for c in changes] == [(SYMBOL, TradingState.HALTED)]


@pytest.mark.asyncio
async def test_risk_violation_is_journaled_and_nothing_reaches_the_venue(tmp_path: Path) -> None:
    clock = SimulatedClock(START)
    venue = ScriptedVenue(clock)
    journal = SqliteJournal(tmp_path / "j.sqlite")
    risk = RiskEngine(RiskConfig(max_order_notional=100))
    manager = OrderManager(venue, journal, run_id="r", clock=clock, risk=risk)
    with pytest.raises(RiskViolation, match="max_order_notional"):
        await manager.submit(_buy(5), last_price=50.0)
    assert venue.received == []
    rejections = [r.entry for r in journal.replay() if isinstance(r.entry, RiskRejection)]
    assert [f.check for f in rejections[0].failures] == ["max_order_notional"]
    manager.kill("test")
    with pytest.raises(RiskViolation, match="trading_state"):
        await manager.submit(_buy(1), last_price=50.0)
    restarted = OrderManager(venue, journal, run_id="r", clock=clock, risk=RiskEngine())
    assert restarted.risk is not None
    assert restarted.risk.global_state is TradingState.HALTED
    journal.close()


@pytest.mark.asyncio
async def test_restart_rebuilds_identical_state_and_resolves_open_orders(rig: Rig) -> None:
    filled = await rig.manager.submit(_buy(1.0))
    rig.venue.execute(filled.order_id, 1.0)
    working = await rig.manager.submit(_buy(4.0))
    rig.venue.faults.append(Fault.TIMEOUT_BUT_ACCEPTED)
    rig.venue.unavailable = True
    unknown = await rig.manager.submit(_buy(2.0))
    rig.venue.unavailable = False
    await settle()
    before = rig.manager.state
    # the process dies; while it is down the venue fills the working order in part
    rig.clock.advance(int(timedelta(minutes=5).total_seconds() * 1e9))
    rig.venue.execute(working.order_id, 1.5, push=False)
    journal = SqliteJournal(rig.path)
    restarted = OrderManager(rig.venue, journal, run_id="r1", clock=rig.clock)
    assert restarted.state == before
    await restarted.start()
    assert restarted.order(unknown.order_id).status is OrderStatus.PENDING
    assert restarted.order(working.order_id).status is OrderStatus.PARTIAL
    assert restarted.positions[SYMBOL].quantity == 2.5
    assert len(rig.venue.received) == 3
    next_order = await restarted.submit(_buy(1.0))
    assert next_order.order_id == f"r1-{ORDER_ID_BLOCK + 1}"  # after the block reserved before
    assert LiveState.fold(journal.replay()) == restarted.state
    journal.close()


@pytest.mark.asyncio
async def test_an_order_caught_sending_by_a_crash_is_resolved_not_resent(tmp_path: Path) -> None:
    clock = SimulatedClock(START)
    venue = ScriptedVenue(clock)
    journal = SqliteJournal(tmp_path / "j.sqlite")
    request = _buy(1.0)
    journal.append(Submitted(ClientOrderId("r-1"), START, request))
    await venue.submit(ClientOrderId("r-1"), request)
    manager = OrderManager(venue, journal, run_id="r", clock=clock)
    assert manager.order("r-1").status is OrderStatus.SENDING
    await manager.start()
    assert manager.order("r-1").status is OrderStatus.PENDING
    assert len(venue.received) == 1
    journal.close()


@pytest.mark.asyncio
async def test_ids_are_never_reused_when_a_power_loss_took_the_journal_tail(rig: Rig) -> None:
    sent = [(await rig.manager.submit(_buy(1.0))).order_id for _ in range(3)]
    await settle()
    # what a power loss can take: every order-flow entry after the last flushed one
    assert lose_unflushed_tail(rig.path) > 0
    journal = SqliteJournal(rig.path)
    restarted = OrderManager(rig.venue, journal, run_id="r1", clock=rig.clock)
    assert restarted.orders == {}
    assert all(restarted.issued(order_id) for order_id in sent)
    assert not restarted.issued(f"r1-{ORDER_ID_BLOCK + 1}")
    assert not restarted.issued("someone-else-1")
    after = await restarted.submit(_buy(1.0))
    assert after.order_id == f"r1-{ORDER_ID_BLOCK + 1}"
    received = [order_id for order_id, _request in rig.venue.received]
    assert len(received) == len(set(received)) == 4
    journal.close()


def test_a_new_block_is_reserved_and_flushed_when_one_is_used_up(tmp_path: Path) -> None:
    clock = SimulatedClock(START)
    journal = SqliteJournal(tmp_path / "j.sqlite")
    manager = OrderManager(ScriptedVenue(clock), journal, run_id="ids", clock=clock)
    numbers = [int(manager.new_order_id().split("-")[1]) for _ in range(ORDER_ID_BLOCK + 1)]
    assert numbers == list(range(1, ORDER_ID_BLOCK + 2))
    reservations = [r.entry for r in journal.replay()]
    assert [dict(c.data) for c in reservations if isinstance(c, Checkpoint)] == [
        {"up_to": ORDER_ID_BLOCK},
        {"up_to": 2 * ORDER_ID_BLOCK},
    ]
    journal.close()


def test_run_ids_must_fit_client_order_ids(tmp_path: Path) -> None:
    clock = SimulatedClock(START)
    journal = SqliteJournal(tmp_path / "j.sqlite")
    for bad in ("", "x" * 25, "has space"):
        with pytest.raises(ConfigError, match="run_id"):
            OrderManager(ScriptedVenue(clock), journal, run_id=bad, clock=clock)
    journal.close()


@pytest.mark.asyncio
async def test_a_lagging_venue_record_is_settled_step_by_step(rig: Rig) -> None:
    rig.venue.faults.append(Fault.TIMEOUT_BUT_ACCEPTED)
    rig.venue.unavailable = True
    order = await rig.manager.submit(_buy(2.0))
    rig.venue.unavailable = False
    rig.venue.execute(order.order_id, 1.0, push=False)
    rig.venue.book[order.order_id].status = OrderStatus.FILLED  # its fill list lags behind
    resolved = await rig.manager.resolve(order.order_id)
    assert resolved.status is OrderStatus.PARTIAL
    assert resolved.filled_quantity == 1.0
    assert rig.kinds()[-2:] == ["Resolved", "FillEvent"]
    assert rig.replayed() == rig.manager.state
