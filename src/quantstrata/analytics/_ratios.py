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
    "moments",
    "per_period_rate",
    "sharpe",
    "sharpe_of",
    "sortino",
    "sortino_of",
    "volatility_of",
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
    return _Moments(returns).spread() * math.sqrt(periods_per_year)


def sharpe(returns: FloatArray, risk_free_per_bar: float, periods_per_year: float) -> float:
    """Return ``mean(r - rf) / std(r - rf, ddof=1) · sqrt(P)``; NaN without spread."""
    return sharpe_of(_Moments(returns), risk_free_per_bar, periods_per_year)


def sortino(returns: FloatArray, threshold_per_bar: float, periods_per_year: float) -> float:
    """Return ``mean(r - m) / sqrt(mean(min(r - m, 0)²)) · sqrt(P)``; NaN with no downside."""
    return sortino_of(_Moments(returns), threshold_per_bar, periods_per_year)


class _Moments:
    """The statistics of one returns array the ratios share, each computed once on demand.

    A zero threshold leaves ``r - 0 = r`` bit for bit, so with a zero risk-free rate and
    Sortino threshold the volatility, Sharpe and Sortino ratios read the same mean and spread
    instead of each making its own copy of the returns.
    """

    __slots__ = ("_largest", "_mean", "_spread", "returns")

    def __init__(self, returns: FloatArray) -> None:
        self.returns = returns
        self._mean: float | None = None
        self._spread: float | None = None
        self._largest: float | None = None

    def mean(self) -> float:
        if self._mean is None:
            self._mean = float(self.returns.mean())
        return self._mean

    def spread(self) -> float:
        if self._spread is None:
            self._spread = float(self.returns.std(ddof=1))
        return self._spread

    def largest(self) -> float:
        if self._largest is None:
            self._largest = float(np.abs(self.returns).max())
        return self._largest

    def excess(self, threshold: float) -> _Moments:
        return self if threshold == 0.0 else _Moments(self.returns - threshold)


def moments(returns: FloatArray) -> _Moments:
    """Return the shared statistics of ``returns`` for :func:`sharpe_of` and :func:`sortino_of`."""
    return _Moments(returns)


def volatility_of(stats: _Moments, periods_per_year: float) -> float:
    """Return :func:`annual_volatility` from shared statistics."""
    if stats.returns.shape[0] < 2:
        return _NAN
    return stats.spread() * math.sqrt(periods_per_year)


def sharpe_of(stats: _Moments, risk_free_per_bar: float, periods_per_year: float) -> float:
    """Return :func:`sharpe` from shared statistics."""
    excess = stats.excess(risk_free_per_bar)
    if excess.returns.shape[0] < 2:
        return _NAN
    spread = excess.spread()
    if _negligible(spread, stats, risk_free_per_bar):
        return _NAN
    return excess.mean() / spread * math.sqrt(periods_per_year)


def sortino_of(stats: _Moments, threshold_per_bar: float, periods_per_year: float) -> float:
    """Return :func:`sortino` from shared statistics."""
    excess = stats.excess(threshold_per_bar)
    if excess.returns.shape[0] == 0:
        return _NAN
    below = np.minimum(excess.returns, 0.0)
    np.square(below, out=below)
    downside = math.sqrt(float(np.mean(below)))
    if _negligible(downside, stats, threshold_per_bar):
        return _NAN
    return excess.mean() / downside * math.sqrt(periods_per_year)


def _negligible(spread: float, stats: _Moments, threshold: float) -> bool:
    """Whether ``spread`` is zero up to the rounding of returns of this size."""
    return spread <= _NEGLIGIBLE * (stats.largest() + abs(threshold))


def calmar(compound_growth: float, max_drawdown: float) -> float:
    """Return ``CAGR / max drawdown``; NaN when the curve never fell."""
    if max_drawdown == 0.0 or math.isnan(max_drawdown):
        return _NAN
    return compound_growth / max_drawdown
