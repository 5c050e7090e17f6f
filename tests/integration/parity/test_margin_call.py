"""A margin call fills the same in the backtest, in paper trading and on the venue.

The hand-computed scenario of ``tests/unit/backtest/test_margin_call.py``: 10,000 cash, a
Reg-T short of 100 ``AAA`` at 100 (commission 0.01 %), the price rising to a close of 170 on
the fourth bar, where equity (≈ 2,998) falls below the maintenance margin (4,250); the
liquidation buys the 100 back at the next open, 175. Every environment runs the one simulated
exchange, which makes the call at that close and sends the reduce-only market order; the live
runtime adopts it (paper and venue) as the broker announces it.
"""

from __future__ import annotations

from quantstrata.model.identifiers import ClientOrderId
from quantstrata.model.instrument import Instrument
from quantstrata.model.orders import OrderRequest
from quantstrata.strategy import BarSnapshot, StrategyContext
from tests.kit.backtest import MARGIN_CALL_ROWS, make_bars
from tests.kit.parity import Scripted, Setup, mismatches, run_everywhere, submit

BARS = make_bars(MARGIN_CALL_ROWS)
SETUP = Setup(
    BARS,
    cash=10_000.0,
    rate=0.0001,
    instruments={"AAA": Instrument.of("AAA", "equity", calendar=None)},
)


def _short_once(
    index: int, bars: BarSnapshot, context: StrategyContext, placed: list[ClientOrderId]
) -> None:
    if index == 0:
        submit(context, placed, OrderRequest.market("AAA", -100.0))


def test_the_margin_call_fills_alike_in_every_environment() -> None:
    outcomes = run_everywhere(lambda: Scripted(_short_once), SETUP)

    assert mismatches(outcomes) == []
    fills = outcomes["backtest"].fills
    # The short at 100, then the liquidation at the fifth bar's open, 175.
    assert fills.select("side", "quantity", "price").rows() == [
        ("sell", 100.0, 100.0),
        ("buy", 100.0, 175.0),
    ]
    # 10,000 + 10,000 − 1.00 − 17,500 − 1.75 (0.01 % of each fill's value).
    assert outcomes["backtest"].cash == 10_000.0 + 10_000.0 - 1.0 - 17_500.0 - 1.75
