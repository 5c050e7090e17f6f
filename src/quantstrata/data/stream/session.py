"""The stream client's decisions, without I/O: subscriptions, heartbeats, liveness, backoff.

:class:`StreamSession` is fed what happens (connected, a frame, time passing, closed) with
monotonic seconds from the caller and answers with what to do (frames to send, a reason to
reconnect, a delay before the next attempt, a fatal error). The asyncio wrapper in
:mod:`quantstrata.data.stream.client` only carries these out.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from quantstrata.data.sources.backoff import Backoff, Delay
from quantstrata.data.stream.config import StreamConfig
from quantstrata.data.stream.messages import Acknowledged, ErrorMessage
from quantstrata.data.stream.resilience import Reconnect

__all__ = [
    "FATAL_CODES",
    "Reconnect",
    "StreamCounters",
    "StreamSession",
    "SubscriptionBook",
    "canonical_symbol",
]

FATAL_CODES = frozenset({401, 403, 1001, 1002, 1003, 1004, 3002})
RATE_LIMIT_CODE = 3001
CONNECTION_LIMIT_CODE = 3003


@dataclass(slots=True)
class StreamCounters:
    """What happened so far, for logs, health checks and the soak test."""

    connections: int = 0
    reconnects: int = 0
    malformed: int = 0
    duplicates: int = 0
    late: int = 0
    overflows: int = 0
    bars_dropped: int = 0
    gaps: int = 0
    backfilled_bars: int = 0
    messages: int = 0
    delays: deque[tuple[float, float, float]] = field(default_factory=lambda: deque(maxlen=1_000))
    """The latest reconnect delays as ``(delay, lowest allowed, highest allowed)``."""
    reasons: deque[str] = field(default_factory=lambda: deque(maxlen=1_000))
    """Why the latest connections ended."""
    delays_outside_policy: int = 0
    lag_seconds: float | None = None
    """The lag of the freshest trade in the latest check period (``None``: no trade yet)."""
    worst_lag_seconds: float = 0.0
    lag_reconnects: int = 0
    """Reconnects because the link fell more than ``max_lag_seconds`` behind the market."""


def canonical_symbol(pushed: str, subscribed: Iterable[str]) -> str:
    """Map a pushed symbol (maybe without suffix, ``700`` or ``00700``) to the subscribed name."""
    for name in subscribed:
        base = name.split(".", 1)[0]
        if pushed in (name, base) or pushed.lstrip("0") == base.lstrip("0"):
            return name
    return pushed


class SubscriptionBook:
    """Requested, pending and confirmed subscriptions per channel.

    Only confirmed subscriptions are re-sent after a reconnect; a rejected one is dropped and
    reported.
    """

    def __init__(self) -> None:
        """Start empty."""
        self.confirmed: dict[str, set[str]] = {}
        self.rejected: list[tuple[str, tuple[str, ...], int]] = []
        self._pending: deque[tuple[str, tuple[str, ...]]] = deque()

    def request(self, channel: str, symbols: Iterable[str]) -> str:
        """Record a subscribe request and return its frame."""
        names = tuple(symbols)
        self._pending.append((channel, names))
        return json.dumps(
            {"cmd": "subscribe", "data": {"channel": channel, "symbols": list(names)}}
        )

    def acknowledge(self, answer: Acknowledged) -> None:
        """Confirm what the server accepted (the listed symbols, else the oldest request)."""
        if answer.command != "subscribe":
            return
        if answer.symbols and answer.channel is not None:
            self.confirmed.setdefault(answer.channel, set()).update(answer.symbols)
            self._discard_pending(answer.channel, answer.symbols)
        elif self._pending:
            channel, names = self._pending.popleft()
            self.confirmed.setdefault(channel, set()).update(names)

    def reject(self, error: ErrorMessage) -> None:
        """Drop the oldest pending request the server refused."""
        if self._pending:
            channel, names = self._pending.popleft()
            self.rejected.append((channel, names, error.code))

    def resubscribe(self) -> list[str]:
        """Return frames restoring exactly the confirmed subscriptions (now pending again)."""
        self._pending.clear()
        frames = []
        for channel, names in sorted(self.confirmed.items()):
            if names:
                frames.append(self.request(channel, sorted(names)))
        self.confirmed = {}
        return frames

    def symbols(self) -> set[str]:
        """Return every confirmed or pending symbol."""
        names = {name for group in self.confirmed.values() for name in group}
        names.update(name for _, group in self._pending for name in group)
        return names

    def _discard_pending(self, channel: str, names: tuple[str, ...]) -> None:
        for position, (pending_channel, pending_names) in enumerate(self._pending):
            if pending_channel == channel and set(pending_names) <= set(names):
                del self._pending[position]
                return


class StreamSession:
    """Heartbeats, liveness, rotation and reconnect backoff for one logical stream."""

    def __init__(self, config: StreamConfig, uniform: Callable[[float, float], float]) -> None:
        """Start disconnected with a fresh backoff."""
        self.config = config
        self.book = SubscriptionBook()
        self.counters = StreamCounters()
        self.backoff = Backoff(
            base=config.backoff_base_seconds,
            cap=config.backoff_cap_seconds,
            uniform=uniform,
            healthy_after=config.healthy_after_seconds,
            max_server_wait=config.max_server_wait_seconds,
        )
        self._connected_at: float | None = None
        self._last_data = 0.0
        self._next_ping = 0.0
        self._unanswered = 0
        self._pings: deque[float] = deque()
        self._late_pongs = 0
        self._least_lag: float | None = None
        self._server_wait: float | None = None

    @property
    def connected(self) -> bool:
        """Whether a connection is up."""
        return self._connected_at is not None

    def on_connected(self, now: float) -> None:
        """Start the clocks of a new connection."""
        self._connected_at = now
        self.backoff.connected_at(now)
        self._last_data = now
        self._next_ping = now + self.config.heartbeat_seconds
        self._unanswered = self._late_pongs = 0
        self._pings.clear()
        self.counters.connections += 1

    def on_data(self, now: float) -> None:
        """Note that market data arrived (liveness)."""
        self._last_data = now

    def on_pong(self, now: float | None = None) -> None:
        """Note the answer to our oldest ping; only a timely one (within a heartbeat) counts.

        A late pong (a congested link answers, slowly) adds to the missed ones instead of
        clearing them, so a slow link cannot look healthy forever.
        """
        sent = self._pings.popleft() if self._pings else None
        self._unanswered = len(self._pings)
        if now is not None and sent is not None and now - sent > self.config.heartbeat_seconds:
            self._late_pongs += 1
        else:
            self._late_pongs = 0

    def on_lag(self, lag_seconds: float | None) -> Reconnect | None:
        """Judge the lag of the freshest trade of one check period; ``None``: no trade came.

        The lag is measured against the least lag seen so far (the path's own latency and the
        skew between our clock and the provider's), so only falling behind counts.
        """
        if lag_seconds is None:
            return None
        if self._least_lag is None or lag_seconds < self._least_lag:
            self._least_lag = lag_seconds
        lag_seconds -= self._least_lag
        counters = self.counters
        counters.lag_seconds = lag_seconds
        counters.worst_lag_seconds = max(counters.worst_lag_seconds, lag_seconds)
        bound = self.config.max_lag_seconds
        if bound is None or lag_seconds <= bound:
            return None
        counters.lag_reconnects += 1
        return Reconnect(f"degraded: {lag_seconds:.1f}s behind the market (bound {bound:g}s)")

    def on_error(self, error: ErrorMessage) -> Reconnect | None:
        """Decide what an in-band error means: fatal, wait-and-reconnect, or a refused request."""
        if error.code in FATAL_CODES:
            return Reconnect(f"TickDB error {error.code}: {error.message}", fatal=True)
        if error.code in {RATE_LIMIT_CODE, CONNECTION_LIMIT_CODE}:
            least = (
                self.config.rate_limit_wait_seconds
                if error.code == RATE_LIMIT_CODE
                else self.config.connection_limit_wait_seconds
            )
            wait = max(least, error.retry_after or 0.0)
            return Reconnect(f"TickDB error {error.code}: {error.message}", server_wait=wait)
        if error.command == "subscribe":
            self.book.reject(error)
        return None

    def on_timer(self, now: float) -> tuple[str | None, Reconnect | None]:
        """Return a ping frame to send if one is due, and a reason to reconnect if any."""
        if self._connected_at is None:
            return None, None
        if now - self._connected_at >= self.config.max_connection_age_seconds:
            return None, Reconnect("scheduled rotation before the maximum connection age")
        if self.book.symbols() and now - self._last_data >= self.config.stale_after_seconds:
            return None, Reconnect(f"no data for {now - self._last_data:.1f}s")
        if now < self._next_ping:
            return None, None
        missed = self._unanswered + self._late_pongs
        if missed >= self.config.missed_pongs:
            return None, Reconnect(f"{missed} pings without a timely pong")
        self._unanswered += 1
        self._pings.append(now)
        self._next_ping = now + self.config.heartbeat_seconds
        return '{"cmd":"ping"}', None

    def on_closed(self, now: float, reason: str, server_wait: float | None = None) -> float:
        """Return the delay before the next attempt; any close counts, healthy ones reset."""
        delay = self.backoff.failed(now, server_wait)
        self.on_retry(Reconnect(reason, server_wait=server_wait), delay)
        return delay.seconds

    def on_retry(self, decision: Reconnect, delay: Delay) -> None:
        """Count a reconnect and the delay chosen for it (the policy is checked, not trusted)."""
        self._connected_at = None
        self.counters.reconnects += 1
        self.counters.delays.append((delay.seconds, delay.lowest, delay.highest))
        self.counters.reasons.append(decision.reason)
        if not delay.within_policy:
            self.counters.delays_outside_policy += 1
