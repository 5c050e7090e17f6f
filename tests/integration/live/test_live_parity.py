"""The parity test: a strategy traded live on the venue (lockstep replay) fills as in a backtest.

The venue replays the bars, the live runtime runs the strategy object through the same runner
calls, sizing, risk checks, order manager and journal it uses in production, and the venue fills
with the shared fill model. The fills (time, side, quantity, price, commission) and the final
positions and cash must equal the backtest's on the same bars, with the backtest's default
sizing (at the decision).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from quantstrata.backtest import Backtest, BacktestConfig
from quantstrata.data import load_sample
from quantstrata.execution import CommissionConfig
from quantstrata.live import LiveConfig
from quantstrata.live.engine import Live
from quantstrata.model.bar import BAR_COLUMNS
from quantstrata.strategy.examples import (
    BollingerZScore,
    EventSmaCrossover,
    MomentumPipeline,
    MomentumRotation,
    RsiMeanReversion,
    SmaCrossover,
    StreamingSmaCrossover,
)
from tests.kit.live_checks import FILL_COLUMNS, fills_frame
from tests.kit.venue import broker, feed, running_venue

_COMPARED = ["ts", "symbol", "side", "quantity", "price", "commission"]
RATE = 0.001


async def _live(bars: pl.DataFrame, strategy: object, journal: Path) -> tuple[pl.DataFrame, object]:
    symbols = tuple(sorted(bars["symbol"].unique()))
    async with running_venue(
        bars, speed="lockstep", commission=CommissionConfig(rate=RATE)
    ) as server:
        config = LiveConfig(
            symbols=symbols, journal=str(journal), warm_up=False, reconcile_interval=3600
        )
        summary = await Live(strategy, feed(server), broker(server), config).run_async()  # type: ignore[arg-type]
        client = broker(server)
        fills = await client.fills()
        account = await client.account()
        await client.close()
    assert summary.stopped_by == "feed ended"
    assert summary.bar_times == bars["ts"].n_unique()
    assert summary.positions == {k: v for k, v in account.positions.items() if v}
    return fills_frame(fills, ("ts", "symbol", *FILL_COLUMNS[1:])), account


def _bars(names: tuple[str, ...], start: datetime, count: int) -> pl.DataFrame:
    frames = [
        load_sample(name).select(BAR_COLUMNS).filter(pl.col("ts") >= start).head(count)
        for name in names
    ]
    return pl.concat(frames).sort("ts", "symbol")


CASES = {
    "sma-signal-spx": (SmaCrossover(fast=5, slow=20), ("SPX_1d",)),
    "sma-event-spx": (EventSmaCrossover(fast=5, slow=20), ("SPX_1d",)),
    "sma-streaming-goog": (StreamingSmaCrossover(fast=5, slow=20), ("GOOG_1d",)),
    "rsi-goog": (RsiMeanReversion(), ("GOOG_1d",)),
    "bollinger-goog": (BollingerZScore(), ("GOOG_1d",)),
    "rotation-three": (MomentumRotation(lookback=20, top=1), ("SPX_1d", "IXIC_1d", "GOOG_1d")),
    "pipeline-momentum-three": (
        MomentumPipeline(lookback=20, skip=5, top=2, liquid=3, min_price=0.0),
        ("SPX_1d", "IXIC_1d", "GOOG_1d"),
    ),
}


@pytest.mark.asyncio
@pytest.mark.parametrize("case", sorted(CASES))
async def test_live_on_the_venue_fills_as_the_backtest(case: str, tmp_path: Path) -> None:
    strategy, names = CASES[case]
    bars = _bars(names, datetime(2012, 1, 1, tzinfo=UTC), 500)
    live_fills, account = await _live(bars, strategy, tmp_path / "journal.sqlite")
    config = BacktestConfig(commission=CommissionConfig(rate=RATE), check_lookahead=False)
    result = Backtest(bars, strategy, config).run()  # type: ignore[arg-type]
    expected = result.fills.select(_COMPARED)
    assert live_fills.height >= 3
    assert_frame_equal(
        live_fills.select(_COMPARED).sort("ts", "symbol"),
        expected.sort("ts", "symbol"),
        check_exact=False,
        rel_tol=1e-9,
    )
    final = result.equity.tail(1)
    assert account.cash == pytest.approx(final["cash"].item(), rel=1e-9)
