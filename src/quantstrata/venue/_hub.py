"""The WebSocket side of the venue: connected clients, their channels and their acknowledgements.

Each client has a queue and one writer task, so messages reach it in the order they were
published however many tasks publish. In lockstep mode the replay waits on
:meth:`StreamHub.wait_for_acks` until every client subscribed to bars acknowledged the bar time
just published.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.websockets import WebSocket

__all__ = ["BARS", "CHANNELS", "ORDERS", "StreamClient", "StreamHub"]

BARS = "bars"
ORDERS = "orders"
CHANNELS = frozenset({BARS, ORDERS})
_DROP_CODE = 1012


@dataclass(eq=False, slots=True)
class StreamClient:
    """One connected client: its socket, channels, acknowledged bar time and outgoing queue."""

    socket: WebSocket
    channels: set[str] = field(default_factory=set)
    acked: datetime | None = None
    queue: asyncio.Queue[dict[str, Any] | None] = field(default_factory=asyncio.Queue)
    malformed: int = 0


class StreamHub:
    """Every connected client; publish to a channel, wait for acknowledgements, drop them all."""

    def __init__(self) -> None:
        """Start with no clients."""
        self.clients: list[StreamClient] = []
        self._changed = asyncio.Condition()

    def add(self, socket: WebSocket) -> StreamClient:
        """Register a newly authenticated connection."""
        client = StreamClient(socket)
        self.clients.append(client)
        return client

    async def remove(self, client: StreamClient) -> None:
        """Forget a closed connection; the replay stops waiting for its acknowledgements."""
        if client in self.clients:
            self.clients.remove(client)
        await self._notify()

    async def subscribe(self, client: StreamClient, channels: set[str]) -> None:
        """Add ``channels`` to what ``client`` receives."""
        client.channels |= channels
        await self._notify()

    async def acknowledge(self, client: StreamClient, ts: datetime) -> None:
        """Record that ``client`` handled every bar up to ``ts``."""
        if client.acked is None or ts > client.acked:
            client.acked = ts
        await self._notify()

    def publish(self, channel: str, message: dict[str, Any]) -> None:
        """Queue ``message`` for every client subscribed to ``channel``."""
        for client in self.clients:
            if channel in client.channels:
                client.queue.put_nowait(message)

    def subscribers(self, channel: str) -> list[StreamClient]:
        """Return the clients subscribed to ``channel``."""
        return [client for client in self.clients if channel in client.channels]

    async def wait_for_acks(self, ts: datetime | None) -> None:
        """Wait until a bars subscriber exists and every one acknowledged ``ts`` (if given)."""

        def done() -> bool:
            readers = self.subscribers(BARS)
            if not readers:
                return False
            if ts is None:
                return True
            return all(client.acked is not None and client.acked >= ts for client in readers)

        async with self._changed:
            await self._changed.wait_for(done)

    async def drop_all(self) -> int:
        """Close every connection abruptly (a fault): clients see a lost connection."""
        dropped = list(self.clients)
        for client in dropped:
            with contextlib.suppress(Exception):
                await client.socket.close(code=_DROP_CODE)
            client.queue.put_nowait(None)
        self.clients = [client for client in self.clients if client not in dropped]
        await self._notify()
        return len(dropped)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()
