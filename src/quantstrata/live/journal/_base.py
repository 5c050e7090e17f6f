"""The journal interface both backends implement."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

from quantstrata.live.journal.entries import JournalEntry, JournalRecord

__all__ = ["Journal"]


@runtime_checkable
class Journal(Protocol):
    """An append-only, durable log of journal entries with gapless sequence numbers.

    :meth:`append` returns only once the entry is on stable storage (write-ahead: the caller
    acts on it afterwards). One process writes a journal at a time; a second writer's append
    fails on the sequence number instead of interleaving.
    """

    @property
    def last_sequence(self) -> int:
        """The sequence number of the last entry (0 when empty)."""
        ...

    def append(self, entry: JournalEntry) -> JournalRecord:
        """Write ``entry`` durably and return it with its sequence number."""
        ...

    def replay(self, after: int = 0) -> Iterator[JournalRecord]:
        """Yield the records with a sequence number above ``after``, in order."""
        ...

    def close(self) -> None:
        """Release the connection; safe to call twice."""
        ...
