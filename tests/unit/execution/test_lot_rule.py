"""One lot rule: the same settings round a target to the same lots in a backtest and live."""

from __future__ import annotations

import pytest

from quantstrata.backtest import BacktestConfig
from quantstrata.execution.config import FillConfig
from quantstrata.execution.targets import TargetBook, orders_for_targets
from quantstrata.live import LiveConfig
from quantstrata.model.identifiers import Symbol
from quantstrata.model.instrument import AssetClass, Instrument

INSTRUMENTS = {
    "AAA": Instrument(Symbol("AAA"), AssetClass.EQUITY, "USD", lot_size=10.0, min_quantity=20.0)
}
SYMBOLS = ("AAA", "BBB")


def _configs(fractional: bool, round_lots: bool) -> tuple[BacktestConfig, LiveConfig]:
    backtest = BacktestConfig(
        fractional=fractional, fill=FillConfig(round_lots=round_lots), instruments=INSTRUMENTS
    )
    live = LiveConfig(
        symbols=SYMBOLS, fractional=fractional, round_lots=round_lots, instruments=INSTRUMENTS
    )
    return backtest, live


@pytest.mark.parametrize("fractional", [True, False])
@pytest.mark.parametrize("round_lots", [True, False])
def test_the_same_settings_give_the_same_lots(fractional: bool, round_lots: bool) -> None:
    backtest, live = _configs(fractional, round_lots)
    rules = live.sizing(units=False)

    for symbol in SYMBOLS:
        assert rules.lot_size(symbol) == backtest.lot_size(symbol)
    assert backtest.sizing(False, SYMBOLS) == rules


def test_round_lots_rounds_a_live_target_as_the_backtest_does() -> None:
    backtest, live = _configs(fractional=True, round_lots=True)
    prices = {"AAA": 33.0, "BBB": 7.0}

    book = TargetBook(cash=100_000.0, positions={}, open_orders=(), prices=prices)

    orders = orders_for_targets({"AAA": 0.5, "BBB": 0.5}, book, live.sizing(units=False))

    quantities = {order.symbol: order.signed_quantity for order in orders}
    assert quantities == {"AAA": 1510.0, "BBB": 7142.0}
    same = orders_for_targets({"AAA": 0.5, "BBB": 0.5}, book, backtest.sizing(False, SYMBOLS))
    assert same == orders
