"""The crash test on IB: ``quantstrata live --venue ib`` killed with SIGKILL and restarted.

The fake TWS runs in the test process and replays daily SPX bars; the live command runs as its
own process, connected with ``ib_async`` over TCP, and trades a fast SMA crossover. The test
publishes the bars in lockstep with the process's journal: the next bar only once the journal
records the last one handled. A random number of bars into each life it kills the process with
SIGKILL, then restarts it on the same journal, until the replay ends and a last life stops on
SIGINT. Every other kill strikes at a random moment of a bar's handling; the others while an
order is unanswered (the fake took the order, the process's connection never hears of it).
Afterwards: every client order id (``orderRef``) reached the fake once (an unanswered order is
found by its orderRef after the restart, never sent again), the position never exceeds what
one all-in target buys, no fill was lost or booked twice (the journal holds exactly the fake's
executions by execution id), and the positions equal the fake's.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections import Counter
from functools import partial
from pathlib import Path

import pytest

from quantstrata.model.orders import Fill, OrderSide
from tests.kit.bars import sample_bars
from tests.kit.crash import (
    CrashVenue,
    JournalWatch,
    assert_never_beyond_all_in,
    crash_kills,
    fold_twice,
    kill_after_send,
    spawn_live,
    trade_with_kills,
)
from tests.kit.fake_tws import FakeTws
from tests.kit.ib_runs import broker_for
from tests.kit.live_checks import assert_consistent_with_venue

KILLS = crash_kills()
LIFE = 8  # the most bars a life handles before the one it is killed in
WARM_UP = 10  # bar times out before the first life (the strategy's warm-up history)
BARS = WARM_UP + (LIFE // 2 + 6) * KILLS
STRATEGY = "quantstrata.strategy.examples:SmaCrossover"


def _spawn(tws: FakeTws, journal: Path, log: Path) -> subprocess.Popen[bytes]:
    arguments = [
        STRATEGY, "--venue", "ib", "--symbol", "SPX", "--interval", "1d",
        "--ib-port", str(tws.port), "--ib-client-id", "1",
        "--journal", str(journal), "--run-id", "crash",
        "--param", "fast=2", "--param", "slow=5", "--param", "allow_short=false",
        # the fake replays 2012 bars: every one is "late" by the wall clock
        "--max-bar-delay", "off",
    ]  # fmt: skip
    return spawn_live(arguments, {}, log)


async def _venue_fills(tws: FakeTws) -> list[Fill]:
    """Return the fake's executions as an IB client reads them (execution ids included)."""
    checker = broker_for(tws, client_id=40)
    await checker.connect()
    try:
        return await checker.fills()
    finally:
        await checker.close()


def _references(tws: FakeTws) -> Counter[str]:
    """How many ``PLACE_ORDER`` requests the fake received per orderRef."""
    return Counter(fields[26] for fields in tws.placed())


def _kill_in_flight(tws: FakeTws, process: subprocess.Popen[bytes], watch: JournalWatch) -> None:
    """Kill the process while an order is unanswered (its connection never hears of it)."""
    tws.stall_next_place = 1
    kill_after_send(tws.publish_next_bar, lambda: len(tws.placed()), process, watch)
    tws.stall_next_place = 0


def _venue(tws: FakeTws, journal: Path, log: Path) -> CrashVenue:
    return CrashVenue(
        spawn=partial(_spawn, tws, journal, log),
        publish=tws.publish_next_bar,
        subscribed=lambda: tws.bar_subscribers() > 0,
        kill_in_flight=partial(_kill_in_flight, tws),
        settle=lambda: tws.wait_for(lambda: not tws.sessions),  # the killed life's sockets gone
    )


@pytest.mark.slow
def test_killed_and_restarted_ib_process_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    journal, log = tmp_path / "journal.sqlite", tmp_path / "live.log"
    with FakeTws(sample_bars(("SPX_1d",), BARS), published=WARM_UP) as tws:
        venue = _venue(tws, journal, log)
        kills = trade_with_kills(venue, journal, log, kills=KILLS, life=LIFE, bars=BARS)
        assert tws.finished
        fills = asyncio.run(_venue_fills(tws))
        book = sorted(tws.book.fills, key=lambda fill: fill.ts)
        orders, positions = tws.order_records(), tws.positions()
        references = _references(tws)
        cash = tws.book.config.cash
    state = fold_twice(journal)
    assert_consistent_with_venue(state, fills, positions, orders)
    # each client order id went out once: an unanswered order is found by its orderRef after
    # the restart, never sent again
    assert {ref: count for ref, count in references.items() if count > 1} == {}
    signed = [
        (
            fill.quantity if fill.side is OrderSide.BUY else -fill.quantity,
            fill.price,
            fill.commission,
        )
        for fill in book
    ]
    assert_never_beyond_all_in(signed, cash)
    assert kills == KILLS
    assert len(tws.stalled) == KILLS // 2  # the kills in flight: the fake had those orders
    assert len(fills) >= KILLS // 2
