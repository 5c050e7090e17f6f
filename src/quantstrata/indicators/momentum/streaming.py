"""Momentum oscillators updated one bar at a time, identical (bit for bit) to the batch forms."""

from __future__ import annotations

import math
from collections import deque

from quantstrata.indicators._inputs import check_period
from quantstrata.indicators.definition import LatestValue
from quantstrata.indicators.momentum._nb import RANGE_EPSILON
from quantstrata.indicators.momentum.batch import (
    MACDResult,
    StochasticResult,
    StochasticRSIResult,
    macd_periods,
)
from quantstrata.indicators.moving_average.streaming import SimpleMovingAverage, require_finite

__all__ = [
    "ChandeMomentumOscillator",
    "Momentum",
    "MovingAverageConvergenceDivergence",
    "RateOfChange",
    "RelativeStrengthIndex",
    "Stochastic",
    "StochasticRelativeStrengthIndex",
    "WilliamsR",
]

_NAN = math.nan


class _WilderGainsAndLosses(LatestValue[float]):
    """Keep the gain and loss sums RSI and CMO share.

    The sums cover the first ``period`` changes, then are Wilder-smoothed
    (``sum · (period - 1) + newest``) before each subclass averages them its own way.
    """

    __slots__ = ("_count", "_gain", "_keep", "_last", "_loss", "_period", "_previous")

    def __init__(self, period: int) -> None:
        """Start empty."""
        self._period = check_period(period, minimum=2)
        self._keep = self._period - 1
        self._count = 0
        self._gain = 0.0
        self._loss = 0.0
        self._previous = _NAN
        self._last = _NAN

    def _sums(self, value: float) -> tuple[float, float] | None:
        """Take the newest value; return the (gain, loss) sums to average, or None in warm-up."""
        value = require_finite(value)
        change = value - self._previous
        self._previous = value
        count = self._count
        if count > self._period:
            loss = self._loss * self._keep
            gain = self._gain * self._keep
            if change < 0.0:
                loss -= change
            else:
                gain += change
            return gain, loss
        if count == 0:
            self._count = 1
            return None
        self._count = count + 1
        if change < 0.0:
            self._loss -= change
        else:
            self._gain += change
        if count < self._period:
            return None
        return self._gain, self._loss

    @property
    def ready(self) -> bool:
        """Whether ``period`` changes have been seen."""
        return self._count > self._period


class RelativeStrengthIndex(_WilderGainsAndLosses):
    """Wilder's RSI with TA-Lib's seeding and reciprocal smoothing, like :func:`rsi`."""

    __slots__ = ("_inverse",)

    def __init__(self, period: int = 14) -> None:
        """Start empty."""
        super().__init__(period)
        self._inverse = 1.0 / self._period

    def update(self, value: float) -> float:
        """Add the newest value and return the RSI (NaN for the first ``period`` values)."""
        sums = self._sums(value)
        if sums is None:
            return _NAN
        gain = sums[0] * self._inverse
        loss = sums[1] * self._inverse
        self._loss, self._gain = loss, gain
        total = gain + loss
        self._last = 100.0 * (gain / total) if total > 0.0 else 0.0
        return self._last


class ChandeMomentumOscillator(_WilderGainsAndLosses):
    """Chande's oscillator from Wilder-smoothed gains and losses, like :func:`cmo`."""

    __slots__ = ()

    def __init__(self, period: int = 14) -> None:
        """Start empty."""
        super().__init__(period)

    def update(self, value: float) -> float:
        """Add the newest value and return the CMO (NaN for the first ``period`` values)."""
        sums = self._sums(value)
        if sums is None:
            return _NAN
        gain = sums[0] / self._period
        loss = sums[1] / self._period
        self._loss, self._gain = loss, gain
        total = gain + loss
        self._last = 100.0 * ((gain - loss) / total) if total > 0.0 else 0.0
        return self._last


class MovingAverageConvergenceDivergence(LatestValue[MACDResult]):
    """MACD line, signal and histogram with TA-Lib's seeding and alignment, like :func:`macd`."""

    __slots__ = (
        "_count",
        "_fast",
        "_fast_smoothing",
        "_fast_total",
        "_fast_value",
        "_last",
        "_signal",
        "_signal_smoothing",
        "_signal_total",
        "_signal_value",
        "_slow",
        "_slow_smoothing",
        "_slow_total",
        "_slow_value",
    )

    def __init__(
        self, fast_period: int = 12, slow_period: int = 26, signal_period: int = 9
    ) -> None:
        """Start empty; a fast period above the slow one is swapped, as TA-Lib does."""
        self._fast, self._slow, self._signal = macd_periods(fast_period, slow_period, signal_period)
        self._fast_smoothing = 2.0 / (self._fast + 1)
        self._slow_smoothing = 2.0 / (self._slow + 1)
        self._signal_smoothing = 2.0 / (self._signal + 1)
        self._count = 0
        self._fast_total = self._slow_total = self._signal_total = 0.0
        self._fast_value = self._slow_value = self._signal_value = _NAN
        self._last = MACDResult(_NAN, _NAN, _NAN)

    def update(self, value: float) -> MACDResult:
        """Add the newest value and return (macd, signal, histogram), NaN until ready."""
        value = require_finite(value)
        count = self._count
        self._count = count + 1
        seed = self._slow - 1
        if count < seed:
            self._slow_total += value
            if count > seed - self._fast:
                self._fast_total += value
            return self._last
        if count == seed:
            self._slow_total += value
            self._fast_total += value
            self._slow_value = self._slow_total / self._slow
            self._fast_value = self._fast_total / self._fast
            difference = self._fast_value - self._slow_value
            self._signal_total = difference
        else:
            fast = self._fast_value
            slow = self._slow_value
            self._fast_value = fast = ((value - fast) * self._fast_smoothing) + fast
            self._slow_value = slow = ((value - slow) * self._slow_smoothing) + slow
            difference = fast - slow
            if count < seed + self._signal:
                self._signal_total += difference
        first = seed + self._signal - 1
        if count < first:
            return self._last
        if count == first:
            signal = self._signal_total / self._signal
        else:
            signal = self._signal_value
            signal = ((difference - signal) * self._signal_smoothing) + signal
        self._signal_value = signal
        self._last = MACDResult(difference, signal, difference - signal)
        return self._last

    @property
    def ready(self) -> bool:
        """Whether the signal EMA has its seed."""
        return self._count >= self._slow + self._signal - 1


class _Lagged(LatestValue[float]):
    """A ring of the last ``period`` values, for indicators of ``x[t]`` and ``x[t - period]``."""

    __slots__ = ("_count", "_last", "_period", "_position", "_window")

    def __init__(self, period: int = 10) -> None:
        self._period = check_period(period)
        self._window = [0.0] * self._period
        self._position = 0
        self._count = 0
        self._last = _NAN

    def _lagged(self, value: float) -> float:
        """Store ``value`` and return the value ``period`` steps back (NaN if not seen yet)."""
        position = self._position
        old = self._window[position] if self._count >= self._period else _NAN
        self._window[position] = value
        self._position = (position + 1) % self._period
        if self._count < self._period:
            self._count += 1
        return old

    @property
    def ready(self) -> bool:
        """Whether ``period + 1`` values have been seen."""
        return not math.isnan(self._last)


class Momentum(_Lagged):
    """``x[t] - x[t - period]``, like :func:`mom`."""

    __slots__ = ()

    def update(self, value: float) -> float:
        """Add the newest value and return the momentum (NaN for the first ``period`` values)."""
        value = require_finite(value)
        old = self._lagged(value)
        if not math.isnan(old):
            self._last = value - old
        return self._last


class RateOfChange(_Lagged):
    """``((x[t] / x[t - period]) - 1) * 100``, 0 where ``x[t - period]`` is 0, like :func:`roc`."""

    __slots__ = ()

    def update(self, value: float) -> float:
        """Add the newest value and return the rate of change (NaN for ``period`` values)."""
        value = require_finite(value)
        old = self._lagged(value)
        if not math.isnan(old):
            self._last = ((value / old) - 1.0) * 100.0 if old != 0.0 else 0.0
        return self._last


class _RollingExtremes:
    """Highest high and lowest low of the last ``period`` bars with monotonic deques.

    Each deque holds (position, value) pairs whose values fall (highs) or rise (lows) from front
    to back, so each bar enters and leaves once: amortised O(1) per update.
    """

    __slots__ = ("_count", "_highs", "_lows", "_period")

    def __init__(self, period: int) -> None:
        self._period = period
        self._count = 0
        self._highs: deque[tuple[int, float]] = deque()
        self._lows: deque[tuple[int, float]] = deque()

    def update(self, high: float, low: float) -> tuple[float, float] | None:
        """Add one bar; return (highest, lowest) once ``period`` bars are in, else None."""
        count = self._count
        self._count = count + 1
        expired = count - self._period
        highs, lows = self._highs, self._lows
        while highs and highs[-1][1] <= high:
            highs.pop()
        if highs and highs[0][0] <= expired:
            highs.popleft()
        highs.append((count, high))
        while lows and lows[-1][1] >= low:
            lows.pop()
        if lows and lows[0][0] <= expired:
            lows.popleft()
        lows.append((count, low))
        if count < self._period - 1:
            return None
        return highs[0][1], lows[0][1]


def _is_flat(highest: float, lowest: float) -> bool:
    return abs(highest - lowest) <= RANGE_EPSILON * (abs(highest) + abs(lowest))


def _fast_k(close: float, highest: float, lowest: float) -> float:
    if _is_flat(highest, lowest):
        return 0.0
    value = ((close - lowest) / (highest - lowest)) * 100.0
    return 0.0 if value < 0.0 else min(value, 100.0)


class WilliamsR(LatestValue[float]):
    """Williams' %R in [-100, 0] over ``period`` bars, like :func:`willr`."""

    __slots__ = ("_extremes", "_last")

    def __init__(self, period: int = 14) -> None:
        """Start empty."""
        self._extremes = _RollingExtremes(check_period(period, minimum=2))
        self._last = _NAN

    def update(self, high: float, low: float, close: float) -> float:
        """Add one bar and return %R (NaN for the first ``period - 1`` bars)."""
        high = require_finite(high, "high")
        low = require_finite(low, "low")
        close = require_finite(close, "close")
        extremes = self._extremes.update(high, low)
        if extremes is None:
            return _NAN
        highest, lowest = extremes
        if _is_flat(highest, lowest):
            self._last = 0.0
        else:
            value = ((highest - close) / (highest - lowest)) * (-100.0)
            self._last = 0.0 if value > 0.0 else max(value, -100.0)
        return self._last

    @property
    def ready(self) -> bool:
        """Whether ``period`` bars have been seen."""
        return not math.isnan(self._last)


class Stochastic(LatestValue[StochasticResult]):
    """Slow %K = SMA(fast %K) and slow %D = SMA(slow %K), like :func:`stoch`."""

    __slots__ = ("_extremes", "_last", "_slow_d", "_slow_k")

    def __init__(
        self, fast_k_period: int = 5, slow_k_period: int = 3, slow_d_period: int = 3
    ) -> None:
        """Start empty."""
        self._extremes = _RollingExtremes(check_period(fast_k_period, "fast_k_period"))
        self._slow_k = SimpleMovingAverage(check_period(slow_k_period, "slow_k_period"))
        self._slow_d = SimpleMovingAverage(check_period(slow_d_period, "slow_d_period"))
        self._last = StochasticResult(_NAN, _NAN)

    def update(self, high: float, low: float, close: float) -> StochasticResult:
        """Add one bar and return (slow %K, slow %D), NaN until both are valid."""
        high = require_finite(high, "high")
        low = require_finite(low, "low")
        close = require_finite(close, "close")
        extremes = self._extremes.update(high, low)
        if extremes is None:
            return self._last
        slow_k = self._slow_k.update(_fast_k(close, *extremes))
        if self._slow_k.ready:
            slow_d = self._slow_d.update(slow_k)
            if self._slow_d.ready:
                self._last = StochasticResult(slow_k, slow_d)
        return self._last

    @property
    def ready(self) -> bool:
        """Whether slow %D is valid."""
        return self._slow_d.ready


class StochasticRelativeStrengthIndex(LatestValue[StochasticRSIResult]):
    """TA-Lib's stochastic RSI: fast %K and %D of the RSI, like :func:`stochrsi`."""

    __slots__ = ("_extremes", "_fast_d", "_last", "_strength")

    def __init__(self, period: int = 14, fast_k_period: int = 5, fast_d_period: int = 3) -> None:
        """Start empty."""
        self._strength = RelativeStrengthIndex(period)
        self._extremes = _RollingExtremes(check_period(fast_k_period, "fast_k_period"))
        self._fast_d = SimpleMovingAverage(check_period(fast_d_period, "fast_d_period"))
        self._last = StochasticRSIResult(_NAN, _NAN)

    def update(self, value: float) -> StochasticRSIResult:
        """Add the newest value and return (fast %K, fast %D), NaN until both are valid."""
        strength = self._strength.update(value)
        if not self._strength.ready:
            return self._last
        extremes = self._extremes.update(strength, strength)
        if extremes is None:
            return self._last
        fast_k = _fast_k(strength, *extremes)
        fast_d = self._fast_d.update(fast_k)
        if self._fast_d.ready:
            self._last = StochasticRSIResult(fast_k, fast_d)
        return self._last

    @property
    def ready(self) -> bool:
        """Whether fast %D is valid."""
        return self._fast_d.ready
