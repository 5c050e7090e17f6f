"""Run the venue's app under uvicorn: in the current event loop, or in a background thread.

:class:`VenueServer` binds ``config.host:config.port`` (``127.0.0.1`` and a free port by
default), exposes the bound :attr:`~VenueServer.url`, and stops cleanly. Uvicorn's access log
is off: request lines would be noise, and the key never appears in them anyway (it travels in a
header, never in a URL).
"""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType
from typing import Self

import polars as pl
import uvicorn

from quantstrata.core.errors import ConfigError, QuantstrataError
from quantstrata.core.secrets import Secret
from quantstrata.venue.app import create_venue_app
from quantstrata.venue.config import VenueConfig
from quantstrata.venue.engine import Venue

__all__ = ["VenueServer"]

_START_TIMEOUT = 20.0
_POLL = 0.01


class VenueServer:
    """Serve a :class:`~quantstrata.venue.engine.Venue` over HTTP and WebSocket."""

    def __init__(
        self, bars: pl.DataFrame, config: VenueConfig, key: Secret, *, interval: str = "1d"
    ) -> None:
        """Build the venue (restoring its state file) and the app; nothing listens yet."""
        if not isinstance(key, Secret):
            raise ConfigError("the venue's API key must be a quantstrata.core.secrets.Secret")
        self.config = config
        self.venue = Venue(bars, config, interval=interval)
        self.app = create_venue_app(self.venue, key)
        self._server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                host=config.host,
                port=config.port,
                log_level="warning",
                access_log=False,
                lifespan="on",
                ws="websockets-sansio",
            )
        )
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """The base URL clients use, e.g. ``http://127.0.0.1:53817``."""
        return f"http://{self.config.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """The stream's URL, e.g. ``ws://127.0.0.1:53817/v1/stream``."""
        return f"ws://{self.config.host}:{self.port}/v1/stream"

    async def start(self) -> None:
        """Start serving in the running event loop; return once the socket is bound."""
        self._task = asyncio.create_task(self._server.serve(), name="venue-server")
        waited = 0.0
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise QuantstrataError(f"the venue could not listen on {self.config.host}")
            await asyncio.sleep(_POLL)
            waited += _POLL
            if waited > _START_TIMEOUT:
                raise QuantstrataError("the venue did not start listening in time")
        self.port = self._bound_port()

    async def stop(self) -> None:
        """Stop serving and close the state file; safe to call twice."""
        self._server.should_exit = True
        if self._task is not None:
            await self._task
            self._task = None
        self.venue.close()

    async def serve_forever(self) -> None:
        """Serve until the process is interrupted."""
        if self._task is None:
            await self.start()
        if self._task is not None:
            await self._task
        self.venue.close()

    async def __aenter__(self) -> Self:
        """Start serving."""
        await self.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop serving."""
        await self.stop()

    def start_in_thread(self) -> None:
        """Serve from a background thread with its own event loop (for synchronous callers)."""
        ready = threading.Event()

        def run() -> None:
            async def main() -> None:
                await self.start()
                ready.set()
                if self._task is not None:
                    await self._task

            asyncio.run(main())

        self._thread = threading.Thread(target=run, name="venue-server", daemon=True)
        self._thread.start()
        if not ready.wait(_START_TIMEOUT):
            raise QuantstrataError("the venue did not start listening in time")

    def stop_thread(self) -> None:
        """Stop a server started with :meth:`start_in_thread` and close the state file."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(_START_TIMEOUT)
            self._thread = None
        self.venue.close()

    def _bound_port(self) -> int:
        for server in self._server.servers:
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        raise QuantstrataError("the venue is not listening on any socket")
