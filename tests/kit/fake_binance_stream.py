"""The WebSocket side of the fake Binance: kline streams as ``ccxt.pro.binance`` reads them.

A ``websockets`` (sync) server on ``127.0.0.1`` port 0, in a background thread. A client
subscribes with ``{"method": "SUBSCRIBE", "params": ["btcusdt@kline_1m"], "id": n}`` and gets
``{"result": null, "id": n}``; :meth:`KlineStream.publish` then sends kline events
(``{"e": "kline", "s": ..., "k": {"t", "o", "h", "l", "c", "v", "x", ...}}``) to every
subscriber of the stream. :meth:`KlineStream.drop` closes every connection, as a venue outage
does. The URL path must contain ``/stream`` (ccxt recognises spot streams by it).
"""

from __future__ import annotations

import contextlib
import json
import threading
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

__all__ = ["KlineStream"]


class KlineStream:
    """Serve kline events to subscribers; every method is thread-safe."""

    def __init__(self) -> None:
        self._server: Server = serve(self._handle, "127.0.0.1", 0)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._lock = threading.Lock()
        self._subscribers: dict[ServerConnection, set[str]] = {}
        self.subscriptions = 0

    @property
    def url(self) -> str:
        """Return the base URL for ``urls['api']['ws']['spot']``."""
        return f"ws://127.0.0.1:{self._server.socket.getsockname()[1]}/stream"

    def start(self) -> None:
        """Serve in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Close every connection and stop serving."""
        self.drop()
        self._server.shutdown()

    def drop(self) -> None:
        """Close every open connection (subscribers must reconnect and resubscribe).

        The closing handshakes run in their own threads, so a caller on the client's event
        loop is not blocked waiting for the client to answer.
        """
        with self._lock:
            connections = list(self._subscribers)
            self._subscribers.clear()
        for connection in connections:
            threading.Thread(target=_close, args=(connection,), daemon=True).start()

    def subscribed(self, stream: str) -> int:
        """Return how many open connections subscribe to ``stream``."""
        with self._lock:
            return sum(stream in streams for streams in self._subscribers.values())

    def publish(self, symbol: str, interval: str, kline: dict[str, Any]) -> int:
        """Send one kline event of ``symbol`` (Binance id); return how many clients got it."""
        stream = f"{symbol.lower()}@kline_{interval}"
        message = json.dumps(
            {"e": "kline", "E": kline["t"], "s": symbol, "k": {**kline, "s": symbol, "i": interval}}
        )
        with self._lock:
            targets = [c for c, streams in self._subscribers.items() if stream in streams]
        sent = 0
        for connection in targets:
            with contextlib.suppress(ConnectionClosed):
                connection.send(message)
                sent += 1
        return sent

    def _handle(self, connection: ServerConnection) -> None:
        with self._lock:
            self._subscribers[connection] = set()
        try:
            for raw in connection:
                request = json.loads(raw)
                if request.get("method") == "SUBSCRIBE":
                    with self._lock:
                        if connection in self._subscribers:
                            self._subscribers[connection].update(request.get("params", []))
                        self.subscriptions += 1
                    connection.send(json.dumps({"result": None, "id": request.get("id")}))
        except ConnectionClosed:
            pass
        finally:
            with self._lock:
                self._subscribers.pop(connection, None)


def _close(connection: ServerConnection) -> None:
    with contextlib.suppress(Exception):
        connection.close()
