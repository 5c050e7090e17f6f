"""The runtime's side of a feed: restart it after a stop, and judge whether bars come in time.

:meth:`FeedSupervisor.bars` runs the feed's bars and, when the iteration raises (a fatal stop
of the stream: a refused key, an ended connection task, an error the feed could not retry),
alerts, marks the feed down, waits the shared jittered
:class:`~quantstrata.data.sources.backoff.Backoff` and starts the feed again after the last
bar time the runtime handled, so the feed backfills what it missed. A bad setup
(:class:`~quantstrata.core.errors.ConfigError`) is raised: retrying cannot mend it. The feed
ending normally ends the run.

:meth:`FeedSupervisor.on_time` is the lateness rule: a bar time of a realtime feed handled
more than ``LiveConfig.max_bar_delay`` after its close is too late to trade on. The feed's
own lateness alarm (``on_lag``) and late bars make the feed's health degraded; a bar on time
makes it ok again. :meth:`FeedSupervisor.retry_in_time` retries an action of a bar time (placing
an order whose submit met no venue) while that bar time may still be traded.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime

from quantstrata.core.clock import Clock
from quantstrata.core.errors import ConfigError
from quantstrata.core.logging import get_logger
from quantstrata.data.sources.backoff import Backoff
from quantstrata.live.alerts import AlertLevel, AlertRouter
from quantstrata.live.config import LiveConfig
from quantstrata.live.feed import Feed
from quantstrata.live.health import HealthMonitor, HealthState
from quantstrata.model.bar import Bar
from quantstrata.model.interval import Interval

__all__ = ["FeedSupervisor"]

_LOG = get_logger("live.feed")


class FeedSupervisor:
    """Keep ``feed`` delivering for the runtime; count its restarts and the late bar times."""

    def __init__(
        self,
        feed: Feed,
        config: LiveConfig,
        clock: Clock,
        alerts: AlertRouter,
        health: HealthMonitor,
        *,
        uniform: Callable[[float, float], float] = random.uniform,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """Judge lateness by ``config.max_bar_delay`` on ``clock``; restart by its backoff."""
        self.feed = feed
        self.interval = Interval.parse(config.interval)
        self.limit = config.bar_delay_limit() if feed.realtime else None
        self.clock = clock
        self.alerts = alerts
        self.health = health
        self.backoff = Backoff(
            base=config.feed_restart_base,
            cap=config.feed_restart_cap,
            uniform=uniform,
            healthy_after=config.feed_restart_cap,
        )
        self.restarts = 0
        self.late_bars = 0
        self._sleep = sleep
        self._uniform = uniform
        self._down = False
        self._pending: set[asyncio.Task[object]] = set()

    async def bars(
        self, symbols: Sequence[str], resume_after: Callable[[], datetime | None]
    ) -> AsyncIterator[Bar]:
        """Yield the feed's bars; after a stop, start it again after ``resume_after()``."""
        loop = asyncio.get_running_loop()
        while True:
            stream = self.feed.bars(
                symbols, self.interval, after=resume_after(), on_lag=self._behind
            )
            try:
                async for bar in stream:
                    if self._down:
                        self._down = False
                        self.backoff.connected_at(loop.time())
                        _LOG.info("%s feed restarted", self.feed.name)
                    yield bar
            except ConfigError:
                raise
            except Exception as error:  # noqa: BLE001 - a stopped feed is restarted, not fatal
                reason = f"{type(error).__name__}: {error}"
            else:
                return
            finally:
                close = getattr(stream, "aclose", None)
                if close is not None:
                    await close()
            delay = self.backoff.failed(loop.time()).seconds
            await self._stopped(reason, delay)
            await self._sleep(delay)
            self.restarts += 1

    async def on_time(self, ts: datetime) -> bool:
        """Whether the bars opening at ``ts`` came in time to trade; alert and count if not."""
        if self.limit is None:
            return True
        delay = self.clock.now() - (ts + self.interval.duration)
        limit = self.limit.total_seconds()
        if self.in_time(ts):
            if self.health.feed_status(HealthState.OK, f"bars on time (bound {limit:g} s)"):
                await self.health.check()
            return True
        self.late_bars += 1
        detail = (
            f"the bars of {ts.isoformat()} came {delay.total_seconds():.0f} s after their close "
            f"(bound {limit:g} s): the strategy saw them, their orders were not sent"
        )
        if self.health.feed_status(HealthState.DEGRADED, detail):
            await self.health.check()
        await self.alerts.raise_alert(
            AlertLevel.WARNING, "bar too late to trade", detail, source=self.feed.name
        )
        return False

    def in_time(self, ts: datetime) -> bool:
        """Whether the bars opening at ``ts`` may still be traded now (no alert, no count)."""
        if self.limit is None:
            return True
        return self.clock.now() - (ts + self.interval.duration) <= self.limit

    async def retry_in_time(self, ts: datetime, attempt: Callable[[], Awaitable[bool]]) -> bool:
        """Retry ``attempt`` until it succeeds while the bars of ``ts`` may still be traded.

        Each try waits the restart backoff first (the venue that failed the first try needs
        time to come back); return whether a try succeeded before ``ts`` got too late. With a
        replayed feed (no lateness bound) it tries until it succeeds or the run is stopped.
        """
        backoff = Backoff(base=self.backoff.base, cap=self.backoff.cap, uniform=self._uniform)
        loop = asyncio.get_running_loop()
        while True:
            await self._sleep(backoff.failed(loop.time()).seconds)
            if not self.in_time(ts):
                return False
            if await attempt():
                return True

    def _behind(self, reason: str) -> None:
        """Take the feed's lateness alarm (from the feed's own task): degrade health, alert."""
        self.health.feed_status(HealthState.DEGRADED, f"{self.feed.name}: {reason}")
        alert = self.alerts.raise_alert(
            AlertLevel.WARNING, "feed behind the market", reason, source=self.feed.name
        )
        task: asyncio.Task[object] = asyncio.ensure_future(alert)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _stopped(self, reason: str, wait: float) -> None:
        self._down = True
        detail = f"{self.feed.name} stopped ({reason}); restarting in {wait:.1f} s"
        _LOG.error("%s", detail)
        if self.health.feed_status(HealthState.DOWN, detail):
            await self.health.check()
        await self.alerts.raise_alert(
            AlertLevel.CRITICAL, "feed stopped", detail, source=self.feed.name
        )
