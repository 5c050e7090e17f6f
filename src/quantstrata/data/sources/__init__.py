"""Network data sources: history from market-data providers, as frames or into the catalog.

One naming scheme for every provider (named as ``quantstrata data fetch --provider`` names it):
``fetch_<provider>_bars(...)`` returns a canonical bar frame and
``fetch_<provider>_to_catalog(...)`` writes the same bars into a catalog, for ``tickdb`` (a
:class:`TickDBClient`), ``ccxt`` (a ccxt exchange or its id), ``yfinance`` (Yahoo Finance) and
``alpaca`` (alpaca-py's historical client). Optional clients (ccxt, yfinance, alpaca-py) are
imported only when a fetch runs.

For TickDB, a sans-I/O core builds requests, reads answers and decides between retrying and
stopping; thin httpx clients (sync and async) do the I/O. See ``docs/connectors.md``.

The re-exports are lazy (:mod:`quantstrata.core._lazy`): importing one source, or the shared
:mod:`~quantstrata.data.sources.backoff`, loads none of the others (nor httpx).
"""

from typing import TYPE_CHECKING

from quantstrata.core._lazy import lazy_exports

if TYPE_CHECKING:
    from quantstrata.data.sources.alpaca_history import (
        fetch_alpaca_bars,
        fetch_alpaca_to_catalog,
    )
    from quantstrata.data.sources.backoff import (
        backoff_delay,
        parse_reset_at,
        parse_retry_after,
        server_wait,
    )
    from quantstrata.data.sources.ccxt_history import (
        ccxt_public_exchange,
        fetch_ccxt_bars,
        fetch_ccxt_to_catalog,
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
        fetch_tickdb_bars,
        fetch_tickdb_to_catalog,
    )
    from quantstrata.data.sources.yfinance_history import (
        fetch_yfinance_bars,
        fetch_yfinance_to_catalog,
    )

_EXPORTS = {
    "API_KEY_VARIABLE": "quantstrata.data.sources.tickdb",
    "AsyncTickDBClient": "quantstrata.data.sources.tickdb",
    "AuthenticationError": "quantstrata.data.sources.errors",
    "HttpConfig": "quantstrata.data.sources.config",
    "PLAN_REQUESTS_PER_MINUTE": "quantstrata.data.sources.config",
    "ProviderError": "quantstrata.data.sources.errors",
    "ProviderUnavailableError": "quantstrata.data.sources.errors",
    "RateLimitedError": "quantstrata.data.sources.errors",
    "RateLimiter": "quantstrata.data.sources.rate_limit",
    "RequestRejectedError": "quantstrata.data.sources.errors",
    "RetryPolicy": "quantstrata.data.sources.config",
    "TickDBClient": "quantstrata.data.sources.tickdb",
    "TickDBConfig": "quantstrata.data.sources.config",
    "backoff_delay": "quantstrata.data.sources.backoff",
    "ccxt_public_exchange": "quantstrata.data.sources.ccxt_history",
    "fetch_alpaca_bars": "quantstrata.data.sources.alpaca_history",
    "fetch_alpaca_to_catalog": "quantstrata.data.sources.alpaca_history",
    "fetch_ccxt_bars": "quantstrata.data.sources.ccxt_history",
    "fetch_ccxt_to_catalog": "quantstrata.data.sources.ccxt_history",
    "fetch_tickdb_bars": "quantstrata.data.sources.tickdb",
    "fetch_tickdb_to_catalog": "quantstrata.data.sources.tickdb",
    "fetch_yfinance_bars": "quantstrata.data.sources.yfinance_history",
    "fetch_yfinance_to_catalog": "quantstrata.data.sources.yfinance_history",
    "parse_reset_at": "quantstrata.data.sources.backoff",
    "parse_retry_after": "quantstrata.data.sources.backoff",
    "server_wait": "quantstrata.data.sources.backoff",
    "shared_limiter": "quantstrata.data.sources.rate_limit",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

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
    "ccxt_public_exchange",
    "fetch_alpaca_bars",
    "fetch_alpaca_to_catalog",
    "fetch_ccxt_bars",
    "fetch_ccxt_to_catalog",
    "fetch_tickdb_bars",
    "fetch_tickdb_to_catalog",
    "fetch_yfinance_bars",
    "fetch_yfinance_to_catalog",
    "parse_reset_at",
    "parse_retry_after",
    "server_wait",
    "shared_limiter",
]
