"""The parity test: a strategy traded live on the venue (lockstep replay) fills as in a backtest.

The venue replays the bars, the live runtime runs the strategy object through the same runner
calls, sizing, risk checks, order manager and journal it uses in production, and the venue fills
with the shared fill model. The fills (time, side, quantity, price, commission) and the final
positions and cash must equal the backtest's on the same bars.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from quantstrata.backtest import Backtest, BacktestConfig
from quantstrata.data import load_sample
from quantstrata.execution import CommissionConfig
from quantstrata.live import LiveConfig
from quantstrata.live.engine import Live
from quantstrata.strategy import SignalStrategy
from quantstrata.strategy.examples import EventSmaCrossover, SmaCrossover
from tests.kit.venue import broker, feed, running_venue

_COMPARED = ["ts", "symbol", "side", "quantity", "price", "commission"]
RATE = 0.001


def _frame(fills: list) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "ts": [fill.ts for fill in fills],
            "symbol": [str(fill.symbol) for fill in fills],
            "side": [fill.side.name.lower() for fill in fills],
            "quantity": [fill.quantity for fill in fills],
            "price": [fill.price for fill in fills],
            "commission": [fill.commission for fill in fills],
        }
    ).with_columns(pl.col("ts").dt.cast_time_unit("ns"))


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
    return _frame(fills), account


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "strategy",
    [SmaCrossover(fast=5, slow=20), EventSmaCrossover(fast=5, slow=20)],
    ids=["signal", "event"],
)
async def test_live_on_the_venue_fills_as_the_backtest(strategy: object, tmp_path: Path) -> None:
    bars = load_sample("SPX_1d").head(400)
    live_fills, account = await _live(bars, strategy, tmp_path / "journal.sqlite")
    config = BacktestConfig(commission=CommissionConfig(rate=RATE), check_lookahead=False)
    result = Backtest(bars, strategy, config).run()  # type: ignore[arg-type]
    expected = result.fills.select(_COMPARED)
    assert live_fills.height > 10
    assert_frame_equal(live_fills.select(_COMPARED), expected, check_exact=False, rel_tol=1e-9)
    final = result.equity.tail(1)
    assert account.cash == pytest.approx(final["cash"].item(), rel=1e-9)
    assert isinstance(strategy, SignalStrategy | EventSmaCrossover)
