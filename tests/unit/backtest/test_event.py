"""The event loop: orders through the transition table, callbacks, linked orders, targets."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from quantstrata.backtest import Backtest, BacktestConfig, BacktestResult
from quantstrata.execution import FillConfig, FillPolicy
from quantstrata.model.orders import (
    Bracket,
    OneCancelsOther,
    OrderRequest,
    OrderStatus,
    TimeInForce,
)
from quantstrata.strategy import BarSnapshot, EventStrategy, StrategyContext
from tests.kit.backtest import ScriptedOrders, make_bars

BARS = make_bars(
    [
        (100.0, 101.0, 99.0, 100.0),
        (100.5, 103.0, 100.0, 102.0),
        (102.0, 106.0, 101.0, 105.0),
        (105.0, 105.5, 94.0, 95.0),
        (95.0, 96.0, 90.0, 91.0),
    ]
)


def _run(script: dict[int, list[Any]], **config: object) -> tuple[ScriptedOrders, BacktestResult]:
    strategy = ScriptedOrders(script)
    return strategy, Backtest(BARS, strategy, BacktestConfig.build(**config)).run()


def test_market_order_fills_at_the_next_open_and_reports_back() -> None:
    strategy, result = _run({0: [OrderRequest.market("AAA", 10.0)]})
    fills = result.fills
    assert fills["price"].to_list() == [100.5]
    assert fills["ts"].to_list() == [BARS["ts"][1]]
    assert len(strategy.fills) == 1
    statuses = [order.status for order in strategy.order_updates]  # type: ignore[attr-defined]
    assert statuses == [OrderStatus.PENDING, OrderStatus.FILLED]
    assert result.orders["status"].to_list() == ["filled"]
    assert result.final_equity == pytest.approx(100_000.0 + 10.0 * (91.0 - 100.5))


def test_this_close_fills_at_the_decision_bar_close() -> None:
    _, result = _run(
        {0: [OrderRequest.market("AAA", 10.0)]}, fill=FillConfig(policy=FillPolicy.THIS_CLOSE)
    )
    assert result.fills["price"].to_list() == [100.0]
    assert result.fills["ts"].to_list() == [BARS["ts"][0]]


def test_limit_order_waits_for_its_price() -> None:
    _, result = _run({0: [OrderRequest.limit("AAA", 10.0, 95.0)]})
    fills = result.fills
    assert fills["price"].to_list() == [95.0]
    assert fills["ts"].to_list() == [BARS["ts"][3]]
    assert fills["liquidity"].to_list() == ["maker"]


def test_bracket_exits_after_the_entry_and_cancels_the_other_leg() -> None:
    entry = OrderRequest.market("AAA", 10.0)
    _, result = _run({0: [Bracket(entry, stop_loss=96.0, take_profit=110.0)]})
    orders = result.orders
    assert orders["status"].to_list() == ["filled", "filled", "cancelled"]
    fills = result.fills
    assert fills["side"].to_list() == ["buy", "sell"]
    assert fills["price"].to_list() == [100.5, 96.0]
    assert result.trades["pnl"].to_list() == pytest.approx([10.0 * (96.0 - 100.5)])


def test_one_cancels_other() -> None:
    group = OneCancelsOther(
        OrderRequest.limit("AAA", 5.0, 99.0), OrderRequest.stop("AAA", 5.0, 104.0)
    )
    _, result = _run({0: [group]})
    orders = result.orders.sort("order_id")
    assert orders["status"].to_list() == ["cancelled", "filled"]
    assert result.fills["price"].to_list() == [104.0]


def test_sells_beyond_the_position_are_refused_without_shorting() -> None:
    _, result = _run({0: [OrderRequest.market("AAA", -10.0)]}, allow_short=False)
    assert result.fills.is_empty()
    assert result.orders["status"].to_list() == ["cancelled"]


def test_immediate_or_cancel_leaves_no_working_rest() -> None:
    request = OrderRequest.limit("AAA", 10.0, 50.0, time_in_force=TimeInForce.IOC)
    _, result = _run({0: [request]})
    assert result.orders["status"].to_list() == ["cancelled"]
    assert result.fills.is_empty()


def test_event_positions_match_the_fills() -> None:
    _, result = _run({0: [OrderRequest.market("AAA", 10.0)], 2: [OrderRequest.market("AAA", -4.0)]})
    positions = result.positions
    assert positions["quantity"].to_list() == [0.0, 10.0, 10.0, 6.0, 6.0]
    assert isinstance(positions, pl.DataFrame)


class _Watcher(EventStrategy):
    """Records what the context shows at each bar."""

    def warmup_bars(self) -> int:
        return 0

    def on_start(self, context: StrategyContext) -> None:
        self.seen: list[tuple[object, object, int, float]] = []

    def on_bar(self, bars: BarSnapshot, context: StrategyContext) -> None:
        history = context.history("AAA", 3)
        self.seen.append((bars.ts, history["ts"].max(), history.height, context.equity))
        context.target("AAA", 1.0)


def test_history_never_shows_a_later_bar() -> None:
    strategy = _Watcher()
    result = Backtest(BARS, strategy).run()
    assert [seen[0] == seen[1] for seen in strategy.seen] == [True] * BARS.height
    assert [seen[2] for seen in strategy.seen] == [1, 2, 3, 3, 3]
    assert [seen[3] for seen in strategy.seen] == pytest.approx(result.equity["equity"].to_list())
    assert result.fills.height == 1
