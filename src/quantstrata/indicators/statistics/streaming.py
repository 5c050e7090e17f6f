"""Statistical features updated one value at a time, identical to the batch forms bit for bit.

``ZScore``, ``Correlation`` and ``Beta`` keep running sums exactly like their batch kernels: O(1)
time and memory per update, except that they rebuild their sums from the ring buffer in
O(period) every ``period`` updates and on windows whose sums cancel too much (as the batch
kernels do). ``HurstExponent``, ``MeanReversionHalfLife`` and
``AugmentedDickeyFuller`` have no running form: they keep the last ``period`` values in a bounded
ring buffer and recompute the statistic on it at every update — O(period · max_lag),
O(period) and one statsmodels fit per update respectively, with memory bounded by ``period`` —
calling the very function the batch form applies to each window.
"""

from __future__ import annotations

import math

import numpy as np

from quantstrata.indicators._inputs import FloatArray, check_period
from quantstrata.indicators.definition import LatestValue, WindowValue
from quantstrata.indicators.moving_average.streaming import require_finite
from quantstrata.indicators.statistics import _nb
from quantstrata.indicators.statistics.batch import (
    adf_options,
    adf_window_pvalue,
    check_adf_options,
)

__all__ = [
    "AugmentedDickeyFuller",
    "Beta",
    "Correlation",
    "HurstExponent",
    "MeanReversionHalfLife",
    "ZScore",
]

_NAN = math.nan
_TA_EPSILON = _nb.TA_EPSILON


class ZScore(WindowValue[float]):
    """The rolling z-score with population std, from the same anchored sums as :func:`zscore`.

    O(1) per update, except the re-anchoring every ``period`` updates and windows whose running
    sums cancel too much, which are recomputed from the ring buffer in O(period).
    """

    __slots__ = (
        "_anchor",
        "_count",
        "_last",
        "_peak",
        "_period",
        "_position",
        "_squares",
        "_total",
        "_window",
    )

    def __init__(self, period: int = 20) -> None:
        """Start empty with a window of ``period`` values."""
        self._period = check_period(period, minimum=2)
        self._window = [0.0] * self._period
        self._position = 0
        self._count = 0
        self._anchor = 0.0
        self._total = 0.0
        self._squares = 0.0
        self._peak = 0.0
        self._last = _NAN

    def update(self, value: float) -> float:
        """Add the newest value and return its z-score (NaN until ``period`` values)."""
        value = require_finite(value)
        period = self._period
        old = self._window[self._position]
        self._window[self._position] = value
        self._position = (self._position + 1) % period
        self._count += 1
        if self._count < period:
            return self._last
        if (self._count - period) % period == 0:
            window = self._ordered()
            self._anchor = window[0]
            self._total = self._squares = 0.0
            for item in window:
                deviation = item - self._anchor
                self._total += deviation
                self._squares += deviation * deviation
            self._peak = self._squares
        else:
            trailing = old - self._anchor
            self._total -= trailing
            self._squares -= trailing * trailing
            deviation = value - self._anchor
            self._total += deviation
            self._squares += deviation * deviation
            self._peak = max(self._peak, self._squares)
        mean = self._total / period
        variance = self._squares / period - mean * mean
        if variance <= _nb.CANCELLATION_LIMIT * (self._peak / period):
            self._last = _zscore_exact(self._ordered())
        else:
            self._last = ((value - self._anchor) - mean) / math.sqrt(variance)
        return self._last

    def _ordered(self) -> list[float]:
        period = self._period
        return [self._window[(self._position + offset) % period] for offset in range(period)]


def _zscore_exact(window: list[float]) -> float:
    count = len(window)
    first = window[0]
    mean = 0.0
    for item in window:
        mean += item - first
    mean /= count
    squares = 0.0
    for item in window:
        centred = (item - first) - mean
        squares += centred * centred
    if squares <= 0.0:
        return 0.0
    return ((window[-1] - first) - mean) / math.sqrt(squares / count)


class Correlation(WindowValue[float]):
    """Pearson's correlation over ``period`` pairs, from the same anchored sums as :func:`correl`.

    O(1) per update, except the re-anchoring every ``period`` updates and windows whose running
    sums cancel too much, which are recomputed from the ring buffer in O(period).
    """

    __slots__ = (
        "_anchor_x",
        "_anchor_y",
        "_count",
        "_last",
        "_period",
        "_position",
        "_sums",
        "_window_x",
        "_window_y",
    )

    def __init__(self, period: int = 30) -> None:
        """Start empty with a window of ``period`` pairs."""
        self._period = check_period(period)
        self._window_x = [0.0] * self._period
        self._window_y = [0.0] * self._period
        self._position = 0
        self._count = 0
        self._anchor_x = self._anchor_y = 0.0
        self._sums = [0.0] * 7
        self._last = _NAN

    def update(self, x: float, y: float) -> float:
        """Add the newest pair and return the correlation (NaN until ``period`` pairs)."""
        x = require_finite(x, "x")
        y = require_finite(y, "y")
        period = self._period
        position = self._position
        old_x = self._window_x[position]
        old_y = self._window_y[position]
        self._window_x[position] = x
        self._window_y[position] = y
        self._position = (position + 1) % period
        self._count += 1
        if self._count < period:
            return self._last
        if (self._count - period) % period == 0:
            self._reanchor()
        else:
            _remove_pair(self._sums, old_x - self._anchor_x, old_y - self._anchor_y)
            _add_pair(self._sums, x - self._anchor_x, y - self._anchor_y)
        self._last = self._correlation()
        return self._last

    def _window(self) -> tuple[list[float], list[float]]:
        order = [(self._position + offset) % self._period for offset in range(self._period)]
        return [self._window_x[i] for i in order], [self._window_y[i] for i in order]

    def _reanchor(self) -> None:
        xs, ys = self._window()
        self._anchor_x, self._anchor_y = xs[0], ys[0]
        self._sums = [0.0] * 7
        for x, y in zip(xs, ys, strict=True):
            _add_pair(self._sums, x - self._anchor_x, y - self._anchor_y)

    def _correlation(self) -> float:
        sum_x, sum_x2, sum_xy, sum_y, sum_y2, peak_x2, peak_y2 = self._sums
        period = self._period
        variance_x = sum_x2 - sum_x * sum_x / period
        variance_y = sum_y2 - sum_y * sum_y / period
        limit = _nb.CANCELLATION_LIMIT
        if variance_x <= limit * peak_x2 or variance_y <= limit * peak_y2:
            return _correlation_exact(*self._window())
        covariance = sum_xy - sum_x * sum_y / period
        return _clamp_unit(covariance / math.sqrt(variance_x * variance_y))


def _add_pair(sums: list[float], x: float, y: float) -> None:
    sums[0] += x
    sums[1] += x * x
    sums[2] += x * y
    sums[3] += y
    sums[4] += y * y
    sums[5] = max(sums[5], sums[1])
    sums[6] = max(sums[6], sums[4])


def _remove_pair(sums: list[float], x: float, y: float) -> None:
    sums[0] -= x
    sums[1] -= x * x
    sums[2] -= x * y
    sums[3] -= y
    sums[4] -= y * y


def _clamp_unit(value: float) -> float:
    return 1.0 if value > 1.0 else (-1.0 if value < -1.0 else value)


def _correlation_exact(xs: list[float], ys: list[float]) -> float:
    count = len(xs)
    first_x, first_y = xs[0], ys[0]
    mean_x = 0.0
    mean_y = 0.0
    for x, y in zip(xs, ys, strict=True):
        mean_x += x - first_x
        mean_y += y - first_y
    mean_x /= count
    mean_y /= count
    variance_x = variance_y = covariance = 0.0
    for x, y in zip(xs, ys, strict=True):
        centred_x = (x - first_x) - mean_x
        centred_y = (y - first_y) - mean_y
        variance_x += centred_x * centred_x
        variance_y += centred_y * centred_y
        covariance += centred_x * centred_y
    if variance_x <= 0.0 or variance_y <= 0.0:
        return 0.0
    return _clamp_unit(covariance / math.sqrt(variance_x * variance_y))


def _simple_return(current: float, previous: float) -> float:
    if -_TA_EPSILON < previous < _TA_EPSILON:
        return 0.0
    return (current - previous) / previous


class Beta(LatestValue[float]):
    """TA-Lib's BETA on the last ``period`` returns of both series, like :func:`beta`.

    O(1) per update, except the rebuild of the sums every ``period`` updates and windows whose
    sums cancel too much, which are recomputed from the ring of returns in O(period).
    """

    __slots__ = (
        "_count",
        "_last",
        "_period",
        "_previous_x",
        "_previous_y",
        "_returns_x",
        "_returns_y",
        "_sums",
    )

    def __init__(self, period: int = 5) -> None:
        """Start empty with a window of ``period`` returns."""
        self._period = check_period(period)
        self._returns_x = [0.0] * self._period
        self._returns_y = [0.0] * self._period
        self._count = 0
        self._previous_x = self._previous_y = _NAN
        self._sums = [0.0] * 5
        self._last = _NAN

    def update(self, x: float, y: float) -> float:
        """Add the newest prices and return beta (NaN for the first ``period`` values)."""
        x = require_finite(x, "x")
        y = require_finite(y, "y")
        returns = self._count
        self._count += 1
        previous_x, previous_y = self._previous_x, self._previous_y
        self._previous_x, self._previous_y = x, y
        if returns == 0:
            return self._last
        period = self._period
        slot = (returns - 1) % period
        self._returns_x[slot] = _simple_return(x, previous_x)
        self._returns_y[slot] = _simple_return(y, previous_y)
        sums = self._sums
        if returns >= period and (returns - period) % period == 0:
            self._sums = sums = [0.0] * 5
            for index in self._order():
                _add_returns(sums, self._returns_x[index], self._returns_y[index])
        else:
            _add_returns(sums, self._returns_x[slot], self._returns_y[slot])
        if returns >= period:
            self._last = self._beta()
            old_x = self._returns_x[returns % period]
            old_y = self._returns_y[returns % period]
            sums[0] -= old_x * old_x
            sums[1] -= old_x * old_y
            sums[2] -= old_x
            sums[3] -= old_y
        return self._last

    def _order(self) -> list[int]:
        return [(self._count - 1 + offset) % self._period for offset in range(self._period)]

    def _beta(self) -> float:
        sum_xx, sum_xy, sum_x, sum_y, peak_xx = self._sums
        size = float(self._period)
        denominator = size * sum_xx - sum_x * sum_x
        if denominator <= _nb.CANCELLATION_LIMIT * (size * peak_xx):
            order = self._order()
            return _beta_exact(
                [self._returns_x[i] for i in order], [self._returns_y[i] for i in order]
            )
        return (size * sum_xy - sum_x * sum_y) / denominator

    @property
    def ready(self) -> bool:
        """Whether ``period + 1`` prices have been seen."""
        return self._count > self._period


def _add_returns(sums: list[float], return_x: float, return_y: float) -> None:
    sums[0] += return_x * return_x
    sums[1] += return_x * return_y
    sums[2] += return_x
    sums[3] += return_y
    sums[4] = max(sums[4], sums[0])


def _beta_exact(returns_x: list[float], returns_y: list[float]) -> float:
    count = len(returns_x)
    mean_x = 0.0
    mean_y = 0.0
    for return_x, return_y in zip(returns_x, returns_y, strict=True):
        mean_x += return_x
        mean_y += return_y
    mean_x /= count
    mean_y /= count
    variance = covariance = 0.0
    for return_x, return_y in zip(returns_x, returns_y, strict=True):
        centred_x = return_x - mean_x
        variance += centred_x * centred_x
        covariance += centred_x * (return_y - mean_y)
    if variance <= 0.0:
        return 0.0
    return covariance / variance


class _WindowIndicator(WindowValue[float]):
    """The last ``period`` values in a ring buffer, readable as one contiguous array.

    Each value is written twice, at ``i`` and ``i + period``, so the window in time order is
    always the contiguous view ``buffer[position : position + period]`` — no copy per update.
    """

    __slots__ = ("_buffer", "_count", "_last", "_period", "_position")

    def __init__(self, period: int) -> None:
        self._period = period
        self._buffer = np.zeros(2 * period)
        self._position = 0
        self._count = 0
        self._last = _NAN

    def _push(self, value: float) -> FloatArray | None:
        """Store ``value`` and return the window once it is full (``None`` before)."""
        value = require_finite(value)
        period = self._period
        self._buffer[self._position] = value
        self._buffer[self._position + period] = value
        self._position = (self._position + 1) % period
        self._count += 1
        if self._count < period:
            return None
        return self._buffer[self._position : self._position + period]


class HurstExponent(_WindowIndicator):
    """The variance-of-lags Hurst exponent of the last ``period`` values, like :func:`hurst`.

    Recomputed on the bounded window at every update: O(period · max_lag) time, O(period) memory.
    """

    __slots__ = ("_max_lag",)

    def __init__(self, period: int = 100, max_lag: int = 20) -> None:
        """Start empty with a window of ``period`` values and lags 1..``max_lag``."""
        self._max_lag = check_period(max_lag, "max_lag", minimum=2)
        super().__init__(check_period(period, minimum=self._max_lag + 2))

    def update(self, value: float) -> float:
        """Add the newest value and return the exponent (NaN until ``period`` values)."""
        window = self._push(value)
        if window is not None:
            self._last = float(_nb.hurst_window_nb(window, self._max_lag))
        return self._last


class MeanReversionHalfLife(_WindowIndicator):
    """The OLS half-life of the last ``period`` values, like :func:`half_life`.

    Recomputed on the bounded window at every update: O(period) time and memory.
    """

    __slots__ = ()

    def __init__(self, period: int = 100) -> None:
        """Start empty with a window of ``period`` values."""
        super().__init__(check_period(period, minimum=3))

    def update(self, value: float) -> float:
        """Add the newest value and return the half-life in bars (NaN until ready or λ ≥ 0)."""
        window = self._push(value)
        if window is not None:
            self._last = float(_nb.half_life_window_nb(window))
        return self._last


class AugmentedDickeyFuller(_WindowIndicator):
    """The ADF p-value of the last ``period`` values, like :func:`adf_pvalue`.

    Runs one statsmodels ``adfuller`` fit on the bounded window per update (about a millisecond).
    """

    __slots__ = ("_options",)

    def __init__(
        self,
        period: int = 100,
        max_lag: int = 1,
        regression: str = "c",
        autolag: str | None = None,
    ) -> None:
        """Start empty; the options are those of :func:`adf_pvalue`."""
        super().__init__(check_adf_options(period, max_lag, regression, autolag))
        self._options = adf_options(max_lag, regression, autolag)

    def update(self, value: float) -> float:
        """Add the newest value and return the window's p-value (NaN until ``period`` values)."""
        window = self._push(value)
        if window is not None:
            self._last = adf_window_pvalue(window, self._options)
        return self._last
