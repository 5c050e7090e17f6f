"""The risk engine's margin check: initial margin after the order against the equity.

By hand, with 10,000 cash, AAA a Reg-T equity (50 % initial) and CCC without an instrument:

- short 300 AAA at 100: cash 40,000, positions −30,000, equity 10,000; initial margin
  50 % × 30,000 = 15,000 > 10,000: refused, naming AAA, 15,000 and 10,000.
- short 200 AAA at 100: initial 10,000 = equity: passes.
- holding 5,000 of CCC (cash, counted at its full value), short 120 AAA: 5,000 + 6,000 =
  11,000 > 10,000: refused.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from quantstrata.backtest import Backtest, BacktestConfig
from quantstrata.execution.risk import RiskAccount, RiskConfig, RiskEngine, RiskViolation
from quantstrata.model.instrument import Instrument
from quantstrata.model.orders import OrderRequest
from tests.kit.backtest import ScriptedOrders, flat_bars

NOW = datetime(2024, 5, 1, 14, 0, tzinfo=UTC)
INSTRUMENTS = {"AAA": Instrument.of("AAA", "equity", calendar=None)}
ENGINE = RiskEngine(RiskConfig(), INSTRUMENTS)
FLAT = RiskAccount(cash=10_000.0)


def test_an_order_needing_more_initial_margin_than_equity_is_refused() -> None:
    with pytest.raises(RiskViolation) as caught:
        ENGINE.check(OrderRequest.market("AAA", -300.0), FLAT, 100.0, NOW)
    [failure] = caught.value.failures
    assert (failure.check, failure.value, failure.limit) == ("margin", 15_000.0, 10_000.0)
    assert "AAA: initial margin 15,000.00 required after the order, 10,000.00 available" in (
        caught.value.reason
    )


def test_an_order_within_the_margin_passes_and_reducing_always_passes() -> None:
    ENGINE.check(OrderRequest.market("AAA", -200.0), FLAT, 100.0, NOW)
    short = RiskAccount(cash=40_000.0, positions={"AAA": -300.0}, marks={"AAA": 100.0})
    ENGINE.check(OrderRequest.market("AAA", 100.0), short, 100.0, NOW)


def test_cash_positions_count_at_their_full_value() -> None:
    held = RiskAccount(cash=5_000.0, positions={"CCC": 100.0}, marks={"CCC": 50.0})
    with pytest.raises(RiskViolation, match="margin"):
        ENGINE.check(OrderRequest.market("AAA", -120.0), held, 100.0, NOW)
    # A symbol without a margin is not margin-checked; nor is anything when switched off.
    RiskEngine(RiskConfig(), INSTRUMENTS).check(OrderRequest.market("CCC", 10.0), held, 50.0, NOW)
    RiskEngine(RiskConfig(check_margin=False), INSTRUMENTS).check(
        OrderRequest.market("AAA", -120.0), held, 100.0, NOW
    )


def test_the_backtest_rejects_the_order_with_the_same_reason() -> None:
    bars = flat_bars([100.0] * 3)
    config = BacktestConfig(
        cash=10_000.0, instruments=INSTRUMENTS, risk=RiskConfig(), max_leverage=5.0
    )
    strategy = ScriptedOrders({0: [OrderRequest.market("AAA", -300.0)]})
    result = Backtest(bars, strategy, config).run()
    [order] = result.orders.to_dicts()
    assert order["status"] == "rejected"
    assert "margin: AAA: initial margin 15,000.00 required" in order["tag"]
