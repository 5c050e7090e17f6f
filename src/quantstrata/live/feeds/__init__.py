"""Feeds the live runtime reads bars from (besides the venue's and the providers' streams)."""

from __future__ import annotations

from quantstrata.live.feeds.replay import ReplayFeed

__all__ = ["ReplayFeed"]
