"""Volume indicators updated one bar at a time, identical to the batch forms bit for bit."""

from __future__ import annotations

import math
from collections.abc import Hashable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import numpy as np

from quantstrata.core.errors import DataError, TimezoneError
from quantstrata.indicators._inputs import check_period
from quantstrata.indicators.definition import LatestValue, StreamingIndicator
from quantstrata.indicators.moving_average.streaming import require_finite
from quantstrata.indicators.volume._nb import TA_EPSILON
from quantstrata.indicators.volume.batch import check_timezone

__all__ = [
    "AccumulationDistribution",
    "ChaikinOscillator",
    "MoneyFlowIndex",
    "OnBalanceVolume",
    "VolumeWeightedAveragePrice",
]

_NAN = math.nan
_NO_SESSION: Hashable = object()


def _money_flow_volume(high: float, low: float, close: float, volume: float) -> float:
    spread = high - low
    if spread > 0.0:
        return (close - low - (high - close)) / spread * volume
    return 0.0


def _bar(high: float, low: float, close: float, volume: float) -> tuple[float, float, float, float]:
    return (
        require_finite(high, "high"),
        require_finite(low, "low"),
        require_finite(close, "close"),
        require_finite(volume, "volume"),
    )


class OnBalanceVolume(LatestValue[float]):
    """On-balance volume, starting at the first bar's volume like :func:`obv`."""

    __slots__ = ("_last", "_previous")

    def __init__(self) -> None:
        """Start empty."""
        self._previous = _NAN
        self._last = _NAN

    def update(self, close: float, volume: float) -> float:
        """Add one bar and return the running total."""
        close = require_finite(close, "close")
        volume = require_finite(volume, "volume")
        if math.isnan(self._last):
            self._last = volume
        elif close > self._previous:
            self._last += volume
        elif close < self._previous:
            self._last -= volume
        self._previous = close
        return self._last

    @property
    def ready(self) -> bool:
        """Whether a bar has been seen."""
        return not math.isnan(self._last)


class AccumulationDistribution(StreamingIndicator):
    """The Chaikin accumulation/distribution line, like :func:`ad`."""

    __slots__ = ("_count", "_total")

    def __init__(self) -> None:
        """Start empty."""
        self._total = 0.0
        self._count = 0

    def update(self, high: float, low: float, close: float, volume: float) -> float:
        """Add one bar and return the line's value."""
        self._total += _money_flow_volume(*_bar(high, low, close, volume))
        self._count += 1
        return self._total

    @property
    def ready(self) -> bool:
        """Whether a bar has been seen."""
        return self._count > 0

    @property
    def value(self) -> float:
        """The latest value (NaN before the first bar)."""
        return self._total if self._count else _NAN


class ChaikinOscillator(LatestValue[float]):
    """EMA(fast) minus EMA(slow) of the A/D line with TA-Lib's seeding, like :func:`adosc`."""

    __slots__ = (
        "_count",
        "_fast",
        "_fast_k",
        "_first",
        "_last",
        "_slow",
        "_slow_k",
        "_total",
    )

    def __init__(self, fast_period: int = 3, slow_period: int = 10) -> None:
        """Start empty with the two EMA periods."""
        fast_period = check_period(fast_period, "fast_period", minimum=2)
        slow_period = check_period(slow_period, "slow_period", minimum=2)
        self._fast_k = 2.0 / (fast_period + 1.0)
        self._slow_k = 2.0 / (slow_period + 1.0)
        self._first = max(fast_period, slow_period) - 1
        self._count = 0
        self._total = 0.0
        self._fast = 0.0
        self._slow = 0.0
        self._last = _NAN

    def update(self, high: float, low: float, close: float, volume: float) -> float:
        """Add one bar and return the oscillator (NaN for the first ``max(fast, slow) - 1``)."""
        self._total += _money_flow_volume(*_bar(high, low, close, volume))
        total = self._total
        if self._count == 0:
            self._fast = total
            self._slow = total
        else:
            self._fast = self._fast_k * total + (1.0 - self._fast_k) * self._fast
            self._slow = self._slow_k * total + (1.0 - self._slow_k) * self._slow
            if self._count >= self._first:
                self._last = self._fast - self._slow
        self._count += 1
        return self._last

    @property
    def ready(self) -> bool:
        """Whether ``max(fast, slow)`` bars have been seen."""
        return self._count > self._first


class MoneyFlowIndex(LatestValue[float]):
    """The money flow index with TA-Lib's tie and empty-window rules, like :func:`mfi`."""

    __slots__ = (
        "_count",
        "_last",
        "_negative",
        "_negative_ring",
        "_null_run",
        "_period",
        "_positive",
        "_positive_ring",
        "_previous",
        "_slot",
    )

    def __init__(self, period: int = 14) -> None:
        """Start empty with a window of ``period`` typical-price changes."""
        self._period = check_period(period, minimum=2)
        self._positive_ring = [0.0] * self._period
        self._negative_ring = [0.0] * self._period
        self._slot = 0
        self._positive = 0.0
        self._negative = 0.0
        self._null_run = 0
        self._previous = _NAN
        self._count = 0
        self._last = _NAN

    def update(self, high: float, low: float, close: float, volume: float) -> float:
        """Add one bar and return the index (NaN for the first ``period`` bars)."""
        high, low, close, volume = _bar(high, low, close, volume)
        typical = (high + low + close) / 3.0
        self._count += 1
        if self._count == 1:
            self._previous = typical
            return self._last
        slot = self._slot
        positive = self._positive - self._positive_ring[slot]
        negative = self._negative - self._negative_ring[slot]
        change = typical - self._previous
        scale = abs(typical) + abs(self._previous)
        self._previous = typical
        flow = 0.0 if abs(change) <= TA_EPSILON * scale else typical * volume
        positive_flow = 0.0 if change < 0.0 else flow
        negative_flow = flow if change < 0.0 else 0.0
        self._positive_ring[slot] = positive_flow
        self._negative_ring[slot] = negative_flow
        positive += positive_flow
        negative += negative_flow
        self._null_run = self._null_run + 1 if flow == 0.0 else 0
        if self._null_run >= self._period:
            self._null_run = self._period
            positive = 0.0
            negative = 0.0
        self._positive = positive
        self._negative = negative
        self._slot = 0 if slot + 1 == self._period else slot + 1
        if self._count > self._period:
            self._last = _mfi_ratio(positive, negative)
        return self._last

    @property
    def ready(self) -> bool:
        """Whether ``period + 1`` bars have been seen."""
        return self._count > self._period


def _mfi_ratio(positive: float, negative: float) -> float:
    total = positive + negative
    clamped = 0.0 if positive < 0.0 else min(positive, total)
    if total <= 0.0:
        return 0.0
    return 100.0 * (clamped / total)


class VolumeWeightedAveragePrice(LatestValue[float]):
    """Session-anchored VWAP, reset when the session id changes, like :func:`vwap`.

    ``session`` is any hashable id; an aware :class:`~datetime.datetime` (or NumPy
    ``datetime64``, read as UTC) is reduced to its date in ``timezone``, as the batch form does.
    """

    __slots__ = ("_last", "_session", "_total", "_weighted", "_zone")

    def __init__(self, timezone: str = "UTC") -> None:
        """Start empty; timestamps are grouped by calendar date in ``timezone``."""
        self._zone = check_timezone(timezone)
        self._session: Hashable = _NO_SESSION
        self._weighted = 0.0
        self._total = 0.0
        self._last = _NAN

    def update(
        self, high: float, low: float, close: float, volume: float, session: Hashable
    ) -> float:
        """Add one bar of ``session`` and return the VWAP (NaN while the session has no volume)."""
        high, low, close, volume = _bar(high, low, close, volume)
        key = _session_key(session, self._zone)
        if self._session is _NO_SESSION or key != self._session:
            self._session = key
            self._weighted = 0.0
            self._total = 0.0
        self._weighted += (high + low + close) / 3.0 * volume
        self._total += volume
        self._last = self._weighted / self._total if self._total > 0.0 else _NAN
        return self._last

    @property
    def ready(self) -> bool:
        """Whether the current session has volume, so the value is defined."""
        return not math.isnan(self._last)


def _session_key(session: Hashable, zone: ZoneInfo) -> Hashable:
    if isinstance(session, np.datetime64):
        moment = session.astype("datetime64[us]").item()
        if not isinstance(moment, datetime):
            raise DataError(f"vwap session timestamp {session!r} is missing or out of range")
        return moment.replace(tzinfo=UTC).astimezone(zone).date()
    if isinstance(session, datetime):
        if session.utcoffset() is None:
            raise TimezoneError(f"vwap session timestamp {session!r} has no time zone")
        return session.astimezone(zone).date()
    if isinstance(session, date):
        return session
    if isinstance(session, np.generic):
        plain: Hashable = session.item()
        return plain
    return session
