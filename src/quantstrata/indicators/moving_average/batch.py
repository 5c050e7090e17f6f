"""Moving averages over whole arrays: ``sma``, ``ema``, ``wma``, ``dema``, ``tema``, ``kama``.

Each function accepts a NumPy array, a pandas Series or a Polars Series and returns the same
kind. Values before the first full window are NaN (null for Polars); leading NaN input is skipped
(see :mod:`quantstrata.indicators._inputs`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from quantstrata.indicators._inputs import check_period, first_finite, prepare
from quantstrata.indicators.definition import decay_bars
from quantstrata.indicators.moving_average import _nb

__all__ = [
    "dema",
    "ema",
    "ema_smoothing",
    "kama",
    "kama_unstable_bars",
    "sma",
    "tema",
    "wma",
]


def sma(close: Any, period: int = 30) -> Any:
    """Return the simple moving average: the mean of the last ``period`` values."""
    period = check_period(period)
    (values,), kind = prepare(close, names=("close",))
    return kind.wrap(_nb.sma_nb(values, period, first_finite(values), np.empty_like(values)))


def ema_smoothing(period: int) -> float:
    """Return the EMA smoothing factor ``2 / (period + 1)``, TA-Lib's choice."""
    return 2.0 / (period + 1)


def ema(close: Any, period: int = 30) -> Any:
    """Return the exponential moving average with factor ``2 / (period + 1)``.

    The first value (at index ``period - 1``) is the simple average of the first ``period``
    values, as in TA-Lib; the seed's influence then decays by ``1 - 2 / (period + 1)`` per bar.
    """
    period = check_period(period)
    (values,), kind = prepare(close, names=("close",))
    return kind.wrap(
        _nb.ema_nb(
            values, period, first_finite(values), ema_smoothing(period), np.empty_like(values)
        )
    )


def wma(close: Any, period: int = 30) -> Any:
    """Return the weighted moving average: weights ``1 .. period``, newest heaviest.

    Computed with TA-Lib's running sums (O(1) per value); a period of 1 returns the input.
    """
    period = check_period(period)
    (values,), kind = prepare(close, names=("close",))
    return kind.wrap(_nb.wma_nb(values, period, first_finite(values), np.empty_like(values)))


def dema(close: Any, period: int = 30) -> Any:
    """Return Mulloy's double EMA ``2 * EMA - EMA(EMA)``; the lookback is ``2 * (period - 1)``.

    Both EMAs are seeded with the mean of their first ``period`` inputs, as in TA-Lib; a period
    of 1 returns the input.
    """
    period = check_period(period)
    (values,), kind = prepare(close, names=("close",))
    start = first_finite(values)
    return kind.wrap(
        _nb.dema_nb(values, period, start, ema_smoothing(period), np.empty_like(values))
    )


def tema(close: Any, period: int = 30) -> Any:
    """Return the triple EMA ``3 * EMA - 3 * EMA(EMA) + EMA(EMA(EMA))``.

    The lookback is ``3 * (period - 1)``. Every EMA is seeded with the mean of its first
    ``period`` inputs, as in TA-Lib; a period of 1 returns the input.
    """
    period = check_period(period)
    (values,), kind = prepare(close, names=("close",))
    start = first_finite(values)
    return kind.wrap(
        _nb.tema_nb(values, period, start, ema_smoothing(period), np.empty_like(values))
    )


def kama(close: Any, period: int = 30) -> Any:
    """Return Kaufman's adaptive moving average with TA-Lib's fixed fast 2 / slow 30 bounds.

    The efficiency ratio is ``|x[t] - x[t - period]| / sum(|x[i] - x[i - 1]|)`` over the last
    ``period`` changes; the smoothing factor is ``(ratio * (2/3 - 2/31) + 2/31) ** 2``. The first
    value (index ``period``) starts from the previous input, as TA-Lib does; a period of 1
    returns the input.
    """
    period = check_period(period)
    (values,), kind = prepare(close, names=("close",))
    return kind.wrap(_nb.kama_nb(values, period, first_finite(values), np.empty_like(values)))


def kama_unstable_bars(period: int) -> int:
    """Return the bars after which KAMA's start-up weighs < the tolerance, at its slowest.

    KAMA's factor is never below ``(2/31) ** 2``, so the seed decays at least that fast; this
    bound is what a trending market reaches much sooner.
    """
    return 0 if period == 1 else decay_bars(_nb.KAMA_SLOWEST * _nb.KAMA_SLOWEST)
