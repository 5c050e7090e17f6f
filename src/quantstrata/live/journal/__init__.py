"""The order journal: an append-only, write-ahead log of everything the order manager does.

Entries are order events (:mod:`quantstrata.model.orders`), risk rejections, cancel intents,
trading-state changes, alarms, cash settings, checkpoints and bar-handled
marks (:mod:`.entries`), stored as
lossless JSON with gapless sequence numbers. Two backends: :class:`SqliteJournal` (embedded,
WAL) and :class:`PostgresJournal`, each at one of two :data:`Durability` levels (``"process"``,
the default, or ``"machine"``; see :mod:`quantstrata.live.journal._base`). The live state is
the fold of the journal (:class:`quantstrata.live.state.LiveState`).
"""

from quantstrata.live.journal._base import Durability, Journal
from quantstrata.live.journal._codec import decode_entry, encode_entry
from quantstrata.live.journal.entries import (
    Alarm,
    BarHandled,
    CancelIntent,
    CashSet,
    Checkpoint,
    JournalEntry,
    JournalError,
    JournalRecord,
    RiskRejection,
    TradingStateChange,
)
from quantstrata.live.journal.postgres import PostgresJournal
from quantstrata.live.journal.sqlite import SqliteJournal

__all__ = [
    "Alarm",
    "BarHandled",
    "CancelIntent",
    "CashSet",
    "Checkpoint",
    "Durability",
    "Journal",
    "JournalEntry",
    "JournalError",
    "JournalRecord",
    "PostgresJournal",
    "RiskRejection",
    "SqliteJournal",
    "TradingStateChange",
    "decode_entry",
    "encode_entry",
]
