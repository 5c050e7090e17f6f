"""Serve the dashboard with uvicorn in the live runtime's own event loop.

Reads and kill-switch requests therefore run on the loop that trades: a request handler sees
the state between two awaits of the runtime, never halfway through a change. The access log is
off (a first visit may carry ``?token=`` in its URL). Signals are left to the runtime, which
stops the dashboard last, after the journal's final write.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import uvicorn

from quantstrata.core.errors import ConfigError, QuantstrataError
from quantstrata.live.dashboard.app import create_dashboard_app
from quantstrata.live.dashboard.config import DashboardConfig
from quantstrata.live.dashboard.controls import ControlQueue
from quantstrata.live.dashboard.view import RuntimeView

__all__ = ["DashboardServer"]

_START_TIMEOUT = 20.0
_POLL = 0.01


class _Server(uvicorn.Server):
    """Uvicorn without its signal handlers: SIGINT/SIGTERM belong to the live runtime."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class DashboardServer:
    """The dashboard of one live run, listening on ``config.host:config.port``."""

    def __init__(self, view: RuntimeView, controls: ControlQueue, config: DashboardConfig) -> None:
        """Build the app; nothing listens until :meth:`start`."""
        self.config = config
        self.closing = asyncio.Event()
        self.app = create_dashboard_app(view, controls, config, self.closing)
        self._server = _Server(
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
        """Bind the socket (a :class:`ConfigError` if taken), then serve in the running loop."""
        listener = self._bind()
        self.port = int(listener.getsockname()[1])
        task = asyncio.create_task(self._server.serve([listener]), name="dashboard-server")
        self._task = task
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _START_TIMEOUT
        while not self._server.started:
            if task.done() or loop.time() > deadline:
                self._task = None
                self._server.should_exit = True
                listener.close()
                raise QuantstrataError("the dashboard did not start listening")
            await asyncio.sleep(_POLL)

    def _bind(self) -> socket.socket:
        host, port = self.config.host, self.config.port
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((host, port))
        except OSError as error:
            listener.close()
            raise ConfigError(
                f"the dashboard cannot listen on {host}:{port}: {error.strerror}"
            ) from None
        listener.set_inheritable(True)
        return listener

    async def stop(self) -> None:
        """End the event streams, then stop serving; safe to call twice."""
        self.closing.set()
        self._server.should_exit = True
        if self._task is not None:
            await self._task
            self._task = None
