"""Lossless JSON for journal entries: every value decodes to one equal to what was encoded.

Values are tagged: a dataclass becomes ``{"$type": name, field: value ...}``, a datetime
``{"$dt": iso text with its UTC offset}``, a tuple a JSON list. Floats are written by
``float.__repr__`` (the shortest text that reads back to the same float), so no digit is lost;
NaN and infinities are refused (no entry holds them). Enum members are written as their values
and the constructors of the domain values turn them back into members.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any, cast

from quantstrata.execution.risk import RiskFailure
from quantstrata.live.journal.entries import (
    Alarm,
    BarHandled,
    CancelIntent,
    CashSet,
    Checkpoint,
    JournalEntry,
    JournalError,
    RiskRejection,
    TradingStateChange,
)
from quantstrata.model.orders import (
    Accepted,
    Cancelled,
    CancelRejected,
    CancelRequested,
    Expired,
    Fill,
    FillEvent,
    OrderRequest,
    Rejected,
    Resolved,
    Submitted,
    TimedOut,
)

__all__ = ["decode_entry", "encode_entry", "entry_kind", "entry_order_id"]

_TYPES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        Submitted,
        Accepted,
        Rejected,
        FillEvent,
        CancelRequested,
        CancelRejected,
        Cancelled,
        Expired,
        TimedOut,
        Resolved,
        OrderRequest,
        Fill,
        RiskRejection,
        RiskFailure,
        CancelIntent,
        TradingStateChange,
        Alarm,
        CashSet,
        Checkpoint,
        BarHandled,
    )
}
_ENTRY_TYPES = frozenset(_TYPES) - {"OrderRequest", "Fill", "RiskFailure"}
_FIELD_NAMES: dict[str, tuple[str, ...]] = {
    name: tuple(item.name for item in dataclasses.fields(cls)) for name, cls in _TYPES.items()
}
_PLAIN = frozenset({str, int, float, bool})
_JSON = json.JSONEncoder(allow_nan=False, separators=(",", ":"))


def entry_kind(entry: JournalEntry) -> str:
    """Return the entry's type name, the ``kind`` column of the journal tables."""
    return type(entry).__name__


def entry_order_id(entry: JournalEntry) -> str | None:
    """Return the client order id the entry is about, if any (an index column)."""
    order_id = getattr(entry, "order_id", None)
    return None if order_id is None else str(order_id)


def encode_entry(entry: JournalEntry) -> str:
    """Return ``entry`` as compact JSON text."""
    if type(entry).__name__ not in _ENTRY_TYPES:
        raise JournalError(f"cannot journal {entry!r}: not a journal entry")
    try:
        return _JSON.encode(_encode(entry))
    except ValueError as error:
        raise JournalError(f"cannot journal {entry!r}: {error}") from error


def decode_entry(text: str) -> JournalEntry:
    """Return the entry encoded in ``text``; raise :class:`JournalError` if it is not one."""
    try:
        value = _decode(json.loads(text))
    except (ValueError, TypeError, KeyError) as error:
        raise JournalError(f"unreadable journal entry {text[:200]!r}: {error}") from error
    if type(value).__name__ not in _ENTRY_TYPES:
        raise JournalError(f"journal text {text[:200]!r} is not a journal entry")
    return cast("JournalEntry", value)


def _encode(value: object) -> object:
    # Ordered by frequency: plain values first, then enums (before int), ids, times, records.
    kind = type(value)
    if value is None or kind in _PLAIN:
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    names = _FIELD_NAMES.get(kind.__name__)
    if names is not None and _TYPES[kind.__name__] is kind:
        body: dict[str, object] = {"$type": kind.__name__}
        for name in names:
            item = getattr(value, name)
            # plain fields inline: most of a record's fields, and the hot path of every append
            body[name] = item if item is None or type(item) in _PLAIN else _encode(item)
        return body
    if isinstance(value, tuple | list | frozenset):
        return [_encode(item) for item in value]
    if isinstance(value, Mapping):
        return {"$map": {str(key): _encode(item) for key, item in value.items()}}
    raise JournalError(f"cannot journal a value of type {kind.__name__}: {value!r}")


def _decode(value: object) -> object:
    if isinstance(value, list):
        return tuple(_decode(item) for item in value)
    if not isinstance(value, dict):
        return value
    if "$dt" in value:
        moment = datetime.fromisoformat(value["$dt"])
        if moment.tzinfo is None:
            raise ValueError(f"naive time {value['$dt']!r} in the journal")
        return moment
    if "$map" in value:
        return {key: _decode(item) for key, item in value["$map"].items()}
    name = value["$type"]
    cls = _TYPES[name]
    arguments = {key: _decode(item) for key, item in value.items() if key != "$type"}
    return cls(**arguments)
