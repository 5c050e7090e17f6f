"""Feeds the live runtime reads bars from: a replayed frame, and network providers' streams."""

from __future__ import annotations

from quantstrata.live.feeds.ccxt import CcxtFeed
from quantstrata.live.feeds.replay import ReplayFeed
from quantstrata.live.feeds.tickdb import TickDBFeed

__all__ = ["CcxtFeed", "ReplayFeed", "TickDBFeed"]
