"""Alpaca's ``trade_updates`` WebSocket, kept open: :class:`TradeUpdates`.

The protocol is the one alpaca-py's ``TradingStream`` speaks (JSON text in binary frames):
``{"action": "authenticate", "data": {"key_id", "secret_key"}}`` answered by an
``authorization`` message, then ``{"action": "listen", "data": {"streams":
["trade_updates"]}}`` answered by ``listening``; then ``trade_updates`` messages. The SDK's
client is not used because it reconnects on its own, with no hook to re-synchronise after a
reconnect; this one calls ``on_connected`` after every (re)connect, before any message, so the
broker re-reads open orders and fills over REST and nothing sent while the socket was down is
lost. Reconnects wait with full jitter (:func:`~quantstrata.data.sources.backoff.backoff_delay`);
refused keys stop the stream with :class:`AlpacaAuthenticationError`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import websockets
from websockets.exceptions import WebSocketException

from quantstrata.data.sources.backoff import backoff_delay
from quantstrata.live.broker import BrokerUnavailableError
from quantstrata.live.brokers._alpaca_rest import (
    KEY_VARIABLE,
    SECRET_VARIABLE,
    AlpacaAuthenticationError,
    AlpacaConfig,
    AlpacaCredentials,
)

__all__ = ["TradeUpdates"]

_log = logging.getLogger("quantstrata.live.alpaca")
_CONNECTION_LOST = (OSError, TimeoutError, WebSocketException)


class _HandshakeError(Exception):
    """The server answered the handshake with something else than the protocol says."""


class TradeUpdates:
    """Receive ``trade_updates`` messages; re-synchronise after every (re)connect."""

    def __init__(
        self,
        config: AlpacaConfig,
        credentials: AlpacaCredentials,
        on_message: Callable[[Mapping[str, Any]], None],
        on_connected: Callable[[], Awaitable[None]],
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        uniform: Callable[[float, float], float] = random.uniform,
    ) -> None:
        """Keep the handlers; nothing connects until :meth:`run`."""
        self.config = config
        self._credentials = credentials
        self._on_message = on_message
        self._on_connected = on_connected
        self._sleep = sleep
        self._uniform = uniform
        self.connected = asyncio.Event()
        self.reconnects = 0
        self.waits: list[float] = []

    def __repr__(self) -> str:
        """Show the endpoint, never the keys."""
        return f"TradeUpdates(url={self.config.trade_stream_url!r})"

    async def run(self) -> None:
        """Connect, listen and deliver until cancelled; reconnect after every loss."""
        failures = 0
        while True:
            try:
                async with websockets.connect(
                    self.config.trade_stream_url,
                    open_timeout=self.config.timeout_seconds,
                    ping_interval=5.0,
                    ping_timeout=self.config.timeout_seconds,
                    max_size=None,
                ) as socket:
                    await self._handshake(socket)
                    await self._on_connected()
                    self.connected.set()
                    failures = 0
                    async for frame in socket:
                        self._deliver(frame)
            except (*_CONNECTION_LOST, _HandshakeError, BrokerUnavailableError) as error:
                _log.info("Alpaca trade_updates lost (%s); reconnecting", type(error).__name__)
            self.connected.clear()
            self.reconnects += 1
            delay = backoff_delay(
                failures,
                base=self.config.backoff_base_seconds,
                cap=self.config.reconnect_cap_seconds,
                uniform=self._uniform,
            )
            failures += 1
            self.waits.append(delay)
            await self._sleep(delay)

    async def _handshake(self, socket: Any) -> None:
        credentials = self._credentials
        auth = {
            "action": "authenticate",
            "data": {
                "key_id": credentials.key_id.reveal(),
                "secret_key": credentials.secret_key.reveal(),
            },
        }
        await socket.send(json.dumps(auth))
        answer = _read(await asyncio.wait_for(socket.recv(), self.config.timeout_seconds))
        status = (answer.get("data") or {}).get("status")
        if answer.get("stream") == "authorization" and status != "authorized":
            raise AlpacaAuthenticationError(
                f"Alpaca refused the keys on the trade_updates stream (status {status!r}); "
                f"check ${KEY_VARIABLE} and ${SECRET_VARIABLE}"
            )
        if answer.get("stream") != "authorization":
            raise _HandshakeError("no authorization answer")
        await socket.send(json.dumps({"action": "listen", "data": {"streams": ["trade_updates"]}}))
        while True:
            answer = _read(await asyncio.wait_for(socket.recv(), self.config.timeout_seconds))
            if answer.get("stream") == "listening":
                return
            if answer.get("stream") == "trade_updates":
                self._deliver_message(answer)

    def _deliver(self, frame: str | bytes) -> None:
        try:
            message = _read(frame)
        except _HandshakeError:
            _log.warning("skipped an unreadable Alpaca trade_updates frame")
            return
        self._deliver_message(message)

    def _deliver_message(self, message: Mapping[str, Any]) -> None:
        data = message.get("data")
        if message.get("stream") == "trade_updates" and isinstance(data, Mapping):
            self._on_message(data)


def _read(frame: str | bytes) -> Mapping[str, Any]:
    try:
        message = json.loads(frame)
    except ValueError:
        raise _HandshakeError("not JSON") from None
    if not isinstance(message, Mapping):
        raise _HandshakeError("not a JSON object")
    return message
