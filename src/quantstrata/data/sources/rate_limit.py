"""A token bucket per provider, shared by every client of that provider in the process.

The bucket is plain arithmetic on an injected monotonic time: :meth:`RateLimiter.reserve` books a
slot and returns how long to wait before using it, so the sync and async clients sleep in their
own way and tests need no real time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from quantstrata.core.errors import ConfigError

__all__ = ["RateLimiter", "shared_limiter"]

_SHARED: dict[str, RateLimiter] = {}
_SHARED_LOCK = threading.Lock()


class RateLimiter:
    """Allow ``per_minute`` requests per minute with bursts up to ``burst`` (default: 1/6 of it)."""

    def __init__(
        self,
        per_minute: int,
        *,
        burst: int | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """Start with a full bucket."""
        if per_minute < 1:
            raise ConfigError(f"per_minute must be positive, got {per_minute}")
        self.per_minute = per_minute
        self.capacity = float(burst if burst is not None else max(1, per_minute // 6))
        self._rate = per_minute / 60.0
        self._monotonic = monotonic
        self._tokens = self.capacity
        self._updated = monotonic()
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take one token (possibly borrowed from the future) and return the seconds to wait."""
        with self._lock:
            now = self._monotonic()
            self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self._rate)
            self._updated = now
            self._tokens -= 1.0
            if self._tokens >= 0:
                return 0.0
            return -self._tokens / self._rate

    def __repr__(self) -> str:
        """Show the limit."""
        return f"RateLimiter(per_minute={self.per_minute}, burst={self.capacity:g})"


def shared_limiter(provider: str, per_minute: int) -> RateLimiter:
    """Return the process-wide limiter of ``provider`` (created at ``per_minute`` on first use)."""
    key = f"{provider}:{per_minute}"
    with _SHARED_LOCK:
        limiter = _SHARED.get(key)
        if limiter is None:
            limiter = _SHARED[key] = RateLimiter(per_minute)
        return limiter
