"""Cross-check the fill conventions against backtesting.py (test-only oracle).

backtesting.py, like our ``next_open`` policy, runs ``next()`` on a bar's close and fills the
orders it places from the next bar on: market orders at that bar's open, limit orders when
``low <= limit`` at ``min(open, limit)``, stop orders when ``high >= stop`` at
``max(open, stop)``, and a bar touching both the stop-loss and the take-profit closes at the
stop-loss. ``trade_on_close=True`` matches our ``this_close``.

Where the two differ, the tests below pin both answers:

- A stop-limit whose bar opens beyond the stop: backtesting.py fills at ``min(stop, limit)``,
  which can lie outside the bar; we fill at ``min(open, limit)``, inside it.
- A stop-limit with ``limit == stop`` triggered inside a bar: backtesting.py assumes the limit
  was reached before the stop and does not fill; we fill at the stop price, which meets the
  limit.
- A bar that opens beyond the take-profit and then trades through the stop-loss:
  backtesting.py tests the stop-loss first and exits at it; we let the open decide and exit at
  the open, at the take-profit leg.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import pandas as pd
import pytest
from backtesting import Backtest, Strategy

from quantstrata.execution import (
    BracketLeg,
    FillConfig,
    FillModel,
    FillPolicy,
    WorkingBracket,
    WorkingOrder,
)
from quantstrata.model.orders.enums import OrderSide, OrderType
from tests.kit.execution import make_bar

Row = tuple[float, float, float, float]
DECISION_BAR = 2
# Three quiet bars around 100; each scenario appends its own.
QUIET: list[Row] = [(100.0, 100.8, 99.2, 100.0)] * 3 + [(100.0, 101.0, 99.0, 100.0)]
BUY, SELL = OrderSide.BUY, OrderSide.SELL


def _backtesting_trades(
    rows: list[Row], place: Callable[[Strategy], object], *, trade_on_close: bool = False
) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows,
        columns=["Open", "High", "Low", "Close"],
        index=pd.date_range("2024-01-01", periods=len(rows), freq="D"),
    )
    frame["Volume"] = 1_000.0

    class OneOrder(Strategy):
        def init(self) -> None:
            pass

        def next(self) -> None:
            if len(self.data) - 1 == DECISION_BAR:
                place(self)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the oracle's own chatter (open trades, bokeh)
        test = Backtest(
            frame, OneOrder, cash=100_000, trade_on_close=trade_on_close, finalize_trades=True
        )
        stats = test.run()
    trades: pd.DataFrame = stats["_trades"]
    return trades


def _our_first_fill(
    rows: list[Row], order: WorkingOrder, policy: FillPolicy = FillPolicy.NEXT_OPEN
) -> tuple[int, float] | None:
    model = FillModel(FillConfig(policy=policy))
    for index in range(DECISION_BAR + policy.bar_offset, len(rows)):
        step = model.step(order, make_bar(*rows[index], index=index))
        if step.fill is not None:
            return index, step.fill.price
        assert step.order is not None
        order = step.order
    return None


def _their_first_fill(trades: pd.DataFrame) -> tuple[int, float] | None:
    if trades.empty:
        return None
    return int(trades["EntryBar"].iloc[0]), float(trades["EntryPrice"].iloc[0])


SCENARIOS = [
    pytest.param(
        [(99.5, 100.0, 97.0, 98.5)],
        lambda s: s.buy(size=1, limit=98.0),
        WorkingOrder(BUY, 1.0, OrderType.LIMIT, limit_price=98.0),
        id="buy-limit-inside-bar",
    ),
    pytest.param(
        [(96.0, 97.0, 95.0, 96.5)],
        lambda s: s.buy(size=1, limit=98.0),
        WorkingOrder(BUY, 1.0, OrderType.LIMIT, limit_price=98.0),
        id="buy-limit-gap-down",
    ),
    pytest.param(
        [(101.0, 103.0, 100.5, 102.5)],
        lambda s: s.buy(size=1, stop=102.0),
        WorkingOrder(BUY, 1.0, OrderType.STOP, stop_price=102.0),
        id="buy-stop-inside-bar",
    ),
    pytest.param(
        [(104.0, 105.0, 103.0, 104.5)],
        lambda s: s.buy(size=1, stop=102.0),
        WorkingOrder(BUY, 1.0, OrderType.STOP, stop_price=102.0),
        id="buy-stop-gap-up",
    ),
    pytest.param(
        [(101.0, 103.0, 100.5, 102.0)],
        lambda s: s.sell(size=1, limit=102.0),
        WorkingOrder(SELL, 1.0, OrderType.LIMIT, limit_price=102.0),
        id="sell-limit-inside-bar",
    ),
    pytest.param(
        [(97.0, 97.5, 96.0, 97.0)],
        lambda s: s.sell(size=1, stop=98.0),
        WorkingOrder(SELL, 1.0, OrderType.STOP, stop_price=98.0),
        id="sell-stop-gap-down",
    ),
    pytest.param(
        [(101.0, 104.0, 100.5, 103.0)],
        lambda s: s.buy(size=1, stop=102.0, limit=103.0),
        WorkingOrder(BUY, 1.0, OrderType.STOP_LIMIT, stop_price=102.0, limit_price=103.0),
        id="buy-stop-limit-trigger-inside-bar",
    ),
    pytest.param(
        [],
        lambda s: s.buy(size=1),
        WorkingOrder(BUY, 1.0),
        id="market-next-open",
    ),
]


@pytest.mark.parametrize(("extra", "place", "order"), SCENARIOS)
def test_same_fill_bar_and_price_as_backtesting_py(
    extra: list[Row], place: Callable[[Strategy], object], order: WorkingOrder
) -> None:
    rows = [*QUIET, *extra, (100.0, 100.5, 99.5, 100.0)]

    theirs = _their_first_fill(_backtesting_trades(rows, place))

    assert theirs is not None
    assert _our_first_fill(rows, order) == theirs


def test_this_close_matches_trade_on_close() -> None:
    rows = [*QUIET[:2], (100.0, 101.0, 99.0, 100.7), (100.2, 101.0, 99.0, 100.0)]

    trades = _backtesting_trades(rows, lambda s: s.buy(size=1), trade_on_close=True)

    ours = _our_first_fill(rows, WorkingOrder(BUY, 1.0), FillPolicy.THIS_CLOSE)
    assert ours == _their_first_fill(trades) == (DECISION_BAR, 100.7)


def test_bracket_touching_both_levels_exits_at_the_stop_loss_like_backtesting_py() -> None:
    rows = [*QUIET, (100.0, 106.0, 94.0, 100.0), (100.0, 100.5, 99.5, 100.0)]

    trades = _backtesting_trades(rows, lambda s: s.buy(size=1, sl=95.0, tp=105.0))

    ours = _our_bracket_exit(rows, WorkingBracket(SELL, 1.0, stop_loss=95.0, take_profit=105.0))
    their_exit = (int(trades["ExitBar"].iloc[0]), float(trades["ExitPrice"].iloc[0]))
    assert ours == (BracketLeg.STOP_LOSS, *their_exit) == (BracketLeg.STOP_LOSS, 4, 95.0)


# ---------------------------------------------------------------- documented differences


def test_stop_limit_gapping_through_the_stop_differs() -> None:
    rows = [*QUIET, (102.5, 104.0, 102.4, 103.0)]
    order = WorkingOrder(BUY, 1.0, OrderType.STOP_LIMIT, stop_price=102.0, limit_price=103.0)

    theirs = _their_first_fill(
        _backtesting_trades(rows, lambda s: s.buy(size=1, stop=102.0, limit=103.0))
    )

    assert theirs == (4, 102.0)  # below the bar's low of 102.4
    assert _our_first_fill(rows, order) == (4, 102.5)  # the open


def test_stop_limit_with_limit_at_the_stop_differs() -> None:
    rows = [*QUIET, (101.0, 103.0, 100.5, 102.5), (103.0, 104.0, 102.5, 103.5)]
    order = WorkingOrder(BUY, 1.0, OrderType.STOP_LIMIT, stop_price=102.0, limit_price=102.0)

    theirs = _their_first_fill(
        _backtesting_trades(rows, lambda s: s.buy(size=1, stop=102.0, limit=102.0))
    )

    assert theirs is None
    assert _our_first_fill(rows, order) == (4, 102.0)


def test_bracket_gapping_past_the_take_profit_differs() -> None:
    rows = [*QUIET, (106.0, 107.0, 94.0, 100.0), (100.0, 100.5, 99.5, 100.0)]

    trades = _backtesting_trades(rows, lambda s: s.buy(size=1, sl=95.0, tp=105.0))

    ours = _our_bracket_exit(rows, WorkingBracket(SELL, 1.0, stop_loss=95.0, take_profit=105.0))
    assert (int(trades["ExitBar"].iloc[0]), float(trades["ExitPrice"].iloc[0])) == (4, 95.0)
    assert ours == (BracketLeg.TAKE_PROFIT, 4, 106.0)


def _our_bracket_exit(
    rows: list[Row], bracket: WorkingBracket
) -> tuple[BracketLeg, int, float] | None:
    """Enter at the next open (bar 3), then step the bracket from that bar on."""
    model = FillModel()
    current: WorkingBracket | None = bracket
    for index in range(DECISION_BAR + 1, len(rows)):
        assert current is not None
        step = model.step_bracket(current, make_bar(*rows[index], index=index))
        if step.fill is not None:
            assert step.leg is not None
            return step.leg, index, step.fill.price
        current = step.bracket
    return None
