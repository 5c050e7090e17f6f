"""Invariants of the metrics on generated equity curves."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from quantstrata.analytics import compute_metrics, drawdown_series, underwater_periods
from tests.kit.analytics import daily_times, equity_frame

# Returns in whole basis points keep distinct returns far apart relative to rounding.
basis_points = st.integers(min_value=-5_000, max_value=5_000).map(lambda bp: bp / 10_000)
return_lists = st.lists(basis_points, min_size=1, max_size=80)
starts = st.floats(min_value=1e-3, max_value=1e9)


def _curve(start: float, returns: list[float]) -> list[float]:
    return [float(v) for v in start * np.cumprod([1.0, *(1.0 + r for r in returns)])]


def _same(left: object, right: object, *, rel: float) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        if math.isnan(left) or math.isnan(right):
            return math.isnan(left) and math.isnan(right)
        return math.isclose(left, right, rel_tol=rel, abs_tol=1e-12)
    return left == right


@settings(max_examples=80, deadline=None)
@given(start=starts, returns=return_lists)
def test_drawdown_and_duration_stay_in_range(start: float, returns: list[float]) -> None:
    values = _curve(start, returns)
    curve = equity_frame(values)

    result = compute_metrics(curve, interval="1d")

    assert 0.0 <= result.max_drawdown < 1.0
    assert 0 <= result.max_drawdown_duration_bars <= len(values) - 1
    assert result.max_drawdown_duration <= result.duration
    periods = underwater_periods(curve)
    if periods.height:
        assert periods.get_column("depth").max() == result.max_drawdown
        assert periods.get_column("recovered").head(-1).all()
    else:
        assert result.max_drawdown == 0.0


@settings(max_examples=60, deadline=None)
@given(start=starts, returns=return_lists)
def test_drawdown_series_matches_a_python_loop(start: float, returns: list[float]) -> None:
    values = _curve(start, returns)

    drawdowns = drawdown_series(equity_frame(values)).get_column("drawdown").to_list()

    peak = values[0]
    for value, drawdown in zip(values, drawdowns, strict=True):
        peak = max(peak, value)
        assert math.isclose(drawdown, 1 - value / peak, rel_tol=1e-12, abs_tol=1e-15)


@settings(max_examples=50, deadline=None)
@given(level=starts, count=st.integers(min_value=3, max_value=60))
def test_constant_equity(level: float, count: int) -> None:
    """Three points at least: two returns are the fewest a sample deviation needs."""
    result = compute_metrics(equity_frame([level] * count), interval="1d")

    assert result.total_return == 0.0
    assert result.cagr == 0.0
    assert result.annual_volatility == 0.0
    assert result.max_drawdown == 0.0
    assert math.isnan(result.sharpe)
    assert math.isnan(result.sortino)
    assert math.isnan(result.calmar)


@settings(max_examples=80, deadline=None)
@given(
    start=starts,
    returns=return_lists,
    scale=st.floats(min_value=1e-3, max_value=1e3),
    power=st.integers(min_value=-20, max_value=20),
)
def test_scaling_equity_changes_no_metric(
    start: float, returns: list[float], scale: float, power: int
) -> None:
    values = _curve(start, returns)
    times = daily_times(len(values))
    base = compute_metrics(equity_frame(values, times), interval="1d").to_dict()

    exact = compute_metrics(equity_frame([v * 2.0**power for v in values], times), interval="1d")
    scaled = compute_metrics(equity_frame([v * scale for v in values], times), interval="1d")

    # A power of two scales without rounding: every metric is identical.
    for name, value in exact.to_dict().items():
        assert _same(value, base[name], rel=0.0), name
    for name, value in scaled.to_dict().items():
        assert _same(value, base[name], rel=1e-9), name
