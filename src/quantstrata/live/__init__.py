"""Live execution (layer 5): the asyncio runtime, order management, risk checks, brokers.

The live layer runs the same strategy objects as :mod:`quantstrata.backtest`, through the
same fill model (for paper trading), order state machine and risk checks.
"""

from __future__ import annotations

from quantstrata.live.broker import (
    AccountSnapshot,
    Broker,
    BrokerError,
    BrokerUnavailableError,
    OrderRejectedError,
    SubmitOutcomeUnknownError,
    VenueOrder,
)
from quantstrata.live.feed import Feed

__all__ = [
    "AccountSnapshot",
    "Broker",
    "BrokerError",
    "BrokerUnavailableError",
    "Feed",
    "OrderRejectedError",
    "SubmitOutcomeUnknownError",
    "VenueOrder",
]
