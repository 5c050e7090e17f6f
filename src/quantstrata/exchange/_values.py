"""The exchange's small values: one bar's prices, and a working order as a saved book holds it."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from quantstrata.execution import WorkingOrder
from quantstrata.model.bar import Bar
from quantstrata.model.identifiers import ClientOrderId

__all__ = ["Prices", "WorkingEntry"]


class Prices(NamedTuple):
    """One bar's prices and volume as the fill model reads them (already validated)."""

    open: float
    high: float
    low: float
    close: float
    volume: float

    @classmethod
    def of(cls, bar: Bar) -> Prices:
        """Return the prices of ``bar`` (the shells feed the exchange their bars)."""
        return cls(bar.open, bar.high, bar.low, bar.close, bar.volume)


class WorkingEntry(NamedTuple):
    """A plain working order as a saved book holds it: its fill-model state, its DAY expiry."""

    order_id: ClientOrderId
    state: WorkingOrder
    expires: datetime | None
