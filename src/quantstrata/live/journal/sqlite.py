"""The embedded journal: one SQLite file in WAL mode, each append committed with fsync.

Durability: ``journal_mode=WAL`` with ``synchronous=FULL`` by default. In WAL mode ``NORMAL``
syncs only at checkpoints, so a power loss (not a process crash) can drop the last commits,
which would let an order reach the venue without its ``Submitted`` record; ``FULL`` fsyncs the
WAL on every commit, which is what write-ahead needs. ``NORMAL`` is accepted for tests and
for runs that only paper-trade, where a lost tail costs nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from quantstrata.live.journal._codec import (
    decode_entry,
    encode_entry,
    entry_kind,
    entry_order_id,
)
from quantstrata.live.journal.entries import JournalEntry, JournalError, JournalRecord

__all__ = ["SqliteJournal"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS journal (
    sequence INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    order_id TEXT,
    ts TEXT NOT NULL,
    body TEXT NOT NULL
)
"""
_INDEX = "CREATE INDEX IF NOT EXISTS journal_order_id ON journal (order_id)"


class SqliteJournal:
    """A journal in the SQLite file at ``path`` (created when missing)."""

    def __init__(
        self, path: str | Path, *, synchronous: Literal["FULL", "NORMAL", "EXTRA"] = "FULL"
    ) -> None:
        """Open (or create) the file, switch it to WAL and read the last sequence number."""
        if synchronous not in ("FULL", "NORMAL", "EXTRA"):
            raise JournalError(f"synchronous must be FULL, NORMAL or EXTRA, got {synchronous!r}")
        self.path = Path(path)
        try:
            self._connection = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False
            )
            mode = self._connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise JournalError(f"journal {self.path}: cannot switch to WAL mode ({mode})")
            self._connection.execute(f"PRAGMA synchronous={synchronous}")
            self._connection.execute(_SCHEMA)
            self._connection.execute(_INDEX)
            row = self._connection.execute("SELECT max(sequence) FROM journal").fetchone()
        except sqlite3.Error as error:
            raise JournalError(f"cannot open journal {self.path}: {error}") from error
        self._last = int(row[0] or 0)
        self._closed = False

    def __repr__(self) -> str:
        """Show the file and the last sequence number."""
        return f"SqliteJournal({str(self.path)!r}, last_sequence={self._last})"

    @property
    def last_sequence(self) -> int:
        """The sequence number of the last entry (0 when empty)."""
        return self._last

    def append(self, entry: JournalEntry) -> JournalRecord:
        """Commit ``entry`` (fsync'd per ``synchronous``) and return its record."""
        body = encode_entry(entry)
        sequence = self._last + 1
        try:
            self._connection.execute(
                "INSERT INTO journal (sequence, kind, order_id, ts, body) VALUES (?, ?, ?, ?, ?)",
                (sequence, entry_kind(entry), entry_order_id(entry), entry.ts.isoformat(), body),
            )
        except sqlite3.IntegrityError as error:
            raise JournalError(
                f"journal {self.path}: sequence {sequence} already written (a second writer?)"
            ) from error
        except sqlite3.Error as error:
            raise JournalError(f"journal {self.path}: append failed: {error}") from error
        self._last = sequence
        return JournalRecord(sequence, entry)

    def replay(self, after: int = 0) -> Iterator[JournalRecord]:
        """Yield the records after ``after`` in sequence order, checking there is no gap."""
        try:
            rows = self._connection.execute(
                "SELECT sequence, body FROM journal WHERE sequence > ? ORDER BY sequence",
                (after,),
            ).fetchall()
        except sqlite3.Error as error:
            raise JournalError(f"journal {self.path}: replay failed: {error}") from error
        expected = after + 1
        for sequence, body in rows:
            if sequence != expected:
                raise JournalError(
                    f"journal {self.path}: sequence {expected} is missing (next is {sequence})"
                )
            expected += 1
            yield JournalRecord(int(sequence), decode_entry(body))

    def close(self) -> None:
        """Close the file; safe to call twice."""
        if not self._closed:
            self._closed = True
            self._connection.close()
