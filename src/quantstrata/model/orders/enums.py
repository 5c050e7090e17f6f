"""The vocabulary of orders: sides, types, time in force and statuses.

The strategy API, the fill model, the backtester and the live runtime all speak it. Integer
values are part of the contract: compiled kernels (``quantstrata.execution._nb``) receive them
as plain integers, so changing a value is a breaking change.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

__all__ = ["OrderSide", "OrderStatus", "OrderType", "TimeInForce"]


class OrderSide(IntEnum):
    """Buy or sell; the value is the sign of the position change."""

    BUY = 1
    SELL = -1


class OrderType(IntEnum):
    """How an order's price is determined."""

    MARKET = 0
    LIMIT = 1
    STOP = 2
    STOP_LIMIT = 3
    TRAILING_STOP = 4


class TimeInForce(IntEnum):
    """How long an order stays working.

    ``GTC`` until filled or cancelled; ``DAY`` until the end of the session it was placed in;
    ``IOC`` fills what it can at once and cancels the rest; ``FOK`` fills entirely at once or
    is cancelled without any fill.
    """

    GTC = 0
    DAY = 1
    IOC = 2
    FOK = 3


class OrderStatus(StrEnum):
    """Where an order is in its life; changes happen only through the transition table.

    ``SENDING``: the intent is journaled and on its way, the venue has not answered.
    ``UNKNOWN``: sending timed out or the connection dropped; only a query of the venue (by
    client order id) resolves it, never a blind resubmission and never an assumed rejection.
    ``PENDING``: accepted and working. ``PARTIAL``: partly filled and still working.
    ``PENDING_CANCEL``: a cancel was requested and not yet confirmed (fills may still arrive).
    ``FILLED``, ``CANCELLED``, ``REJECTED``, ``EXPIRED``: terminal; they never change again.
    """

    SENDING = "sending"
    UNKNOWN = "unknown"
    PENDING = "pending"
    PARTIAL = "partial"
    PENDING_CANCEL = "pending_cancel"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        """Whether the order can never change again."""
        return self in _TERMINAL

    @property
    def is_working(self) -> bool:
        """Whether the order may still fill."""
        return not self.is_terminal and self is not OrderStatus.REJECTED


_TERMINAL = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)
