"""Moving averages updated one value at a time, identical to the batch forms."""

from __future__ import annotations

import math

from quantstrata.core.errors import DataError
from quantstrata.indicators._inputs import check_period
from quantstrata.indicators.definition import StreamingIndicator
from quantstrata.indicators.moving_average.batch import ema_smoothing

__all__ = ["ExponentialMovingAverage", "SimpleMovingAverage", "require_finite"]

_NAN = math.nan


def require_finite(value: float, name: str = "value") -> float:
    """Return ``value`` as a float, refusing NaN and infinity (streams must not carry gaps)."""
    number = float(value)
    if not math.isfinite(number):
        raise DataError(f"streaming indicator received a non-finite {name}: {value!r}")
    return number


class SimpleMovingAverage(StreamingIndicator):
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

    @property
    def ready(self) -> bool:
        """Whether ``period`` values have been seen."""
        return self._count >= self._period

    @property
    def value(self) -> float:
        """The latest average (NaN until ready)."""
        return self._last


class ExponentialMovingAverage(StreamingIndicator):
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

    @property
    def ready(self) -> bool:
        """Whether ``period`` values have been seen."""
        return self._count >= self._period

    @property
    def value(self) -> float:
        """The latest average (NaN until ready)."""
        return self._last
