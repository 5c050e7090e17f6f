"""Moving averages updated one value at a time, identical to the batch forms."""

from __future__ import annotations

import math

from quantstrata.core.errors import DataError
from quantstrata.indicators._inputs import check_period
from quantstrata.indicators.definition import LatestValue, WindowValue
from quantstrata.indicators.moving_average._nb import KAMA_FASTEST, KAMA_SLOWEST
from quantstrata.indicators.moving_average.batch import ema_smoothing

__all__ = [
    "DoubleExponentialMovingAverage",
    "ExponentialMovingAverage",
    "KaufmanAdaptiveMovingAverage",
    "SimpleMovingAverage",
    "TripleExponentialMovingAverage",
    "WeightedMovingAverage",
    "require_finite",
]

_NAN = math.nan


def require_finite(value: float, name: str = "value") -> float:
    """Return ``value`` as a float, refusing NaN and infinity (streams must not carry gaps)."""
    number = float(value)
    if not math.isfinite(number):
        raise DataError(f"streaming indicator received a non-finite {name}: {value!r}")
    return number


class SimpleMovingAverage(WindowValue[float]):
    """The mean of the last ``period`` values, with a running total like :func:`sma`."""

    __slots__ = ("_count", "_last", "_period", "_position", "_total", "_window")

    def __init__(self, period: int = 30) -> None:
        """Start empty with a window of ``period`` values."""
        self._period = check_period(period)
        self._window = [0.0] * self._period
        self._position = 0
        self._count = 0
        self._total = 0.0
        self._last = _NAN

    def update(self, value: float) -> float:
        """Add the newest value and return the average (NaN until ``period`` values)."""
        value = require_finite(value)
        period = self._period
        self._total += value
        self._window[self._position] = value
        self._position = (self._position + 1) % period
        if self._count < period - 1:
            self._count += 1
            return _NAN
        self._count = period
        self._last = self._total / period
        self._total -= self._window[self._position]
        return self._last


class ExponentialMovingAverage(WindowValue[float]):
    """Exponential smoothing seeded with the first ``period`` values' mean, like :func:`ema`."""

    __slots__ = ("_count", "_last", "_period", "_smoothing", "_total")

    def __init__(self, period: int = 30) -> None:
        """Start empty."""
        self._period = check_period(period)
        self._smoothing = ema_smoothing(self._period)
        self._count = 0
        self._total = 0.0
        self._last = _NAN

    def update(self, value: float) -> float:
        """Add the newest value and return the average (NaN until ``period`` values)."""
        value = require_finite(value)
        if self._count >= self._period:
            self._last = ((value - self._last) * self._smoothing) + self._last
            return self._last
        self._count += 1
        self._total += value
        if self._count == self._period:
            self._last = self._total / self._period
        return self._last


class WeightedMovingAverage(WindowValue[float]):
    """Weights ``1 .. period`` (newest heaviest) with running sums, like :func:`wma`."""

    __slots__ = (
        "_count",
        "_divider",
        "_last",
        "_period",
        "_plain_sum",
        "_position",
        "_trailing_value",
        "_weighted_sum",
        "_window",
    )

    def __init__(self, period: int = 30) -> None:
        """Start empty with a window of ``period`` values."""
        self._period = check_period(period)
        self._divider = (self._period * (self._period + 1)) // 2
        self._window = [0.0] * self._period
        self._position = 0
        self._count = 0
        self._plain_sum = 0.0
        self._weighted_sum = 0.0
        self._trailing_value = 0.0
        self._last = _NAN

    def update(self, value: float) -> float:
        """Add the newest value and return the average (NaN until ``period`` values)."""
        value = require_finite(value)
        period = self._period
        if period == 1:
            self._count = 1
            self._last = value
            return value
        self._window[self._position] = value
        self._position = (self._position + 1) % period
        self._plain_sum += value
        if self._count < period - 1:
            self._count += 1
            self._weighted_sum += value * self._count
            return _NAN
        self._count = period
        self._plain_sum -= self._trailing_value
        self._weighted_sum += value * period
        self._trailing_value = self._window[self._position]
        self._last = self._weighted_sum / self._divider
        self._weighted_sum -= self._plain_sum
        return self._last


class DoubleExponentialMovingAverage(LatestValue[float]):
    """``2 * EMA - EMA(EMA)`` from two chained EMAs, like :func:`dema`."""

    __slots__ = ("_first", "_last", "_period", "_second")

    def __init__(self, period: int = 30) -> None:
        """Start empty."""
        self._period = check_period(period)
        self._first = ExponentialMovingAverage(self._period)
        self._second = ExponentialMovingAverage(self._period)
        self._last = _NAN

    def update(self, value: float) -> float:
        """Add the newest value and return the DEMA (NaN for ``2 * (period - 1)`` values)."""
        value = require_finite(value)
        if self._period == 1:
            self._last = value
            return value
        first = self._first.update(value)
        if self._first.ready:
            second = self._second.update(first)
            if self._second.ready:
                self._last = (2.0 * first) - second
        return self._last

    @property
    def ready(self) -> bool:
        """Whether the second EMA has its seed."""
        return not math.isnan(self._last)


class TripleExponentialMovingAverage(LatestValue[float]):
    """``3 * EMA - 3 * EMA(EMA) + EMA(EMA(EMA))`` from three chained EMAs, like :func:`tema`."""

    __slots__ = ("_first", "_last", "_period", "_second", "_third")

    def __init__(self, period: int = 30) -> None:
        """Start empty."""
        self._period = check_period(period)
        self._first = ExponentialMovingAverage(self._period)
        self._second = ExponentialMovingAverage(self._period)
        self._third = ExponentialMovingAverage(self._period)
        self._last = _NAN

    def update(self, value: float) -> float:
        """Add the newest value and return the TEMA (NaN for ``3 * (period - 1)`` values)."""
        value = require_finite(value)
        if self._period == 1:
            self._last = value
            return value
        first = self._first.update(value)
        if not self._first.ready:
            return self._last
        second = self._second.update(first)
        if not self._second.ready:
            return self._last
        third = self._third.update(second)
        if self._third.ready:
            self._last = third + ((3.0 * first) - (3.0 * second))
        return self._last

    @property
    def ready(self) -> bool:
        """Whether the third EMA has its seed."""
        return not math.isnan(self._last)


class KaufmanAdaptiveMovingAverage(LatestValue[float]):
    """Kaufman's adaptive moving average (fast 2, slow 30), like :func:`kama`.

    Keeps the last ``period`` values in a ring buffer for the efficiency ratio's trailing value.
    """

    __slots__ = (
        "_count",
        "_flat_run",
        "_last",
        "_period",
        "_position",
        "_previous",
        "_trailing_value",
        "_volatility",
        "_window",
    )

    def __init__(self, period: int = 30) -> None:
        """Start empty."""
        self._period = check_period(period)
        self._window = [0.0] * self._period
        self._position = 0
        self._count = 0
        self._volatility = 0.0
        self._flat_run = 0
        self._previous = _NAN
        self._trailing_value = 0.0
        self._last = _NAN

    def update(self, value: float) -> float:
        """Add the newest value and return the average (NaN for the first ``period`` values)."""
        value = require_finite(value)
        period = self._period
        if period == 1:
            self._count = 1
            self._last = value
            return value
        count = self._count
        old = self._window[self._position]
        if count <= period:
            if count > 0:
                step = self._previous - value
                self._volatility += abs(step)
                self._flat_run = self._flat_run + 1 if step == 0.0 else 0
            if count == period:
                self._trailing_value = old
                self._last = self._previous
                self._advance(value, old)
        else:
            self._volatility -= abs(self._trailing_value - old)
            step = value - self._previous
            self._volatility += abs(step)
            self._flat_run = self._flat_run + 1 if step == 0.0 else 0
            if self._flat_run >= period:
                self._flat_run = period
                self._volatility = 0.0
            self._trailing_value = old
            self._advance(value, old)
        self._count = count + 1 if count <= period else count
        self._window[self._position] = value
        self._position = (self._position + 1) % period
        self._previous = value
        return self._last

    def _advance(self, value: float, old: float) -> None:
        change = value - old
        volatility = self._volatility
        ratio = 1.0 if volatility <= 0.0 or volatility <= change else abs(change / volatility)
        factor = (ratio * (KAMA_FASTEST - KAMA_SLOWEST)) + KAMA_SLOWEST
        factor *= factor
        self._last = ((value - self._last) * factor) + self._last

    @property
    def ready(self) -> bool:
        """Whether the first average has been produced."""
        return not math.isnan(self._last)
