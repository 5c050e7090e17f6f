"""The WebSocket side of the fake Alpaca: ``trade_updates`` and the market-data bar stream.

One ``websockets`` (sync) server on ``127.0.0.1`` port 0, in a background thread, routing by
path as Alpaca's hosts do:

- ``/stream``: the trading stream as ``alpaca.trading.stream.TradingStream`` speaks it: JSON in
  binary frames; ``{"action": "authenticate", "data": {"key_id", "secret_key"}}`` is answered
  ``{"stream": "authorization", "data": {"status": "authorized", ...}}`` (``unauthorized`` and
  a close on a wrong key); ``{"action": "listen", "data": {"streams": ["trade_updates"]}}`` is
  answered ``{"stream": "listening", ...}``; then ``{"stream": "trade_updates", "data": ...}``.
- ``/v2/iex``, ``/v2/sip`` (any ``/v2/<feed>``): market data as
  ``alpaca.data.live.StockDataStream`` speaks it: msgpack arrays; ``[{"T": "success", "msg":
  "connected"}]`` on connect, ``auth`` answered ``authenticated`` (or ``{"T": "error", "code":
  402}`` and a close), ``subscribe``/``unsubscribe`` of ``bars`` and ``updatedBars`` answered
  ``{"T": "subscription", ...}``, then bars ``{"T": "b" | "u", "S", "o", "h", "l", "c", "v",
  "t", "n", "vw"}`` with ``t`` a msgpack timestamp.

Faults: :meth:`AlpacaStreams.drop` closes connections; :meth:`AlpacaStreams.stall` keeps them
open but sends them nothing more (a silent stall; a new connection is served again).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgpack
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

__all__ = ["DATA", "TRADING", "AlpacaStreams"]

TRADING = "trading"
DATA = "data"
_CHANNELS = ("trades", "quotes", "bars", "updatedBars", "dailyBars", "statuses", "lulds")


@dataclass(slots=True)
class _Client:
    kind: str
    authorized: bool = False
    listening: bool = False
    muted: bool = False
    channels: dict[str, set[str]] = field(default_factory=dict)


class AlpacaStreams:
    """Serve both streams; ``check(key_id, secret)`` says whether credentials are good."""

    def __init__(self, check: Callable[[str, str], bool]) -> None:
        self._check = check
        self._server: Server = serve(self._handle, "127.0.0.1", 0, max_size=None)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._changed = threading.Condition()
        self._clients: dict[ServerConnection, _Client] = {}
        self.connections = {TRADING: 0, DATA: 0}
        self.auth_failures = 0
        self.sent = {TRADING: 0, DATA: 0}

    @property
    def port(self) -> int:
        """The bound port."""
        return int(self._server.socket.getsockname()[1])

    def start(self) -> None:
        """Serve in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Close every connection and stop serving."""
        self.drop()
        self._server.shutdown()

    # -- state for tests -----------------------------------------------------------------------

    def listeners(self) -> int:
        """Return how many open, authorized connections listen to ``trade_updates``."""
        with self._changed:
            return sum(c.listening for c in self._clients.values())

    def bar_subscribers(self, symbol: str, channel: str = "bars") -> int:
        """Return how many open connections subscribe ``channel`` of ``symbol`` (or ``*``)."""
        with self._changed:
            return sum(
                bool({symbol, "*"} & c.channels.get(channel, set())) for c in self._clients.values()
            )

    def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``predicate()`` holds (checked on every connection change)."""
        with self._changed:
            return self._changed.wait_for(predicate, timeout)

    # -- faults --------------------------------------------------------------------------------

    def drop(self, kind: str | None = None) -> int:
        """Close the open connections of ``kind`` (both streams when ``None``); return how many.

        The closing handshakes run in their own threads, so a caller is never blocked waiting
        for a client to answer.
        """
        with self._changed:
            chosen = [c for c, client in self._clients.items() if kind in (None, client.kind)]
            for connection in chosen:
                self._clients.pop(connection)
            self._changed.notify_all()
        for connection in chosen:
            threading.Thread(target=_close, args=(connection,), daemon=True).start()
        return len(chosen)

    def stall(self, kind: str | None = None) -> int:
        """Keep the open connections of ``kind`` open but send them nothing from now on."""
        with self._changed:
            chosen = [c for c in self._clients.values() if kind in (None, c.kind)]
            for client in chosen:
                client.muted = True
            return len(chosen)

    # -- publishing ----------------------------------------------------------------------------

    def publish_trade_update(self, data: dict[str, Any]) -> int:
        """Send one ``trade_updates`` event to every listener; return how many got it."""
        frame = json.dumps({"stream": "trade_updates", "data": data}).encode()
        with self._changed:
            targets = [c for c, client in self._clients.items() if client.listening]
            targets = [c for c in targets if not self._clients[c].muted]
        return self._send(TRADING, targets, frame)

    def publish_bars(self, bars: list[dict[str, Any]], channel: str = "bars") -> int:
        """Send bars (``T`` "b" or "u") to the connections subscribed to their symbols."""
        with self._changed:
            clients = [(c, client) for c, client in self._clients.items() if not client.muted]
        sent = 0
        for connection, client in clients:
            wanted = client.channels.get(channel, set())
            chosen = [bar for bar in bars if "*" in wanted or bar["S"] in wanted]
            if chosen:
                sent += self._send(DATA, [connection], msgpack.packb(chosen, datetime=False))
        return sent

    def _send(self, kind: str, targets: list[ServerConnection], frame: bytes) -> int:
        sent = 0
        for connection in targets:
            with contextlib.suppress(ConnectionClosed):
                connection.send(frame)
                sent += 1
        self.sent[kind] += sent
        return sent

    # -- serving -------------------------------------------------------------------------------

    def _handle(self, connection: ServerConnection) -> None:
        path = connection.request.path if connection.request is not None else ""
        kind = TRADING if path.rstrip("/").endswith("/stream") else DATA
        client = _Client(kind)
        with self._changed:
            self._clients[connection] = client
            self.connections[kind] += 1
            self._changed.notify_all()
        try:
            if kind == DATA:
                connection.send(msgpack.packb([{"T": "success", "msg": "connected"}]))
            for raw in connection:
                if kind == TRADING:
                    self._on_trading(connection, client, json.loads(raw))
                else:
                    self._on_data(connection, client, msgpack.unpackb(raw))
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                self._clients.pop(connection, None)
                self._changed.notify_all()

    def _on_trading(self, connection: ServerConnection, client: _Client, message: Any) -> None:
        action = message.get("action")
        data = message.get("data") or {}
        if action in ("authenticate", "auth"):
            key = data.get("key_id", message.get("key", ""))
            secret = data.get("secret_key", message.get("secret", ""))
            client.authorized = self._check(str(key), str(secret))
            status = "authorized" if client.authorized else "unauthorized"
            answer = {"stream": "authorization", "data": {"action": action, "status": status}}
            connection.send(json.dumps(answer).encode())
            if not client.authorized:
                self.auth_failures += 1
                connection.close()
        elif action == "listen" and client.authorized:
            streams = [s for s in data.get("streams", []) if s == "trade_updates"]
            with self._changed:
                client.listening = bool(streams)
                self._changed.notify_all()
            connection.send(
                json.dumps({"stream": "listening", "data": {"streams": streams}}).encode()
            )

    def _on_data(self, connection: ServerConnection, client: _Client, message: Any) -> None:
        action = message.get("action")
        if action == "auth":
            client.authorized = self._check(str(message.get("key")), str(message.get("secret")))
            if client.authorized:
                connection.send(msgpack.packb([{"T": "success", "msg": "authenticated"}]))
            else:
                self.auth_failures += 1
                connection.send(msgpack.packb([{"T": "error", "code": 402, "msg": "auth failed"}]))
                connection.close()
            return
        if not client.authorized:
            connection.send(
                msgpack.packb([{"T": "error", "code": 401, "msg": "not authenticated"}])
            )
            return
        if action in ("subscribe", "unsubscribe"):
            with self._changed:
                for channel in _CHANNELS:
                    symbols = set(message.get(channel) or [])
                    current = client.channels.setdefault(channel, set())
                    if action == "subscribe":
                        current |= symbols
                    else:
                        current -= symbols
                self._changed.notify_all()
                answer = {"T": "subscription"}
                answer.update({ch: sorted(client.channels.get(ch, set())) for ch in _CHANNELS})
            connection.send(msgpack.packb([answer]))


def _close(connection: ServerConnection) -> None:
    with contextlib.suppress(Exception):
        connection.close()
