"""Target orders sized at the decision: booked without the exchange, the same run as through it.

An event strategy whose target orders no one observes (no ``on_order``/``on_fill``, no risk
checks) gets them sized and filled in compiled code (``decide_targets_nb``) and handed to the
simulated exchange only when something needs them as orders. ``run_event(compiled=False)``
sends every one through the exchange; both runs must give the same ledger bit for bit: order
ids, statuses, quantities, tags, fills, cash and positions.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from quantstrata.backtest import BacktestConfig
from quantstrata.backtest._align import align_bars, canonical_bars
from quantstrata.backtest._event import run_event
from quantstrata.backtest._ledger import Ledger
from quantstrata.backtest._replay import TargetReplay
from quantstrata.backtest._signal import target_grid as grid_of
from quantstrata.backtest.config import SizeAt
from quantstrata.strategy import EventStrategy
from quantstrata.strategy.context import StrategyContext
from quantstrata.strategy.event import BarSnapshot
from tests.kit.backtest import FixedTargets, random_bars, trading_configs
from tests.kit.random_strategies import (
    EventTargets,
    RandomOrders,
    UnitTargets,
    plans,
    target_grid,
)

SYMBOLS = ("AAA", "BBB", "CCC")

configs = trading_configs(SYMBOLS, size_at=SizeAt.DECISION)


class UnobservedOrders(RandomOrders):
    """:class:`RandomOrders` without callbacks: its own orders, cancels and open-order reads
    hand the target orders still to fill over to the exchange."""

    on_order = EventStrategy.on_order  # type: ignore[assignment]
    on_fill = EventStrategy.on_fill  # type: ignore[assignment]


class PeekingTargets(EventTargets):
    """:class:`EventTargets` that reads the open orders on some bars and in ``on_stop``."""

    def __init__(self, targets: pl.DataFrame, every: int) -> None:
        super().__init__(targets)
        self.every = every
        self.count = 0
        self.seen: list[tuple[str, ...]] = []

    def on_bar(self, bars: BarSnapshot, context: StrategyContext) -> None:
        self.count += 1
        if self.count % self.every == 0:
            self.seen.append(tuple(order.order_id for order in context.open_orders()))
        super().on_bar(bars, context)

    def on_stop(self, context: StrategyContext) -> None:
        self.seen.append(tuple(order.order_id for order in context.open_orders()))


def _both(make: Callable[[], EventStrategy], bars: pl.DataFrame, config: BacktestConfig) -> None:
    """Run ``make()`` with and without the compiled target orders; the ledgers must be equal."""
    aligned = align_bars(canonical_bars(bars))
    fast = run_event(make(), aligned, config)
    exchange = run_event(make(), aligned, config, compiled=False)
    _assert_same(fast, exchange)


def _assert_same(fast: Ledger, exchange: Ledger) -> None:
    assert fast.orders.equals(exchange.orders), (fast.orders, exchange.orders)
    assert fast.fills.equals(exchange.fills), (fast.fills, exchange.fills)
    assert np.array_equal(fast.cash, exchange.cash)
    assert np.array_equal(fast.positions, exchange.positions)


@settings(max_examples=60, deadline=None)
@given(bars=random_bars(symbols=SYMBOLS), config=configs, data=st.data())
def test_random_target_streams_give_the_exchanges_run(
    bars: pl.DataFrame, config: BacktestConfig, data: st.DataObject
) -> None:
    # Uneven volumes, some thin, so volume caps and lot rounding send some orders to the exchange.
    rng = np.random.default_rng(data.draw(st.integers(min_value=0, max_value=2**32 - 1)))
    thin = rng.uniform(size=bars.height) < 0.2
    volumes = np.where(
        thin, rng.uniform(0.0, 20.0, bars.height), rng.uniform(20.0, 3_000.0, bars.height)
    )
    bars = bars.with_columns(pl.Series("volume", volumes, dtype=bars.schema["volume"]))
    frame = data.draw(target_grid(bars, missing=data.draw(st.sampled_from([0.0, 0.5, 0.9]))))
    _both(lambda: EventTargets(frame), bars, config)
    every = data.draw(st.integers(min_value=1, max_value=7))
    _both(lambda: PeekingTargets(frame, every), bars, config)


@settings(max_examples=40, deadline=None)
@given(bars=random_bars(symbols=SYMBOLS), config=configs, units=st.booleans(), data=st.data())
def test_replayed_signal_targets_give_the_exchanges_run(
    bars: pl.DataFrame, config: BacktestConfig, units: bool, data: st.DataObject
) -> None:
    frame = data.draw(target_grid(bars, units=units))
    strategy = UnitTargets(frame) if units else FixedTargets(frame)
    aligned = align_bars(canonical_bars(bars))
    grid = grid_of(strategy.compute_targets(bars), aligned)
    fast = run_event(TargetReplay(strategy, grid, aligned.symbols), aligned, config)
    replay = TargetReplay(strategy, grid, aligned.symbols)
    exchange = run_event(replay, aligned, config, compiled=False)
    _assert_same(fast, exchange)


@settings(max_examples=60, deadline=None)
@given(bars=random_bars(symbols=SYMBOLS), config=configs, plan=plans)
def test_targets_mixed_with_orders_give_the_exchanges_run(
    bars: pl.DataFrame, config: BacktestConfig, plan: list
) -> None:
    _both(lambda: UnobservedOrders(plan), bars, config)
