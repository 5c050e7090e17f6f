"""A live run with its dashboard, trading on the simulated venue, for browser and API tests.

:func:`live_dashboard` runs venue and runtime in a background thread with its own event loop
(Playwright's sync API and httpx's sync client drive them from the test's thread), so the test
looks at the page while the runtime trades. The strategy flips between long and flat every few
bars, so fills keep coming and reduce-only has something to reduce.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import polars as pl

from quantstrata.core.secrets import Secret
from quantstrata.live import Live, LiveConfig, LiveSummary
from quantstrata.live.dashboard import DashboardConfig
from quantstrata.strategy import EventStrategy
from quantstrata.strategy.context import StrategyContext
from quantstrata.strategy.event import BarSnapshot
from tests.kit.venue import HEADERS, broker, feed, running_venue, spx

ADMIN = "dash-admin-token-5e1c7a"
VIEWER = "dash-viewer-token-92bd04"
BARS_PER_SECOND = 50
_DAY = 86_400


class Flipper(EventStrategy):
    """Hold ``fraction`` of equity in every symbol for ``hold`` bars, then nothing for as long."""

    def __init__(self, hold: int = 3, fraction: float = 0.5) -> None:
        self.hold = hold
        self.fraction = fraction
        self.seen = 0

    def warmup_bars(self) -> int:
        return 0

    def on_bar(self, bars: BarSnapshot, context: StrategyContext) -> None:
        long = (self.seen // self.hold) % 2 == 0
        for symbol in bars:
            context.target(symbol, self.fraction if long else 0.0)
        self.seen += 1


@dataclass
class RunningDashboard:
    """The running pair: the dashboard's and the venue's addresses, and how to stop them."""

    url: str = ""
    venue_url: str = ""
    live: Live | None = None
    summary: LiveSummary | None = None
    error: BaseException | None = None
    loop: asyncio.AbstractEventLoop | None = None
    stop_event: asyncio.Event | None = None
    ready: threading.Event = field(default_factory=threading.Event)

    def venue(self, path: str, **params: Any) -> Any:
        """Return the JSON of ``GET path`` on the venue (what really reached it)."""
        answer = httpx.get(self.venue_url + path, headers=HEADERS, params=params, timeout=10)
        answer.raise_for_status()
        return answer.json()

    def venue_orders(self) -> list[dict[str, Any]]:
        """Every order the venue received, oldest first."""
        return list(self.venue("/v1/orders", status="all"))

    def snapshot(self, token: str = ADMIN) -> dict[str, Any]:
        """Return the dashboard's JSON snapshot."""
        answer = httpx.get(
            self.url + "api/snapshot", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        answer.raise_for_status()
        return dict(answer.json())

    def stop(self) -> None:
        """Ask the runtime to stop (thread-safe)."""
        if self.loop is not None and self.stop_event is not None:
            self.loop.call_soon_threadsafe(self.stop_event.set)


@contextmanager
def live_dashboard(
    tmp_path: Path,
    *,
    bars: pl.DataFrame | None = None,
    bars_per_second: float = BARS_PER_SECOND,
    strategy: EventStrategy | None = None,
    **dashboard: Any,
) -> Iterator[RunningDashboard]:
    """Trade ``strategy`` (a :class:`Flipper`) on a venue replaying at ``bars_per_second``."""
    running = RunningDashboard()
    chosen = strategy if strategy is not None else Flipper()
    frame = bars if bars is not None else spx(3_000)

    async def main() -> None:
        speed = str(_DAY * bars_per_second)
        async with running_venue(frame, speed=speed) as server:
            settings = {
                "admin_token": Secret(ADMIN),
                "viewer_token": Secret(VIEWER),
                "push_interval": 0.1,
                **dashboard,
            }
            config = LiveConfig(
                symbols=("SPX",),
                journal=str(tmp_path / "journal.sqlite"),
                warm_up=False,
                reconcile_interval=3_600,
                dashboard=DashboardConfig(**settings),
            )
            live = Live(chosen, feed(server), broker(server), config)
            running.live, running.venue_url = live, server.url
            running.loop, running.stop_event = asyncio.get_running_loop(), asyncio.Event()
            task = asyncio.create_task(live.run_async(running.stop_event))
            while live.dashboard is not None and not live.dashboard.port and not task.done():
                await asyncio.sleep(0.01)
            if live.dashboard is not None:
                running.url = live.dashboard.url
            running.ready.set()
            running.summary = await task

    def thread_main() -> None:
        try:
            asyncio.run(main())
        except BaseException as error:  # noqa: BLE001 - handed to the test's thread
            running.error = error
        finally:
            running.ready.set()

    thread = threading.Thread(target=thread_main, name="live-dashboard", daemon=True)
    thread.start()
    running.ready.wait(30)
    try:
        if running.error is not None:
            raise running.error
        yield running
    finally:
        running.stop()
        thread.join(30)
    if running.error is not None:
        raise running.error
