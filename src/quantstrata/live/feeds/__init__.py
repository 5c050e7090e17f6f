"""Network providers as the live runtime's :class:`~quantstrata.live.feed.Feed`."""

from quantstrata.live.feeds.tickdb import TickDBFeed

__all__ = ["TickDBFeed"]
