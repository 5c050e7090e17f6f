"""What both clients of the local simulated venue share: HTTP, the API key, the stream.

:class:`~quantstrata.live.brokers.venue.VenueBroker` and
:class:`~quantstrata.live.feeds.venue.VenueFeed` speak the venue's documented JSON over HTTP
(httpx) and WebSocket (websockets); they do not import :mod:`quantstrata.venue`. The API key
goes in the ``X-API-Key`` header of every request and of the WebSocket handshake, never in a
URL, and never in an error message.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection

from quantstrata.core.errors import ConfigError
from quantstrata.core.secrets import Secret, redact
from quantstrata.data.sources.backoff import Backoff
from quantstrata.live.broker import BrokerError, BrokerUnavailableError

__all__ = ["API_KEY_HEADER", "CONNECTION_LOST", "VenueClient", "error_detail"]

API_KEY_HEADER = "X-API-Key"
CONNECTION_LOST = (OSError, TimeoutError, websockets.exceptions.WebSocketException)


class VenueClient:
    """What both clients share: the HTTP client, the key, and the stream URL."""

    def __init__(self, url: str, key: Secret, *, timeout: float, reconnect_max: float) -> None:
        """Check the key and URL; nothing connects yet."""
        if not isinstance(key, Secret):
            raise ConfigError("the venue API key must be a quantstrata.core.secrets.Secret")
        base = url.rstrip("/")
        if not base.startswith(("http://", "https://")):
            raise ConfigError(f"the venue URL must start with http:// or https://, got {url!r}")
        self.url = base
        self.stream_url = "ws" + base.removeprefix("http") + "/v1/stream"
        self._key = key
        self.timeout = timeout
        self.reconnect_max = reconnect_max
        self.malformed_messages = 0
        self.reconnects = 0
        self._http: httpx.AsyncClient | None = None
        self._closed = False
        self._stopping = asyncio.Event()
        self._socket: ClientConnection | None = None

    def __repr__(self) -> str:
        """Show the venue URL, never the key."""
        return f"{type(self).__name__}(url={self.url!r})"

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(
                base_url=self.url,
                headers={API_KEY_HEADER: self._key.reveal()},
                timeout=self.timeout,
            )
        return self._http

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> httpx.Response:
        try:
            response = await self._client().request(method, path, params=params, json=body)
        except httpx.HTTPError as error:
            message = self._redact(f"venue {self.url} unreachable: {error!r}")
            raise BrokerUnavailableError(message) from None
        if response.status_code == httpx.codes.UNAUTHORIZED:
            raise BrokerError(f"venue {self.url} refused the API key (HTTP 401)")
        if response.status_code >= httpx.codes.INTERNAL_SERVER_ERROR:
            raise BrokerUnavailableError(f"venue {self.url} failed: HTTP {response.status_code}")
        return response

    async def _get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        response = await self._request("GET", path, params=params)
        if response.status_code != httpx.codes.OK:
            raise BrokerError(
                f"venue GET {path}: HTTP {response.status_code} {error_detail(response)}"
            )
        return response.json()

    def _connect_stream(self) -> Any:
        return websockets.connect(
            self.stream_url,
            additional_headers={API_KEY_HEADER: self._key.reveal()},
            open_timeout=self.timeout,
        )

    def stopped(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def _backoff(self) -> Backoff:
        """Return the stream's reconnect schedule (the one every feed uses: jittered)."""
        return Backoff(base=0.05, cap=self.reconnect_max, uniform=random.uniform)

    async def _pause(self, backoff: Backoff) -> None:
        """Wait the backoff's delay before reconnecting, or less when :meth:`close` is called."""
        delay = backoff.failed(asyncio.get_running_loop().time()).seconds
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), delay)

    async def _close_stream(self) -> None:
        self._closed = True
        self._stopping.set()
        socket = self._socket
        if socket is not None:
            with contextlib.suppress(*CONNECTION_LOST):
                await socket.close()

    def _redact(self, text: str) -> str:
        return redact(text, [self._key])

    async def _close_http(self) -> None:
        await self._close_stream()
        if self._http is not None:
            await self._http.aclose()
            self._http = None


def error_detail(response: httpx.Response) -> str:
    """Return the reason a venue gave in an error response (its ``detail``, else the text)."""
    try:
        detail = response.json().get("detail", "")
    except (ValueError, AttributeError):
        detail = response.text[:200]
    return str(detail)
