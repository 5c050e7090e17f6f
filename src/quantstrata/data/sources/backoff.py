"""Backoff arithmetic shared by the REST clients and every feed, free of I/O and of real time.

:func:`backoff_delay` is exponential backoff with full jitter; :class:`Backoff` is the schedule
of one reconnecting connection built on it (the attempt count, reset only by a connection that
stayed up long enough, a server's wait as a floor); :func:`parse_retry_after` reads a
``Retry-After`` header (seconds or an HTTP date) and :func:`parse_reset_at` a ``reset_at``
instant (epoch seconds or milliseconds, or ISO text), both relative to an injected ``now``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = [
    "Backoff",
    "Delay",
    "backoff_delay",
    "parse_reset_at",
    "parse_retry_after",
    "server_wait",
]

_MILLISECONDS_THRESHOLD = 10_000_000_000


def backoff_delay(
    attempt: int,
    *,
    base: float,
    cap: float,
    uniform: Callable[[float, float], float],
    floor: float = 0.0,
) -> float:
    """Return the wait before retry ``attempt`` (0-based): full jitter, never below ``floor``.

    ``uniform(a, b)`` is injected (``random.uniform`` in production) so schedules are testable.
    """
    ceiling = min(cap, base * 2.0 ** min(attempt, 62))
    return max(floor, uniform(0.0, ceiling))


@dataclass(frozen=True, slots=True)
class Delay:
    """One wait before a reconnect: ``seconds``, and the range the policy allowed for it."""

    seconds: float
    lowest: float
    highest: float

    @property
    def within_policy(self) -> bool:
        """Whether ``seconds`` lies in ``[lowest, highest]``."""
        return self.lowest <= self.seconds <= self.highest


class Backoff:
    """The reconnect schedule of one connection: full jitter, reset by a healthy connection.

    Every failure, whether the connection never opened or dropped later, waits
    ``uniform(0, min(cap, base·2ⁿ))`` where ``n`` counts the failures since the last connection
    that stayed up ``healthy_after`` seconds; a server's wait (``Retry-After``, TickDB 3001) is a
    floor, capped at ``max_server_wait``. Times are monotonic seconds given by the caller.
    """

    def __init__(
        self,
        *,
        base: float,
        cap: float,
        uniform: Callable[[float, float], float],
        healthy_after: float = 0.0,
        max_server_wait: float = 600.0,
    ) -> None:
        """Start with no failure behind."""
        self.base = base
        self.cap = cap
        self.healthy_after = healthy_after
        self.max_server_wait = max_server_wait
        self.attempt = 0
        self._uniform = uniform
        self._connected_at: float | None = None

    @property
    def connected(self) -> bool:
        """Whether a connection is up (between :meth:`connected_at` and :meth:`failed`)."""
        return self._connected_at is not None

    def connected_at(self, now: float) -> None:
        """Note that a connection opened at ``now``."""
        self._connected_at = now

    def failed(self, now: float, server_wait: float | None = None) -> Delay:
        """Return the wait before the next attempt after a failure or a close at ``now``."""
        if self._connected_at is not None:
            if now - self._connected_at >= self.healthy_after:
                self.attempt = 0
            self._connected_at = None
        floor = min(server_wait or 0.0, self.max_server_wait)
        ceiling = min(self.cap, self.base * 2.0 ** min(self.attempt, 62))
        seconds = backoff_delay(
            self.attempt, base=self.base, cap=self.cap, uniform=self._uniform, floor=floor
        )
        self.attempt += 1
        return Delay(seconds, floor, max(floor, ceiling))


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Return the seconds a ``Retry-After`` value asks for, or ``None`` if absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - now).total_seconds())


def parse_reset_at(value: object, now: datetime) -> float | None:
    """Return the seconds until ``reset_at`` (epoch s or ms, or ISO-8601 text), or ``None``."""
    if isinstance(value, bool) or value is None:
        return None
    moment: datetime | None = None
    if isinstance(value, int | float) or (isinstance(value, str) and _is_number(value)):
        number = float(value)
        if number > _MILLISECONDS_THRESHOLD:
            number /= 1000.0
        moment = datetime.fromtimestamp(number, UTC)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    if moment is None:
        return None
    return max(0.0, (moment - now).total_seconds())


def server_wait(
    retry_after: str | None, reset_at: object, now: datetime, *, limit: float
) -> float | None:
    """Return the longer server-requested wait, capped at ``limit``; ``None`` if none."""
    waits = [
        wait
        for wait in (parse_retry_after(retry_after, now), parse_reset_at(reset_at, now))
        if wait is not None
    ]
    return min(max(waits), limit) if waits else None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
