"""Trend indicators updated one bar at a time, bit-identical to the batch forms.

Every class repeats its batch kernel's operations in the same order on plain Python floats, so
``update`` returns exactly the numbers the batch function gives for the same bars.
"""

from __future__ import annotations

import math
from collections import deque

from quantstrata.indicators._inputs import check_period
from quantstrata.indicators.definition import LatestValue, StreamingIndicator, WindowValue
from quantstrata.indicators.moving_average.streaming import require_finite
from quantstrata.indicators.trend._nb import CCI_SCALE, EPSILON, RESEED_WINDOWS
from quantstrata.indicators.trend.batch import (
    AroonResult,
    DirectionalMovementResult,
    check_acceleration,
)
from quantstrata.indicators.volatility.streaming import true_range

__all__ = [
    "Aroon",
    "AroonOscillator",
    "AverageDirectionalIndex",
    "CommodityChannelIndex",
    "DirectionalMovementIndex",
    "LinearRegressionSlope",
    "MinusDirectionalIndicator",
    "ParabolicStopAndReverse",
    "PlusDirectionalIndicator",
]

_NAN = math.nan


def _directional_movement(
    high: float, low: float, previous_high: float, previous_low: float
) -> tuple[float, float]:
    up = high - previous_high
    down = previous_low - low
    minus = down if (down - up > 0.0 and down > 0.0) else 0.0
    plus = up if (up - down > 0.0 and up > 0.0) else 0.0
    return plus, minus


class DirectionalMovementIndex(LatestValue[DirectionalMovementResult]):
    """ADX, +DI and -DI with TA-Lib's Wilder sums, like :func:`~quantstrata.indicators.trend.dmi`.

    ``update`` returns a :class:`DirectionalMovementResult`; the DIs are valid after
    ``period + 1`` bars and the ADX after ``2·period`` bars (NaN before).
    """

    __slots__ = (
        "_average",
        "_count",
        "_last",
        "_minus_total",
        "_period",
        "_plus_total",
        "_previous",
        "_range_total",
        "_total_dx",
    )

    def __init__(self, period: int = 14) -> None:
        """Start empty."""
        self._period = check_period(period, minimum=2)
        self._previous = (_NAN, _NAN, _NAN)
        self._count = 0
        self._plus_total = self._minus_total = self._range_total = 0.0
        self._total_dx = 0.0
        self._average = _NAN
        self._last = DirectionalMovementResult(_NAN, _NAN, _NAN)

    def update(self, high: float, low: float, close: float) -> DirectionalMovementResult:
        """Add a bar and return (adx, plus_di, minus_di)."""
        high = require_finite(high, "high")
        low = require_finite(low, "low")
        close = require_finite(close, "close")
        previous_high, previous_low, previous_close = self._previous
        self._previous = (high, low, close)
        bar, period = self._count, self._period
        self._count += 1
        if bar == 0:
            return self._last
        plus, minus = _directional_movement(high, low, previous_high, previous_low)
        value = true_range(high, low, previous_close)
        if bar < period:
            self._plus_total += plus
            self._minus_total += minus
            self._range_total += value
            return self._last
        self._minus_total -= self._minus_total / period
        self._plus_total -= self._plus_total / period
        self._minus_total += minus
        self._plus_total += plus
        self._range_total = self._range_total - self._range_total / period + value
        self._last = self._smooth(bar)
        return self._last

    def _smooth(self, bar: int) -> DirectionalMovementResult:
        period = self._period
        plus_value = minus_value = 0.0
        if self._range_total > 0.0:
            minus_value = 100.0 * (self._minus_total / self._range_total)
            plus_value = 100.0 * (self._plus_total / self._range_total)
            both = minus_value + plus_value
            if both >= EPSILON:
                dx = 100.0 * (abs(minus_value - plus_value) / both)
                if bar <= 2 * period - 1:
                    self._total_dx += dx
                else:
                    self._average = (self._average * (period - 1) + dx) / period
        if bar == 2 * period - 1:
            self._average = self._total_dx / period
        average = self._average if bar >= 2 * period - 1 else _NAN
        return DirectionalMovementResult(average, plus_value, minus_value)

    @property
    def ready(self) -> bool:
        """Whether the ADX is valid (``2·period`` bars seen)."""
        return self._count >= 2 * self._period


class _DirectionalPart(StreamingIndicator):
    """One output of :class:`DirectionalMovementIndex` as a float."""

    __slots__ = ("_system",)
    _field = 0

    def __init__(self, period: int = 14) -> None:
        """Start empty."""
        self._system = DirectionalMovementIndex(period)

    def update(self, high: float, low: float, close: float) -> float:
        """Add a bar and return this output (NaN until ready)."""
        return float(self._system.update(high, low, close)[self._field])

    @property
    def ready(self) -> bool:
        """Whether this output is valid."""
        return not math.isnan(self.value)

    @property
    def value(self) -> float:
        """The latest value (NaN until ready)."""
        return float(self._system.value[self._field])


class AverageDirectionalIndex(_DirectionalPart):
    """The ADX alone, like :func:`~quantstrata.indicators.trend.adx`."""

    __slots__ = ()
    _field = 0


class PlusDirectionalIndicator(_DirectionalPart):
    """+DI alone, like :func:`~quantstrata.indicators.trend.plus_di`."""

    __slots__ = ()
    _field = 1


class MinusDirectionalIndicator(_DirectionalPart):
    """-DI alone, like :func:`~quantstrata.indicators.trend.minus_di`."""

    __slots__ = ()
    _field = 2


class Aroon(LatestValue[AroonResult]):
    """Aroon down and up, like :func:`~quantstrata.indicators.trend.aroon`.

    Monotonic deques of ``(bar number, price)`` track the window extremes in amortised O(1);
    equal prices push older entries out, so the most recent extreme counts (TA-Lib's rule).
    """

    __slots__ = ("_count", "_factor", "_highs", "_last", "_lows", "_oscillator", "_period")

    def __init__(self, period: int = 14) -> None:
        """Start empty."""
        self._period = check_period(period, minimum=2)
        self._factor = 100.0 / self._period
        self._highs: deque[tuple[int, float]] = deque()
        self._lows: deque[tuple[int, float]] = deque()
        self._count = 0
        self._oscillator = _NAN
        self._last = AroonResult(_NAN, _NAN)

    def update(self, high: float, low: float) -> AroonResult:
        """Add a bar and return (down, up) (NaN until ``period + 1`` bars)."""
        high = require_finite(high, "high")
        low = require_finite(low, "low")
        index, period = self._count, self._period
        oldest = index - period
        highs, lows = self._highs, self._lows
        if highs and highs[0][0] < oldest:
            highs.popleft()
        while highs and highs[-1][1] <= high:
            highs.pop()
        highs.append((index, high))
        if lows and lows[0][0] < oldest:
            lows.popleft()
        while lows and lows[-1][1] >= low:
            lows.pop()
        lows.append((index, low))
        self._count += 1
        if oldest >= 0:
            highest, lowest = highs[0][0], lows[0][0]
            factor = self._factor
            self._oscillator = factor * (highest - lowest)
            self._last = AroonResult(
                factor * (period - (index - lowest)), factor * (period - (index - highest))
            )
        return self._last

    @property
    def ready(self) -> bool:
        """Whether ``period + 1`` bars have been seen."""
        return self._count > self._period

    @property
    def oscillator(self) -> float:
        """The latest Aroon oscillator (NaN until ready)."""
        return self._oscillator


class AroonOscillator(StreamingIndicator):
    """Aroon up minus down, like :func:`~quantstrata.indicators.trend.aroonosc`."""

    __slots__ = ("_aroon",)

    def __init__(self, period: int = 14) -> None:
        """Start empty."""
        self._aroon = Aroon(period)

    def update(self, high: float, low: float) -> float:
        """Add a bar and return the oscillator (NaN until ``period + 1`` bars)."""
        self._aroon.update(high, low)
        return self._aroon.oscillator

    @property
    def ready(self) -> bool:
        """Whether ``period + 1`` bars have been seen."""
        return self._aroon.ready

    @property
    def value(self) -> float:
        """The latest oscillator (NaN until ready)."""
        return self._aroon.oscillator


class CommodityChannelIndex(WindowValue[float]):
    """The CCI, like :func:`~quantstrata.indicators.trend.cci`.

    Complexity: O(period) time per update, O(period) memory. The mean absolute deviation
    around the *current* window mean has no running form (every deviation changes when the mean
    moves), so each update re-sums the ``period``-value ring buffer twice, exactly as TA-Lib
    does; the cost is bounded by the period and independent of the stream's length.
    """

    __slots__ = ("_count", "_last", "_period", "_position", "_ring")

    def __init__(self, period: int = 14) -> None:
        """Start empty."""
        self._period = check_period(period, minimum=2)
        self._ring = [0.0] * self._period
        self._position = 0
        self._count = 0
        self._last = _NAN

    def update(self, high: float, low: float, close: float) -> float:
        """Add a bar and return the CCI (NaN until ``period`` bars)."""
        high = require_finite(high, "high")
        low = require_finite(low, "low")
        close = require_finite(close, "close")
        typical = (high + low + close) / 3
        ring, period = self._ring, self._period
        ring[self._position] = typical
        self._position = (self._position + 1) % period
        self._count += 1
        if self._count < period:
            return self._last
        average = 0.0
        for item in ring:
            average += item
        average /= period
        deviation = 0.0
        for item in ring:
            deviation += abs(item - average)
        deviation /= period
        distance = typical - average
        level = EPSILON * abs(average)
        if abs(distance) <= level or abs(deviation) <= level:
            self._last = 0.0
        else:
            self._last = distance / (CCI_SCALE * deviation)
        return self._last


class ParabolicStopAndReverse(LatestValue[float]):
    """Wilder's Parabolic SAR with TA-Lib's start-up, like ``trend.sar``."""

    __slots__ = (
        "_acceleration",
        "_count",
        "_extreme",
        "_factor",
        "_first",
        "_is_long",
        "_last",
        "_maximum",
        "_new_high",
        "_new_low",
        "_sar",
    )

    def __init__(self, acceleration: float = 0.02, maximum: float = 0.2) -> None:
        """Start empty."""
        acceleration, maximum = check_acceleration(acceleration, maximum)
        self._acceleration = maximum if acceleration > maximum else acceleration
        self._maximum = maximum
        self._factor = self._acceleration
        self._count = 0
        self._first = (_NAN, _NAN)
        self._is_long = True
        self._extreme = self._sar = _NAN
        self._new_high = self._new_low = _NAN
        self._last = _NAN

    def update(self, high: float, low: float) -> float:
        """Add a bar and return the SAR for it (NaN for the first bar)."""
        high = require_finite(high, "high")
        low = require_finite(low, "low")
        self._count += 1
        if self._count == 1:
            self._first = (high, low)
            return self._last
        if self._count == 2:
            first_high, first_low = self._first
            _, minus = _directional_movement(high, low, first_high, first_low)
            self._is_long = not minus > 0.0
            self._extreme = high if self._is_long else low
            self._sar = first_low if self._is_long else first_high
            self._new_high, self._new_low = high, low
        self._last = self._step(high, low)
        return self._last

    def _step(self, high: float, low: float) -> float:
        previous_high, previous_low = self._new_high, self._new_low
        self._new_high, self._new_low = high, low
        sar, extreme = self._sar, self._extreme
        if self._is_long:
            if low <= sar:
                self._is_long = False
                output = _at_least(extreme, previous_high, high)
                self._factor = self._acceleration
                self._extreme = low
                sar = output + self._factor * (low - output)
                self._sar = _at_least(sar, previous_high, high)
                return output
            if high > extreme:
                self._extreme = extreme = high
                self._factor = self._capped(self._factor + self._acceleration)
            self._sar = _at_most(sar + self._factor * (extreme - sar), previous_low, low)
            return sar
        if high >= sar:
            self._is_long = True
            output = _at_most(extreme, previous_low, low)
            self._factor = self._acceleration
            self._extreme = high
            sar = output + self._factor * (high - output)
            self._sar = _at_most(sar, previous_low, low)
            return output
        if low < extreme:
            self._extreme = extreme = low
            self._factor = self._capped(self._factor + self._acceleration)
        self._sar = _at_least(sar + self._factor * (extreme - sar), previous_high, high)
        return sar

    def _capped(self, value: float) -> float:
        return self._maximum if value > self._maximum else value

    @property
    def ready(self) -> bool:
        """Whether two bars have been seen."""
        return self._count >= 2


def _at_least(value: float, first: float, second: float) -> float:
    value = first if value < first else value
    return second if value < second else value


def _at_most(value: float, first: float, second: float) -> float:
    value = first if value > first else value
    return second if value > second else value


class LinearRegressionSlope(WindowValue[float]):
    """Least-squares slope of the last ``period`` values, like ``trend.linearreg_slope``.

    O(1) sliding sums; every 32 windows they are rebuilt from the ring buffer (an O(period)
    pass), so the cost is amortised O(1) and the numbers equal the batch form's.
    """

    __slots__ = (
        "_count",
        "_countdown",
        "_divisor",
        "_last",
        "_period",
        "_position",
        "_ring",
        "_sum_x",
        "_sum_xy",
        "_sum_y",
    )

    def __init__(self, period: int = 14) -> None:
        """Start empty."""
        self._period = period = check_period(period, minimum=2)
        self._sum_x = period * (period - 1) * 0.5
        sum_x_squared = float(period * (period - 1) * (2 * period - 1) // 6)
        self._divisor = self._sum_x * self._sum_x - period * sum_x_squared
        self._ring = [0.0] * period
        self._position = 0
        self._count = 0
        self._sum_y = self._sum_xy = 0.0
        self._countdown = RESEED_WINDOWS * period
        self._last = _NAN

    def update(self, value: float) -> float:
        """Add the newest value and return the slope (NaN until ``period`` values)."""
        value = require_finite(value)
        period, ring = self._period, self._ring
        trailing = ring[self._position]
        ring[self._position] = value
        self._position = (self._position + 1) % period
        self._count += 1
        if self._count < period:
            return self._last
        if self._count > period:
            self._countdown -= 1
        if self._count == period or self._countdown <= 0:
            self._countdown = RESEED_WINDOWS * period
            self._rebuild()
        else:
            self._sum_xy = self._sum_xy + self._sum_y - float(period) * trailing
            self._sum_y = self._sum_y - trailing + value
        self._last = (period * self._sum_xy - self._sum_x * self._sum_y) / self._divisor
        return self._last

    def _rebuild(self) -> None:
        period, ring, oldest = self._period, self._ring, self._position
        sum_y = sum_xy = 0.0
        for back in range(period - 1, -1, -1):
            item = ring[(oldest + period - 1 - back) % period]
            sum_y += item
            sum_xy += float(back) * item
        self._sum_y, self._sum_xy = sum_y, sum_xy
