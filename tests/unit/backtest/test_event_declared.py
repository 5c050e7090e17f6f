"""Declared indicators: batch in the backtest, streaming in the kit context, the same decisions."""

from __future__ import annotations

import math

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from polars.testing import assert_frame_equal
from typing_extensions import override

from quantstrata.backtest import Backtest, BacktestConfig
from quantstrata.core.errors import ConfigError
from quantstrata.execution import FillConfig
from quantstrata.model.orders import Fill
from quantstrata.strategy import BarSnapshot, EventStrategy, IndicatorHandle, StrategyContext
from quantstrata.strategy.examples import EventSmaCrossover, StreamingSmaCrossover
from tests.kit.backtest import random_bars
from tests.kit.bars import make_multi_symbol_bars
from tests.kit.strategy_context import RecordingContext, replay

_DECLARED = (
    ("sma", {"period": 5}),
    ("rsi", {"period": 4}),
    ("atr", {"period": 3}),
    ("macd", {"fast_period": 3, "slow_period": 6, "signal_period": 2}),
)


class Declaring(EventStrategy):
    """Declares several indicators per symbol, logs what it sees and trades on them."""

    def warmup_bars(self) -> int:
        return 0

    def on_start(self, context: StrategyContext) -> None:
        self.seen: list[tuple[object, ...]] = []
        self.handles: list[tuple[str, IndicatorHandle]] = [
            (symbol, context.indicator(name, symbol, **parameters))
            for symbol in context.symbols
            for name, parameters in _DECLARED
        ]
        self.before_first_bar = [handle.ready for _, handle in self.handles]

    def on_bar(self, bars: BarSnapshot, context: StrategyContext) -> None:
        for symbol, handle in self.handles:
            self.seen.append((bars.ts, symbol, handle.ready, handle.value, handle.values))
        for symbol in bars:
            average, strength = self.handles[0][1], self.handles[1][1]
            if symbol == self.handles[0][0] and average.ready and strength.ready:
                context.target(symbol, 1.0 if strength.value > 50.0 else 0.0)


def _same_values(first: list[tuple[object, ...]], second: list[tuple[object, ...]]) -> None:
    assert len(first) == len(second)
    for left, right in zip(first, second, strict=True):
        assert left[:3] == right[:3]
        left_values, right_values = left[4], right[4]
        assert isinstance(left_values, tuple)
        assert isinstance(right_values, tuple)
        assert left[3] == left_values[0] or math.isnan(left_values[0])
        for a, b in zip(left_values, right_values, strict=True):
            assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-12)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bars=random_bars(symbols=("AAA", "BBB")))
def test_the_same_object_sees_the_same_values_streaming_and_in_batch(bars: pl.DataFrame) -> None:
    strategy = Declaring()
    streamed = replay(strategy, bars)
    streamed_seen, streamed_targets = strategy.seen, streamed.target_frame()
    result = Backtest(bars, strategy).run()
    _same_values(streamed_seen, strategy.seen)
    assert strategy.before_first_bar == [False] * len(strategy.handles)
    decided = result.orders.get_column("created_ts").to_list()
    changes = streamed_targets.filter(pl.col("target") != pl.col("target").shift(1).fill_null(0.0))
    assert set(decided) <= set(changes.get_column("ts").to_list())


def test_the_example_gives_the_same_targets_streaming_declared_and_hand_updated() -> None:
    bars = make_multi_symbol_bars(300, ("AAA", "BBB"), interval="1h")
    bars = bars.filter(~((pl.col("symbol") == "BBB") & (pl.int_range(pl.len()) % 5 == 0)))
    declared = replay(EventSmaCrossover(fast=5, slow=20), bars).target_frame()
    by_hand = replay(StreamingSmaCrossover(fast=5, slow=20), bars).target_frame()
    assert declared.height > 100
    changes = pl.col("target") != pl.col("target").shift(1).over("symbol")
    assert_frame_equal(declared.filter(changes), by_hand.filter(changes))


@pytest.mark.parametrize("config", [BacktestConfig(), BacktestConfig(allow_short=False)])
def test_declared_and_hand_updated_averages_trade_identically(config: BacktestConfig) -> None:
    bars = make_multi_symbol_bars(400, ("AAA", "BBB"), interval="1h")
    declared = Backtest(bars, EventSmaCrossover(fast=5, slow=20), config).run()
    by_hand = Backtest(bars, StreamingSmaCrossover(fast=5, slow=20), config).run()
    assert declared.fills.height > 10
    assert_frame_equal(declared.fills, by_hand.fills)
    assert_frame_equal(declared.equity, by_hand.equity)


class _LateDeclaration(EventStrategy):
    def warmup_bars(self) -> int:
        return 0

    def on_bar(self, bars: BarSnapshot, context: StrategyContext) -> None:
        context.indicator("sma", "AAA", period=3)


def test_declaring_after_the_first_bar_is_refused_everywhere() -> None:
    bars = make_multi_symbol_bars(5, ("AAA",))
    with pytest.raises(ConfigError, match="after the first bar"):
        Backtest(bars, _LateDeclaration()).run()
    with pytest.raises(ConfigError, match="after the first bar"):
        replay(_LateDeclaration(), bars)


class _Unknown(EventStrategy):
    def warmup_bars(self) -> int:
        return 0

    def on_start(self, context: StrategyContext) -> None:
        context.indicator("no_such_indicator", "AAA")

    def on_bar(self, bars: BarSnapshot, context: StrategyContext) -> None:
        return


def test_unknown_indicators_and_symbols_get_clear_errors() -> None:
    bars = make_multi_symbol_bars(5, ("AAA",))
    with pytest.raises(ConfigError, match="unknown indicator 'no_such_indicator'"):
        Backtest(bars, _Unknown()).run()
    context = RecordingContext(bars)
    with pytest.raises(ConfigError, match="has no parameter"):
        context.indicator("sma", "AAA", window=3)
    with pytest.raises(KeyError, match="ZZZ"):
        context.indicator("sma", "ZZZ", period=3)


class _WatchedCrossover(EventSmaCrossover):
    """The crossover with an ``on_fill`` callback: targets go through order objects instead."""

    @override
    def on_fill(self, fill: Fill, context: StrategyContext) -> None:
        self.fill_count = getattr(self, "fill_count", 0) + 1


@pytest.mark.parametrize(
    "config",
    [
        # Sized at the fill, targets of a strategy without callbacks run in compiled code.
        BacktestConfig(size_at="fill"),
        BacktestConfig(
            fractional=False, max_leverage=1.5, fill=FillConfig(volume_cap=0.05), size_at="fill"
        ),
        BacktestConfig(),
    ],
    ids=["at-fill", "at-fill-lots-leverage-volume-cap", "defaults"],
)
def test_compiled_targets_and_order_objects_give_the_same_ledger(config: BacktestConfig) -> None:
    bars = make_multi_symbol_bars(300, ("AAA", "BBB"), interval="1h")
    compiled = Backtest(bars, EventSmaCrossover(fast=5, slow=20), config).run()
    watched = _WatchedCrossover(fast=5, slow=20)
    objects = Backtest(bars, watched, config).run()
    assert watched.fill_count == objects.fills.height > 10
    assert_frame_equal(compiled.fills, objects.fills, check_exact=False, rel_tol=1e-12)
    assert_frame_equal(compiled.equity, objects.equity, check_exact=False, rel_tol=1e-12)
    assert_frame_equal(
        compiled.orders.drop("average_fill_price"),
        objects.orders.drop("average_fill_price"),
        check_exact=False,
        rel_tol=1e-12,
    )
