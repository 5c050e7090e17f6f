"""Network data sources: resilient REST clients for market-data providers (TickDB first).

A sans-I/O core builds requests, reads answers and decides between retrying and stopping; thin
httpx clients (sync and async) do the I/O. See ``docs/connectors.md``.
"""

from quantstrata.data.sources.backoff import (
    backoff_delay,
    parse_reset_at,
    parse_retry_after,
    server_wait,
)
from quantstrata.data.sources.config import (
    PLAN_REQUESTS_PER_MINUTE,
    HttpConfig,
    RetryPolicy,
    TickDBConfig,
)
from quantstrata.data.sources.errors import (
    AuthenticationError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitedError,
    RequestRejectedError,
)
from quantstrata.data.sources.rate_limit import RateLimiter, shared_limiter
from quantstrata.data.sources.tickdb import (
    API_KEY_VARIABLE,
    AsyncTickDBClient,
    TickDBClient,
    fetch_to_catalog,
)

__all__ = [
    "API_KEY_VARIABLE",
    "PLAN_REQUESTS_PER_MINUTE",
    "AsyncTickDBClient",
    "AuthenticationError",
    "HttpConfig",
    "ProviderError",
    "ProviderUnavailableError",
    "RateLimitedError",
    "RateLimiter",
    "RequestRejectedError",
    "RetryPolicy",
    "TickDBClient",
    "TickDBConfig",
    "backoff_delay",
    "fetch_to_catalog",
    "parse_reset_at",
    "parse_retry_after",
    "server_wait",
    "shared_limiter",
]
