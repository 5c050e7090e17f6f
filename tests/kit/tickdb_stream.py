"""Run the real stream client against a :class:`~tests.kit.tickdb_server.FakeTickDB`.

:func:`fast_config` shrinks every timer so fault handling shows within a second;
:func:`run_stream` collects the bars per symbol until a condition holds, then closes cleanly.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from quantstrata.core.secrets import Secret
from quantstrata.data.sources import AsyncTickDBClient, TickDBConfig
from quantstrata.data.sources.config import HttpConfig, RetryPolicy
from quantstrata.data.stream import BuiltBar, StreamConfig, TickDBStream
from tests.kit.tickdb_server import FakeTickDB

__all__ = ["StreamRun", "check_bars", "fast_config", "rest_config", "run_stream"]


def fast_config(server: FakeTickDB, **overrides: Any) -> StreamConfig:
    """Return a stream configuration with short timers pointed at ``server``."""
    values: dict[str, Any] = {
        "url": server.ws_url,
        "heartbeat_seconds": 0.2,
        "stale_after_seconds": 1.0,
        "healthy_after_seconds": 1.0,
        "backoff_base_seconds": 0.02,
        "backoff_cap_seconds": 0.3,
        "rate_limit_wait_seconds": 0.05,
        "connection_limit_wait_seconds": 0.05,
        "late_tolerance_ms": 2 * server.tape.step_ms,
        "protocol_ping_seconds": 1.0,
        "close_timeout_seconds": 0.2,
        # Market time runs fast on the tape: two wall seconds' worth of it.
        "max_lag_seconds": max(
            1.0, 2.0 * server.trades_per_second * server.tape.step_ms / 1000 / server.batch
        ),
    }
    values.update(overrides)
    return StreamConfig(**values)


def rest_config(server: FakeTickDB) -> TickDBConfig:
    """Return a REST configuration pointed at ``server``: generous rate limit, quick retries."""
    retry = RetryPolicy(base_seconds=0.01, cap_seconds=0.1)
    return TickDBConfig(
        base_url=server.url, requests_per_minute=600_000, http=HttpConfig(retry=retry)
    )


@dataclass
class StreamRun:
    """What one run produced."""

    stream: TickDBStream
    bars: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    error: BaseException | None = None
    alerts: list[str] = field(default_factory=list)

    def take(self, bar: BuiltBar) -> None:
        """Record one delivered bar under its symbol."""
        self.bars.setdefault(bar.symbol, []).append(
            (bar.ts_ms, bar.open, bar.high, bar.low, bar.close, bar.volume)
        )

    @property
    def count(self) -> int:
        """Return how many bars the consumer has taken so far, over every symbol."""
        return sum(len(bars) for bars in self.bars.values())


async def run_stream(
    server: FakeTickDB,
    symbols: list[str],
    *,
    until: Callable[[StreamRun], bool],
    timeout: float = 20.0,
    consumer_delay: float | Callable[[int], float] = 0.0,
    key: str | None = None,
    resume_after: datetime | None = None,
    **overrides: Any,
) -> StreamRun:
    """Stream from ``server`` until ``until(run)`` holds (or ``timeout``), then close.

    ``consumer_delay`` is the consumer's pause after each bar, or a function of the bars taken
    so far that returns it (a consumer that is slow for a while, then catches up).
    """
    rest = AsyncTickDBClient(Secret(server.api_key), config=rest_config(server))
    alerts: list[str] = []
    stream = TickDBStream(
        Secret(key or server.api_key),
        symbols,
        "1m",
        rest.klines,
        config=fast_config(server, **overrides),
        on_alert=alerts.append,
        clock=server.clock(),
        resume_after=resume_after,
    )
    run = StreamRun(stream, alerts=alerts)

    async def consume() -> None:
        try:
            async for bar in stream.bars():
                run.take(bar)
                delay = consumer_delay(run.count) if callable(consumer_delay) else consumer_delay
                if delay:
                    await asyncio.sleep(delay)
        except Exception as error:  # noqa: BLE001 - handed to the test
            run.error = error

    task = asyncio.create_task(consume())
    deadline = time.monotonic() + timeout
    while not until(run) and time.monotonic() < deadline and not task.done():
        await asyncio.sleep(0.02)
    await stream.close()
    await task
    await rest.close()
    return run


def check_bars(server: FakeTickDB, run: StreamRun, symbols: list[str]) -> dict[str, int]:
    """Assert each symbol's bars equal the tape's, contiguous from the first delivered one.

    Returns the bar count per symbol. Zero lost (no hole) and zero duplicates follow from the
    equality with the tape's closed bars over the delivered range.
    """
    counts = {}
    for symbol in symbols:
        bars = run.bars.get(symbol, [])
        assert bars, f"no bars for {symbol}"
        times = [bar[0] for bar in bars]
        assert len(times) == len(set(times)), f"duplicates for {symbol}"
        truth = server.truth(server.tape.symbols.index(symbol))
        expected = [bar for bar in truth if times[0] <= bar[0] <= times[-1]]
        difference = _first_difference(bars, expected)
        assert bars == expected, f"{symbol}: bars differ from the tape: {difference}"
        counts[symbol] = len(bars)
    return counts


def _first_difference(got: list[tuple], expected: list[tuple]) -> str:
    """Describe where ``got`` first departs from ``expected`` (for the failure message)."""
    for index, (ours, theirs) in enumerate(zip(got, expected, strict=False)):
        if ours != theirs:
            return f"bar {index}: got {ours}, the tape has {theirs}"
    return f"got {len(got)} bars, the tape has {len(expected)} over the same range"
