"""The embedded journal: one SQLite file in WAL mode, each append its own commit.

Durability (see :mod:`quantstrata.live.journal._base`): with ``durability="process"`` the
connection runs at ``synchronous=NORMAL``, where a commit is written to the WAL file (the
operating system holds it even if the process is killed) and fsync'd only at checkpoints; an
entry that must be flushed is committed at ``synchronous=FULL``, which fsyncs the WAL and so
everything before it. With ``durability="machine"`` every commit is at ``FULL``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

from quantstrata.live.journal._base import Durability, check_durability, steers_the_run
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
_INSERT = "INSERT INTO journal (sequence, kind, order_id, ts, body) VALUES (?, ?, ?, ?, ?)"


class SqliteJournal:
    """A journal in the SQLite file at ``path`` (created when missing)."""

    def __init__(self, path: str | Path, *, durability: Durability = "process") -> None:
        """Open (or create) the file, switch it to WAL and read the last sequence number."""
        self.durability = check_durability(durability)
        self.path = Path(path)
        synchronous = "FULL" if self.durability == "machine" else "NORMAL"
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
        return (
            f"SqliteJournal({str(self.path)!r}, durability={self.durability!r}, "
            f"last_sequence={self._last})"
        )

    @property
    def last_sequence(self) -> int:
        """The sequence number of the last entry (0 when empty)."""
        return self._last

    def append(self, entry: JournalEntry) -> JournalRecord:
        """Commit ``entry`` (fsync'd when the durability policy says so) and return its record."""
        body = encode_entry(entry)
        sequence = self._last + 1
        row = (sequence, entry_kind(entry), entry_order_id(entry), entry.ts.isoformat(), body)
        flush = self.durability == "process" and steers_the_run(entry)
        try:
            if flush:
                self._connection.execute("PRAGMA synchronous=FULL")
            try:
                self._connection.execute(_INSERT, row)
            finally:
                if flush:
                    self._connection.execute("PRAGMA synchronous=NORMAL")
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
