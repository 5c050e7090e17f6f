"""The crash test: the live process is killed with SIGKILL at random points and restarted.

A real venue (lockstep replay, state on disk) serves a fast SMA crossover; ``quantstrata live
--venue sim`` runs as a separate process, is killed with SIGKILL while it trades and restarted
with the same journal and run id, over and over, until the replay ends. Afterwards: no
duplicate order at the venue (no decision was sent twice: the position never exceeds what one
all-in target buys; no client order id was used for two different requests), no fill lost (the
journal holds exactly the venue's trade ids), positions equal the venue's, and folding the
journal twice gives the same state.

The second variant plays a power loss at every kill: the journal (at its default
``"process"`` durability) also loses a random part of the order-flow tail it had not flushed.
The same checks hold: client order ids come from flushed reservations and reconciliation adopts
what the lost tail held.
"""

from __future__ import annotations

import dataclasses
import random
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from quantstrata.data import load_sample
from quantstrata.execution import CommissionConfig
from quantstrata.model.codec import request_from_json
from tests.kit.crash import (
    assert_never_beyond_all_in,
    crash_kills,
    fold_twice,
    kill,
    spawn_live,
    wait_for_progress,
)
from tests.kit.live_checks import lose_unflushed_tail
from tests.kit.venue import HEADERS, KEY_TEXT, venue_in_thread

KILLS = crash_kills()
BARS = 60 * KILLS
STRATEGY = "quantstrata.strategy.examples:SmaCrossover"


def _spawn(url: str, journal: Path, log: Path) -> subprocess.Popen[bytes]:
    arguments = [
        STRATEGY, "--venue", "sim", "--venue-url", url, "--symbol", "SPX",
        "--journal", str(journal), "--run-id", "crash",
        "--param", "fast=2", "--param", "slow=5", "--param", "allow_short=false",
    ]  # fmt: skip
    return spawn_live(arguments, {"QUANTSTRATA_VENUE_KEY": KEY_TEXT}, log)


def _position(client: httpx.Client) -> int:
    return int(client.get("/v1/status").json()["bars_published"])


@pytest.mark.slow
@pytest.mark.parametrize("power_loss", [False, True], ids=["kill", "kill-and-lose-tail"])
def test_killed_and_restarted_live_process_loses_and_duplicates_nothing(
    tmp_path: Path, power_loss: bool
) -> None:
    bars = load_sample("SPX_1d").head(BARS)
    journal, log = tmp_path / "journal.sqlite", tmp_path / "live.log"
    chance, loss = random.Random(20_261_123), random.Random(20_261_124)
    kills = lost = 0
    with (
        venue_in_thread(
            bars,
            speed="lockstep",
            state=tmp_path / "venue.sqlite",
            commission=CommissionConfig(rate=0.001),
        ) as server,
        httpx.Client(base_url=server.url, headers=HEADERS, timeout=10.0) as client,
    ):
        while True:
            process = _spawn(server.url, journal, log)
            # a random number of bars into this life (however fast it trades), then a random
            # moment inside the bar's handling
            until = _position(client) + chance.randint(2, BARS // KILLS // 2)
            reached = lambda until=until: _position(client) >= until  # noqa: E731
            if kills < KILLS and wait_for_progress(reached, process):
                time.sleep(chance.uniform(0.0, 0.02))
                kill(process)
                kills += 1
                if power_loss:
                    lost += lose_unflushed_tail(journal, loss)
                continue
            assert process.wait(timeout=600) == 0, log.read_text()[-3000:]
            break
        venue_orders = client.get("/v1/orders", params={"status": "all"}).json()
        venue_fills = client.get("/v1/fills").json()
        venue_positions = {p["symbol"]: p["quantity"] for p in client.get("/v1/positions").json()}
        status = client.get("/v1/status").json()
    assert kills == KILLS
    assert lost > 0 if power_loss else lost == 0
    assert status["bars_published"] == BARS
    state = fold_twice(journal)
    ours = {trade for order in state.orders.values() for trade in order.trade_ids}
    assert ours == {fill["trade_id"] for fill in venue_fills}
    assert len(venue_orders) == len({order["client_order_id"] for order in venue_orders})
    at_venue = {order["client_order_id"]: order for order in venue_orders}
    for order_id, order in state.orders.items():
        if order_id in at_venue:  # the venue answers a reused id with the first order's request
            sent = dataclasses.replace(order.request, tag=None)  # a tag stays with us
            assert request_from_json(at_venue[order_id]) == sent, order_id
    held = {str(s): p.quantity for s, p in state.positions.items() if not p.is_flat}
    assert held == pytest.approx({s: q for s, q in venue_positions.items() if q})
    in_order = sorted(venue_fills, key=lambda item: (item["ts"], int(item["trade_id"][1:])))
    signed = [
        (f["quantity"] if f["side"] == "buy" else -f["quantity"], f["price"], f["commission"])
        for f in in_order
    ]
    assert_never_beyond_all_in(signed, 100_000.0)
    assert len(venue_fills) > KILLS
