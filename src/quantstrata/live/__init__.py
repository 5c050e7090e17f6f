"""Live execution (layer 5): the asyncio runtime, order management, risk checks, brokers.

The live layer runs the same strategy objects as :mod:`quantstrata.backtest`, through the
same fill model (for paper trading), order state machine and risk checks. The entry point is
``Live(strategy, feed, broker, LiveConfig(...)).run()``.
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
from quantstrata.live.config import LiveConfig
from quantstrata.live.engine import Live, LiveSummary
from quantstrata.live.feed import Feed
from quantstrata.live.orders import OrderManager

__all__ = [
    "AccountSnapshot",
    "Broker",
    "BrokerError",
    "BrokerUnavailableError",
    "Feed",
    "Live",
    "LiveConfig",
    "LiveSummary",
    "OrderManager",
    "OrderRejectedError",
    "SubmitOutcomeUnknownError",
    "VenueOrder",
]
