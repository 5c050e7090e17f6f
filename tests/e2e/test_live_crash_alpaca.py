"""The crash test on Alpaca: ``quantstrata live --venue alpaca`` killed with SIGKILL and restarted.

The fake Alpaca (REST and both streams) runs in the test process and replays daily SPX bars;
the live command runs as its own process with the keys in its environment and trades a fast SMA
crossover. The test publishes the bars in lockstep with the process's journal: the next bar
only once the journal records the last one handled. A random number of bars into each life it
kills the process with SIGKILL, then restarts it on the same journal, until the replay ends and
a last life stops on SIGINT. Every other kill strikes at a random moment of a bar's handling;
the others while an order's create is unanswered (the fake accepted the order and holds the
answer back), the moment an order's fate is unknown to the client. Afterwards: every client
order id went out once, as the request the journal holds under it (an unknown create is found
by its id, never sent again), no order reached the fake twice (the position never exceeds what
one all-in target buys), no fill was lost (the journal holds exactly the fake's fills by trade
id), and the positions equal the fake's.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections import defaultdict
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from quantstrata.live.brokers._alpaca_mapping import order_body
from quantstrata.live.brokers.alpaca import AlpacaBroker
from quantstrata.model.orders import Fill, OrderSide
from tests.integration.live.alpaca_runs import alpaca_config, credentials
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
from tests.kit.fake_alpaca import FakeAlpaca
from tests.kit.live_checks import assert_consistent_with_venue

KILLS = crash_kills()
LIFE = 8  # the most bars a life handles before the one it is killed in
WARM_UP = 10  # bar times out before the first life (the strategy's warm-up history)
BARS = WARM_UP + (LIFE // 2 + 6) * KILLS
STALL = 2.0  # seconds the fake holds the answer to a create it accepted
STRATEGY = "quantstrata.strategy.examples:SmaCrossover"


def _spawn(fake: FakeAlpaca, journal: Path, log: Path) -> subprocess.Popen[bytes]:
    arguments = [
        STRATEGY, "--venue", "alpaca", "--symbol", "SPX", "--interval", "1d",
        "--alpaca-url", fake.url, "--alpaca-stream-url", fake.ws_url,
        "--alpaca-data-url", fake.data_url, "--alpaca-data-stream-url", fake.data_ws_url,
        "--journal", str(journal), "--run-id", "crash",
        "--param", "fast=2", "--param", "slow=5", "--param", "allow_short=false",
        # the fake replays 2012 bars: every one is "late" by the wall clock
        "--max-bar-delay", "off",
    ]  # fmt: skip
    keys = {"APCA_API_KEY_ID": fake.key_id, "APCA_API_SECRET_KEY": fake.secret}
    return spawn_live(arguments, keys, log)


def _venue_fills(fake: FakeAlpaca) -> list[Fill]:
    """Return the fake's fills as the Alpaca client reads them (trade ids included)."""
    return asyncio.run(AlpacaBroker(alpaca_config(fake), credentials(fake)).fills())


def _order_bodies(fake: FakeAlpaca) -> dict[str, list[Any]]:
    """Return every ``POST /v2/orders`` body the fake received, by client order id."""
    sent: dict[str, list[Any]] = defaultdict(list)
    for request in fake.requests:
        if request.method == "POST" and request.path == "/v2/orders":
            sent[str(request.body.get("client_order_id"))].append(request.body)
    return sent


def _posts(fake: FakeAlpaca) -> int:
    return sum(r.method == "POST" and r.path == "/v2/orders" for r in list(fake.requests))


def _kill_in_flight(
    fake: FakeAlpaca, process: subprocess.Popen[bytes], watch: JournalWatch
) -> None:
    """Kill the process while an order's create is unanswered (the fake holds the answer).

    The fake has the order; the process never learns it did: the restart must find it by its
    client order id, not send it again.
    """
    fake.stall_creates(STALL)
    kill_after_send(fake.publish_next_bar, partial(_posts, fake), process, watch)


def _venue(fake: FakeAlpaca, journal: Path, log: Path) -> CrashVenue:
    return CrashVenue(
        spawn=partial(_spawn, fake, journal, log),
        publish=fake.publish_next_bar,
        subscribed=lambda: fake.streams.bar_subscribers("SPX") > 0,
        kill_in_flight=partial(_kill_in_flight, fake),
    )


def _wire(body: dict[str, Any]) -> dict[str, Any]:
    """Return ``body`` with its numbers as floats (alpaca-py sends ``qty`` as a number)."""
    return {key: _as_number(value) for key, value in body.items()}


def _as_number(value: Any) -> Any:
    try:
        return float(value) if isinstance(value, str | int | float) else value
    except ValueError:
        return value


@pytest.mark.slow
def test_killed_and_restarted_alpaca_process_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    journal, log = tmp_path / "journal.sqlite", tmp_path / "live.log"
    with FakeAlpaca(sample_bars(("SPX_1d",), BARS), published=WARM_UP) as fake:
        venue = _venue(fake, journal, log)
        kills = trade_with_kills(venue, journal, log, kills=KILLS, life=LIFE, bars=BARS)
        assert fake.finished
        fills = _venue_fills(fake)
        book = sorted(fake.account.book.fills, key=lambda fill: fill.ts)
        orders, positions, bodies = fake.orders(), fake.positions(), _order_bodies(fake)
        cash = fake.account.book.config.cash
    state = fold_twice(journal)
    assert_consistent_with_venue(state, fills, positions, orders)
    # each client order id went out once, as the request the journal holds under it: an
    # unanswered create is found by its id after the restart, never sent again
    assert {order_id: len(sent) for order_id, sent in bodies.items() if len(sent) > 1} == {}
    for order_id, order in state.orders.items():
        if str(order_id) in bodies:
            expected = _wire(order_body(order_id, order.request))
            assert [_wire(body) for body in bodies[str(order_id)]] == [expected], order_id
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
    assert len(fake.stalled) == KILLS // 2  # the kills in flight: the fake had those orders
    assert len(fills) >= KILLS // 2
