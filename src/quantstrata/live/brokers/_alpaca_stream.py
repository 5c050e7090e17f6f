"""Alpaca's ``trade_updates`` WebSocket, kept open: :class:`TradeUpdates`.

The protocol is the one alpaca-py's ``TradingStream`` speaks (JSON text in binary frames):
``{"action": "authenticate", "data": {"key_id", "secret_key"}}`` answered by an
``authorization`` message, then ``{"action": "listen", "data": {"streams":
["trade_updates"]}}`` answered by ``listening``; then ``trade_updates`` messages. The SDK's
client is not used because it reconnects on its own, with no hook to re-synchronise after a
reconnect; this one calls ``on_connected`` after every (re)connect, before any message, so the
broker re-reads open orders and fills over REST and nothing sent while the socket was down is
lost. The reconnect loop is the shared core's (:func:`~quantstrata.data.stream.resilience.
keep_connected`): every failure to connect or to stay connected, and every failed re-sync over
REST, waits as :class:`~quantstrata.data.sources.backoff.Backoff` says (full jitter, reset by a
connection that stayed up ``reconnect_cap_seconds``), then reconnects; refused keys (a 401/403
handshake, ``unauthorized``, or a re-sync refused) stop the stream with
:class:`AlpacaAuthenticationError`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import websockets

from quantstrata.core.clock import Clock, LiveClock
from quantstrata.data.sources.backoff import Backoff, Delay
from quantstrata.data.stream.resilience import (
    Reconnect,
    StreamProtocolError,
    backfill_failure,
    connect_failure,
    keep_connected,
)
from quantstrata.live.brokers._alpaca_rest import (
    AlpacaAuthenticationError,
    AlpacaConfig,
    AlpacaCredentials,
    refused_keys,
)

__all__ = ["TradeUpdates"]

_log = logging.getLogger("quantstrata.live.alpaca")


class _HandshakeError(StreamProtocolError):
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
        clock: Clock | None = None,
    ) -> None:
        """Keep the handlers; nothing connects until :meth:`run`."""
        self.config = config
        self._credentials = credentials
        self._on_message = on_message
        self._on_connected = on_connected
        self._sleep = sleep
        self._clock = clock if clock is not None else LiveClock()
        self.backoff = Backoff(
            base=config.backoff_base_seconds,
            cap=config.reconnect_cap_seconds,
            uniform=uniform,
            healthy_after=config.reconnect_cap_seconds,
        )
        self.connected = asyncio.Event()
        self.reconnects = 0
        self.waits: list[float] = []

    def __repr__(self) -> str:
        """Show the endpoint, never the keys."""
        return f"TradeUpdates(url={self.config.trade_stream_url!r})"

    async def run(self) -> None:
        """Connect, listen and deliver until cancelled; reconnect after every loss.

        Raise :class:`AlpacaAuthenticationError` when the keys are refused.
        """
        loop = asyncio.get_running_loop()
        fatal = await keep_connected(
            lambda: self._connect_once(loop.time),
            self.backoff,
            classify=lambda error: connect_failure(error, self._clock.now()),
            sleep=self._sleep,
            now=loop.time,
            stopped=lambda: False,
            on_retry=self._retrying,
        )
        if fatal is not None:
            raise refused_keys("trade_updates stream", fatal.reason)

    async def _connect_once(self, now: Callable[[], float]) -> Reconnect:
        """Open one connection, re-synchronise, deliver until it ends; a failure to open raises."""
        async with websockets.connect(
            self.config.trade_stream_url,
            open_timeout=self.config.timeout_seconds,
            ping_interval=5.0,
            ping_timeout=self.config.timeout_seconds,
            max_size=None,
        ) as socket:
            await self._handshake(socket)
            self.backoff.connected_at(now())
            try:
                await self._on_connected()
            except Exception as error:  # noqa: BLE001 - judged by the shared core, never lost
                return backfill_failure(error)
            self.connected.set()
            async for frame in socket:
                self._deliver(frame)
        return Reconnect("the server closed the stream")

    def _retrying(self, decision: Reconnect, delay: Delay) -> None:
        self.connected.clear()
        self.reconnects += 1
        self.waits.append(delay.seconds)
        _log.info(
            "Alpaca trade_updates lost (%s); reconnecting in %.2f s", decision.reason, delay.seconds
        )

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
            raise AlpacaAuthenticationError(f"the authorization status was {status!r}")
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
