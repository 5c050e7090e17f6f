"""Brokers and feeds the live runtime can trade through.

- :class:`PaperBroker`: in-process, filling with the backtest's fill model.
- :class:`VenueBroker` and :class:`VenueFeed`: clients of the local simulated venue
  (``quantstrata venue serve``), over HTTP and WebSocket.
"""

from __future__ import annotations

from quantstrata.live.brokers.paper import PaperBroker
from quantstrata.live.brokers.venue import VenueBroker, VenueFeed

__all__ = ["PaperBroker", "VenueBroker", "VenueFeed"]
