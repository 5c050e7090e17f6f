"""Random sessions against the scripted venue: the journal's fold is the state, nothing is resent,
and after resolution and reconciliation our positions equal the venue's."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quantstrata.core.clock import SimulatedClock
from quantstrata.live.journal import SqliteJournal
from quantstrata.live.orders import OrderManager
from quantstrata.live.reconcile import MismatchKind, reconcile
from quantstrata.live.state import LiveState
from quantstrata.model.orders import OrderRequest
from tests.kit.live import START, SYMBOL, Fault, ScriptedVenue, settle

_steps = st.lists(
    st.one_of(
        st.tuples(st.just("submit"), st.sampled_from(list(Fault)), st.integers(1, 5)),
        st.tuples(st.just("fill"), st.integers(0, 9), st.sampled_from([0.5, 1.0])),
        st.tuples(st.just("duplicate_fill"), st.integers(0, 9), st.just(1.0)),
        st.tuples(st.just("silent_fill"), st.integers(0, 9), st.just(1.0)),
        st.tuples(st.just("cancel"), st.integers(0, 9), st.just(0)),
        st.tuples(st.just("resolve"), st.integers(0, 9), st.just(0)),
        st.tuples(st.just("outage"), st.booleans(), st.just(0)),
        st.tuples(st.just("race"), st.booleans(), st.just(0)),
    ),
    max_size=30,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=_steps)
def test_random_sessions_keep_journal_state_and_venue_in_agreement(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[str, object, object]]
) -> None:
    asyncio.run(_session(tmp_path_factory.mktemp("session") / "j.sqlite", steps))


async def _session(path: Path, steps: list[tuple[str, object, object]]) -> None:
    clock = SimulatedClock(START)
    venue = ScriptedVenue(clock)
    journal = SqliteJournal(path, durability="process")
    manager = OrderManager(venue, journal, run_id="p", clock=clock)
    consumer = asyncio.create_task(manager.consume_updates())
    submits = 0
    for name, first, second in steps:
        clock.advance(1_000_000)
        ids = list(manager.orders)
        if name == "submit":
            venue.faults.append(first)  # type: ignore[arg-type]
            side = 1 if submits % 2 == 0 else -1
            await manager.submit(OrderRequest.market(str(SYMBOL), side * float(second)))  # type: ignore[arg-type]
            submits += 1
        elif name == "outage":
            venue.unavailable = bool(first)
        elif name == "race":
            venue.cancel_races_fill = bool(first)
        elif ids:
            order_id = ids[int(first) % len(ids)]  # type: ignore[call-overload]
            entry = venue.book.get(order_id)
            if name == "cancel":
                await manager.cancel(order_id)
            elif name == "resolve":
                await manager.resolve(order_id)
            elif entry is not None and not entry.status.is_terminal:
                quantity = (entry.request.quantity - entry.filled) * float(second)  # type: ignore[arg-type]
                if quantity > 0:
                    venue.execute(
                        order_id,
                        quantity,
                        push=name != "silent_fill",
                        twice=name == "duplicate_fill",
                    )
        await settle()
        assert LiveState.fold(journal.replay()) == manager.state
    venue.unavailable = False
    await manager.resolve_open()
    await settle()
    report = await reconcile(manager)
    await settle()
    assert not [m for m in report.mismatches if m.kind is MismatchKind.POSITION]
    ours = {str(s): p.quantity for s, p in manager.positions.items() if not p.is_flat}
    theirs = {s: q for s, q in venue.positions.items() if q != 0}
    assert ours == pytest.approx(theirs)
    assert len(venue.received) == submits
    assert LiveState.fold(journal.replay()) == manager.state
    await venue.close()
    await consumer
    journal.close()
