"""The PostgreSQL journal against the real server: exact replay, gapless sequences, the fold."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quantstrata.core.secrets import Secret
from quantstrata.execution.risk import TradingState
from quantstrata.live.journal import (
    CashSet,
    Durability,
    JournalEntry,
    JournalError,
    PostgresJournal,
    TradingStateChange,
)
from quantstrata.live.state import LiveState
from quantstrata.model.identifiers import ClientOrderId
from quantstrata.model.orders import OrderRequest, Submitted
from tests.kit.live import START, journal_entries, operations, run_operations

DSN = "postgresql://postgres@127.0.0.1:5432/test"


def _table() -> str:
    return f"qs_journal_test_{uuid.uuid4().hex[:16]}"


@pytest.fixture
def journal() -> Iterator[PostgresJournal]:
    opened = PostgresJournal(DSN, table=_table())
    yield opened
    opened.drop()
    opened.close()


def test_append_and_replay_in_order(journal: PostgresJournal) -> None:
    records = [journal.append(CashSet(START, float(i), "x")) for i in range(4)]
    assert [r.sequence for r in records] == [1, 2, 3, 4]
    assert list(journal.replay()) == records
    assert [r.sequence for r in journal.replay(after=2)] == [3, 4]


def test_reopening_continues_and_a_second_writer_fails(journal: PostgresJournal) -> None:
    journal.append(CashSet(START, 1.0, "a"))
    other = PostgresJournal(Secret(DSN), table=journal.table)
    assert other.last_sequence == 1
    other.append(CashSet(START, 2.0, "b"))
    with pytest.raises(JournalError, match="second writer"):
        journal.append(CashSet(START, 3.0, "c"))
    assert [r.entry.cash for r in journal.replay()] == [1.0, 2.0]  # type: ignore[union-attr]
    other.close()


@pytest.mark.parametrize(("durability", "setting"), [("process", "off"), ("machine", "on")])
def test_commits_wait_for_the_wal_flush_per_durability(
    durability: Durability, setting: str
) -> None:
    journal = PostgresJournal(DSN, table=_table(), durability=durability)
    try:
        session = journal._connection
        assert session.execute("SHOW synchronous_commit").fetchone() == (setting,)
        journal.append(Submitted(ClientOrderId("r-1"), START, OrderRequest.market("AAA", 1.0)))
        row = session.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()
        assert row is not None
        journal.append(TradingStateChange(START, None, TradingState.HALTED, "kill switch"))
        # a steering entry's commit waited for the WAL flush past everything written before it
        flushed = session.execute("SELECT pg_current_wal_flush_lsn() >= %s::pg_lsn", row)
        assert flushed.fetchone() == (True,)
        # it committed in its own transaction with SET LOCAL: the session setting is unchanged
        assert session.execute("SHOW synchronous_commit").fetchone() == (setting,)
        assert [type(r.entry).__name__ for r in journal.replay()] == [
            "Submitted",
            "TradingStateChange",
        ]
    finally:
        journal.drop()
        journal.close()


def test_table_names_are_checked_and_the_dsn_never_shows() -> None:
    with pytest.raises(JournalError, match="table"):
        PostgresJournal(DSN, table="x; DROP TABLE y")
    secret_dsn = "postgresql://postgres:hunter2secret@127.0.0.1:1/test?connect_timeout=1"
    with pytest.raises(JournalError) as caught:
        PostgresJournal(secret_dsn, table=_table())
    assert "hunter2secret" not in str(caught.value)
    assert "hunter2secret" not in repr(caught.value)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(entries=st.lists(journal_entries(), max_size=6))
def test_random_entries_replay_equal(entries: list[JournalEntry]) -> None:
    journal = PostgresJournal(DSN, table=_table())
    try:
        for entry in entries:
            journal.append(entry)
        assert [r.entry for r in journal.replay()] == entries
    finally:
        journal.drop()
        journal.close()


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(script=operations())
def test_fold_of_replayed_journal_equals_the_state_in_memory(
    script: list[tuple[str, int, float]],
) -> None:
    table = _table()
    journal = PostgresJournal(DSN, table=table)
    try:
        in_memory = run_operations(journal, script)
        reopened = PostgresJournal(DSN, table=table)
        assert LiveState.fold(reopened.replay()) == in_memory
        reopened.close()
    finally:
        journal.drop()
        journal.close()
