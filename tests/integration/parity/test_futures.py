"""A futures strategy fills the same in the backtest, in paper trading and on the venue.

Two contracts with multipliers (an equity-index future worth 50 a point with 6 000 of margin per
contract, a crude-oil-like future worth 1 000 a point with 10 % margin on notional) are traded
by one plan: targets sized from equity (so the multiplier and the buying power the margin gives
decide the number of contracts), limit entries and stop exits of whole contracts, and a flip
to short. Fills (time, side, contracts, price, commission per contract plus a rate on the
notional), final positions and the cash agree in every environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import polars as pl

from quantstrata.model import Instrument, Margin
from quantstrata.model.identifiers import ClientOrderId, Symbol
from quantstrata.model.orders import OrderRequest, OrderSide, OrderType
from quantstrata.strategy import BarSnapshot, StrategyContext
from tests.kit.bars import make_bars
from tests.kit.parity import Scripted, Setup, mismatches, run_everywhere, submit

ES, CL = "ES", "CL"
INSTRUMENTS = {
    ES: Instrument.of(
        ES, "future", root="ES", expiry=date(2099, 12, 18), multiplier=50.0,
        margin=Margin(6_000.0, 5_000.0, basis="per_contract"),
    ),
    CL: Instrument.of(
        CL, "future", root="CL", expiry=date(2099, 12, 18), multiplier=1_000.0,
        margin=Margin(0.1, 0.08),
    ),
}  # fmt: skip


@dataclass(frozen=True)
class FuturesPlan:
    """Targets, limit entries, stop exits and a flip on two futures, bar by bar."""

    def __call__(
        self, index: int, bars: BarSnapshot, context: StrategyContext, placed: list[ClientOrderId]
    ) -> None:
        if index == 2:
            price = bars[CL].close * 0.999
            submit(context, placed, OrderRequest.limit(CL, 1.0, price))
        if index == 5:
            context.target(ES, 60.0)  # 60 × equity of notional: cut to what margin allows
        if index == 9:
            context.target(ES, -20.0)  # flip to short
        if index == 12 and context.position(CL) > 0:
            stop = bars[CL].close * 0.998
            request = OrderRequest(
                Symbol(CL), OrderSide.SELL, context.position(CL), OrderType.STOP, stop_price=stop
            )
            submit(context, placed, request)
        if index == 20:
            context.target(ES, 0.0)


def _setup() -> Setup:
    start = datetime(2024, 1, 2, tzinfo=UTC)
    bars = pl.concat(
        [
            make_bars(30, symbol=ES, start=start, interval="1d", seed=5, price=4_800.0),
            make_bars(30, symbol=CL, start=start, interval="1d", seed=6, price=75.0),
        ]
    ).sort("ts", "symbol")
    return Setup(bars, rate=0.0001, per_unit=2.25, instruments=INSTRUMENTS, fractional=False)


def test_a_futures_strategy_fills_the_same_in_every_environment() -> None:
    outcomes = run_everywhere(lambda: Scripted(FuturesPlan()), _setup())
    assert mismatches(outcomes) == []
    reference = outcomes["backtest"]
    es = reference.fills.filter(pl.col("symbol") == ES)
    cl = reference.fills.filter(pl.col("symbol") == CL)
    # Holding one CL contract (7 500 of margin), equity near 100 000 buys 15 ES contracts at
    # 6 000 of margin each: the margin is the buying power, not the 240 000 of notional.
    assert cl["quantity"].to_list()[0] == 1.0
    assert es["quantity"].to_list()[0] == 15.0
    assert es["side"].to_list()[:2] == ["buy", "sell"]
    assert es.height == 3
