"""The connection to TWS / IB Gateway: its settings, its state, and keeping it up.

IB's API is one TCP socket to a TWS or Gateway process, which in turn keeps a link to IB's
servers. Both fail in daily life: the Gateway restarts every night (the socket drops and
connections are refused for a while) and the link to IB can be lost while the socket stays
up (message 1100, then 1101 or 1102 when it is back). :class:`IBLink` keeps the state of both
(:class:`LinkState`) and reconnects the socket with the shared
:class:`~quantstrata.data.sources.backoff.Backoff` (full jitter, reset by a connection that
stayed up); the broker re-synchronises after each (re)connection before it trades again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from types import ModuleType

from quantstrata.core._extras import require
from quantstrata.core.errors import ConfigError
from quantstrata.data.sources.backoff import Backoff, Delay
from quantstrata.data.stream.resilience import Reconnect, keep_connected
from quantstrata.live.broker import BrokerUnavailableError

__all__ = ["IBConfig", "IBLink", "LinkState", "sdk"]

_log = logging.getLogger("quantstrata.live.ib")
PAPER_PORTS = (7497, 4002)
"""The ports TWS (7497) and IB Gateway (4002) listen on for a paper account by default."""


def sdk() -> ModuleType:
    """Return ``ib_async`` (the ``ib`` extra), imported on first use."""
    return require("ib_async", "the Interactive Brokers connector")


@dataclass(frozen=True, slots=True)
class IBConfig:
    """Where TWS / IB Gateway listens and how this client talks to it.

    ``paper`` says which account kind is meant: the broker refuses to trade when the account
    TWS reports is not of that kind (IB's paper accounts start with ``D``), so a live account
    is never traded by mistake. ``client_id`` must be unique among the clients of one TWS.
    """

    host: str = "127.0.0.1"
    port: int = 4002
    client_id: int = 1
    paper: bool = True
    account: str = ""
    exchange: str = "SMART"
    currency: str = "USD"
    timeout_seconds: float = 10.0
    backoff_base_seconds: float = 1.0
    reconnect_cap_seconds: float = 60.0

    def __post_init__(self) -> None:
        """Refuse settings TWS would refuse, naming the field."""
        if not 0 < self.port < 65536:
            raise ConfigError(f"IBConfig.port must be 1..65535, got {self.port}")
        if self.client_id < 0:
            raise ConfigError(f"IBConfig.client_id must be >= 0, got {self.client_id}")
        if self.timeout_seconds <= 0:
            raise ConfigError(f"IBConfig.timeout_seconds must be > 0, got {self.timeout_seconds}")

    def kind_of(self, account: str) -> str:
        """Return ``paper`` or ``live`` for an IB account number."""
        return "paper" if account.upper().startswith("D") else "live"


class LinkState(StrEnum):
    """How far the connection reaches."""

    DOWN = "down"  # no socket to TWS / Gateway
    SYNCING = "syncing"  # socket up, re-reading orders, executions and positions
    UP = "up"  # trading
    LOST = "lost"  # socket up, TWS lost its link to IB (1100)


class IBLink:
    """Keep one ``ib_async.IB`` connected; run ``on_connected`` after every connection."""

    def __init__(
        self,
        config: IBConfig,
        ib: object,
        on_connected: Callable[[], Awaitable[None]],
        *,
        sleep: Callable[[float], Awaitable[None]],
        uniform: Callable[[float, float], float],
    ) -> None:
        """Nothing connects until :meth:`open`."""
        self.config = config
        self.ib = ib
        self.state = LinkState.DOWN
        self.reconnects = 0
        self.waits: list[float] = []
        self.history: list[LinkState] = []
        self.backoff = Backoff(
            base=config.backoff_base_seconds,
            cap=config.reconnect_cap_seconds,
            uniform=uniform,
            healthy_after=config.reconnect_cap_seconds,
        )
        self._on_connected = on_connected
        self._sleep = sleep
        self._dropped = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    def set(self, state: LinkState) -> None:
        """Move to ``state`` (logged and kept in :attr:`history` when it changes)."""
        if state is not self.state:
            level = logging.WARNING if state in (LinkState.DOWN, LinkState.LOST) else logging.INFO
            _log.log(level, "IB link %s -> %s", self.state.value, state.value)
            self.state = state
            self.history.append(state)

    async def open(self) -> None:
        """Connect once (raise :class:`BrokerUnavailableError`), then keep connected."""
        self._closing = False
        await self._connect()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._keep(), name="ib-link")

    async def close(self) -> None:
        """Stop reconnecting and disconnect; safe to call twice."""
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, BrokerUnavailableError):
                await self._task
            self._task = None
        self.ib.disconnect()  # type: ignore[attr-defined]
        self.set(LinkState.DOWN)

    def dropped(self) -> None:
        """Note that the socket closed (``ib_async``'s ``disconnectedEvent``)."""
        if not self._closing:
            self.set(LinkState.DOWN)
            self._dropped.set()

    async def _connect(self) -> None:
        config = self.config
        self._dropped.clear()
        try:
            await self.ib.connectAsync(  # type: ignore[attr-defined]
                config.host,
                config.port,
                clientId=config.client_id,
                timeout=config.timeout_seconds,
                account=config.account,
            )
        except (OSError, TimeoutError, ConnectionError) as error:
            self.set(LinkState.DOWN)
            raise BrokerUnavailableError(
                f"IB: no API connection to {config.host}:{config.port} "
                f"(client id {config.client_id}): {type(error).__name__}"
            ) from None
        self.backoff.connected_at(asyncio.get_running_loop().time())
        self.set(LinkState.SYNCING)
        await self._on_connected()
        self.set(LinkState.UP)

    async def _keep(self) -> None:
        """Reconnect after every drop, waiting what the backoff says, until closed."""
        loop = asyncio.get_running_loop()
        first = True

        async def attempt() -> Reconnect:
            nonlocal first
            if not first:
                await self._connect()
                self.reconnects += 1
            first = False
            await self._dropped.wait()
            return Reconnect("TWS / IB Gateway closed the connection")

        await keep_connected(
            attempt,
            self.backoff,
            classify=lambda error: (
                Reconnect(str(error)) if isinstance(error, BrokerUnavailableError) else None
            ),
            sleep=self._sleep,
            now=loop.time,
            stopped=lambda: self._closing,
            on_retry=self._retrying,
        )

    def _retrying(self, reason: Reconnect, delay: Delay) -> None:
        self.waits.append(delay.seconds)
        _log.warning("IB: %s; reconnecting in %.1f s", reason.reason, delay.seconds)
