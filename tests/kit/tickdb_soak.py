"""The chaos soak: stream many bars through random faults and count what was lost or repeated.

Every fault kind runs, those of the path before the server included (accept-then-drop and
garbage before the HTTP 101, a 503, a throttled link: the fake TickDB's chaos proxy). Used at
reduced size by the test suite (``tests/integration/data/test_tickdb_soak.py``) and at full size
(≥ 10,000 bars, ≥ 20 reconnects) by ``python -m bench.stream_soak``.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

import psutil

from tests.kit.tickdb_server import ALL_FAULTS, Chaos, FakeTickDB
from tests.kit.tickdb_stream import StreamRun, run_stream
from tests.kit.tickdb_tape import Tape

__all__ = ["SoakReport", "soak"]

TRADES_PER_BAR = 6


@dataclass(frozen=True)
class SoakReport:
    """Counts of one soak run."""

    bars: int
    expected: int
    lost: int
    duplicates: int
    wrong_values: int
    reconnects: int
    faults: int
    delays_outside_policy: int
    gaps: int
    malformed: int
    duplicate_trades: int
    max_open_connections: int
    rss_growth_bytes: int
    fatal_stops: int
    lag_reconnects: int
    fault_kinds: tuple[str, ...]

    def line(self) -> str:
        """Return the counts on one line."""
        return (
            f"bars={self.bars} expected={self.expected} lost={self.lost} "
            f"duplicates={self.duplicates} wrong={self.wrong_values} faults={self.faults} "
            f"reconnects={self.reconnects} gaps={self.gaps} malformed={self.malformed} "
            f"duplicate_trades={self.duplicate_trades} "
            f"delays_outside_policy={self.delays_outside_policy} "
            f"max_open={self.max_open_connections} rss_growth={self.rss_growth_bytes / 1e6:.1f}MB "
            f"fatal_stops={self.fatal_stops} lag_reconnects={self.lag_reconnects} "
            f"fault_kinds={','.join(self.fault_kinds)}"
        )


def soak(bars: int, *, symbols: int = 4, seconds: float = 10.0, every: float = 1.5) -> SoakReport:
    """Stream ``bars`` bars over ``symbols`` in about ``seconds``, a fault every ~``every`` s."""
    names = tuple(f"SYM{number}USDT" for number in range(symbols))
    per_symbol = -(-bars * 21 // (20 * symbols)) + 2  # 5 % spare: bars before the first connect
    total = per_symbol * TRADES_PER_BAR
    chaos = Chaos(every=(every * 0.5, every * 1.5), kinds=ALL_FAULTS, seed=11, retry_after=0.1)
    with FakeTickDB(
        tape=Tape(names),
        trades_per_second=total / seconds,
        total_trades=total,
        chaos=chaos,
        proxy=True,
    ) as server:
        run, growth = asyncio.run(_stream(server, list(names)))
        return _report(server, run, list(names), growth)


async def _stream(server: FakeTickDB, names: list[str]) -> tuple[StreamRun, int]:
    process = psutil.Process(os.getpid())
    samples: list[int] = []

    def done(run: StreamRun) -> bool:
        delivered = sum(len(found) for found in run.bars.values())
        if delivered > 0 and len(samples) < 10:
            samples.append(process.memory_info().rss)
        return server.finished.is_set() and run.stream.session.connected

    run = await run_stream(
        server,
        names,
        until=done,
        timeout=600,
        heartbeat_seconds=0.25,
        stale_after_seconds=0.75,
        healthy_after_seconds=0.5,
    )
    await asyncio.sleep(0)
    growth = process.memory_info().rss - (samples[-1] if samples else 0)
    return run, growth


def _report(server: FakeTickDB, run: StreamRun, names: list[str], growth: int) -> SoakReport:
    lost = duplicates = wrong = delivered = expected_total = 0
    for number, name in enumerate(names):
        found = run.bars.get(name, [])
        times = [bar[0] for bar in found]
        duplicates += len(times) - len(set(times))
        truth = server.truth(number)
        if not found:
            expected_total += len(truth)
            lost += len(truth)
            continue
        expected = {bar[0]: bar for bar in truth if times[0] <= bar[0] <= times[-1]}
        seen = {bar[0]: bar for bar in found}
        lost += len(expected.keys() - seen.keys())
        wrong += sum(1 for moment, bar in seen.items() if expected.get(moment) != bar)
        delivered += len(found)
        expected_total += len(expected)
    counters = run.stream.counters
    return SoakReport(
        bars=delivered,
        expected=expected_total,
        lost=lost,
        duplicates=duplicates,
        wrong_values=wrong,
        reconnects=counters.reconnects,
        faults=len(server.faults_applied),
        delays_outside_policy=counters.delays_outside_policy,
        gaps=counters.gaps,
        malformed=counters.malformed,
        duplicate_trades=counters.duplicates,
        max_open_connections=server.max_open,
        rss_growth_bytes=growth,
        fatal_stops=int(run.error is not None),
        lag_reconnects=counters.lag_reconnects,
        fault_kinds=tuple(sorted(set(server.faults_applied))),
    )
