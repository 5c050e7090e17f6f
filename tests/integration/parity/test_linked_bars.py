"""Linked orders on a bar that touches both legs: one leg fills, alike in every environment;
and a bracket cell of the matrix traded alone.

A bracket's stop-loss and take-profit, or an OCO exit pair, can both be touched by one wide bar,
here one that opens beyond one leg (the take-profit of a long, the stop-loss of a short) and then
runs through the other. Which leg fills is a rule of the simulated exchange; the three
environments must apply the same one, and never fill both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from quantstrata.model.identifiers import ClientOrderId
from quantstrata.model.orders import Bracket, OneCancelsOther, OrderRequest, TimeInForce
from quantstrata.strategy import BarSnapshot, StrategyContext
from tests.integration.parity.matrix import CellPlan
from tests.kit.backtest import make_bars
from tests.kit.bars import make_bars as make_minute_bars
from tests.kit.parity import Scripted, Setup, mismatches, run_everywhere, submit

SYMBOL = "AAA"
_CALM = (100.0, 100.5, 99.5, 100.0)
_WIDE = (106.0, 110.0, 90.0, 100.0)
"""A bar through both exits (95 and 105) of a position entered near 100, opening beyond 105."""
_SETUP = Setup(make_bars([_CALM, _CALM, _CALM, _WIDE, _CALM, _CALM], symbol=SYMBOL))


@dataclass(frozen=True)
class ExitsOnOneBar:
    """Buy 10 (a bracket, or at market then an OCO pair) with exits at 95 and 105."""

    kind: str
    signed: float

    def __call__(
        self, index: int, bars: BarSnapshot, context: StrategyContext, placed: list[ClientOrderId]
    ) -> None:
        low, high = (95.0, 105.0) if self.signed > 0 else (105.0, 95.0)
        if index == 0 and self.kind == "bracket":
            entry = OrderRequest.market(SYMBOL, self.signed)
            submit(context, placed, Bracket(entry, stop_loss=low, take_profit=high))
        elif index == 0:
            submit(context, placed, OrderRequest.market(SYMBOL, self.signed))
        elif index == 1 and self.kind == "oco":
            pair = OneCancelsOther(
                OrderRequest.limit(SYMBOL, -self.signed, high),
                OrderRequest.stop(SYMBOL, -self.signed, low),
            )
            submit(context, placed, pair)


@pytest.mark.parametrize("signed", [10.0, -10.0], ids=["long", "short"])
@pytest.mark.parametrize("kind", ["bracket", "oco"])
def test_a_bar_through_both_exits_fills_one_alike_everywhere(kind: str, signed: float) -> None:
    plan = ExitsOnOneBar(kind, signed)
    outcomes = run_everywhere(lambda: Scripted(plan), _SETUP)
    assert outcomes["backtest"].fills.height == 2, "the entry and one exit"
    found = mismatches(outcomes)
    assert not found, "\n".join(found)


def test_ioc_bracket_rounds_alone_on_minute_bars_fill_alike_everywhere() -> None:
    """The matrix's IOC short-bracket cell traded alone (one symbol, minute bars).

    Seen on the venue: an order the runtime had booked rejected was then reported accepted; the
    illegal update halted trading in the symbol, so the next flatten was refused.
    """
    bars = make_minute_bars(
        40,
        symbol="IOC_SHORT",
        start=datetime(2024, 12, 24, 17, 25, tzinfo=UTC),
        interval="1m",
        calendar="XNYS",
        seed=7,
    )
    plan = CellPlan("bracket", (("IOC_SHORT", TimeInForce.IOC, "short"),), 15)
    outcomes = run_everywhere(lambda: Scripted(plan), Setup(bars, interval="1m", calendar="XNYS"))
    assert outcomes["backtest"].fills.height >= 4, "two round trips"
    found = mismatches(outcomes)
    assert not found, "\n".join(found)
