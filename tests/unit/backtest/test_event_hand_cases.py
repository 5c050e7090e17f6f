"""Hand-computed fills of the event engine: trailing stops, one-cancels-other, brackets.

Every expected price below is worked out by hand from the bars and the rules in
``docs/backtest-realism.md``; the default policy is ``next_open`` (an order decided at bar
*t*'s close first meets bar *t + 1*).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import polars as pl
import pytest

from quantstrata.backtest import Backtest, BacktestConfig, BacktestResult
from quantstrata.execution import FillConfig, IntrabarPolicy
from quantstrata.model.orders import (
    Bracket,
    OneCancelsOther,
    Order,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from tests.kit.backtest import START, ScriptedOrders, make_bars

Row = tuple[float, float, float, float]


def _run(
    rows: list[Row], script: dict[int, list[Any]], **config: object
) -> tuple[ScriptedOrders, BacktestResult]:
    strategy = ScriptedOrders(script)
    result = Backtest(make_bars(rows), strategy, BacktestConfig.build(**config)).run()
    return strategy, result


def _trailing(side: OrderSide, *, amount: float | None = None, percent: float | None = None) -> Any:
    return OrderRequest(
        "AAA",  # type: ignore[arg-type]
        side,
        10.0,
        OrderType.TRAILING_STOP,
        trail_amount=amount,
        trail_percent=percent,
    )


def _fills(result: BacktestResult) -> list[tuple[int, str, float]]:
    days = {ts: index for index, ts in enumerate(result.bars["ts"].to_list())}
    return [
        (days[row["ts"]], row["side"], row["price"]) for row in result.fills.iter_rows(named=True)
    ]


def _last_updates(strategy: ScriptedOrders) -> dict[str, Order]:
    latest: dict[str, Order] = {}
    for order in strategy.order_updates:
        assert isinstance(order, Order)
        latest[order.order_id] = order
    return latest


def test_trailing_amount_ratchets_up_only_and_fills_at_its_level() -> None:
    rows = [
        (100.0, 101.0, 99.0, 100.0),
        (100.0, 104.0, 99.5, 103.0),  # trails from the open 100: stop 95; high 104 -> 99
        (103.0, 108.0, 102.0, 107.0),  # stop 99 not hit; high 108 -> stop 103
        (107.0, 107.5, 104.0, 105.0),  # stop 103 not hit; the high 107.5 does not lower it
        (
            105.0,
            106.0,
            102.8,
            103.0,
        ),  # low 102.8 <= 103: sell at the stop (a lower trail would not)
        (103.0, 103.0, 103.0, 103.0),
    ]
    script = {0: [OrderRequest.market("AAA", 10.0), _trailing(OrderSide.SELL, amount=5.0)]}
    _, result = _run(rows, script)
    assert _fills(result) == [(1, "buy", 100.0), (4, "sell", 103.0)]
    assert result.orders["status"].to_list() == ["filled", "filled"]


def test_trailing_percent_gap_through_the_trail_fills_at_the_open() -> None:
    rows = [
        (100.0, 101.0, 99.0, 100.0),
        (100.0, 110.0, 100.0, 109.0),  # stop 95 (5 % under the open); extreme -> 110
        (109.0, 112.0, 108.0, 111.0),  # stop 104.5 not hit; extreme -> 112
        (98.0, 99.0, 95.0, 96.0),  # stop 106.4: the bar opens below it, sell at the open 98
        (96.0, 96.0, 96.0, 96.0),
    ]
    script = {0: [OrderRequest.market("AAA", 10.0), _trailing(OrderSide.SELL, percent=0.05)]}
    _, result = _run(rows, script)
    assert _fills(result) == [(1, "buy", 100.0), (3, "sell", 98.0)]
    assert result.final_equity == pytest.approx(100_000.0 + 10.0 * (98.0 - 100.0))


def test_buy_trailing_stop_ratchets_down_only() -> None:
    rows = [
        (50.0, 51.0, 49.0, 50.0),
        (50.0, 50.5, 47.0, 48.0),  # stop 52 (open 50 + 2) not hit; low 47 -> stop 49
        (48.0, 48.5, 47.5, 48.2),  # stop 49 not hit; the low 47.5 does not raise it
        (48.2, 49.5, 46.0, 49.0),  # high 49.5 >= 49: buy back at the stop 49
        (49.0, 49.0, 49.0, 49.0),
    ]
    script = {0: [OrderRequest.market("AAA", -10.0), _trailing(OrderSide.BUY, amount=2.0)]}
    _, result = _run(rows, script)
    assert _fills(result) == [(1, "sell", 50.0), (3, "buy", 49.0)]
    assert result.positions["quantity"][-1] == 0.0


OCO_BARS = [
    (100.0, 101.0, 99.0, 100.0),
    (100.0, 102.0, 99.5, 101.0),  # neither the limit (97) nor the stop (104) is reached
    (101.0, 104.5, 100.0, 104.0),  # the stop 104 is reached: buy at 104
    (104.0, 105.0, 96.0, 97.0),  # the limit would fill here, but it was cancelled
    (97.0, 97.0, 97.0, 97.0),
]


def test_one_cancels_other_fills_one_and_cancels_the_other_with_a_reason() -> None:
    group = OneCancelsOther(
        OrderRequest.limit("AAA", 5.0, 97.0), OrderRequest.stop("AAA", 5.0, 104.0)
    )
    strategy, result = _run(OCO_BARS, {0: [group]})
    assert _fills(result) == [(2, "buy", 104.0)]
    latest = _last_updates(strategy)
    limit_id, stop_id = strategy.ids[0], sorted(set(latest) - {strategy.ids[0]})[0]
    assert latest[stop_id].status is OrderStatus.FILLED
    assert latest[limit_id].status is OrderStatus.CANCELLED
    assert latest[limit_id].reason == "the other order of the group filled"
    assert result.positions["quantity"][-1] == 5.0


def test_one_cancels_other_touched_twice_in_one_bar_fills_the_first_member() -> None:
    rows = [
        (100.0, 101.0, 99.0, 100.0),
        (100.0, 105.0, 96.0, 100.0),  # reaches the limit 97 and the stop 104
        (100.0, 100.0, 100.0, 100.0),
    ]
    limit, stop = OrderRequest.limit("AAA", 5.0, 97.0), OrderRequest.stop("AAA", 5.0, 104.0)
    _, first_limit = _run(rows, {0: [OneCancelsOther(limit, stop)]})
    assert _fills(first_limit) == [(1, "buy", 97.0)]
    _, first_stop = _run(rows, {0: [OneCancelsOther(stop, limit)]})
    assert _fills(first_stop) == [(1, "buy", 104.0)]
    for result in (first_limit, first_stop):
        assert sorted(result.orders["status"].to_list()) == ["cancelled", "filled"]


BRACKET_BARS = [
    (100.0, 101.0, 99.0, 100.0),
    (100.5, 101.5, 99.5, 101.0),  # the entry buys at the open 100.5; exits start next bar
    (101.0, 105.0, 97.0, 102.0),  # touches the stop-loss 98 and the take-profit 104
    (102.0, 102.0, 102.0, 102.0),
]


@pytest.mark.parametrize(
    ("intrabar", "exit_price", "statuses"),
    [
        (IntrabarPolicy.ADVERSE_FIRST, 98.0, ["filled", "filled", "cancelled"]),
        (IntrabarPolicy.FAVOURABLE_FIRST, 104.0, ["filled", "cancelled", "filled"]),
    ],
)
def test_bracket_touching_both_exits_in_one_bar_follows_the_intrabar_rule(
    intrabar: IntrabarPolicy, exit_price: float, statuses: list[str]
) -> None:
    bracket = Bracket(OrderRequest.market("AAA", 10.0), stop_loss=98.0, take_profit=104.0)
    strategy, result = _run(BRACKET_BARS, {0: [bracket]}, fill=FillConfig(intrabar=intrabar))
    assert _fills(result) == [(1, "buy", 100.5), (2, "sell", exit_price)]
    assert result.orders["status"].to_list() == statuses
    cancelled = [o for o in _last_updates(strategy).values() if o.status is OrderStatus.CANCELLED]
    assert [order.reason for order in cancelled] == ["the other exit of the bracket filled"]
    assert result.final_equity == pytest.approx(100_000.0 + 10.0 * (exit_price - 100.5))


def test_bracket_gap_through_the_stop_loss_fills_at_the_open() -> None:
    rows = [*BRACKET_BARS[:2], (96.0, 105.0, 95.0, 102.0), BRACKET_BARS[3]]
    bracket = Bracket(OrderRequest.market("AAA", 10.0), stop_loss=98.0, take_profit=104.0)
    for intrabar in IntrabarPolicy:
        _, result = _run(rows, {0: [bracket]}, fill=FillConfig(intrabar=intrabar))
        assert _fills(result) == [(1, "buy", 100.5), (2, "sell", 96.0)]


def test_bracket_exits_start_on_the_bar_after_the_entry_fill() -> None:
    rows = [
        BRACKET_BARS[0],
        (100.5, 101.0, 97.0, 99.0),  # the entry buys at 100.5; this bar's 97 is not tested
        (99.0, 100.0, 98.5, 99.5),  # neither exit is reached
        (99.5, 99.5, 99.5, 99.5),
    ]
    bracket = Bracket(OrderRequest.market("AAA", 10.0), stop_loss=98.0, take_profit=104.0)
    _, result = _run(rows, {0: [bracket]})
    assert _fills(result) == [(1, "buy", 100.5)]
    assert result.orders["status"].to_list() == ["filled", "pending", "pending"]


def test_bracket_exits_never_go_beyond_the_position() -> None:
    """Regression: a bracket's reduce-only exit used to sell into (or deepen) a short."""
    rows = [
        (100.0, 101.0, 99.0, 100.0),
        (100.0, 101.0, 99.0, 100.0),  # entry buys 10; the extra market order sells 10
        (100.0, 101.0, 96.0, 97.0),  # the stop-loss 98 is reached, but nothing is held
        (97.0, 97.0, 97.0, 97.0),
    ]
    bracket = Bracket(OrderRequest.market("AAA", 10.0), stop_loss=98.0, take_profit=104.0)
    strategy, result = _run(rows, {0: [bracket, OrderRequest.market("AAA", -10.0)]})
    assert _fills(result) == [(1, "buy", 100.0), (1, "sell", 100.0)]
    assert result.positions["quantity"].to_list() == [0.0, 0.0, 0.0, 0.0]
    exits = [o for o in _last_updates(strategy).values() if o.request.reduce_only]
    assert [o.status for o in exits] == [OrderStatus.CANCELLED, OrderStatus.CANCELLED]
    assert {o.reason for o in exits} == {"nothing to reduce"}


DAY_BARS = [
    (100.0, 101.0, 99.0, 100.0),
    (100.0, 101.0, 98.0, 100.0),  # reaches 98
    (100.0, 101.0, 97.0, 100.0),  # reaches 97
    (100.0, 100.0, 100.0, 100.0),
]


def test_a_day_order_decided_at_a_close_works_through_the_next_session() -> None:
    """Regression: a DAY order decided on a daily close expired before meeting any bar."""
    reached = OrderRequest.limit("AAA", 10.0, 98.0, time_in_force=TimeInForce.DAY)
    _, result = _run(DAY_BARS, {0: [reached]})
    assert _fills(result) == [(1, "buy", 98.0)]
    missed = OrderRequest.limit("AAA", 10.0, 97.0, time_in_force=TimeInForce.DAY)
    strategy, result = _run(DAY_BARS, {0: [missed]})
    assert result.fills.is_empty()
    expired = _last_updates(strategy)[strategy.ids[0]]
    assert expired.status is OrderStatus.EXPIRED
    assert expired.updated_at == result.bars["ts"][2]


def test_a_day_order_expires_at_the_first_bar_of_the_next_date() -> None:
    start = START.replace(hour=9)
    hours = [
        start,
        start + timedelta(hours=1),
        start + timedelta(hours=2),
        start + timedelta(days=1),
    ]
    bars = make_bars([(100.0, 101.0, 99.0, 100.0)] * 3 + [(96.0, 97.0, 95.0, 96.0)]).with_columns(
        pl.Series("ts", hours).cast(pl.Datetime("ns", "UTC"))
    )
    request = OrderRequest.limit("AAA", 10.0, 97.0, time_in_force=TimeInForce.DAY)
    strategy = ScriptedOrders({0: [request]})
    result = Backtest(bars, strategy).run()
    assert result.fills.is_empty()  # the next day's bar would have filled a GTC order
    assert result.orders["status"].to_list() == ["expired"]
    gtc = ScriptedOrders({0: [OrderRequest.limit("AAA", 10.0, 97.0)]})
    assert Backtest(bars, gtc).run().fills["price"].to_list() == [96.0]
