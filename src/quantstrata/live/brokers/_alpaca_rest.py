"""What the Alpaca broker, feed and history fetcher share: settings, keys, and calls that retry.

:class:`AlpacaConfig` says where Alpaca is (paper by default; URL overrides for a test server)
and how patient to be. :func:`trading_client` and :func:`data_client` build alpaca-py's sync
REST clients (``alpaca-py`` is an optional extra, imported only here, at run time) with the
SDK's own retries switched off and a timeout on every request, so :class:`AlpacaCaller`
decides:

- each call runs in a worker thread (``asyncio.to_thread``), so the event loop never blocks;
- HTTP 429 waits at least the server's ``Retry-After``, otherwise an exponential backoff with
  full jitter (:func:`~quantstrata.data.sources.backoff.backoff_delay`), then retries, up to
  ``max_attempts``; so do 5xx answers and network errors, for queries only: a create is never
  retried after either (its outcome is unknown, see the broker);
- 401, and a 403 that is not an order refusal, are fatal at once:
  :class:`AlpacaAuthenticationError`, whose message names the variables to check and never a key.
  It is also the data sources' :class:`~quantstrata.data.sources.errors.AuthenticationError`,
  so the shared reconnect core (:mod:`quantstrata.data.stream.resilience`) stops a stream on it
  as on any refused key.

Every message that leaves this module goes through :func:`~quantstrata.core.secrets.redact`
with the keys.
"""

from __future__ import annotations

import asyncio
import importlib
import random
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import Field

from quantstrata.core.clock import Clock
from quantstrata.core.errors import ConfigError
from quantstrata.core.secrets import Secret
from quantstrata.data.sources.errors import AuthenticationError
from quantstrata.live._retry import RetryingCaller, RetrySettings
from quantstrata.live.broker import BrokerError, BrokerUnavailableError

__all__ = [
    "PAPER_URL",
    "AlpacaAuthenticationError",
    "AlpacaCaller",
    "AlpacaConfig",
    "AlpacaCredentials",
    "AlpacaHttpError",
    "data_client",
    "refused_keys",
    "sdk",
    "trading_client",
]

PAPER_URL = "https://paper-api.alpaca.markets"
LIVE_URL = "https://api.alpaca.markets"


def _history() -> Any:
    """Return :mod:`quantstrata.data.sources.alpaca_history`, imported on first use.

    It holds the one home of the key variables, the data URL and alpaca-py's loader; it brings
    the bar-frame machinery (polars, the processing layer) a broker does not need to start.
    """
    return importlib.import_module("quantstrata.data.sources.alpaca_history")


def sdk(module: str) -> Any:
    """Import ``alpaca.<module>`` from alpaca-py, or say which extra to install."""
    return _history().alpaca_sdk(module)


def _key_variables() -> str:
    history = _history()
    return f"${history.ALPACA_KEY_VARIABLE} and ${history.ALPACA_SECRET_VARIABLE}"


class AlpacaConfig(RetrySettings):
    """How to reach Alpaca.

    - ``paper``: trade the paper account (the default); a live account needs ``paper=False``.
    - ``url``, ``stream_url``: the Trading API and its ``trade_updates`` WebSocket (default:
      Alpaca's paper or live hosts).
    - ``data_url``, ``data_stream_url``: market data REST and WebSocket (default: Alpaca's).
    - ``feed``: ``iex`` (free) or ``sip`` (all US exchanges, a paid plan).
    - ``timeout_seconds``: one REST request's timeout; a create that times out is unknown.
    - ``max_attempts``, ``backoff_base_seconds``, ``backoff_cap_seconds``: retries of 429s
      (and, for queries, 5xx and network errors); ``max_server_wait_seconds`` caps a
      ``Retry-After``.
    - ``reconnect_cap_seconds``: the longest wait between stream reconnects.
    - ``stale_after_seconds``: a market-data socket silent this long while "connected" is
      closed and reopened (0: never).
    - ``extended_hours``: orders may fill outside regular hours (``day`` limit orders only).
    """

    paper: bool = True
    url: str | None = None
    stream_url: str | None = None
    data_url: str | None = None
    data_stream_url: str | None = None
    feed: str = Field(default="iex", pattern="^(iex|sip)$")
    reconnect_cap_seconds: float = Field(default=30.0, gt=0.0, allow_inf_nan=False)
    stale_after_seconds: float = Field(default=0.0, ge=0.0, allow_inf_nan=False)
    extended_hours: bool = False

    @property
    def trading_url(self) -> str:
        """The Trading API's base URL (without ``/v2``)."""
        return (self.url or (PAPER_URL if self.paper else LIVE_URL)).rstrip("/")

    @property
    def trade_stream_url(self) -> str:
        """The ``trade_updates`` WebSocket: ``stream_url``, or the Trading API's ``/stream``."""
        if self.stream_url:
            return self.stream_url
        base = self.trading_url.replace("https://", "wss://").replace("http://", "ws://")
        return f"{base}/stream"

    @property
    def market_data_url(self) -> str:
        """The market data REST base URL (without ``/v2``)."""
        return (self.data_url or _history().ALPACA_DATA_URL).rstrip("/")

    @property
    def market_stream_url(self) -> str:
        """The market data WebSocket for the configured feed (``.../v2/iex`` or ``.../v2/sip``)."""
        if self.data_stream_url:
            base = self.data_stream_url.rstrip("/")
            return base if base.endswith(("/iex", "/sip")) else f"{base}/v2/{self.feed}"
        return f"wss://stream.data.alpaca.markets/v2/{self.feed}"


class AlpacaCredentials:
    """The API key id and secret key, both :class:`Secret`."""

    __slots__ = ("key_id", "secret_key")

    def __init__(self, key_id: Secret, secret_key: Secret) -> None:
        """Keep the keys; both must be :class:`Secret` values."""
        for name, value in (("key_id", key_id), ("secret_key", secret_key)):
            if not isinstance(value, Secret):
                raise ConfigError(f"the Alpaca {name} must be a quantstrata.core.secrets.Secret")
        self.key_id = key_id
        self.secret_key = secret_key

    @classmethod
    def from_environment(cls) -> AlpacaCredentials:
        """Read ``$APCA_API_KEY_ID`` and ``$APCA_API_SECRET_KEY``."""
        history = _history()
        return cls(
            Secret.from_environment(history.ALPACA_KEY_VARIABLE),
            Secret.from_environment(history.ALPACA_SECRET_VARIABLE),
        )

    def __repr__(self) -> str:
        """Never show the keys."""
        return "AlpacaCredentials(***)"

    @property
    def secrets(self) -> list[Secret]:
        """Both keys, for redaction."""
        return [self.key_id, self.secret_key]


class AlpacaAuthenticationError(BrokerError, AuthenticationError):
    """Alpaca refused the keys (401) or the permission (403): fatal, nothing is retried."""

    def __init__(self, message: str, *, code: int | None = None) -> None:
        """Keep Alpaca's code (an HTTP status or a stream error code) beside the message."""
        AuthenticationError.__init__(self, message, provider="alpaca", code=code)


def refused_keys(what: str, reason: str) -> AlpacaAuthenticationError:
    """Return the error that stops ``what`` (a stream) whose keys were refused for ``reason``."""
    return AlpacaAuthenticationError(f"Alpaca {what} stopped: {reason}; check {_key_variables()}")


class AlpacaHttpError(BrokerError):
    """Alpaca answered with an HTTP error that is not retried (4xx): ``status`` and ``body``."""

    def __init__(self, message: str, status: int, body: str) -> None:
        """Keep the status and the (redacted) body beside the message."""
        super().__init__(message)
        self.status = status
        self.body = body


def trading_client(config: AlpacaConfig, credentials: AlpacaCredentials) -> Any:
    """Return alpaca-py's ``TradingClient`` (raw JSON answers) for ``config``."""
    client = sdk("trading.client").TradingClient(
        credentials.key_id.reveal(),
        credentials.secret_key.reveal(),
        paper=config.paper,
        raw_data=True,
        url_override=config.trading_url,
    )
    return _history().bounded_client(client, config.timeout_seconds)


def data_client(config: AlpacaConfig, credentials: AlpacaCredentials) -> Any:
    """Return alpaca-py's ``StockHistoricalDataClient`` (raw JSON answers) for ``config``."""
    return _history().alpaca_data_client(
        credentials.key_id,
        credentials.secret_key,
        url=config.market_data_url,
        timeout_seconds=config.timeout_seconds,
    )


class AlpacaCaller(RetryingCaller):
    """Run alpaca-py calls in a thread with the retry and error policy of the module doc."""

    def __init__(
        self,
        config: AlpacaConfig,
        credentials: AlpacaCredentials,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        uniform: Callable[[float, float], float] = random.uniform,
        clock: Clock | None = None,
    ) -> None:
        """Keep the settings and the injected sleep, jitter and clock."""
        super().__init__(config, credentials.secrets, sleep=sleep, uniform=uniform, clock=clock)
        self.config = config

    async def call(
        self, what: str, function: Callable[..., Any], *args: Any, create: bool = False
    ) -> Any:
        """Run ``function(*args)`` in a thread; retry 429s (and, unless ``create``, failures).

        Raise :class:`AlpacaAuthenticationError` for refused keys, :class:`AlpacaHttpError` for
        other 4xx answers, and :class:`BrokerUnavailableError` once retries run out. With
        ``create=True`` a 5xx or a network error raises
        :class:`~quantstrata.live.broker.SubmitOutcomeUnknownError` at once.
        """
        from quantstrata.live.broker import SubmitOutcomeUnknownError

        attempts = self.config.max_attempts
        failure = "no attempt made"
        for attempt in range(attempts):
            floor = 0.0
            try:
                return await asyncio.to_thread(function, *args)
            except Exception as error:  # noqa: BLE001 - the SDK raises requests' and its own
                status, body, headers = _http_parts(error)
                failure = self.redact(f"{type(error).__name__}: {body or error}")[:300]
                if status == 429:
                    self.rate_limited += 1
                    floor = self._server_wait(headers)
                elif status is not None and 400 <= status < 500:
                    self._raise_client_error(what, status, body)
                elif create:
                    raise SubmitOutcomeUnknownError(
                        f"Alpaca {what} got no answer: {failure}"
                    ) from None
            if attempt + 1 < attempts:
                await self._wait(attempt, floor)
        raise BrokerUnavailableError(f"Alpaca {what} failed after {attempts} attempts: {failure}")

    def _raise_client_error(self, what: str, status: int, body: str) -> None:
        text = self.redact(body)[:300]
        if status == 401 or (status == 403 and _is_permission(text)):
            raise AlpacaAuthenticationError(
                f"Alpaca refused the keys for {what} (HTTP {status}: {text}); check "
                f"{_key_variables()}, and that paper keys go to the paper "
                "account and live keys to the live one",
                code=status,
            )
        raise AlpacaHttpError(f"Alpaca {what} answered HTTP {status}: {text}", status, text)


_PERMISSION_WORDS = ("forbidden", "unauthorized", "not authorized", "access key", "api key")


def _is_permission(body: str) -> bool:
    """Whether a 403 body refuses the keys (not an order: buying power, shorting, PDT...)."""
    from quantstrata.live.brokers._alpaca_mapping import AlpacaRefusal, refusal_of

    lowered = body.lower()
    if refusal_of(403, body) is not AlpacaRefusal.UNSUPPORTED:
        return False
    return any(word in lowered for word in _PERMISSION_WORDS) or not lowered.strip()


def _http_parts(error: BaseException) -> tuple[int | None, str, dict[str, str]]:
    """Return the HTTP status, body and headers of an alpaca-py or requests error."""
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    if not isinstance(status, int):
        return None, "", {}
    body = str(getattr(response, "text", "") or "")
    headers = {str(k): str(v) for k, v in dict(getattr(response, "headers", {}) or {}).items()}
    return status, body, headers
