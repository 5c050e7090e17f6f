"""The journal interface both backends implement, and the durability policy they share.

Two durability levels (``durability=`` on both backends):

- ``"process"`` (the default): every append reaches the database (the operating system's file
  cache for SQLite in WAL mode with ``synchronous=NORMAL``; the server for PostgreSQL with
  ``synchronous_commit = off``) before it returns, so it survives the trading process being
  killed at any point. Entries that steer the run (reserved client order ids, trading states,
  cash, cancel intents, alarms, checkpoints) are flushed to stable storage as they are
  appended, and with them everything before. A power loss or kernel crash can therefore drop
  only order-flow entries (and bar-handled marks) after the last such
  flush; client order ids come from a flushed
  reservation, so none is ever handed out twice, and start-up reconciliation adopts the orders
  and fills the venue has that the lost tail held.
- ``"machine"``: every append is flushed to stable storage (an fsync of the WAL, or a
  synchronous commit) before it returns: nothing is lost even to a power loss, at the price of
  one disk flush per order (0.25 to 6 ms on a shared cloud disk).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal, Protocol, get_args, runtime_checkable

from quantstrata.live.journal.entries import (
    BarHandled,
    JournalEntry,
    JournalError,
    JournalRecord,
    RiskRejection,
)
from quantstrata.model.orders import OrderEvent

__all__ = ["Durability", "Journal", "check_durability", "steers_the_run"]

Durability = Literal["process", "machine"]
"""What an append survives before it returns: the process being killed, or a power loss."""

_ORDER_FLOW = (*get_args(OrderEvent), RiskRejection, BarHandled)


def check_durability(value: object) -> Durability:
    """Return ``value`` as a durability level; raise :class:`JournalError` for anything else."""
    if value == "process":
        return "process"
    if value == "machine":
        return "machine"
    raise JournalError(f"durability must be 'process' or 'machine', got {value!r}")


def steers_the_run(entry: JournalEntry) -> bool:
    """Whether ``entry`` is flushed on append even at ``"process"`` durability (not order flow)."""
    return not isinstance(entry, _ORDER_FLOW)


@runtime_checkable
class Journal(Protocol):
    """An append-only log of journal entries with gapless sequence numbers.

    :meth:`append` returns once the entry is as durable as the journal's durability level says
    (see the module docstring); the caller acts on it afterwards (write-ahead). One process
    writes a journal at a time; a second writer's append fails on the sequence number instead
    of interleaving.
    """

    @property
    def last_sequence(self) -> int:
        """The sequence number of the last entry (0 when empty)."""
        ...

    def append(self, entry: JournalEntry) -> JournalRecord:
        """Write ``entry`` and return it with its sequence number."""
        ...

    def replay(self, after: int = 0) -> Iterator[JournalRecord]:
        """Yield the records with a sequence number above ``after``, in order."""
        ...

    def close(self) -> None:
        """Flush and release the connection; safe to call twice."""
        ...
