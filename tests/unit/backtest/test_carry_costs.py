"""Short borrow and financing costs: hand-computed charges, both engines alike, off by default."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from quantstrata.backtest import Backtest, BacktestConfig, BacktestResult
from quantstrata.core.errors import ConfigError
from quantstrata.execution.costs import carry_factors
from tests.kit.backtest import FixedTargets, flat_bars
from tests.kit.random_strategies import EventTargets

# Bars on days 0, 1, 2 and 5: the last interval spans three calendar days (a weekend).
BARS = pl.concat([flat_bars([100.0, 100.0, 100.0]), flat_bars([100.0], start_day=5)])


def _both(target: float, **config: object) -> list[BacktestResult]:
    """Run the target in the compiled and the event loop sized at the fill, then at the decision.

    On flat prices the three runs are one.
    """
    targets = BARS.select("ts", "symbol").with_columns(
        pl.Series("target", [target, None, None, None])
    )
    at_fill = BacktestConfig.build(check_lookahead=False, size_at="fill", **config)
    at_decision = BacktestConfig.build(check_lookahead=False, **config)
    return [
        Backtest(BARS, FixedTargets(targets), at_fill).run(),
        Backtest(BARS, EventTargets(targets), at_fill).run(),
        Backtest(BARS, FixedTargets(targets), at_decision).run(),
    ]


def test_borrow_is_charged_on_the_short_value_per_calendar_day() -> None:
    # Short 1000 units at 100 from day 1: 100 000 short at 3.65 % a year is 10 a day.
    for result in _both(-1.0, borrow_rate=0.0365):
        assert result.equity["carry_cost"].to_list() == pytest.approx(
            [0.0, 0.0, 10.0, 30.0], rel=1e-12
        )
        assert result.equity["cash"][-1] == pytest.approx(200_000.0 - 40.0, rel=1e-15)
        assert result.final_equity == pytest.approx(100_000.0 - 40.0, rel=1e-15)


def test_financing_is_charged_on_negative_cash_only() -> None:
    # Twice levered: 2000 units at 100, cash -100 000 at 7.3 % a year is 20 a day; the charge
    # adds to the debt, so the three weekend days are charged on 100 020: 60.012.
    results = _both(2.0, financing_rate=0.073, borrow_rate=0.5, max_leverage=2.0)
    for result in results:
        assert result.equity["carry_cost"].to_list() == pytest.approx(
            [0.0, 0.0, 20.0, 60.012], rel=1e-12
        )
        assert result.final_equity == pytest.approx(100_000.0 - 80.012, rel=1e-15)
    signal, event, decided = results
    assert signal.equity.equals(event.equity)
    assert signal.equity.equals(decided.equity)


def test_carry_costs_are_off_by_default() -> None:
    for result in _both(-1.0) + _both(2.0, max_leverage=2.0):
        assert (result.equity["carry_cost"] == 0.0).all()
        assert result.final_equity == pytest.approx(100_000.0, rel=1e-15)


def test_carry_factors_follow_actual_over_365() -> None:
    times = BARS["ts"].dt.epoch("ns").to_numpy()
    factors = carry_factors(times, 0.0365, 0.073)
    assert np.allclose(factors[:, 0], [0.0, 1e-4, 1e-4, 3e-4], rtol=1e-12, atol=0.0)
    assert np.allclose(factors[:, 1], [0.0, 2e-4, 2e-4, 6e-4], rtol=1e-12, atol=0.0)
    with pytest.raises(ConfigError):
        BacktestConfig.build(borrow_rate=-0.01)
    with pytest.raises(ConfigError):
        carry_factors(times, float("nan"), 0.0)
