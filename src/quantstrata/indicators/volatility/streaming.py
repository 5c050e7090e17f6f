"""Volatility indicators updated one bar at a time, bit-identical to the batch forms.

Every class repeats its batch kernel's operations in the same order on plain Python floats, so
``update`` returns exactly the numbers the batch function gives for the same bars.
"""

from __future__ import annotations

import math
from collections import deque

from quantstrata.indicators._inputs import check_period
from quantstrata.indicators.definition import LatestValue, WindowValue
from quantstrata.indicators.moving_average.streaming import require_finite
from quantstrata.indicators.volatility._nb import (
    OUTLIER_RATIO,
    RESEED_FLOOR,
    RESEED_TRIGGER,
    RESEED_WINDOWS,
)
from quantstrata.indicators.volatility.batch import (
    BollingerBandsResult,
    DonchianResult,
    KeltnerResult,
    check_number,
)

__all__ = [
    "AverageTrueRange",
    "BollingerBands",
    "DonchianChannels",
    "KeltnerChannels",
    "NormalizedAverageTrueRange",
    "StandardDeviation",
    "TrueRange",
    "Variance",
    "true_range",
]

_NAN = math.nan


def true_range(high: float, low: float, previous_close: float) -> float:
    """Return the greatest of high-low, |prev close-high|, |prev close-low| (TA-Lib's order)."""
    greatest = high - low
    above = abs(previous_close - high)
    greatest = above if above > greatest else greatest
    below = abs(previous_close - low)
    return below if below > greatest else greatest


def _prices(high: float, low: float, close: float) -> tuple[float, float, float]:
    return (
        require_finite(high, "high"),
        require_finite(low, "low"),
        require_finite(close, "close"),
    )


class TrueRange(LatestValue[float]):
    """The true range of each bar, like :func:`~quantstrata.indicators.volatility.trange`."""

    __slots__ = ("_last", "_previous_close")

    def __init__(self) -> None:
        """Start without a previous close."""
        self._previous_close = _NAN
        self._last = _NAN

    def update(self, high: float, low: float, close: float) -> float:
        """Add a bar and return its true range (NaN for the first bar)."""
        high, low, close = _prices(high, low, close)
        if not math.isnan(self._previous_close):
            self._last = true_range(high, low, self._previous_close)
        self._previous_close = close
        return self._last

    @property
    def ready(self) -> bool:
        """Whether two bars have been seen."""
        return not math.isnan(self._last)


class AverageTrueRange(WindowValue[float]):
    """Wilder's ATR with TA-Lib's seeding, like :func:`~quantstrata.indicators.volatility.atr`."""

    __slots__ = ("_alpha", "_beta", "_count", "_last", "_period", "_previous_close", "_total")

    def __init__(self, period: int = 14) -> None:
        """Start empty."""
        self._period = check_period(period)
        self._beta = (self._period - 1) / self._period
        self._alpha = 1.0 - self._beta
        self._previous_close = _NAN
        self._count = 0
        self._total = 0.0
        self._last = _NAN

    def update(self, high: float, low: float, close: float) -> float:
        """Add a bar and return the ATR (NaN until ``period + 1`` bars)."""
        high, low, close = _prices(high, low, close)
        previous_close, self._previous_close = self._previous_close, close
        if math.isnan(previous_close):
            return self._last
        value = true_range(high, low, previous_close)
        if self._count >= self._period:
            self._last = self._alpha * value + self._beta * self._last
            return self._last
        self._count += 1
        self._total += value
        if self._count == self._period:
            self._last = self._total / self._period
        return self._last


class NormalizedAverageTrueRange(LatestValue[float]):
    """The ATR as a percentage of the close, like ``volatility.natr``."""

    __slots__ = ("_average", "_last")

    def __init__(self, period: int = 14) -> None:
        """Start empty."""
        self._average = AverageTrueRange(period)
        self._last = _NAN

    def update(self, high: float, low: float, close: float) -> float:
        """Add a bar and return ``atr / close * 100`` (0 for a zero close; NaN until ready)."""
        average = self._average.update(high, low, close)
        if self._average.ready:
            close = float(close)
            self._last = 0.0 if close == 0.0 else (average / close) * 100.0
        return self._last

    @property
    def ready(self) -> bool:
        """Whether the ATR is ready."""
        return self._average.ready


class Variance(WindowValue[float]):
    """Rolling population variance with TA-Lib's shifted sums, like ``volatility.var``.

    Keeps the window in a ring buffer: each update is O(1) except when the shift is re-anchored
    (an O(period) pass over the window, at least every 32 windows and whenever cancellation
    threatens), which is amortised O(1) on market data and never worse than O(period).
    """

    __slots__ = (
        "_count",
        "_countdown",
        "_inverse",
        "_last",
        "_period",
        "_position",
        "_shift",
        "_squares",
        "_total",
        "_window",
    )

    def __init__(self, period: int = 5) -> None:
        """Start empty with a window of ``period`` values."""
        self._period = check_period(period)
        self._inverse = 1.0 / self._period
        self._window = [0.0] * self._period
        self._position = 0
        self._count = 0
        self._shift = 0.0
        self._total = 0.0
        self._squares = 0.0
        self._countdown = RESEED_WINDOWS * self._period
        self._last = _NAN

    def update(self, value: float) -> float:
        """Add the newest value and return the variance (NaN until ``period`` values)."""
        value = require_finite(value)
        period = self._period
        if self._count == 0:
            self._shift = value
        self._window[self._position] = value
        deviation = value - self._shift
        self._total += deviation
        self._squares += deviation * deviation
        self._position = (self._position + 1) % period
        if self._count < period - 1:
            self._count += 1
            return _NAN
        self._count = period
        inverse = self._inverse
        mean = self._total * inverse
        variance = self._squares * inverse - mean * mean
        deviation = self._window[self._position] - self._shift
        self._total -= deviation
        departing = deviation * deviation
        self._squares -= departing
        self._countdown -= 1
        if (
            variance < RESEED_TRIGGER * (self._squares * inverse)
            or departing > OUTLIER_RATIO * self._squares
            or self._countdown <= 0
        ):
            self._countdown = RESEED_WINDOWS * period
            variance = self._reseed()
        self._last = variance
        return variance

    def _reseed(self) -> float:
        """Re-anchor the shift at the window mean (fresh two-pass) and return the variance."""
        period, inverse, window = self._period, self._inverse, self._window
        oldest = self._position
        ordered = [window[(oldest + offset) % period] for offset in range(period)]
        total = 0.0
        for item in ordered:
            total += item
        shift = total * inverse
        total = 0.0
        squares = 0.0
        for item in ordered:
            deviation = item - shift
            total += deviation
            squares += deviation * deviation
        mean = total * inverse
        variance = squares * inverse - mean * mean
        if variance < RESEED_FLOOR * (squares * inverse):
            variance = 0.0
        deviation = ordered[0] - shift
        self._shift = shift
        self._total = total - deviation
        self._squares = squares - deviation * deviation
        return variance


class StandardDeviation(LatestValue[float]):
    """``deviations`` × rolling population σ, like ``volatility.stddev``."""

    __slots__ = ("_deviations", "_last", "_variance")

    def __init__(self, period: int = 5, deviations: float = 1.0) -> None:
        """Start empty."""
        self._variance = Variance(check_period(period, minimum=2))
        self._deviations = check_number(deviations, "deviations")
        self._last = _NAN

    def update(self, value: float) -> float:
        """Add the newest value and return the scaled deviation (NaN until ``period`` values)."""
        variance = self._variance.update(value)
        if self._variance.ready:
            self._last = math.sqrt(variance) * self._deviations
        return self._last

    @property
    def ready(self) -> bool:
        """Whether ``period`` values have been seen."""
        return self._variance.ready


class BollingerBands(LatestValue[BollingerBandsResult]):
    """SMA ± deviations × population σ, like :func:`~quantstrata.indicators.volatility.bbands`."""

    __slots__ = ("_down", "_last", "_period", "_total", "_up", "_variance", "_window")

    def __init__(
        self, period: int = 20, deviations_up: float = 2.0, deviations_down: float = 2.0
    ) -> None:
        """Start empty."""
        self._period = check_period(period, minimum=2)
        self._up = check_number(deviations_up, "deviations_up")
        self._down = check_number(deviations_down, "deviations_down")
        self._variance = Variance(self._period)
        self._window: deque[float] = deque()
        self._total = 0.0
        self._last = BollingerBandsResult(_NAN, _NAN, _NAN)

    def update(self, value: float) -> BollingerBandsResult:
        """Add the newest close and return (upper, middle, lower) (NaN until ``period`` values)."""
        spread = self._variance.update(value)
        value = float(value)
        self._total += value
        self._window.append(value)
        if not self._variance.ready:
            return self._last
        average = self._total / self._period
        self._total -= self._window.popleft()
        deviation = math.sqrt(spread) if spread != 0.0 else 0.0
        self._last = BollingerBandsResult(
            average + deviation * self._up, average, average - deviation * self._down
        )
        return self._last

    @property
    def ready(self) -> bool:
        """Whether ``period`` values have been seen."""
        return self._variance.ready


class DonchianChannels(WindowValue[DonchianResult]):
    """Highest high and lowest low of the last ``period`` bars, like ``volatility.donchian``.

    Monotonic deques of ``(bar number, price)`` keep the window extremes in amortised O(1).
    """

    __slots__ = ("_count", "_highs", "_last", "_lows", "_period")

    def __init__(self, period: int = 20) -> None:
        """Start empty."""
        self._period = check_period(period)
        self._highs: deque[tuple[int, float]] = deque()
        self._lows: deque[tuple[int, float]] = deque()
        self._count = 0
        self._last = DonchianResult(_NAN, _NAN, _NAN)

    def update(self, high: float, low: float) -> DonchianResult:
        """Add a bar and return (upper, middle, lower) (NaN until ``period`` bars)."""
        high = require_finite(high, "high")
        low = require_finite(low, "low")
        index = self._count
        oldest = index - self._period + 1
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
            top, bottom = highs[0][1], lows[0][1]
            self._last = DonchianResult(top, (top + bottom) / 2.0, bottom)
        return self._last


class KeltnerChannels(LatestValue[KeltnerResult]):
    """EMA(close) ± multiplier × ATR, like :func:`~quantstrata.indicators.volatility.keltner`."""

    __slots__ = (
        "_average",
        "_count",
        "_last",
        "_multiplier",
        "_period",
        "_range",
        "_smoothing",
        "_total",
    )

    def __init__(self, period: int = 20, atr_period: int = 10, multiplier: float = 2.0) -> None:
        """Start empty."""
        self._period = check_period(period)
        self._smoothing = 2.0 / (self._period + 1)
        self._range = AverageTrueRange(check_period(atr_period, "atr_period"))
        self._multiplier = check_number(multiplier, "multiplier")
        self._count = 0
        self._total = 0.0
        self._average = _NAN
        self._last = KeltnerResult(_NAN, _NAN, _NAN)

    def update(self, high: float, low: float, close: float) -> KeltnerResult:
        """Add a bar and return (upper, middle, lower) (NaN until both parts are ready)."""
        width = self._range.update(high, low, close)
        close = float(close)
        if self._count >= self._period:
            self._average = ((close - self._average) * self._smoothing) + self._average
        else:
            self._count += 1
            self._total += close
            if self._count == self._period:
                self._average = self._total / self._period
        if self.ready:
            offset = self._multiplier * width
            self._last = KeltnerResult(
                self._average + offset, self._average, self._average - offset
            )
        return self._last

    @property
    def ready(self) -> bool:
        """Whether the EMA and the ATR are both ready."""
        return self._count >= self._period and self._range.ready
