"""The SQLite journal: WAL, gapless sequences, exact replay, survives a killed writer."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quantstrata.execution.risk import TradingState
from quantstrata.live.journal import (
    CashSet,
    Durability,
    JournalEntry,
    JournalError,
    SqliteJournal,
    TradingStateChange,
)
from quantstrata.live.state import LiveState
from quantstrata.model.identifiers import ClientOrderId
from quantstrata.model.orders import OrderRequest, Submitted
from tests.kit.live import START, journal_entries, operations, run_operations

REPO = Path(__file__).resolve().parents[3]


def test_append_returns_gapless_sequences_and_replay_yields_them_in_order(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite")
    entries = [CashSet(START, float(i), "x") for i in range(5)]
    records = [journal.append(entry) for entry in entries]
    assert [r.sequence for r in records] == [1, 2, 3, 4, 5]
    assert list(journal.replay()) == records
    assert [r.sequence for r in journal.replay(after=3)] == [4, 5]
    journal.close()
    journal.close()


@pytest.mark.parametrize(("durability", "level"), [("process", 1), ("machine", 2)])
def test_file_is_in_wal_mode_synced_per_durability(
    tmp_path: Path, durability: Durability, level: int
) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite", durability=durability)
    mode = journal._connection.execute("PRAGMA journal_mode").fetchone()[0]
    sync = journal._connection.execute("PRAGMA synchronous").fetchone()[0]
    assert (mode, sync) == ("wal", level)  # NORMAL: fsync at checkpoints; FULL: every commit
    journal.close()


def test_entries_that_steer_the_run_commit_at_full_sync_order_flow_does_not(
    tmp_path: Path,
) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite")
    statements: list[str] = []
    journal._connection.set_trace_callback(statements.append)
    request = OrderRequest.market("BTC/USDT", 1.0)
    journal.append(Submitted(ClientOrderId("r-1"), START, request))
    assert [s.split()[0] for s in statements] == ["INSERT"]
    statements.clear()
    journal.append(TradingStateChange(START, None, TradingState.HALTED, "kill switch"))
    assert [s.split()[0] for s in statements] == ["PRAGMA", "INSERT", "PRAGMA"]
    assert (statements[0], statements[2]) == (
        "PRAGMA synchronous=FULL",
        "PRAGMA synchronous=NORMAL",
    )
    assert journal._connection.execute("PRAGMA synchronous").fetchone()[0] == 1
    journal.close()


def test_reopening_continues_the_sequence(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    first = SqliteJournal(path)
    first.append(CashSet(START, 1.0, "a"))
    first.close()
    second = SqliteJournal(path)
    assert second.last_sequence == 1
    assert second.append(CashSet(START, 2.0, "b")).sequence == 2
    assert [r.entry.cash for r in second.replay()] == [1.0, 2.0]  # type: ignore[union-attr]
    second.close()


def test_a_second_writer_fails_instead_of_interleaving(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    first, second = SqliteJournal(path), SqliteJournal(path)
    first.append(CashSet(START, 1.0, "a"))
    with pytest.raises(JournalError, match="second writer"):
        second.append(CashSet(START, 2.0, "b"))
    first.close()
    second.close()


def test_a_gap_in_the_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    journal = SqliteJournal(path)
    for value in range(3):
        journal.append(CashSet(START, float(value), "x"))
    journal.close()
    with sqlite3.connect(path) as raw:
        raw.execute("DELETE FROM journal WHERE sequence = 2")
    reopened = SqliteJournal(path)
    with pytest.raises(JournalError, match="sequence 2 is missing"):
        list(reopened.replay())
    reopened.close()


def test_bad_durability_is_refused(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match="durability must be 'process' or 'machine'"):
        SqliteJournal(tmp_path / "j.sqlite", durability="OFF")  # type: ignore[arg-type]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(entries=st.lists(journal_entries(), max_size=8))
def test_random_entries_replay_equal(
    tmp_path_factory: pytest.TempPathFactory, entries: list[JournalEntry]
) -> None:
    journal = SqliteJournal(tmp_path_factory.mktemp("j") / "j.sqlite", durability="process")
    for entry in entries:
        journal.append(entry)
    assert [r.entry for r in journal.replay()] == entries
    journal.close()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(script=operations())
def test_fold_of_replayed_journal_equals_the_state_in_memory(
    tmp_path_factory: pytest.TempPathFactory, script: list[tuple[str, int, float]]
) -> None:
    path = tmp_path_factory.mktemp("j") / "j.sqlite"
    journal = SqliteJournal(path, durability="process")
    in_memory = run_operations(journal, script)
    journal.close()
    reopened = SqliteJournal(path)
    assert LiveState.fold(reopened.replay()) == in_memory
    reopened.close()


_WRITER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    from quantstrata.live.journal import CashSet, SqliteJournal

    journal = SqliteJournal(sys.argv[1])
    value = 0
    while True:
        record = journal.append(CashSet(datetime(2024, 1, 1, tzinfo=UTC), float(value), "w"))
        print(record.sequence, flush=True)
        value += 1
    """
)


def test_a_killed_writer_leaves_every_acknowledged_record(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    environment = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}"}
    child = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        env=environment,
    )
    assert child.stdout is not None
    acknowledged = 0
    for line in child.stdout:
        acknowledged = int(line)
        if acknowledged >= 200:
            break
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    journal = SqliteJournal(path)
    records = list(journal.replay())
    assert len(records) >= acknowledged
    assert [r.sequence for r in records] == list(range(1, len(records) + 1))
    assert [r.entry.cash for r in records] == [float(i) for i in range(len(records))]  # type: ignore[union-attr]
    assert journal.append(CashSet(START, -1.0, "after")).sequence == len(records) + 1
    journal.close()
