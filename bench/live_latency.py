"""Bar-to-order latency of the live runtime: WebSocket bars received -> order request sent.

``python -m bench.live_latency [--bars 10000]`` replays seeded synthetic 1-minute bars through
the simulated venue in lockstep into ``Live`` running a fast event-style SMA crossover (many
orders; the signal style recomputes its targets on the kept window every bar), and
times, for every order, from the moment the venue feed yielded the bars of the decision's bar
time (the WebSocket message parsed) to the moment ``broker.submit`` is called (the request
leaves: the venue's own time is excluded). It prints p50, p99 and max for three set-ups:

- ``sqlite-full``: the default journal (SQLite WAL, ``synchronous=FULL``: fsync per append);
- ``sqlite-normal``: SQLite WAL with ``synchronous=NORMAL`` (durable across process crashes,
  not across power loss);
- ``postgresql``: the journal on the local PostgreSQL (``QUANTSTRATA_BENCH_DSN``).

The goal in the issue: p50 <= 300 us and p99 <= 2 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

DSN = os.environ.get("QUANTSTRATA_BENCH_DSN", "postgresql://postgres@127.0.0.1:5432/test")
GOAL_P50_US, GOAL_P99_US = 300.0, 2_000.0


async def _measure(bars: int, journal_kind: str, workdir: Path) -> list[float]:
    from quantstrata.core.secrets import Secret
    from quantstrata.data.synthetic import generate_bars
    from quantstrata.live import Live, LiveConfig
    from quantstrata.live.brokers import VenueBroker, VenueFeed
    from quantstrata.live.journal import Journal, PostgresJournal, SqliteJournal
    from quantstrata.model.bar import Bar
    from quantstrata.model.identifiers import ClientOrderId, VenueOrderId
    from quantstrata.model.interval import Interval
    from quantstrata.model.orders import OrderRequest
    from quantstrata.strategy.examples import EventSmaCrossover
    from quantstrata.venue import VenueConfig, VenueServer

    frame = generate_bars(bars=bars, interval="1m", seed=7)
    key = Secret(uuid.uuid4().hex)
    marks: list[int] = [0]
    latencies: list[float] = []

    class TimedFeed(VenueFeed):
        async def bars(self, symbols: Sequence[str], interval: Interval) -> AsyncIterator[Bar]:
            async for bar in super().bars(symbols, interval):
                marks[0] = time.perf_counter_ns()
                yield bar

    class TimedBroker(VenueBroker):
        async def submit(self, order_id: ClientOrderId, request: OrderRequest) -> VenueOrderId:
            latencies.append((time.perf_counter_ns() - marks[0]) / 1_000)
            return await super().submit(order_id, request)

    journal: Journal
    table = f"bench_latency_{uuid.uuid4().hex[:12]}"
    if journal_kind == "postgresql":
        journal = PostgresJournal(DSN, table=table)
    else:
        synchronous: Any = "FULL" if journal_kind == "sqlite-full" else "NORMAL"
        journal = SqliteJournal(workdir / f"{journal_kind}.sqlite", synchronous=synchronous)
    server = VenueServer(frame, VenueConfig(speed="lockstep"), key, interval="1m")
    await server.start()
    try:
        config = LiveConfig(
            symbols=tuple(frame["symbol"].unique()),
            interval="1m",
            warm_up=False,
            reconcile_interval=3_600,
            window=16,
        )
        strategy = EventSmaCrossover(fast=2, slow=5)
        feed, broker = TimedFeed(server.url, key), TimedBroker(server.url, key)
        await Live(strategy, feed, broker, config, journal=journal).run_async()
    finally:
        await server.stop()
        if journal_kind == "postgresql":
            _drop(table)
    return latencies


def _drop(table: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(DSN, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))


def _row(name: str, values: list[float]) -> list[str]:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    p50 = statistics.median(ordered)
    met = "yes" if p50 <= GOAL_P50_US and p99 <= GOAL_P99_US else "no"
    return [name, f"{len(values):,}", f"{p50:,.0f}", f"{p99:,.0f}", f"{ordered[-1]:,.0f}", met]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.live_latency")
    parser.add_argument("--bars", type=int, default=10_000)
    parser.add_argument(
        "--journal",
        action="append",
        choices=["sqlite-full", "sqlite-normal", "postgresql"],
        help="journal set-ups to measure (default: all three)",
    )
    options = parser.parse_args(argv)
    table = Table(title=f"bar-to-order latency over {options.bars:,} bars (microseconds)")
    for column in ("journal", "orders", "p50", "p99", "max", "goal p50<=300 p99<=2000"):
        table.add_column(column)
    with tempfile.TemporaryDirectory() as folder:
        for kind in options.journal or ["sqlite-full", "sqlite-normal", "postgresql"]:
            values = asyncio.run(_measure(options.bars, kind, Path(folder)))
            table.add_row(*_row(kind, values))
    Console().print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
