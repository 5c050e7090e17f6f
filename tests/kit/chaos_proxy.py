"""A TCP proxy in front of a WebSocket server that breaks what a real network path breaks.

It runs inside the event loop of the server it fronts (the fake TickDB's background thread) and
forwards bytes both ways. Faults queued with :meth:`ChaosProxy.inject` hit the *next* connection
before the server's HTTP 101 answer, as a load balancer with no healthy backend would:

- ``drop_before_handshake``: read the upgrade request, then close the socket without a word;
- ``garbage_handshake``: answer bytes that are not HTTP;
- ``status_503``: answer ``HTTP/1.1 503 Service Unavailable``;
- ``status_401`` (:data:`REFUSAL_FAULTS`, not retried): answer ``HTTP/1.1 401 Unauthorized``,
  as a gateway that refuses the key before the 101 would.

:meth:`ChaosProxy.throttle` slows the server-to-client direction of the connections open now to
a number of bytes per second (a congested link: pings still get answered, late).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque

__all__ = ["LINK_FAULTS", "PROXY_FAULTS", "REFUSAL_FAULTS", "ChaosProxy"]

PROXY_FAULTS = ("drop_before_handshake", "garbage_handshake", "status_503")
REFUSAL_FAULTS = ("status_401",)
"""Faults that stop a client (a refused key); kept out of :data:`PROXY_FAULTS`, all retried."""
LINK_FAULTS = ("throttle",)
"""Faults of the open links rather than of the next connection."""

_ANSWERS = {
    "garbage_handshake": b"\x00\xff SPEAK FRIEND AND ENTER \xfe\r\n\r\n",
    "status_503": (
        b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    ),
    "status_401": (b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
}
_CHUNK = 65_536


class ChaosProxy:
    """Forward ``127.0.0.1:port`` to ``127.0.0.1:target_port``; start with :meth:`start`."""

    def __init__(self, target_port: int) -> None:
        """Remember the target; nothing listens until :meth:`start` runs in the server's loop."""
        self.target_port = target_port
        self.port = 0
        self.pending: deque[str] = deque()
        self.applied: list[str] = []
        self.throttled: list[float] = []
        self._links: dict[asyncio.StreamWriter, list[float | None]] = {}
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        """Listen on a free port of 127.0.0.1 and return it."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        """Stop listening and cut every open link."""
        if self._server is not None:
            self._server.close()
        for writer in list(self._links):
            writer.transport.abort()

    def inject(self, *faults: str) -> None:
        """Queue faults of :data:`PROXY_FAULTS` or :data:`REFUSAL_FAULTS` for the next
        connections, one each."""
        known = (*PROXY_FAULTS, *REFUSAL_FAULTS)
        for fault in faults:
            if fault not in known:
                raise ValueError(f"unknown proxy fault {fault!r}; known: {known}")
            self.pending.append(fault)

    def throttle(self, bytes_per_second: float = 3_000.0) -> None:
        """Slow the server-to-client direction of every link open now."""
        self.throttled.append(bytes_per_second)
        for rate in self._links.values():
            rate[0] = bytes_per_second

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.pending:
            await self._break(self.pending.popleft(), reader, writer)
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                "127.0.0.1", self.target_port
            )
        except OSError:
            writer.transport.abort()
            return
        rate: list[float | None] = [None]
        self._links[writer] = rate
        try:
            await asyncio.gather(
                _pump(reader, upstream_writer, [None]),
                _pump(upstream_reader, writer, rate),
            )
        finally:
            self._links.pop(writer, None)

    async def _break(
        self, fault: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.applied.append(fault)
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            await reader.readuntil(b"\r\n\r\n")
            answer = _ANSWERS.get(fault)
            if answer is not None:
                writer.write(answer)
                await writer.drain()
        writer.close()


async def _pump(
    source: asyncio.StreamReader, sink: asyncio.StreamWriter, rate: list[float | None]
) -> None:
    """Copy ``source`` to ``sink`` until either end closes; ``rate[0]`` bytes/s when set.

    The source is read as fast as it sends (into a buffer here), so a throttled client never
    slows the server down: the backlog builds on the link, as on a congested path.
    """
    backlog = bytearray()
    arrived = asyncio.Event()
    ended = False

    async def read() -> None:
        nonlocal ended
        try:
            while data := await source.read(_CHUNK):
                backlog.extend(data)
                arrived.set()
        except OSError:
            pass
        ended = True
        arrived.set()

    reader = asyncio.create_task(read())
    try:
        while True:
            await arrived.wait()
            arrived.clear()
            while backlog:
                limit = rate[0]
                size = len(backlog) if limit is None else max(1, int(limit / 20))
                sink.write(bytes(backlog[:size]))
                del backlog[:size]
                await sink.drain()
                if limit is not None:
                    await asyncio.sleep(size / limit)
            if ended:
                break
    except (OSError, asyncio.CancelledError):
        pass
    finally:
        reader.cancel()
        sink.transport.abort()
