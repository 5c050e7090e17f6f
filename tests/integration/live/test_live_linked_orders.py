"""Brackets, OCO pairs and order callbacks in live paper trading give the backtest's fills."""

from __future__ import annotations

from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

from quantstrata.backtest import Backtest, BacktestConfig
from quantstrata.core.clock import LiveClock
from quantstrata.data import load_sample
from quantstrata.execution import CommissionConfig
from quantstrata.execution.fill_model import FillModel
from quantstrata.live import Live, LiveConfig
from quantstrata.live.brokers import PaperBroker
from quantstrata.live.feeds import ReplayFeed
from quantstrata.model.orders import Bracket, Fill, OneCancelsOther, OrderRequest
from quantstrata.strategy import EventStrategy
from quantstrata.strategy.context import StrategyContext
from quantstrata.strategy.event import BarSnapshot
from tests.kit.live_checks import fills_frame

RATE = 0.001


class BracketsAndPairs(EventStrategy):
    """Every 15 bars: a bracket when flat, else an OCO exit pair around the price."""

    def warmup_bars(self) -> int:
        return 0

    def on_start(self, context: StrategyContext) -> None:
        self.count = 0
        self.fills: list[tuple[str, float]] = []

    def on_fill(self, fill: Fill, context: StrategyContext) -> None:
        self.fills.append((fill.ts.isoformat(), fill.quantity))

    def on_bar(self, bars: BarSnapshot, context: StrategyContext) -> None:
        self.count += 1
        if self.count % 15 or context.open_orders():
            return
        close = bars["SPX"].close
        held = context.position("SPX")
        if held == 0:
            entry = OrderRequest.market("SPX", 10.0)
            context.submit(Bracket(entry, stop_loss=close * 0.97, take_profit=close * 1.03))
        else:
            context.submit(
                OneCancelsOther(
                    OrderRequest.limit("SPX", -held, close * 1.02),
                    OrderRequest.stop("SPX", -held, close * 0.98),
                )
            )


@pytest.mark.asyncio
async def test_linked_orders_fill_live_as_in_the_backtest(tmp_path: Path) -> None:
    bars = load_sample("SPX_1d").head(600)
    clock = LiveClock()
    broker = PaperBroker(
        clock=clock, fill_model=FillModel(commission=CommissionConfig(rate=RATE)), cash=100_000.0
    )
    live_strategy = BracketsAndPairs()
    config = LiveConfig(symbols=("SPX",), journal=str(tmp_path / "j.sqlite"), warm_up=False)
    summary = await Live(
        live_strategy, ReplayFeed(bars, "1d"), broker, config, clock=clock
    ).run_async()
    backtest_strategy = BracketsAndPairs()
    result = Backtest(
        bars, backtest_strategy, BacktestConfig(commission=CommissionConfig(rate=RATE))
    ).run()
    expected = result.fills.select("ts", "side", "quantity", "price", "commission")
    live = fills_frame(sorted(await broker.fills(), key=lambda fill: fill.ts))
    assert expected.height >= 8
    assert_frame_equal(live, expected, check_exact=False, rel_tol=1e-12)
    assert live_strategy.fills == backtest_strategy.fills
    assert summary.risk_rejections == 0
