"""Settings of the WebSocket stream client: heartbeats, liveness, backoff, queue, rotation."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from quantstrata.core.config import FrozenConfig

__all__ = ["StreamConfig"]


class StreamConfig(FrozenConfig):
    """How the stream client keeps a connection honest and comes back when it is not.

    ``heartbeat_seconds``: period of TickDB's ``{"cmd":"ping"}``; ``missed_pongs`` unanswered
    pings force a reconnect. ``protocol_ping_seconds``: WebSocket-level pings (``None`` off).
    ``stale_after_seconds``: no data on a subscribed channel for that long forces a reconnect.
    ``healthy_after_seconds``: a connection resets the backoff only after staying up that long.
    ``rate_limit_wait_seconds`` / ``connection_limit_wait_seconds``: the least wait after TickDB
    3001 / 3003 when the server names none. ``max_connection_age_seconds``: rotate before the
    venue's limit. ``queue_size`` bounds the bars waiting for the consumer; when it is full,
    ``overflow`` drops the oldest bar or, after waiting ``overflow_wait_seconds`` for room,
    reconnects and later backfills what did not fit.
    ``close_timeout_seconds``: how long a closing handshake may take before the socket is
    dropped (the old connection is always gone before a new one opens).
    ``late_tolerance_ms``: how long (market time) a bar stays open for out-of-order trades.
    ``max_lag_seconds``: the lateness bound. The lag of a trade is its arrival time (the
    client's clock) minus its exchange time, less the least lag seen so far (the path's own
    latency and the clocks' skew); when even the freshest trade of a check period (a quarter
    heartbeat) lags more than this, the link is behind the market (a congested path): the
    client reconnects and raises a "degraded" alert (``None``: not checked).
    Pongs count only when they come back within a heartbeat: a late pong does not make a
    slow link healthy.
    """

    url: str = "wss://api.tickdb.ai/v1/realtime"
    channel: Literal["trade", "ticker"] = "trade"
    heartbeat_seconds: float = Field(default=1.0, gt=0)
    missed_pongs: int = Field(default=2, ge=1)
    protocol_ping_seconds: float | None = Field(default=20.0, gt=0)
    stale_after_seconds: float = Field(default=30.0, gt=0)
    healthy_after_seconds: float = Field(default=10.0, ge=0)
    backoff_base_seconds: float = Field(default=0.5, gt=0)
    backoff_cap_seconds: float = Field(default=30.0, gt=0)
    rate_limit_wait_seconds: float = Field(default=5.0, ge=0)
    connection_limit_wait_seconds: float = Field(default=10.0, ge=0)
    max_server_wait_seconds: float = Field(default=600.0, gt=0)
    max_connection_age_seconds: float = Field(default=23 * 3600.0, gt=0)
    open_timeout_seconds: float = Field(default=10.0, gt=0)
    close_timeout_seconds: float = Field(default=1.0, gt=0)
    queue_size: int = Field(default=10_000, ge=1)
    overflow: Literal["drop_oldest", "reconnect"] = "reconnect"
    overflow_wait_seconds: float = Field(default=0.5, ge=0)
    late_tolerance_ms: int = Field(default=2_000, ge=0)
    max_lag_seconds: float | None = Field(default=10.0, gt=0)
