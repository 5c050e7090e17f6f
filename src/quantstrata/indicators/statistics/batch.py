"""Statistical features over whole arrays: z-score, ADF p-value, Hurst, half-life, CORREL, BETA.

Each function accepts NumPy arrays, pandas Series or Polars Series and returns the kind of its
first input. Values before the first full window are NaN (null for Polars); leading NaN input is
skipped (see :mod:`quantstrata.indicators._inputs`). ``correl`` and ``beta`` reproduce TA-Lib's
definitions; the others are not in TA-Lib and their definitions are given below.

Cost: ``zscore``, ``correl`` and ``beta`` are O(n) passes with running sums, rebuilt from the
window every ``period`` bars and on windows where they cancel too much (flat stretches), so they
stay accurate to about 1e-12 where plain running sums lose most of their digits. ``hurst`` and
``half_life`` recompute each trailing window (O(n · period · max_lag) and O(n · period)) because
their statistics have no exact running form; they are compiled and fast. ``adf_pvalue`` runs a
statsmodels regression per window and is the slow one (about half a millisecond per window).
"""

from __future__ import annotations

import inspect
import math
import warnings
from typing import Any

import numpy as np

from quantstrata.core.errors import ConfigError
from quantstrata.indicators._inputs import FloatArray, check_period, first_finite, prepare
from quantstrata.indicators.statistics import _nb

__all__ = [
    "ADF_AUTOLAGS",
    "ADF_REGRESSIONS",
    "adf_minimum_period",
    "adf_options",
    "adf_pvalue",
    "adf_window_pvalue",
    "beta",
    "check_adf_options",
    "correl",
    "half_life",
    "hurst",
    "zscore",
]

ADF_REGRESSIONS = ("c", "ct", "ctt", "n")
"""The deterministic terms ``adfuller`` accepts: constant, + trend, + quadratic trend, none."""

ADF_AUTOLAGS = (None, "aic", "bic", "t-stat")
"""The lag-selection rules statsmodels' ``adfuller`` accepts (``None`` = use ``max_lag`` as is)."""


def zscore(close: Any, period: int = 20) -> Any:
    """Return the rolling z-score ``(x - mean) / std`` over the last ``period`` values.

    ``std`` is the *population* standard deviation (ddof = 0, dividing by ``period``), like
    TA-Lib's STDDEV and pandas ``rolling(period).std(ddof=0)``. A window whose values are all
    equal has no spread; its z-score is defined as 0 (the value sits on its mean) rather than
    0/0, so a flat stretch does not put NaN into chained indicators. Running sums of deviations
    from an anchor keep it O(1) per bar; a window whose variance cancels to under 1e-4 of the
    recent mean square is recomputed exactly (pandas' own rolling std is less accurate there).
    """
    period = check_period(period, minimum=2)
    (values,), kind = prepare(close, names=("close",))
    return kind.wrap(_nb.zscore_nb(values, period, first_finite(values)))


def correl(x: Any, y: Any, period: int = 30) -> Any:
    """Return Pearson's correlation of ``x`` and ``y`` over the last ``period`` values (CORREL).

    The sums are running totals of deviations from an anchor pair (re-anchored every
    ``period`` bars), O(1) per bar; a window whose variance cancels to under 1e-4 of its sum of
    squares is recomputed exactly from the window. A window in which either series is constant
    gives 0 (as TA-Lib), and rounding is clamped into [-1, 1]. This matches TA-Lib to about 1e-9
    and exact arithmetic to about 1e-12, even for two-value windows.
    """
    period = check_period(period)
    arrays, kind = prepare(x, y, names=("x", "y"))
    start = max(first_finite(array) for array in arrays)
    first, second = arrays
    return kind.wrap(_nb.correl_nb(first, second, period, start))


def beta(x: Any, y: Any, period: int = 5) -> Any:
    """Return TA-Lib's BETA: the slope of ``y``'s simple returns regressed on ``x``'s returns.

    Like TA-Lib, BETA works on returns ``(p[t] - p[t-1]) / p[t-1]`` of *both* inputs over the
    last ``period`` returns, so the first value is at index ``period``; the slope is
    ``Cov(rx, ry) / Var(rx)``, so pass the benchmark as ``x`` and the asset as ``y`` for the usual
    asset beta. A price with ``|p| < 1e-14`` gives a return of 0 (TA-Lib's rule) and a window
    whose ``x`` returns are all equal gives 0. Sums are kept running (O(1) per bar); a window
    where ``n·Σrx² - (Σrx)²`` cancels to under 1e-4 of ``n·Σrx²`` is recomputed exactly, which
    keeps short windows accurate (TA-Lib's own results agree to about 1e-9 there).
    """
    period = check_period(period)
    arrays, kind = prepare(x, y, names=("x", "y"))
    start = max(first_finite(array) for array in arrays)
    first, second = arrays
    return kind.wrap(_nb.beta_nb(first, second, period, start))


def hurst(close: Any, period: int = 100, max_lag: int = 20) -> Any:
    """Return the Hurst exponent of each trailing window by the variance-of-lags method.

    The method is the generalised Hurst exponent for q = 2 (Di Matteo, Aste & Dacorogna,
    "Long-term memories of developed and emerging markets", Journal of Banking & Finance 29,
    2005): ``E[(x[t+τ] - x[t])²] ∝ τ^(2H)``. For τ = 1..``max_lag`` the mean squared τ-lag
    difference m(τ) is taken over the window, and H is half the least-squares slope of log m(τ)
    on log τ. A random walk gives H ≈ 0.5, a mean-reverting series H < 0.5 and a trending
    (persistent) one H > 0.5. The input is used as given: pass log prices to measure
    multiplicative (percentage) moves. A window in which some m(τ) is 0 (flat) gives NaN.
    """
    max_lag = check_period(max_lag, "max_lag", minimum=2)
    period = check_period(period, minimum=max_lag + 2)
    (values,), kind = prepare(close, names=("close",))
    return kind.wrap(_nb.hurst_nb(values, period, max_lag, first_finite(values)))


def half_life(close: Any, period: int = 100) -> Any:
    """Return the mean-reversion half-life in bars over each trailing window.

    Over the ``period`` values of the window, regress the change ``x[t] - x[t-1]`` on the lagged
    level ``x[t-1]`` by ordinary least squares with an intercept; with slope λ the half-life is
    ``-ln 2 / λ``. It is NaN when λ ≥ 0 (no mean reversion) or the lagged values are all equal.
    The slope uses centred two-pass sums per window (O(period) per bar) for accuracy: running raw
    sums would cancel catastrophically for prices far from zero.
    """
    period = check_period(period, minimum=3)
    (values,), kind = prepare(close, names=("close",))
    return kind.wrap(_nb.half_life_nb(values, period, first_finite(values)))


def adf_pvalue(
    close: Any,
    period: int = 100,
    max_lag: int = 1,
    regression: str = "c",
    autolag: str | None = None,
) -> Any:
    """Return the augmented Dickey-Fuller test's p-value on each trailing window.

    Each window of ``period`` values goes to statsmodels' ``adfuller(window, maxlag=max_lag,
    regression=regression, autolag=autolag)`` and the MacKinnon p-value is kept. A small p-value
    rejects a unit root (the window looks stationary). The defaults (fixed ``max_lag`` 1, no lag
    search) keep it fast; ``autolag`` runs one regression per candidate lag. A window with
    constant differences (constant or perfectly linear) or a rank-deficient regression gives
    NaN. Cost is one OLS fit per window — O(n · period · lags²) with a per-window overhead of
    about half a millisecond — so prefer it on sampled or daily data.
    """
    period = check_adf_options(period, max_lag, regression, autolag)
    options = adf_options(max_lag, regression, autolag)
    (values,), kind = prepare(close, names=("close",))
    out = np.full(values.shape[0], np.nan)
    for index in range(first_finite(values) + period - 1, values.shape[0]):
        out[index] = adf_window_pvalue(values[index - period + 1 : index + 1], options)
    return kind.wrap(out)


def adf_minimum_period(max_lag: int, regression: str) -> int:
    """Return the shortest window statsmodels can test with ``max_lag`` and ``regression``."""
    trend_terms = 0 if regression == "n" else len(regression)
    return 2 * (max_lag + trend_terms + 2)


def check_adf_options(period: int, max_lag: int, regression: str, autolag: str | None) -> int:
    """Check the ADF options and return ``period``; raise :class:`ConfigError` if unusable."""
    if regression not in ADF_REGRESSIONS:
        raise ConfigError(f"regression must be one of {ADF_REGRESSIONS}, got {regression!r}")
    if autolag not in ADF_AUTOLAGS:
        raise ConfigError(f"autolag must be one of {ADF_AUTOLAGS}, got {autolag!r}")
    max_lag = check_period(max_lag, "max_lag", minimum=0)
    return check_period(period, minimum=adf_minimum_period(max_lag, regression))


def adf_options(max_lag: int, regression: str, autolag: str | None) -> dict[str, Any]:
    """Return the keyword arguments for statsmodels' ``adfuller`` (asking for its plain tuple)."""
    from statsmodels.tsa.stattools import adfuller

    options: dict[str, Any] = {"maxlag": max_lag, "regression": regression, "autolag": autolag}
    if "result_object" in inspect.signature(adfuller).parameters:
        options["result_object"] = False
    return options


def adf_window_pvalue(window: FloatArray, options: dict[str, Any]) -> float:
    """Return the ADF p-value of one window; NaN if the window is constant or the fit degenerate.

    ``options`` comes from :func:`adf_options`. A window with constant differences (constant or
    perfectly linear) fits the regression exactly and has no meaningful statistic, and neither
    has a rank-deficient regression (statsmodels warns and returns an arbitrary number): both
    are reported as NaN.
    """
    from statsmodels.tools.sm_exceptions import SingularMatrixWarning
    from statsmodels.tsa.stattools import adfuller

    steps = np.diff(window)
    if steps.max() == steps.min():
        return math.nan
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        pvalue = float(adfuller(window, **options)[1])
    degenerate = False
    for item in caught:
        if issubclass(item.category, SingularMatrixWarning | RuntimeWarning):
            degenerate = True
        else:
            warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)
    return pvalue if math.isfinite(pvalue) and not degenerate else math.nan
