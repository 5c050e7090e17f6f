"""Serve the dashboard with uvicorn in the live runtime's own event loop.

Reads and kill-switch requests therefore run on the loop that trades: a request handler sees
the state between two awaits of the runtime, never halfway through a change. The access log is
off (a first visit may carry ``?token=`` in its URL).
"""

from __future__ import annotations

import asyncio

import uvicorn

from quantstrata.core.errors import QuantstrataError
from quantstrata.live.dashboard.app import create_app
from quantstrata.live.dashboard.config import DashboardConfig
from quantstrata.live.dashboard.controls import ControlQueue
from quantstrata.live.dashboard.view import RuntimeView

__all__ = ["DashboardServer"]

_START_TIMEOUT = 20.0
_POLL = 0.01


class DashboardServer:
    """The dashboard of one live run, listening on ``config.host:config.port``."""

    def __init__(self, view: RuntimeView, controls: ControlQueue, config: DashboardConfig) -> None:
        """Build the app; nothing listens until :meth:`start`."""
        self.config = config
        self.closing = asyncio.Event()
        self.app = create_app(view, controls, config, self.closing)
        self._server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                host=config.host,
                port=config.port,
                log_level="warning",
                access_log=False,
                lifespan="off",
                timeout_graceful_shutdown=2,
            )
        )
        self._task: asyncio.Task[None] | None = None
        self.port = 0

    def __repr__(self) -> str:
        """Show where it listens (never a token)."""
        return f"DashboardServer(url={self.url!r})"

    @property
    def url(self) -> str:
        """The page's address, e.g. ``http://127.0.0.1:53817/``."""
        return f"http://{self.config.host}:{self.port}/"

    async def start(self) -> None:
        """Start serving in the running event loop; return once the socket is bound."""
        self._task = asyncio.create_task(self._server.serve(), name="dashboard-server")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _START_TIMEOUT
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise QuantstrataError(f"the dashboard could not listen on {self.config.host}")
            if loop.time() > deadline:
                raise QuantstrataError("the dashboard did not start listening in time")
            await asyncio.sleep(_POLL)
        self.port = self._bound_port()

    async def stop(self) -> None:
        """End the event streams, then stop serving; safe to call twice."""
        self.closing.set()
        self._server.should_exit = True
        if self._task is not None:
            await self._task
            self._task = None

    def _bound_port(self) -> int:
        for server in self._server.servers:
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        raise QuantstrataError("the dashboard is not listening on any socket")
