"""Real-time market data over WebSocket: protocol logic without I/O and a thin asyncio client.

See ``docs/connectors.md`` for the behaviour under faults (heartbeats, liveness, backoff,
backfill) and how it is tested against a fake TickDB server.
"""

from quantstrata.data.stream.bars import BarBuilder, BuiltBar, StreamGap
from quantstrata.data.stream.client import Backfill, StreamClosedError, TickDBStream
from quantstrata.data.stream.config import StreamConfig
from quantstrata.data.stream.messages import MalformedFrame, parse_frame
from quantstrata.data.stream.polling import KlinePoller, LatestTracker
from quantstrata.data.stream.session import (
    Reconnect,
    StreamCounters,
    StreamSession,
    SubscriptionBook,
    canonical_symbol,
)

__all__ = [
    "Backfill",
    "BarBuilder",
    "BuiltBar",
    "KlinePoller",
    "LatestTracker",
    "MalformedFrame",
    "Reconnect",
    "StreamClosedError",
    "StreamConfig",
    "StreamCounters",
    "StreamGap",
    "StreamSession",
    "SubscriptionBook",
    "TickDBStream",
    "canonical_symbol",
    "parse_frame",
]
