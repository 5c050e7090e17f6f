"""Two currencies in the three environments: the same fills and the same cash per currency.

A USD account trades a EUR-settled stock and a USD one with market and limit orders; every fill
settles in its instrument's currency. The backtest (valued in USD with EURUSD bars), paper
trading through the live runtime and the venue in lockstep must book the same fills, positions
and cash in each currency.
"""

from __future__ import annotations

import polars as pl

from quantstrata.model.identifiers import ClientOrderId
from quantstrata.model.instrument import Instrument
from quantstrata.model.orders import OrderRequest
from quantstrata.strategy import BarSnapshot, StrategyContext
from tests.kit.backtest import make_bars
from tests.kit.parity import Scripted, Setup, mismatches, run_everywhere, submit

SAP = make_bars([(100.0 + i, 102.0 + i, 99.0 + i, 101.0 + i) for i in range(8)], symbol="SAP")
SPY = make_bars([(50.0 + i, 51.0 + i, 49.0 + i, 50.5 + i) for i in range(8)], symbol="SPY")
FX = make_bars([(1.1 + i / 100, 1.1 + i / 100, 1.1 + i / 100, 1.1 + i / 100) for i in range(8)],
               symbol="EUR/USD")  # fmt: skip
SETUP = Setup(
    bars=pl.concat([SAP, SPY]),
    cash=10_000.0,
    instruments={"SAP": Instrument.of("SAP", "equity", quote_currency="EUR", calendar=None)},
    base_currency="USD",
    fx=FX,
)


def _plan(
    index: int, bars: BarSnapshot, context: StrategyContext, placed: list[ClientOrderId]
) -> None:
    if index == 0:
        submit(context, placed, OrderRequest.market("SAP", 20.0))
        submit(context, placed, OrderRequest.market("SPY", 30.0))
    elif index == 2:
        submit(context, placed, OrderRequest.limit("SAP", -20.0, 103.5))
    elif index == 4:
        submit(context, placed, OrderRequest.market("SPY", -10.0))


def test_two_currencies_fill_and_settle_alike_everywhere() -> None:
    outcomes = run_everywhere(lambda: Scripted(_plan), SETUP)
    assert mismatches(outcomes) == []
    balances = outcomes["backtest"].balances
    assert set(balances) == {"USD", "EUR"}
    assert balances["EUR"] != 0.0  # the SAP round trip settled in EUR, not in USD
    assert outcomes["paper"].balances == outcomes["venue"].balances
