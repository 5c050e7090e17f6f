"""What the ccxt broker and the ccxt feed share: settings, the exchange, and calls that retry.

:class:`CcxtConfig` names the exchange and how to talk to it; :func:`open_exchange` builds a
``ccxt.pro`` exchange (REST and WebSocket in one object; ``ccxt`` is an optional extra, imported
only here, at run time) with the keys set at the last moment and ccxt's own logger replaced by
a redacting one, since ccxt logs request headers, and so the API key, at DEBUG level.

:class:`CcxtCaller` runs one exchange method with the error policy of the live layer:

- rate limits (ccxt ``RateLimitExceeded``/``DDoSProtection``, HTTP 418/429) wait at least the
  server's ``Retry-After`` (read from ``exchange.last_response_headers``), otherwise an
  exponential backoff with full jitter, then retry, up to ``max_attempts``;
- network errors and timeouts are retried the same way for queries; a create is never
  retried after a network error (its outcome is unknown, see the broker);
- authentication and permission errors are fatal at once: :class:`CcxtAuthenticationError`
  (a :class:`~quantstrata.live.broker.BrokerError` the order manager does not swallow).

Every message that leaves this module goes through :func:`~quantstrata.core.secrets.redact`
with the keys, so no key (and no request signature) reaches an exception text.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from pydantic import Field

from quantstrata.core._extras import require
from quantstrata.core.clock import Clock
from quantstrata.core.errors import ConfigError
from quantstrata.core.logging import RedactingFilter
from quantstrata.core.secrets import Secret
from quantstrata.live._retry import RetryingCaller, RetrySettings
from quantstrata.live.broker import BrokerError, BrokerUnavailableError

__all__ = [
    "CcxtAuthenticationError",
    "CcxtCaller",
    "CcxtConfig",
    "CcxtCredentials",
    "open_exchange",
]


class CcxtConfig(RetrySettings):
    """How to reach one ccxt exchange.

    - ``exchange``: the ccxt id (``binance``, ``kraken``, ...).
    - ``symbols``: unified symbols traded or streamed (``BTC/USDT``); a spot position is the
      balance of each symbol's base asset.
    - ``quote_currency``: the cash currency (default: the quote of the first symbol).
    - ``api_urls``: overrides of ``exchange.urls['api'][name]`` (a test server, a gateway);
      a value may itself be a mapping (``{"ws": {"spot": "ws://..."}}``).
    - ``options``: entries merged into ``exchange.options``.
    - ``sandbox``: switch the exchange to its testnet (``set_sandbox_mode``).
    - ``timeout_seconds``: ccxt's per-request timeout.
    - ``max_attempts``, ``backoff_base_seconds``, ``backoff_cap_seconds``: retries of rate
      limits and (for queries) network errors; ``max_server_wait_seconds`` caps a
      ``Retry-After``.
    - ``poll_seconds``: how often the broker polls for fills and cancellations (0: never).
    - ``enable_rate_limit``: ccxt's own request spacing.
    """

    exchange: str = Field(default="binance", min_length=1)
    symbols: tuple[str, ...] = Field(min_length=1)
    quote_currency: str | None = None
    api_urls: dict[str, Any] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)
    sandbox: bool = False
    poll_seconds: float = Field(default=1.0, ge=0.0, allow_inf_nan=False)
    enable_rate_limit: bool = True

    @property
    def cash_currency(self) -> str:
        """The quote currency: given, or the quote of the first symbol."""
        if self.quote_currency:
            return self.quote_currency
        _, _, quote = self.symbols[0].partition("/")
        if not quote:
            raise ConfigError(
                f"symbol {self.symbols[0]!r} has no quote currency; use BASE/QUOTE or set "
                "quote_currency"
            )
        return quote.split(":")[0]


class CcxtCredentials:
    """The API key, secret and (some venues) password, all :class:`Secret`."""

    __slots__ = ("api_key", "password", "secret")

    def __init__(
        self,
        api_key: Secret | None = None,
        secret: Secret | None = None,
        password: Secret | None = None,
    ) -> None:
        """Keep the secrets; every one given must be a :class:`Secret`."""
        for name, value in (("api_key", api_key), ("secret", secret), ("password", password)):
            if value is not None and not isinstance(value, Secret):
                raise ConfigError(f"the ccxt {name} must be a quantstrata.core.secrets.Secret")
        self.api_key = api_key
        self.secret = secret
        self.password = password

    def __repr__(self) -> str:
        """Say which secrets are set, never their text."""
        given = [name for name in self.__slots__ if getattr(self, name) is not None]
        return f"CcxtCredentials(set={given})"

    @property
    def secrets(self) -> list[Secret]:
        """Every secret given, for redaction."""
        found = (self.api_key, self.secret, self.password)
        return [secret for secret in found if secret is not None]


class CcxtAuthenticationError(BrokerError):
    """The exchange refused the keys or the permission: fatal, nothing is retried."""


def open_exchange(config: CcxtConfig, credentials: CcxtCredentials) -> Any:
    """Build the ``ccxt.pro`` exchange for ``config`` (REST and WebSocket methods)."""
    ccxt_pro = require("ccxt.pro", "the ccxt connector")
    exchange_class = getattr(ccxt_pro, config.exchange, None)
    if exchange_class is None:
        raise ConfigError(f"ccxt has no exchange {config.exchange!r} with WebSocket support")
    settings: dict[str, Any] = {
        "enableRateLimit": config.enable_rate_limit,
        "timeout": int(config.timeout_seconds * 1000),
    }
    if credentials.api_key is not None:
        settings["apiKey"] = credentials.api_key.reveal()
    if credentials.secret is not None:
        settings["secret"] = credentials.secret.reveal()
    if credentials.password is not None:
        settings["password"] = credentials.password.reveal()
    exchange = exchange_class(settings)
    exchange.logger = _redacting_logger(config.exchange, credentials.secrets)
    if config.sandbox:
        exchange.set_sandbox_mode(True)
    for name, url in config.api_urls.items():
        current = exchange.urls["api"].get(name)
        if isinstance(url, Mapping) and isinstance(current, dict):
            current.update(url)
        else:
            exchange.urls["api"][name] = url
    exchange.options.update(config.options)
    return exchange


def _redacting_logger(exchange: str, secrets: list[Secret]) -> logging.Logger:
    """Return the logger ccxt writes to, masking ``secrets`` (one filter per logger)."""
    logger = logging.getLogger(f"quantstrata.live.ccxt.{exchange}")
    found = next((f for f in logger.filters if isinstance(f, RedactingFilter)), None)
    if found is None:
        found = RedactingFilter()
        logger.addFilter(found)
    for secret in secrets:
        found.add_secret(secret)
    return logger


class CcxtCaller(RetryingCaller):
    """Call exchange methods with the retry and error policy described in the module doc."""

    def __init__(
        self,
        exchange: Any,
        config: CcxtConfig,
        credentials: CcxtCredentials,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        uniform: Callable[[float, float], float] = random.uniform,
        clock: Clock | None = None,
    ) -> None:
        """Keep the exchange and the injected sleep, jitter and clock."""
        super().__init__(config, credentials.secrets, sleep=sleep, uniform=uniform, clock=clock)
        self.exchange = exchange
        self.config = config

    async def call(self, method: str, *args: Any, retry_network: bool = True, **kwargs: Any) -> Any:
        """Run ``exchange.<method>(*args, **kwargs)``; retry rate limits (and network errors).

        Raise :class:`CcxtAuthenticationError` at once for refused keys, and
        :class:`~quantstrata.live.broker.BrokerUnavailableError` once retries run out. With
        ``retry_network=False`` a network error is raised as ccxt raised it, for the caller
        to judge. Other ccxt errors (rejections, not found) are raised unchanged.
        """
        ccxt = require("ccxt", "the ccxt connector")

        attempts = self.config.max_attempts
        failure: Exception = BrokerUnavailableError("no attempt made")
        for attempt in range(attempts):
            try:
                return await getattr(self.exchange, method)(*args, **kwargs)
            except (ccxt.RateLimitExceeded, ccxt.DDoSProtection) as error:
                self.rate_limited += 1
                failure = error
                floor = self._server_wait(
                    getattr(self.exchange, "last_response_headers", None) or {}
                )
            except ccxt.AuthenticationError as error:
                message = self.redact(f"{self.config.exchange} refused the keys: {error}")
                raise CcxtAuthenticationError(message) from None
            except ccxt.NetworkError as error:
                if not retry_network:
                    raise
                failure, floor = error, 0.0
            if attempt + 1 < attempts:
                await self._wait(attempt, floor)
        message = self.redact(
            f"{self.config.exchange} {method} failed after {attempts} attempts: "
            f"{type(failure).__name__}: {failure}"
        )
        raise BrokerUnavailableError(message)
