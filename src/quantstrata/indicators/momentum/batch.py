"""Momentum oscillators over whole arrays.

The indicators are ``rsi``, ``macd``, ``cmo``, ``mom``, ``roc``, ``stoch``, ``stochrsi`` and
``willr``. Each function accepts NumPy arrays, pandas Series or Polars Series and returns the
same kind (multi-output indicators return a named tuple of them). Values before TA-Lib's
lookback are NaN (null for Polars); leading NaN input is skipped (see
:mod:`quantstrata.indicators._inputs`). Parameter ranges are TA-Lib's.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from quantstrata.indicators._inputs import check_period, first_finite, prepare
from quantstrata.indicators.momentum import _nb

__all__ = [
    "MACDResult",
    "StochasticRSIResult",
    "StochasticResult",
    "cmo",
    "macd",
    "macd_periods",
    "mom",
    "roc",
    "rsi",
    "stoch",
    "stochrsi",
    "willr",
]

_HLC = ("high", "low", "close")


class MACDResult(NamedTuple):
    """MACD line, its signal EMA and their difference, in the caller's container kind."""

    macd: Any
    signal: Any
    histogram: Any


class StochasticResult(NamedTuple):
    """Slow %K and slow %D, in the caller's container kind."""

    slow_k: Any
    slow_d: Any


class StochasticRSIResult(NamedTuple):
    """Fast %K and fast %D of the RSI, in the caller's container kind."""

    fast_k: Any
    fast_d: Any


def rsi(close: Any, period: int = 14) -> Any:
    """Return Wilder's relative strength index ``100 * gain / (gain + loss)``.

    Average gain and loss start as the plain means of the first ``period`` changes (first value
    at index ``period``) and are then smoothed by ``1 / period``, as in TA-Lib. A stretch with
    no change at all gives 0, TA-Lib's convention.
    """
    period = check_period(period, minimum=2)
    (values,), kind = prepare(close, names=("close",))
    return kind.wrap(_nb.rsi_nb(values, period, first_finite(values), np.empty_like(values)))


def cmo(close: Any, period: int = 14) -> Any:
    """Return Chande's momentum oscillator ``100 * (gain - loss) / (gain + loss)``.

    TA-Lib smooths gain and loss like the RSI (Wilder), not with Chande's plain sums, and so do
    we; the lookback is ``period`` and a stretch with no change gives 0.
    """
    period = check_period(period, minimum=2)
    (values,), kind = prepare(close, names=("close",))
    return kind.wrap(_nb.cmo_nb(values, period, first_finite(values), np.empty_like(values)))


def macd_periods(fast_period: int, slow_period: int, signal_period: int) -> tuple[int, int, int]:
    """Check the MACD periods and return them with fast <= slow (TA-Lib swaps them if not)."""
    fast_period = check_period(fast_period, "fast_period", minimum=2)
    slow_period = check_period(slow_period, "slow_period", minimum=2)
    signal_period = check_period(signal_period, "signal_period")
    if slow_period < fast_period:
        fast_period, slow_period = slow_period, fast_period
    return fast_period, slow_period, signal_period


def macd(
    close: Any, fast_period: int = 12, slow_period: int = 26, signal_period: int = 9
) -> MACDResult:
    """Return MACD (fast EMA - slow EMA), its signal EMA and the histogram, as TA-Lib does.

    Both EMAs start at index ``slow_period - 1``: the slow one from the mean of the first
    ``slow_period`` values, the fast one from the mean of the ``fast_period`` values ending
    there (not from the first ``fast_period`` values). The signal is an EMA of the line seeded
    with the mean of its first ``signal_period`` values; all three outputs start at index
    ``slow_period + signal_period - 2``. A fast period above the slow one is swapped, as TA-Lib
    does. Each EMA step is ``(x - ema) * k + ema`` as in :func:`ema` (and the streaming class,
    which has no fused multiply-add in Python 3.11); TA-Lib 0.8 fuses that step into one
    ``fma``, so the two differ by a few units in the last place of the price.
    """
    fast_period, slow_period, signal_period = macd_periods(fast_period, slow_period, signal_period)
    (values,), kind = prepare(close, names=("close",))
    line, signal, histogram = _nb.macd_nb(
        values,
        fast_period,
        slow_period,
        signal_period,
        first_finite(values),
        np.empty_like(values),
        np.empty_like(values),
        np.empty_like(values),
    )
    return MACDResult(
        kind.wrap(line, name="macd"),
        kind.wrap(signal, name="signal"),
        kind.wrap(histogram, name="histogram"),
    )


def mom(close: Any, period: int = 10) -> Any:
    """Return the momentum ``x[t] - x[t - period]``."""
    period = check_period(period)
    (values,), kind = prepare(close, names=("close",))
    return kind.wrap(_nb.momentum_nb(values, period, first_finite(values), np.empty_like(values)))


def roc(close: Any, period: int = 10) -> Any:
    """Return the rate of change in percent, ``((x[t] / x[t - period]) - 1) * 100``.

    Where ``x[t - period]`` is 0 the value is 0, TA-Lib's convention.
    """
    period = check_period(period)
    (values,), kind = prepare(close, names=("close",))
    return kind.wrap(
        _nb.rate_of_change_nb(values, period, first_finite(values), np.empty_like(values))
    )


def stoch(
    high: Any,
    low: Any,
    close: Any,
    *,
    fast_k_period: int = 5,
    slow_k_period: int = 3,
    slow_d_period: int = 3,
) -> StochasticResult:
    """Return the slow stochastic: slow %K = SMA(fast %K), slow %D = SMA(slow %K).

    Fast %K is ``100 * (close - lowest low) / (highest high - lowest low)`` over
    ``fast_k_period`` bars, 0 when the range is zero relative to its ends (TA-Lib's scaled
    test). Both smoothings are simple averages (TA-Lib's default MA type, the only one offered);
    both outputs start at TA-Lib's lookback ``fast_k + slow_k + slow_d - 3``.
    """
    fast_k_period = check_period(fast_k_period, "fast_k_period")
    slow_k_period = check_period(slow_k_period, "slow_k_period")
    slow_d_period = check_period(slow_d_period, "slow_d_period")
    (high_values, low_values, close_values), kind = prepare(high, low, close, names=_HLC)
    start = max(first_finite(high_values), first_finite(low_values), first_finite(close_values))
    fast_k = _nb.fast_k_nb(
        high_values, low_values, close_values, fast_k_period, start, np.empty_like(close_values)
    )
    slow_k, slow_d = _nb.smoothed_pair_nb(
        fast_k,
        start + fast_k_period - 1,
        slow_k_period,
        slow_d_period,
        np.empty_like(fast_k),
        np.empty_like(fast_k),
    )
    return StochasticResult(kind.wrap(slow_k, name="slow_k"), kind.wrap(slow_d, name="slow_d"))


def stochrsi(
    close: Any, period: int = 14, fast_k_period: int = 5, fast_d_period: int = 3
) -> StochasticRSIResult:
    """Return TA-Lib's stochastic RSI: the fast stochastic of ``rsi(close, period)``.

    Fast %K is ``100 * (RSI - lowest RSI) / (highest RSI - lowest RSI)`` over ``fast_k_period``
    values, fast %D its simple average over ``fast_d_period``; both start at TA-Lib's lookback
    ``period + fast_k_period + fast_d_period - 2``.
    """
    period = check_period(period, minimum=2)
    fast_k_period = check_period(fast_k_period, "fast_k_period")
    fast_d_period = check_period(fast_d_period, "fast_d_period")
    (values,), kind = prepare(close, names=("close",))
    start = first_finite(values) + period
    strength = _nb.rsi_nb(values, period, first_finite(values), np.empty_like(values))
    raw = _nb.fast_k_nb(strength, strength, strength, fast_k_period, start, np.empty_like(values))
    fast_k, fast_d = _nb.smoothed_pair_nb(
        raw, start + fast_k_period - 1, 1, fast_d_period, np.empty_like(raw), np.empty_like(raw)
    )
    return StochasticRSIResult(kind.wrap(fast_k, name="fast_k"), kind.wrap(fast_d, name="fast_d"))


def willr(high: Any, low: Any, close: Any, period: int = 14) -> Any:
    """Return Williams' %R, ``-100 * (highest high - close) / (highest high - lowest low)``.

    Values lie in [-100, 0]; a range that is zero relative to its ends gives 0 (TA-Lib).
    """
    period = check_period(period, minimum=2)
    (high_values, low_values, close_values), kind = prepare(high, low, close, names=_HLC)
    start = max(first_finite(high_values), first_finite(low_values), first_finite(close_values))
    return kind.wrap(
        _nb.williams_r_nb(
            high_values, low_values, close_values, period, start, np.empty_like(close_values)
        )
    )
