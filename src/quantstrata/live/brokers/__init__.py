"""Brokers and feeds the live runtime can trade through.

- :class:`PaperBroker`: in-process, filling with the backtest's fill model.
- :class:`VenueBroker`: the client of the local simulated venue (``quantstrata venue serve``),
  over HTTP and WebSocket; :class:`VenueFeed` (its bars, from :mod:`quantstrata.live.feeds`)
  is offered here too.
- :class:`CcxtBroker`: any ccxt exchange's spot account (``pip install 'quantstrata[ccxt]'``),
  configured by :class:`CcxtConfig`; refused keys raise :class:`CcxtAuthenticationError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from quantstrata.core._lazy import lazy_exports

if TYPE_CHECKING:
    from quantstrata.live._ccxt import CcxtAuthenticationError, CcxtConfig
    from quantstrata.live.brokers.ccxt import CcxtBroker
    from quantstrata.live.brokers.paper import PaperBroker
    from quantstrata.live.brokers.venue import VenueBroker
    from quantstrata.live.feeds.venue import VenueFeed

# Each public name and its module, imported on first use (quantstrata.core._lazy).
_EXPORTS = {
    "CcxtAuthenticationError": "quantstrata.live._ccxt",
    "CcxtBroker": "quantstrata.live.brokers.ccxt",
    "CcxtConfig": "quantstrata.live._ccxt",
    "PaperBroker": "quantstrata.live.brokers.paper",
    "VenueBroker": "quantstrata.live.brokers.venue",
    "VenueFeed": "quantstrata.live.feeds.venue",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "CcxtAuthenticationError",
    "CcxtBroker",
    "CcxtConfig",
    "PaperBroker",
    "VenueBroker",
    "VenueFeed",
]
