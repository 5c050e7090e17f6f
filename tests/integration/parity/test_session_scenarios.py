"""The issue's measured scenario: at each XNYS session's first minute a DAY limit buy 1.5 % under
the close, flattened before the close; and its twin with DAY stop buys 1.5 % over the close.

The sessions run over Thanksgiving 2024 (the holiday, then the early close at 13:00 New York on
29 November). An unfilled DAY order must end with its session in every environment: an order
kept overnight fills the next morning in one environment and not in the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from quantstrata.model.identifiers import ClientOrderId, Symbol
from quantstrata.model.orders import OrderRequest, OrderSide, OrderType, TimeInForce
from quantstrata.process.calendar import session_table
from quantstrata.strategy import BarSnapshot, StrategyContext
from tests.kit.bars import make_bars
from tests.kit.parity import Scripted, Setup, mismatches, run_everywhere, submit

SYMBOL = "SPY"
QUANTITY = 10.0
DISTANCE = 0.015
_START = datetime(2024, 11, 26, 14, 30, tzinfo=UTC)
_SESSIONS = session_table("XNYS", _START.date(), datetime(2024, 12, 2, tzinfo=UTC).date())


@dataclass(frozen=True)
class SessionEntries:
    """Enter at each session's first minute with a DAY ``order_type``; flatten before the close.

    The entry is a buy priced ``DISTANCE`` away from the first minute's close: under it for a
    limit, over it for a stop. Two minutes before the close the position is sold at market
    (the order fills at the open of the session's last minute).
    """

    order_type: OrderType
    opens: frozenset[datetime]
    flattens: frozenset[datetime]

    def __call__(
        self, index: int, bars: BarSnapshot, context: StrategyContext, placed: list[ClientOrderId]
    ) -> None:
        bar = bars[SYMBOL]
        if bar.ts in self.opens:
            sign = -1.0 if self.order_type is OrderType.LIMIT else 1.0
            price = {
                "limit_price" if self.order_type is OrderType.LIMIT else "stop_price": bar.close
                * (1 + sign * DISTANCE)
            }
            request = OrderRequest(
                Symbol(SYMBOL),
                OrderSide.BUY,
                QUANTITY,
                self.order_type,
                time_in_force=TimeInForce.DAY,
                **price,
            )
            submit(context, placed, request)
        elif bar.ts in self.flattens and context.position(SYMBOL):
            submit(context, placed, OrderRequest.market(SYMBOL, -context.position(SYMBOL)))


def _setup(seed: int) -> Setup:
    minutes = int(
        _SESSIONS.select(((pl.col("close") - pl.col("open")).dt.total_minutes()).sum()).item()
    )
    bars = make_bars(
        minutes, symbol=SYMBOL, start=_START, interval="1m", calendar="XNYS", seed=seed
    )
    return Setup(bars, interval="1m", calendar="XNYS")


def _plan(order_type: OrderType) -> SessionEntries:
    opens = frozenset(_SESSIONS["open"].to_list())
    flattens = frozenset(close - timedelta(minutes=2) for close in _SESSIONS["close"].to_list())
    return SessionEntries(order_type, opens, flattens)


@pytest.mark.parametrize(
    ("order_type", "seed"), [(OrderType.LIMIT, 13), (OrderType.STOP, 3)], ids=["limit", "stop"]
)
def test_day_entries_each_session_fill_alike_everywhere(order_type: OrderType, seed: int) -> None:
    setup = _setup(seed)
    plan = _plan(order_type)
    outcomes = run_everywhere(lambda: Scripted(plan), setup)
    entries = outcomes["backtest"].fills.filter(side="buy").height
    assert 1 <= entries < _SESSIONS.height, "some sessions must fill and some must expire"
    found = mismatches(outcomes)
    assert not found, "\n".join(found)
