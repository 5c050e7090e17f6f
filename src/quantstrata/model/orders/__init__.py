"""Orders as values: requests, fills, events, the transition table and the order itself.

The backtester, the paper broker and the live order manager share these types, so an order
moves through the same states, by the same table, in every environment.
"""

from quantstrata.model.orders.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from quantstrata.model.orders.events import (
    NOT_FOUND_AT_VENUE,
    Accepted,
    Cancelled,
    CancelRejected,
    CancelRequested,
    Expired,
    FillEvent,
    OrderEvent,
    OrderEventKind,
    Rejected,
    Resolved,
    Submitted,
    TimedOut,
)
from quantstrata.model.orders.fill import Fill, Liquidity
from quantstrata.model.orders.order import (
    QUANTITY_TOLERANCE,
    EventOutcome,
    Order,
    OrderUpdate,
    OverfillError,
)
from quantstrata.model.orders.request import (
    Bracket,
    InvalidOrderError,
    OneCancelsOther,
    OrderRequest,
)
from quantstrata.model.orders.transitions import (
    IGNORED,
    TRANSITIONS,
    InvalidTransitionError,
    OrderStateError,
    is_ignored,
    next_status,
)

__all__ = [
    "IGNORED",
    "NOT_FOUND_AT_VENUE",
    "QUANTITY_TOLERANCE",
    "TRANSITIONS",
    "Accepted",
    "Bracket",
    "CancelRejected",
    "CancelRequested",
    "Cancelled",
    "EventOutcome",
    "Expired",
    "Fill",
    "FillEvent",
    "InvalidOrderError",
    "InvalidTransitionError",
    "Liquidity",
    "OneCancelsOther",
    "Order",
    "OrderEvent",
    "OrderEventKind",
    "OrderRequest",
    "OrderSide",
    "OrderStateError",
    "OrderStatus",
    "OrderType",
    "OrderUpdate",
    "OverfillError",
    "Rejected",
    "Resolved",
    "Submitted",
    "TimeInForce",
    "TimedOut",
    "is_ignored",
    "next_status",
]
