"""Parity: every example strategy traded through AlpacaBroker + AlpacaFeed on the fake Alpaca
(real alpaca-py, lockstep replay) gets the backtest's fills on the same bars."""

from __future__ import annotations

from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

from quantstrata.strategy.examples import (
    BollingerZScore,
    EventSmaCrossover,
    MomentumPipeline,
    MomentumRotation,
    RsiMeanReversion,
    SmaCrossover,
    StreamingSmaCrossover,
)
from tests.integration.live.alpaca_runs import run_on_fake
from tests.kit.bars import sample_bars
from tests.kit.fake_alpaca import FakeAlpaca
from tests.kit.live_checks import assert_consistent_with_venue, backtest_fills, fills_frame

_COMPARED = ("ts", "symbol", "side", "quantity", "price", "commission")
CASES = {
    "sma-signal-spx": (lambda: SmaCrossover(fast=5, slow=20), ("SPX_1d",)),
    "sma-event-spx": (lambda: EventSmaCrossover(fast=5, slow=20), ("SPX_1d",)),
    "sma-streaming-goog": (lambda: StreamingSmaCrossover(fast=5, slow=20), ("GOOG_1d",)),
    "rsi-goog": (RsiMeanReversion, ("GOOG_1d",)),
    "bollinger-goog": (BollingerZScore, ("GOOG_1d",)),
    "rotation-three": (
        lambda: MomentumRotation(lookback=20, top=1),
        ("SPX_1d", "IXIC_1d", "GOOG_1d"),
    ),
    "pipeline-momentum-three": (
        lambda: MomentumPipeline(lookback=20, skip=5, top=2, liquid=3, min_price=0.0),
        ("SPX_1d", "IXIC_1d", "GOOG_1d"),
    ),
}
# Alpaca's day-trading (4x) buying power for the rotation only: the backtest has no buying-power
# limit, and the rotation buys its whole new holding in the bar it sells the old one, so for one
# bar it holds twice its equity, past a 2x (Reg T) account. Every other example fits in 2x.
_MARGIN = {"rotation-three": 4.0}


@pytest.mark.asyncio
@pytest.mark.parametrize("case", sorted(CASES))
async def test_examples_on_the_fake_alpaca_fill_as_the_backtest(case: str, tmp_path: Path) -> None:
    build, names = CASES[case]
    bars = sample_bars(names, 500)
    with FakeAlpaca(bars) as fake:
        fake.account.margin_multiplier = _MARGIN.get(case, fake.account.margin_multiplier)
        run = await run_on_fake(fake, bars, build(), tmp_path / "journal.sqlite")
        orders = fake.orders()
    assert run.summary.stopped_by == "feed ended"
    assert run.summary.bar_times == bars["ts"].n_unique()
    assert_consistent_with_venue(run.state, run.fills, dict(run.account.positions), orders)
    live = fills_frame(run.fills, _COMPARED).sort("ts", "symbol")
    expected = backtest_fills(bars, build(), 0.0, _COMPARED).sort("ts", "symbol")
    assert live.height >= 2
    assert_frame_equal(live, expected, check_exact=False, rel_tol=1e-9)
