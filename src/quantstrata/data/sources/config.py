"""Settings of the network data sources: timeouts, retries, rate limits, the TickDB endpoint."""

from __future__ import annotations

from pydantic import Field

from quantstrata.core.config import FrozenConfig

__all__ = ["PLAN_REQUESTS_PER_MINUTE", "HttpConfig", "RetryPolicy", "TickDBConfig"]

PLAN_REQUESTS_PER_MINUTE: dict[str, int] = {
    "free": 30,
    "basic": 60,
    "pro": 600,
    "enterprise": 1_800,
}
"""TickDB's REST rate limit per plan (``pricing.md``), requests per minute."""


class RetryPolicy(FrozenConfig):
    """Exponential backoff with full jitter: attempt ``n`` waits ``uniform(0, min(cap, base·2ⁿ))``.

    A server's own wait (``Retry-After``, ``reset_at``) is a floor the delay never goes under.
    ``max_attempts`` counts every try, the first included.
    """

    base_seconds: float = Field(default=0.5, gt=0)
    cap_seconds: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=6, ge=1)
    max_server_wait_seconds: float = Field(default=300.0, gt=0)


class HttpConfig(FrozenConfig):
    """HTTP timeouts and the retry policy."""

    connect_timeout_seconds: float = Field(default=3.0, gt=0)
    read_timeout_seconds: float = Field(default=10.0, gt=0)
    retry: RetryPolicy = RetryPolicy()


class TickDBConfig(FrozenConfig):
    """Where TickDB lives and what the plan allows.

    ``requests_per_minute`` overrides the plan's limit; ``page_limit`` is the rows asked per
    kline request (TickDB's maximum is 1000).
    """

    base_url: str = "https://api.tickdb.ai"
    websocket_url: str = "wss://api.tickdb.ai/v1/realtime"
    plan: str = Field(default="free", pattern="^(free|basic|pro|enterprise)$")
    requests_per_minute: int | None = Field(default=None, gt=0)
    page_limit: int = Field(default=1000, ge=1, le=1000)
    http: HttpConfig = HttpConfig()

    @property
    def rate_limit_per_minute(self) -> int:
        """Return the requests per minute this configuration may send."""
        if self.requests_per_minute is not None:
            return self.requests_per_minute
        return PLAN_REQUESTS_PER_MINUTE[self.plan]
