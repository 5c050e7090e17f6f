"""The production journal: one PostgreSQL table, each append its own committed transaction.

Durability (see :mod:`quantstrata.live.journal._base`): with ``durability="process"`` the
session runs at ``synchronous_commit = off``: a commit returns once the server has it (it
survives this process being killed) and the server flushes its WAL within a few hundred
milliseconds; an entry that must be flushed commits with ``synchronous_commit = on``, which
waits for the WAL flush up to it, and so for everything before it. With
``durability="machine"`` every commit waits for its flush. The DSN is kept as a
:class:`~quantstrata.core.secrets.Secret`: it never appears in reprs or errors.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from quantstrata.core._extras import require
from quantstrata.core.secrets import Secret, redact
from quantstrata.live.journal._base import Durability, check_durability, steers_the_run
from quantstrata.live.journal._codec import (
    decode_entry,
    encode_entry,
    entry_kind,
    entry_order_id,
)
from quantstrata.live.journal.entries import JournalEntry, JournalError, JournalRecord

__all__ = ["PostgresJournal"]

_TABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class PostgresJournal:
    """A journal in table ``table`` of the database at ``dsn`` (the table is created)."""

    def __init__(
        self,
        dsn: str | Secret,
        *,
        table: str = "quantstrata_journal",
        durability: Durability = "process",
    ) -> None:
        """Connect, create the table if needed and read the last sequence number."""
        self.durability = check_durability(durability)
        if not _TABLE_NAME.match(table):
            raise JournalError(
                f"table must be a lower-case SQL name ([a-z_][a-z0-9_]*, <= 63), got {table!r}"
            )
        self.table = table
        # psycopg is the `postgres` extra: imported here, where a PostgreSQL journal is opened
        self._psycopg: Any = require("psycopg", "the PostgreSQL journal")
        self._sql: Any = require("psycopg.sql", "the PostgreSQL journal")
        self._dsn = dsn if isinstance(dsn, Secret) else Secret(dsn)
        self._name = self._sql.Identifier(table)
        self._insert: Any = self._sql.SQL(
            "INSERT INTO {} (sequence, kind, order_id, ts, body) VALUES (%s, %s, %s, %s, %s)"
        ).format(self._name)
        try:
            self._connection = self._psycopg.connect(self._dsn.reveal(), autocommit=True)
            if self.durability == "process":
                self._connection.execute("SET synchronous_commit TO off")
            self._connection.execute(
                self._sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (sequence BIGINT PRIMARY KEY, "
                    "kind TEXT NOT NULL, order_id TEXT, ts TIMESTAMPTZ NOT NULL, "
                    "body TEXT NOT NULL)"
                ).format(self._name)
            )
            row = self._connection.execute(
                self._sql.SQL("SELECT max(sequence) FROM {}").format(self._name)
            ).fetchone()
            # composed once: every append sends the same text (prepared by the server after a
            # few runs) instead of quoting the table name again
            self._insert_text = self._insert.as_string(self._connection)
        except self._psycopg.Error as error:
            raise JournalError(
                f"cannot open journal table {table!r}: {self._safe(error)}"
            ) from None
        self._last = int(row[0] or 0) if row is not None else 0
        self._closed = False

    def __repr__(self) -> str:
        """Show the table and the last sequence number, never the DSN."""
        return (
            f"PostgresJournal(table={self.table!r}, durability={self.durability!r}, "
            f"last_sequence={self._last})"
        )

    @property
    def last_sequence(self) -> int:
        """The sequence number of the last entry (0 when empty)."""
        return self._last

    def append(self, entry: JournalEntry) -> JournalRecord:
        """Commit ``entry`` (flushed when the durability policy says so) and return its record."""
        body = encode_entry(entry)
        sequence = self._last + 1
        row = (sequence, entry_kind(entry), entry_order_id(entry), entry.ts, body)
        try:
            if self.durability == "process" and steers_the_run(entry):
                with self._connection.transaction():
                    self._connection.execute("SET LOCAL synchronous_commit TO on")
                    self._connection.execute(self._insert_text, row)
            else:
                self._connection.execute(self._insert_text, row)
        except self._psycopg.errors.UniqueViolation:
            raise JournalError(
                f"journal {self.table!r}: sequence {sequence} already written (a second writer?)"
            ) from None
        except self._psycopg.Error as error:
            raise JournalError(
                f"journal {self.table!r}: append failed: {self._safe(error)}"
            ) from None
        self._last = sequence
        return JournalRecord(sequence, entry)

    def replay(self, after: int = 0) -> Iterator[JournalRecord]:
        """Yield the records after ``after`` in sequence order, checking there is no gap."""
        query = self._sql.SQL("SELECT sequence, body FROM {} WHERE sequence > %s ORDER BY sequence")
        try:
            rows = self._connection.execute(query.format(self._name), (after,)).fetchall()
        except self._psycopg.Error as error:
            raise JournalError(
                f"journal {self.table!r}: replay failed: {self._safe(error)}"
            ) from None
        expected = after + 1
        for sequence, body in rows:
            if sequence != expected:
                raise JournalError(
                    f"journal {self.table!r}: sequence {expected} is missing (next is {sequence})"
                )
            expected += 1
            yield JournalRecord(int(sequence), decode_entry(body))

    def drop(self) -> None:
        """Delete the table and everything in it (tests and benchmarks clean up with it)."""
        self._connection.execute(self._sql.SQL("DROP TABLE IF EXISTS {}").format(self._name))
        self._last = 0

    def close(self) -> None:
        """Close the connection; safe to call twice."""
        if not self._closed:
            self._closed = True
            self._connection.close()

    def _safe(self, error: Exception) -> str:
        return redact(str(error), [self._dsn])
