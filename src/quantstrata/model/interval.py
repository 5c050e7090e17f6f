"""Bar intervals such as ``1m``, ``5m``, ``1h``, ``1d``, ``1w`` and ``1mo``.

An :class:`Interval` parses the spellings users bring (``"1min"``, ``"60s"``, TickDB's ``"1M"``
for a month) into one canonical form, knows its fixed duration where it has one, and gives the
Polars duration string used by resampling.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Self

import numpy as np
import numpy.typing as npt

from quantstrata.core.errors import ConfigError, DataError

__all__ = ["Interval", "IntervalUnit", "interval_from_times"]


class IntervalUnit(StrEnum):
    """The unit of an interval; months have no fixed length."""

    SECOND = "s"
    MINUTE = "m"
    HOUR = "h"
    DAY = "d"
    WEEK = "w"
    MONTH = "mo"


_UNIT_SPELLINGS: dict[str, IntervalUnit] = {
    "s": IntervalUnit.SECOND,
    "sec": IntervalUnit.SECOND,
    "second": IntervalUnit.SECOND,
    "seconds": IntervalUnit.SECOND,
    "m": IntervalUnit.MINUTE,
    "min": IntervalUnit.MINUTE,
    "minute": IntervalUnit.MINUTE,
    "minutes": IntervalUnit.MINUTE,
    "h": IntervalUnit.HOUR,
    "hour": IntervalUnit.HOUR,
    "hours": IntervalUnit.HOUR,
    "d": IntervalUnit.DAY,
    "day": IntervalUnit.DAY,
    "days": IntervalUnit.DAY,
    "w": IntervalUnit.WEEK,
    "week": IntervalUnit.WEEK,
    "weeks": IntervalUnit.WEEK,
    "M": IntervalUnit.MONTH,
    "mo": IntervalUnit.MONTH,
    "month": IntervalUnit.MONTH,
    "months": IntervalUnit.MONTH,
}
_SECONDS: dict[IntervalUnit, int] = {
    IntervalUnit.SECOND: 1,
    IntervalUnit.MINUTE: 60,
    IntervalUnit.HOUR: 3_600,
    IntervalUnit.DAY: 86_400,
    IntervalUnit.WEEK: 604_800,
}
_PATTERN = re.compile(r"^\s*(\d+)\s*([A-Za-z]+)\s*$")


@dataclass(frozen=True, slots=True, order=False)
class Interval:
    """A bar length: a positive count of a unit, e.g. ``Interval(5, IntervalUnit.MINUTE)``."""

    count: int
    unit: IntervalUnit

    def __post_init__(self) -> None:
        """Refuse a non-positive count."""
        if self.count < 1:
            raise ConfigError(f"an interval needs a positive count, got {self.count}")

    @classmethod
    def parse(cls, text: str | Interval) -> Self:
        """Parse ``"1m"``, ``"15min"``, ``"1h"``, ``"1d"``, ``"1w"``, ``"1mo"`` or ``"1M"`` (month).

        Lower-case ``m`` is a minute and upper-case ``M`` a month, as in TickDB; every other unit
        is case-insensitive.
        """
        if isinstance(text, Interval):
            return cls(text.count, text.unit)
        match = _PATTERN.match(text) if isinstance(text, str) else None
        if match is None:
            raise ConfigError(f"cannot read interval {text!r}; use forms like 1m, 5m, 1h, 1d, 1mo")
        count, unit_text = int(match.group(1)), match.group(2)
        unit = _UNIT_SPELLINGS.get(unit_text) or _UNIT_SPELLINGS.get(unit_text.lower())
        if unit_text == "M":
            unit = IntervalUnit.MONTH
        if unit is None:
            raise ConfigError(f"unknown interval unit {unit_text!r} in {text!r}")
        return cls(count, unit)

    @property
    def is_fixed(self) -> bool:
        """Whether every bar of this interval has the same length (months do not)."""
        return self.unit is not IntervalUnit.MONTH

    @property
    def duration(self) -> timedelta:
        """The fixed length of one bar; months raise :class:`ConfigError`."""
        return timedelta(seconds=self.seconds)

    @property
    def bar_length(self) -> timedelta:
        """The length a simulated exchange gives one bar: :attr:`duration`, zero for months."""
        return self.duration if self.is_fixed else timedelta(0)

    @property
    def seconds(self) -> int:
        """The fixed length of one bar in seconds; months raise :class:`ConfigError`."""
        if not self.is_fixed:
            raise ConfigError(f"interval {self} has no fixed length")
        return self.count * _SECONDS[self.unit]

    @property
    def nanoseconds(self) -> int:
        """The fixed length of one bar in nanoseconds."""
        return self.seconds * 1_000_000_000

    def to_polars(self) -> str:
        """Return the Polars duration string (``"5m"``, ``"1h"``, ``"1mo"``)."""
        return f"{self.count}{self.unit.value}"

    def is_multiple_of(self, finer: Interval) -> bool:
        """Whether bars of ``finer`` tile bars of this interval exactly (resampling is possible)."""
        if self.unit is IntervalUnit.MONTH:
            if finer.unit is IntervalUnit.MONTH:
                return self.count % finer.count == 0
            return finer.is_fixed and 86_400 % finer.seconds == 0
        if not finer.is_fixed:
            return False
        return self.seconds % finer.seconds == 0 and self.seconds >= finer.seconds

    def __str__(self) -> str:
        """Show the canonical spelling, e.g. ``1h``."""
        return self.to_polars()


_NS_PER_SECOND = 1_000_000_000
_NS_PER_DAY = 86_400 * _NS_PER_SECOND
_MONTH_MIN_NS = 28 * _NS_PER_DAY
_UNITS_LARGEST_FIRST = (
    IntervalUnit.WEEK,
    IntervalUnit.DAY,
    IntervalUnit.HOUR,
    IntervalUnit.MINUTE,
    IntervalUnit.SECOND,
)


def interval_from_times(times: Iterable[npt.NDArray[np.int64]]) -> Interval | None:
    """Return the bar interval of timestamps, one array of UTC nanoseconds per symbol.

    The rule, the only one in quantstrata: the **most common positive step** between consecutive
    bars of one symbol (ties go to the smallest). Why this one and not another:

    * the smallest step is fooled by one stray bar (a bar at 09:37 among 5-minute bars);
    * the median step is fooled by gaps (hourly equity bars with nights, weekends and holes
      have many long steps; with enough of them the median lands on a gap);
    * the most common step is the grid the bars were made on as long as most bars are on it.

    Zero steps (a duplicated timestamp) are not steps; each array is sorted first, and steps
    never join two symbols. A most common step of 28 days or more is counted in calendar months
    (bars on the first or last day of each month have steps of 28 to 31 days) unless it is a
    whole number of weeks between bars not on the first of a month. Other steps become the
    largest of weeks, days, hours, minutes or seconds that expresses them exactly.

    Returns ``None`` when no symbol has two bars at different times; raises
    :class:`~quantstrata.core.errors.DataError` when the step is not a whole number of seconds.
    """
    arrays, steps = _ascending_steps([np.asarray(part, dtype=np.int64) for part in times])
    positive = steps if steps.shape[0] and steps.min() > 0 else steps[steps > 0]
    if positive.shape[0] == 0:
        return None
    step = _most_common(positive)
    week_ns = Interval(1, IntervalUnit.WEEK).nanoseconds
    if step >= _MONTH_MIN_NS and (step % week_ns != 0 or _all_month_starts(arrays)):
        return Interval(_most_common_month_step(arrays), IntervalUnit.MONTH)
    if step % _NS_PER_SECOND != 0:
        raise DataError(
            f"bars are most often {step} ns apart, which is not a whole number of seconds; "
            "pass the interval explicitly"
        )
    unit = next(u for u in _UNITS_LARGEST_FIRST if step % Interval(1, u).nanoseconds == 0)
    return Interval(step // Interval(1, unit).nanoseconds, unit)


def _ascending_steps(
    arrays: list[npt.NDArray[np.int64]],
) -> tuple[list[npt.NDArray[np.int64]], npt.NDArray[np.int64]]:
    """Return each array sorted (no copy when it already is) and their steps, joined.

    The steps are taken first: an array is sorted when none is negative, so the usual case (one
    array, in order: a backtest's bar times) makes one pass and no copy.
    """
    ordered: list[npt.NDArray[np.int64]] = []
    steps: list[npt.NDArray[np.int64]] = []
    for times in arrays:
        step = np.diff(times)
        in_order = times
        if step.shape[0] and step.min() < 0:
            in_order = np.sort(times)
            step = np.diff(in_order)
        ordered.append(in_order)
        if step.shape[0]:
            steps.append(step)
    if len(steps) == 1:
        return ordered, steps[0]
    return ordered, np.concatenate(steps) if steps else np.empty(0, dtype=np.int64)


def _most_common(steps: npt.NDArray[np.int64]) -> int:
    """Return the most frequent value; ``np.unique`` sorts, so a tie goes to the smallest."""
    smallest = steps.min()
    if 2 * int(np.count_nonzero(steps == smallest)) > steps.shape[0]:
        return int(smallest)  # most steps are the smallest one (regular bars): no sort needed
    values, counts = np.unique(steps, return_counts=True)
    return int(values[int(np.argmax(counts))])


def _month_index(times: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    return times.astype("datetime64[ns]").astype("datetime64[M]").astype(np.int64)


def _all_month_starts(arrays: list[npt.NDArray[np.int64]]) -> bool:
    for times in arrays:
        starts = _month_index(times).astype("datetime64[M]").astype("datetime64[ns]")
        if not np.array_equal(starts.astype(np.int64), times):
            return False
    return True


def _most_common_month_step(arrays: list[npt.NDArray[np.int64]]) -> int:
    steps = np.concatenate([np.diff(_month_index(times)) for times in arrays])
    positive = steps[steps > 0]
    return _most_common(positive) if positive.shape[0] else 1
