"""The live strategy runner decides exactly as the backtester's strategy calls do."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import polars as pl
import pytest

from quantstrata.core.errors import ConfigError, DataError, UnknownSymbolError
from quantstrata.data import load_sample
from quantstrata.live.runner import StrategyRunner
from quantstrata.model.bar import BAR_COLUMNS, Bar
from quantstrata.model.identifiers import ClientOrderId
from quantstrata.model.orders import Order, OrderRequest
from quantstrata.strategy import EventStrategy
from quantstrata.strategy.context import StrategyContext
from quantstrata.strategy.event import BarSnapshot
from quantstrata.strategy.examples import EventSmaCrossover, RsiMeanReversion, SmaCrossover


@dataclass
class Account:
    cash: float = 100_000.0
    positions: dict[str, float] = field(default_factory=dict)

    def position(self, symbol: str) -> float:
        return self.positions.get(symbol, 0.0)

    def open_orders(self, symbol: str | None = None) -> Sequence[Order]:
        return []

    def multiplier(self, symbol: str) -> float:
        return 1.0


def _ids() -> object:
    count = 0

    def new() -> ClientOrderId:
        nonlocal count
        count += 1
        return ClientOrderId(f"run-{count}")

    return new


def _groups(bars: pl.DataFrame) -> list[list[Bar]]:
    ordered = bars.select(BAR_COLUMNS).sort("ts", "symbol")
    return [
        [Bar(*row) for row in group.iter_rows()]
        for group in ordered.partition_by("ts", maintain_order=True)
    ]


def _runner(strategy: object, symbols: Sequence[str], **kwargs: object) -> StrategyRunner:
    return StrategyRunner(strategy, symbols, Account(), _ids(), **kwargs)  # type: ignore[arg-type]


def _decisions(runner: StrategyRunner, bars: pl.DataFrame) -> dict[tuple[str, str], float]:
    found: dict[tuple[str, str], float] = {}
    for group in _groups(bars):
        for symbol, target in runner.handle(group).targets.items():
            found[(group[0].ts.isoformat(), symbol)] = target
    return found


def _backtest_targets(strategy: SmaCrossover | RsiMeanReversion, bars: pl.DataFrame) -> dict:
    frame = strategy.compute_targets(bars).drop_nulls("target")
    return {
        (ts.isoformat(), symbol): target
        for ts, symbol, target in frame.select("ts", "symbol", "target").iter_rows()
    }


@pytest.mark.parametrize(
    "strategy",
    [SmaCrossover(fast=5, slow=20), RsiMeanReversion()],
    ids=["sma", "rsi-remembers-all-history"],
)
def test_signal_strategy_decides_as_on_the_whole_history(strategy: SmaCrossover) -> None:
    bars = load_sample("SPX_1d").head(160)
    assert _decisions(_runner(strategy, ["SPX"]), bars) == _backtest_targets(strategy, bars)


def test_event_strategy_decides_as_its_signal_twin() -> None:
    bars = load_sample("SPX_1d").head(160)
    event = _decisions(_runner(EventSmaCrossover(fast=5, slow=20), ["SPX"]), bars)
    assert event == _backtest_targets(SmaCrossover(fast=5, slow=20), bars)


def test_multi_symbol_bars_share_one_call_per_time() -> None:
    bars = pl.concat([load_sample("SPX_1d").head(60), load_sample("IXIC_1d").head(60)])
    strategy = SmaCrossover(fast=5, slow=20)
    assert _decisions(_runner(strategy, ["IXIC", "SPX"]), bars) == _backtest_targets(strategy, bars)


def test_warm_up_returns_the_latest_targets_and_drops_orders() -> None:
    class Eager(EventStrategy):
        def warmup_bars(self) -> int:
            return 0

        def on_bar(self, bars: BarSnapshot, context: StrategyContext) -> None:
            context.submit(OrderRequest.market("SPX", 1.0))
            context.target("SPX", 0.25 if len(context.history("SPX", 3)) < 3 else 0.75)

    runner = _runner(Eager(), ["SPX"])
    bars = load_sample("SPX_1d").head(5)
    assert runner.warm_up(bars) == {"SPX": 0.75}
    next_bar = _groups(load_sample("SPX_1d").slice(5, 1))[0]
    intents = runner.handle(next_bar)
    assert [order_id for order_id, _ in intents.submits] == [ClientOrderId("run-6")]
    assert runner.context.history("SPX", 100).height == 6


def test_bad_bars_are_refused_with_the_reason() -> None:
    runner = _runner(SmaCrossover(fast=5, slow=20), ["SPX"])
    groups = _groups(load_sample("SPX_1d").head(3))
    runner.handle(groups[1])
    with pytest.raises(DataError, match="not after"):
        runner.handle(groups[0])
    ixic = _groups(load_sample("IXIC_1d").slice(2, 1))[0]
    with pytest.raises(DataError, match="'IXIC'"):
        runner.handle(ixic)
    with pytest.raises(DataError, match="at least one bar"):
        runner.handle([])


def test_window_must_hold_the_warm_up_and_bounds_memory() -> None:
    with pytest.raises(ConfigError, match="window 10"):
        _runner(SmaCrossover(fast=5, slow=20), ["SPX"], window=10)
    runner = _runner(SmaCrossover(fast=5, slow=20), ["SPX"], window=25)
    for group in _groups(load_sample("SPX_1d").head(40)):
        runner.handle(group)
    assert len(runner.windows["SPX"]) == 25


def test_context_reads_the_account_and_kept_bars() -> None:
    account = Account(cash=1_000.0, positions={"SPX": 2.0})
    runner = StrategyRunner(SmaCrossover(fast=5, slow=20), ["SPX"], account, _ids())
    groups = _groups(load_sample("SPX_1d").head(3))
    for group in groups:
        runner.handle(group)
    context = runner.context
    assert context.now == groups[-1][0].ts
    assert context.equity == pytest.approx(1_000.0 + 2.0 * groups[-1][0].close)
    history = context.history("SPX", 2)
    assert history["ts"].to_list() == [groups[1][0].ts, groups[2][0].ts]
    assert history["ts"].max() - history["ts"].min() >= timedelta(days=1)
    with pytest.raises(UnknownSymbolError, match="'GOOG'"):
        context.position("GOOG")
    with pytest.raises(ConfigError, match="finite"):
        context.target("SPX", float("nan"))
