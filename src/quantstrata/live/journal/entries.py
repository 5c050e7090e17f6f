"""What the journal holds besides order events: risk rejections, intents, alarms, checkpoints.

Every entry is a frozen value with a timezone-aware ``ts``. The order manager appends one
before acting on it; :class:`~quantstrata.live.state.LiveState` is the fold of the entries.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from quantstrata.core.errors import QuantstrataError
from quantstrata.execution.risk import RiskFailure, TradingState
from quantstrata.model.identifiers import ClientOrderId, Symbol
from quantstrata.model.orders import OrderEvent, OrderRequest

__all__ = [
    "Alarm",
    "BarHandled",
    "CancelIntent",
    "CashSet",
    "Checkpoint",
    "JournalEntry",
    "JournalError",
    "JournalRecord",
    "RiskRejection",
    "TradingStateChange",
]

CheckpointValue = str | int | float | bool | None


class JournalError(QuantstrataError):
    """The journal cannot be written or read, or holds something that cannot be replayed."""


def _require_aware(name: str, value: object) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise JournalError(f"journal entry field {name} must be an aware datetime, got {value!r}")


@dataclass(frozen=True, slots=True)
class RiskRejection:
    """An order request the risk checks refused; ``failures`` names every failed check."""

    ts: datetime
    request: OrderRequest
    failures: tuple[RiskFailure, ...]

    def __post_init__(self) -> None:
        """Check the time and keep the failures as a tuple."""
        _require_aware("ts", self.ts)
        object.__setattr__(self, "failures", tuple(self.failures))


@dataclass(frozen=True, slots=True)
class CancelIntent:
    """A cancel asked for while the order was not yet acknowledged; sent once it is."""

    order_id: ClientOrderId
    ts: datetime

    def __post_init__(self) -> None:
        """Check the id and the time."""
        object.__setattr__(self, "order_id", ClientOrderId(self.order_id))
        _require_aware("ts", self.ts)


@dataclass(frozen=True, slots=True)
class TradingStateChange:
    """Trading in ``symbol`` (every symbol when ``None``) moved to ``state``, and why."""

    ts: datetime
    symbol: Symbol | None
    state: TradingState
    reason: str

    def __post_init__(self) -> None:
        """Normalise the symbol and the state."""
        _require_aware("ts", self.ts)
        if self.symbol is not None:
            object.__setattr__(self, "symbol", Symbol(self.symbol))
        object.__setattr__(self, "state", TradingState(self.state))


@dataclass(frozen=True, slots=True)
class Alarm:
    """Something that needs a human: an illegal venue update, a reconciliation mismatch."""

    ts: datetime
    kind: str
    message: str
    order_id: ClientOrderId | None = None
    symbol: Symbol | None = None

    def __post_init__(self) -> None:
        """Normalise the ids."""
        _require_aware("ts", self.ts)
        if self.order_id is not None:
            object.__setattr__(self, "order_id", ClientOrderId(self.order_id))
        if self.symbol is not None:
            object.__setattr__(self, "symbol", Symbol(self.symbol))


@dataclass(frozen=True, slots=True)
class CashSet:
    """The account's cash was set (from the venue at start-up, or a deposit); fills move it."""

    ts: datetime
    cash: float
    reason: str = ""

    def __post_init__(self) -> None:
        """Refuse a non-finite amount."""
        _require_aware("ts", self.ts)
        if isinstance(self.cash, bool) or not isinstance(self.cash, int | float):
            raise JournalError(f"cash must be a number, got {self.cash!r}")
        if not math.isfinite(self.cash):
            raise JournalError(f"cash must be finite, got {self.cash!r}")
        object.__setattr__(self, "cash", float(self.cash))


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A named mark in the journal with flat data (``reconciled``, ``day_start`` ...)."""

    ts: datetime
    label: str
    data: Mapping[str, CheckpointValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Refuse values the journal cannot store exactly; freeze the data."""
        _require_aware("ts", self.ts)
        for key, value in self.data.items():
            if not isinstance(key, str):
                raise JournalError(f"checkpoint data keys must be text, got {key!r}")
            if not isinstance(value, str | int | float | bool | None):
                raise JournalError(
                    f"checkpoint data {key!r} must be text, a number, a bool or None, got {value!r}"
                )
            if isinstance(value, float) and not math.isfinite(value):
                raise JournalError(f"checkpoint data {key!r} must be finite, got {value!r}")
        object.__setattr__(self, "data", MappingProxyType(dict(self.data)))

    def __eq__(self, other: object) -> bool:
        """Compare label, time and data."""
        if not isinstance(other, Checkpoint):
            return NotImplemented
        return (self.ts, self.label, dict(self.data)) == (other.ts, other.label, dict(other.data))

    def __hash__(self) -> int:
        """Hash the label and time."""
        return hash((self.ts, self.label))


@dataclass(frozen=True, slots=True, eq=False)
class BarHandled:
    """The runtime handled the bars that open at ``ts``; ``targets`` are the targets it holds.

    The last one tells a restarted run where to resume: after ``ts``, holding ``targets``, so
    a re-run on the same journal never trades a bar time twice.
    """

    ts: datetime
    targets: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Refuse targets the journal cannot store exactly; freeze them."""
        _require_aware("ts", self.ts)
        for symbol, target in self.targets.items():
            if isinstance(target, bool) or not isinstance(target, int | float):
                raise JournalError(f"target of {symbol!r} must be a number, got {target!r}")
            if not math.isfinite(target):
                raise JournalError(f"target of {symbol!r} must be finite, got {target!r}")
        object.__setattr__(
            self, "targets", MappingProxyType({str(k): float(v) for k, v in self.targets.items()})
        )

    def __eq__(self, other: object) -> bool:
        """Compare time and targets."""
        if not isinstance(other, BarHandled):
            return NotImplemented
        return (self.ts, dict(self.targets)) == (other.ts, dict(other.targets))

    def __hash__(self) -> int:
        """Hash the time."""
        return hash(self.ts)


JournalEntry = (
    OrderEvent
    | RiskRejection
    | CancelIntent
    | TradingStateChange
    | Alarm
    | CashSet
    | Checkpoint
    | BarHandled
)
"""Anything the journal records."""


@dataclass(frozen=True, slots=True)
class JournalRecord:
    """One journaled entry with its sequence number (1, 2, 3 ... without gaps)."""

    sequence: int
    entry: JournalEntry
