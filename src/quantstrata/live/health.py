"""The health loop: judge whether data flows, the broker answers and the journal keeps up.

A connection can stay "alive" on pings while no data arrives for hours, so health is judged
from what actually happens: the time the last bar of each symbol arrived, the time of the last
successful broker call (and the last failure), and how far durable journal writes trail the
appended ones. :meth:`HealthMonitor.evaluate` turns those signals into a :class:`HealthReport`
(a pure function of the signals and the clock); :meth:`HealthMonitor.check` also raises an alert
whenever a component changes state, and :meth:`HealthMonitor.run` does that periodically.

The feed as a whole (the entry of :attr:`Component.FEED` without a symbol) is set by events
rather than judged from silence: behind the market (a bar too late to trade on, the stream's
lateness alarm) is degraded, stopped and restarting is down, a bar on time is ok again
(:meth:`HealthMonitor.feed_status`). Such a change wakes the health loop at once, and every
change is alerted in order, even one undone before the loop looked.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import Field

from quantstrata.core.clock import Clock
from quantstrata.core.config import FrozenConfig
from quantstrata.live.alerts import AlertLevel, AlertRouter

__all__ = [
    "Component",
    "ComponentHealth",
    "HealthConfig",
    "HealthMonitor",
    "HealthReport",
    "HealthState",
]


class HealthConfig(FrozenConfig):
    """Thresholds of the health loop, in seconds (journal lag in records)."""

    feed_stale_after: float = Field(default=300.0, gt=0)
    broker_stale_after: float = Field(default=60.0, gt=0)
    journal_lag_limit: int = Field(default=1_000, ge=0)
    check_interval: float = Field(default=5.0, gt=0)


class Component(StrEnum):
    """What the health loop watches."""

    FEED = "feed"
    BROKER = "broker"
    JOURNAL = "journal"


class HealthState(StrEnum):
    """How a component is doing."""

    OK = "ok"
    DEGRADED = "degraded"
    DOWN = "down"


@dataclass(frozen=True, slots=True)
class ComponentHealth:
    """The state of one component (and symbol, for the feed) with the reason."""

    component: Component
    state: HealthState
    detail: str
    symbol: str | None = None


@dataclass(frozen=True, slots=True)
class HealthReport:
    """Every component's state at ``ts``."""

    ts: datetime
    components: tuple[ComponentHealth, ...]

    @property
    def healthy(self) -> bool:
        """Whether every component is OK."""
        return all(item.state is HealthState.OK for item in self.components)

    def state_of(self, component: Component, symbol: str | None = None) -> HealthState:
        """Return the state of ``component`` (of ``symbol`` for the feed)."""
        for item in self.components:
            if item.component is component and item.symbol == symbol:
                return item.state
        raise KeyError(f"no health entry for {component.value} {symbol or ''}".strip())


class HealthMonitor:
    """Collect liveness signals and report, and alert on, changes of health."""

    def __init__(
        self, config: HealthConfig, clock: Clock, alerts: AlertRouter | None = None
    ) -> None:
        """Start with no signals: nothing is stale until something was expected."""
        self.config = config
        self.clock = clock
        self.alerts = alerts
        self._started = clock.now()
        self._last_bar: dict[str, datetime] = {}
        self._broker_ok: datetime | None = None
        self._broker_error: tuple[datetime, str] | None = None
        self._journal = (0, 0)
        self._states: dict[tuple[Component, str | None], HealthState] = {}
        self._feed_status = ComponentHealth(Component.FEED, HealthState.OK, "bars on time")
        self._feed_changes: list[tuple[HealthState, ComponentHealth]] = []
        self._wake = asyncio.Event()

    def watch_symbols(self, symbols: list[str]) -> None:
        """Expect bars for ``symbols`` from now on (stale if none arrive in time)."""
        now = self.clock.now()
        for symbol in symbols:
            self._last_bar.setdefault(symbol, now)

    def bar_received(self, symbol: str) -> None:
        """Note that a bar of ``symbol`` just arrived."""
        self._last_bar[symbol] = self.clock.now()

    def broker_succeeded(self) -> None:
        """Note a successful broker call."""
        self._broker_ok = self.clock.now()
        self._broker_error = None

    def broker_failed(self, reason: str) -> None:
        """Note a failed broker call and why (the reason must hold no secret)."""
        self._broker_error = (self.clock.now(), reason)

    def feed_status(self, state: HealthState, detail: str) -> bool:
        """Set the state of the feed as a whole (behind, stopped, on time); return if it changed.

        A change is alerted at the next :meth:`check`, which it brings forward.
        """
        previous = self._feed_status.state
        self._feed_status = ComponentHealth(Component.FEED, state, detail)
        if state is previous:
            return False
        self._feed_changes.append((previous, self._feed_status))
        self._wake.set()
        return True

    def journal_progress(self, appended: int, durable: int) -> None:
        """Note how many journal records were appended and how many are durable."""
        self._journal = (appended, durable)

    def evaluate(self) -> HealthReport:
        """Return the health of every component now."""
        now = self.clock.now()
        items = [self._feed_status]
        items += [self._feed(symbol, last, now) for symbol, last in sorted(self._last_bar.items())]
        items.append(self._broker(now))
        appended, durable = self._journal
        lag = appended - durable
        journal_state = HealthState.OK if lag <= self.config.journal_lag_limit else HealthState.DOWN
        items.append(
            ComponentHealth(Component.JOURNAL, journal_state, f"{lag} records not yet durable")
        )
        return HealthReport(now, tuple(items))

    def _feed(self, symbol: str, last: datetime, now: datetime) -> ComponentHealth:
        silent = now - last
        limit = timedelta(seconds=self.config.feed_stale_after)
        state = HealthState.OK if silent <= limit else HealthState.DOWN
        detail = f"last bar {silent.total_seconds():.0f} s ago (limit {limit.total_seconds():g} s)"
        return ComponentHealth(Component.FEED, state, detail, symbol)

    def _broker(self, now: datetime) -> ComponentHealth:
        limit = timedelta(seconds=self.config.broker_stale_after)
        if self._broker_error is not None:
            since, reason = self._broker_error
            state = HealthState.DOWN if now - since > limit else HealthState.DEGRADED
            return ComponentHealth(Component.BROKER, state, f"last call failed: {reason}")
        last = self._broker_ok if self._broker_ok is not None else self._started
        if now - last > limit:
            quiet = (now - last).total_seconds()
            return ComponentHealth(
                Component.BROKER, HealthState.DEGRADED, f"no broker answer for {quiet:.0f} s"
            )
        return ComponentHealth(Component.BROKER, HealthState.OK, "answering")

    async def check(self) -> HealthReport:
        """Evaluate health and alert on every component whose state changed."""
        report = self.evaluate()
        changes, self._feed_changes = self._feed_changes, []
        for item in report.components:
            key = (item.component, item.symbol)
            previous = self._states.get(key, HealthState.OK)
            self._states[key] = item.state
            if item is not self._feed_status and item.state is not previous:
                changes.append((previous, item))
        if self.alerts is None:
            return report
        for previous, item in changes:
            level = {
                HealthState.OK: AlertLevel.INFO,
                HealthState.DEGRADED: AlertLevel.WARNING,
                HealthState.DOWN: AlertLevel.CRITICAL,
            }[item.state]
            title = f"{item.component.value} {previous.value} -> {item.state.value}"
            await self.alerts.raise_alert(
                level, title, item.detail, source="health", symbol=item.symbol
            )
        return report

    async def run(self, stop: asyncio.Event) -> None:
        """Check every ``check_interval`` seconds, and at once on a feed change, until ``stop``."""
        while not stop.is_set():
            self._wake.clear()
            await self.check()
            waits = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())}
            try:
                await asyncio.wait(
                    waits, timeout=self.config.check_interval, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                for waiting in waits:
                    waiting.cancel()
