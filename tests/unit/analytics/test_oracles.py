"""Cross-check the return metrics against quantstats and empyrical on the same returns.

Both are test-only oracles. Conventions bridged here (``docs/metrics.md`` lists them):

- quantstats and empyrical report drawdowns as negative numbers; ours are positive.
- quantstats takes the annual risk-free rate and de-annualises it as ``(1+rf)^(1/P) - 1``,
  as we do; empyrical takes the per-bar rate, so it gets that per-bar value.
- Their CAGR uses ``N / P`` years, as ours does; their first return is measured from a
  starting value (1.0 or 100) that our equity curve holds as its first point.
"""

from __future__ import annotations

import math
import warnings
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest

from quantstrata.analytics import MetricsConfig, compute_metrics, drawdown_series
from tests.kit.analytics import equity_from_returns, random_returns, spx_close_returns

RELATIVE = 1e-9


@pytest.fixture(scope="module")
def oracles() -> tuple[ModuleType, ModuleType]:
    """Import quantstats' stats module and empyrical, quietly (they use deprecated APIs)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import empyrical  # type: ignore[import-untyped]
        import quantstats.stats as quantstats_stats
    return quantstats_stats, empyrical


def _quietly(function: Any, *args: Any, **kwargs: Any) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(function(*args, **kwargs))


CASES = {
    "spx_daily": (spx_close_returns, 252, 0.0),
    "spx_daily_rf": (spx_close_returns, 252, 0.03),
    "random_daily": (
        lambda: random_returns(1500, seed=7, mean=4e-4, scale=0.012, freq="B"),
        252,
        0.02,
    ),
    "random_crypto": (
        lambda: random_returns(900, seed=11, mean=1e-3, scale=0.03, freq="D"),
        365,
        0.04,
    ),
    "random_monthly": (
        lambda: random_returns(120, seed=3, mean=6e-3, scale=0.04, freq="MS"),
        12,
        0.01,
    ),
}


def _expected(
    returns: pd.Series, periods: int, rf: float, oracles: tuple[ModuleType, ModuleType]
) -> dict[str, tuple[float, float]]:
    qs, emp = oracles
    naive = pd.Series(returns.to_numpy(), index=pd.DatetimeIndex(returns.index).tz_localize(None))
    per_bar_rf = (1.0 + rf) ** (1.0 / periods) - 1.0
    return {
        "total_return": (_quietly(qs.comp, naive), _quietly(emp.cum_returns_final, naive)),
        "cagr": (
            _quietly(qs.cagr, naive, periods=periods),
            _quietly(emp.cagr, naive, annualization=periods),
        ),
        "annual_volatility": (
            _quietly(qs.volatility, naive, periods=periods),
            _quietly(emp.annual_volatility, naive, annualization=periods),
        ),
        "sharpe": (
            _quietly(qs.sharpe, naive, rf=rf, periods=periods),
            _quietly(emp.sharpe_ratio, naive, risk_free=per_bar_rf, annualization=periods),
        ),
        "sortino": (
            _quietly(qs.sortino, naive, rf=rf, periods=periods),
            _quietly(emp.sortino_ratio, naive, required_return=per_bar_rf, annualization=periods),
        ),
        "max_drawdown": (-_quietly(qs.max_drawdown, naive), -_quietly(emp.max_drawdown, naive)),
        "calmar": (
            _quietly(qs.calmar, naive, periods=periods),
            _quietly(emp.calmar_ratio, naive, annualization=periods),
        ),
    }


@pytest.mark.parametrize("case", sorted(CASES))
def test_metrics_match_quantstats_and_empyrical(
    case: str, oracles: tuple[ModuleType, ModuleType]
) -> None:
    make_returns, periods, rf = CASES[case]
    returns = make_returns()
    equity = equity_from_returns(returns.to_numpy(), pd.DatetimeIndex(returns.index))
    config = MetricsConfig(risk_free_rate=rf, periods_per_year=periods)

    ours = compute_metrics(equity, config=config).to_dict()

    for name, (from_quantstats, from_empyrical) in _expected(returns, periods, rf, oracles).items():
        assert math.isfinite(ours[name]), name
        assert ours[name] == pytest.approx(from_quantstats, rel=RELATIVE), f"{name} vs quantstats"
        assert ours[name] == pytest.approx(from_empyrical, rel=RELATIVE), f"{name} vs empyrical"


@pytest.mark.parametrize("case", ["spx_daily", "random_crypto"])
def test_drawdown_series_matches_both(case: str, oracles: tuple[ModuleType, ModuleType]) -> None:
    qs, emp = oracles
    returns = CASES[case][0]()
    naive = pd.Series(returns.to_numpy(), index=pd.DatetimeIndex(returns.index).tz_localize(None))
    equity = equity_from_returns(returns.to_numpy(), pd.DatetimeIndex(returns.index))

    ours = drawdown_series(equity).get_column("drawdown").to_numpy()[1:]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from_quantstats = -qs.to_drawdown_series(naive).to_numpy()
        from_empyrical = -np.asarray(emp.stats.drawdown_series(naive))
    np.testing.assert_allclose(ours, from_quantstats, rtol=RELATIVE, atol=1e-15)
    np.testing.assert_allclose(ours, from_empyrical, rtol=RELATIVE, atol=1e-15)


def test_sortino_with_its_own_threshold_matches_empyrical(
    oracles: tuple[ModuleType, ModuleType],
) -> None:
    _, emp = oracles
    returns = spx_close_returns()
    equity = equity_from_returns(returns.to_numpy(), pd.DatetimeIndex(returns.index))
    config = MetricsConfig(
        risk_free_rate=0.05, minimum_acceptable_return=0.02, periods_per_year=252
    )

    ours = compute_metrics(equity, config=config).sortino

    threshold = 1.02 ** (1 / 252) - 1
    expected = _quietly(
        emp.sortino_ratio, returns.to_numpy(), required_return=threshold, annualization=252
    )
    assert ours == pytest.approx(expected, rel=RELATIVE)


def test_the_oracles_disagree_where_documented(oracles: tuple[ModuleType, ModuleType]) -> None:
    """Guard the bridges: without them the numbers differ, so the bridges are doing work."""
    qs, emp = oracles
    returns = spx_close_returns()
    naive = pd.Series(returns.to_numpy(), index=pd.DatetimeIndex(returns.index).tz_localize(None))
    annual_rf = 0.03
    equity = equity_from_returns(returns.to_numpy(), pd.DatetimeIndex(returns.index))
    ours = compute_metrics(
        equity, config=MetricsConfig(risk_free_rate=annual_rf, periods_per_year=252)
    )

    # empyrical reads risk_free as a per-bar rate: passing the annual one is badly wrong.
    unbridged = _quietly(emp.sharpe_ratio, naive, risk_free=annual_rf, annualization=252)
    assert unbridged != pytest.approx(ours.sharpe, rel=0.5)
    # Simple division rf / P (the other common de-annualisation) is close but not 1e-9 close.
    simple = _quietly(emp.sharpe_ratio, naive, risk_free=annual_rf / 252, annualization=252)
    assert simple != pytest.approx(ours.sharpe, rel=RELATIVE)
    assert simple == pytest.approx(ours.sharpe, rel=5e-2)
    # Both oracles report drawdowns as negative numbers.
    assert _quietly(qs.max_drawdown, naive) == pytest.approx(-ours.max_drawdown, rel=RELATIVE)
