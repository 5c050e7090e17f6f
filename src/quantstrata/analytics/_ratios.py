"""Return-based statistics on NumPy arrays: growth, volatility and risk-adjusted ratios.

Every function takes the per-bar simple returns ``r`` (``N`` values) and the number of bars a
year ``P``. A ratio whose denominator is zero is NaN, never infinite (``docs/metrics.md``). A
spread (standard or downside deviation) counts as zero when it is at most
``1e-12 · (max |r| + |threshold|)``: returns computed from a curve growing at a constant rate
differ only by rounding, and dividing by that residue would give ratios near 1e15.
"""

from __future__ import annotations

import math

import numpy as np

from quantstrata.analytics._inputs import FloatArray

__all__ = [
    "annual_volatility",
    "cagr",
    "calmar",
    "per_period_rate",
    "sharpe",
    "sortino",
]

_NAN = float("nan")
_NEGLIGIBLE = 1e-12


def per_period_rate(annual_rate: float, periods_per_year: float) -> float:
    """Return the per-bar rate that compounds to ``annual_rate``: ``(1+a)^(1/P) - 1``."""
    if annual_rate == 0.0:
        return 0.0
    return float(np.expm1(np.log1p(annual_rate) / periods_per_year))


def cagr(total_return: float, bars: int, periods_per_year: float) -> float:
    """Return ``(1 + total_return) ** (P / N) - 1``; NaN without returns or a known ``P``."""
    if bars == 0 or math.isnan(periods_per_year):
        return _NAN
    return float((1.0 + total_return) ** (periods_per_year / bars) - 1.0)


def annual_volatility(returns: FloatArray, periods_per_year: float) -> float:
    """Return ``std(r, ddof=1) · sqrt(P)``; NaN for fewer than two returns."""
    if returns.shape[0] < 2:
        return _NAN
    return float(returns.std(ddof=1)) * math.sqrt(periods_per_year)


def sharpe(returns: FloatArray, risk_free_per_bar: float, periods_per_year: float) -> float:
    """Return ``mean(r - rf) / std(r - rf, ddof=1) · sqrt(P)``; NaN without spread."""
    excess = returns - risk_free_per_bar
    if excess.shape[0] < 2:
        return _NAN
    spread = float(excess.std(ddof=1))
    if _negligible(spread, returns, risk_free_per_bar):
        return _NAN
    return float(excess.mean()) / spread * math.sqrt(periods_per_year)


def sortino(returns: FloatArray, threshold_per_bar: float, periods_per_year: float) -> float:
    """Return ``mean(r - m) / sqrt(mean(min(r - m, 0)²)) · sqrt(P)``; NaN with no downside."""
    excess = returns - threshold_per_bar
    if excess.shape[0] == 0:
        return _NAN
    downside = math.sqrt(float(np.mean(np.square(np.minimum(excess, 0.0)))))
    if _negligible(downside, returns, threshold_per_bar):
        return _NAN
    return float(excess.mean()) / downside * math.sqrt(periods_per_year)


def _negligible(spread: float, returns: FloatArray, threshold: float) -> bool:
    """Whether ``spread`` is zero up to the rounding of returns of this size."""
    return spread <= _NEGLIGIBLE * (float(np.abs(returns).max()) + abs(threshold))


def calmar(compound_growth: float, max_drawdown: float) -> float:
    """Return ``CAGR / max drawdown``; NaN when the curve never fell."""
    if max_drawdown == 0.0 or math.isnan(max_drawdown):
        return _NAN
    return compound_growth / max_drawdown
