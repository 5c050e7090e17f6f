"""Feeds the live runtime reads bars from: replays (a frame, the venue) and providers' streams."""

from __future__ import annotations

from typing import TYPE_CHECKING

from quantstrata.core._lazy import lazy_exports

if TYPE_CHECKING:
    from quantstrata.live.feeds.ccxt import CcxtFeed
    from quantstrata.live.feeds.replay import ReplayFeed
    from quantstrata.live.feeds.tickdb import TickDBFeed
    from quantstrata.live.feeds.venue import VenueFeed

# Each public name and its module, imported on first use (quantstrata.core._lazy).
_EXPORTS = {
    "CcxtFeed": "quantstrata.live.feeds.ccxt",
    "ReplayFeed": "quantstrata.live.feeds.replay",
    "TickDBFeed": "quantstrata.live.feeds.tickdb",
    "VenueFeed": "quantstrata.live.feeds.venue",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = ["CcxtFeed", "ReplayFeed", "TickDBFeed", "VenueFeed"]
