"""Live execution (layer 5): the asyncio runtime, order management, risk checks, brokers.

The live layer runs the same strategy objects as :mod:`quantstrata.backtest`, through the
same fill model (for paper trading), order state machine and risk checks. The entry point is
``Live(strategy, feed, broker, LiveConfig(...)).run()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from quantstrata.core._lazy import lazy_exports

if TYPE_CHECKING:
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
    from quantstrata.live.engine import Live
    from quantstrata.live.feed import Feed
    from quantstrata.live.orders import OrderManager
    from quantstrata.live.summary import LiveSummary

# Each public name and its module, imported on first use (quantstrata.core._lazy).
_EXPORTS = {
    "AccountSnapshot": "quantstrata.live.broker",
    "Broker": "quantstrata.live.broker",
    "BrokerError": "quantstrata.live.broker",
    "BrokerUnavailableError": "quantstrata.live.broker",
    "Feed": "quantstrata.live.feed",
    "Live": "quantstrata.live.engine",
    "LiveConfig": "quantstrata.live.config",
    "LiveSummary": "quantstrata.live.summary",
    "OrderManager": "quantstrata.live.orders",
    "OrderRejectedError": "quantstrata.live.broker",
    "SubmitOutcomeUnknownError": "quantstrata.live.broker",
    "VenueOrder": "quantstrata.live.broker",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

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
