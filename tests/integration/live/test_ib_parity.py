"""Parity: example strategies traded through IBBroker + IBFeed on the fake TWS (the real
``ib_async`` client, lockstep replay) get the backtest's fills on the same bars."""

from __future__ import annotations

from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

from quantstrata.execution import CommissionConfig
from quantstrata.strategy.examples import MomentumRotation, SmaCrossover
from quantstrata.venue.config import VenueConfig
from tests.kit.bars import sample_bars
from tests.kit.fake_tws import FakeTws
from tests.kit.ib_runs import run_on_fake
from tests.kit.live_checks import assert_consistent_with_venue, backtest_fills, fills_frame

_COMPARED = ("ts", "symbol", "side", "quantity", "price", "commission")
RATE = 0.0005
CASES = {
    "sma-spx": (lambda: SmaCrossover(fast=5, slow=20), ("SPX_1d",)),
    "rotation-three": (
        lambda: MomentumRotation(lookback=20, top=1),
        ("SPX_1d", "IXIC_1d", "GOOG_1d"),
    ),
}


@pytest.mark.asyncio
@pytest.mark.parametrize("case", sorted(CASES))
async def test_examples_on_the_fake_tws_fill_as_the_backtest(case: str, tmp_path: Path) -> None:
    build, names = CASES[case]
    bars = sample_bars(names, 250)
    venue = VenueConfig(commission=CommissionConfig(rate=RATE))
    with FakeTws(bars, config=venue) as tws:
        run = await run_on_fake(tws, bars, build(), tmp_path / "journal.sqlite")
        orders, positions = tws.order_records(), tws.positions()
    assert run.summary.stopped_by == "feed ended"
    assert run.summary.bar_times == bars["ts"].n_unique()
    assert run.summary.dropped_bars == 0
    assert_consistent_with_venue(run.state, run.fills, positions, orders)
    live = fills_frame(run.fills, _COMPARED).sort("ts", "symbol")
    expected = backtest_fills(bars, build(), RATE, _COMPARED).sort("ts", "symbol")
    assert live.height >= 2
    assert_frame_equal(live, expected, check_exact=False, rel_tol=1e-9)
