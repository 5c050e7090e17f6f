"""Bar intervals such as ``1m``, ``5m``, ``1h``, ``1d``, ``1w`` and ``1mo``.

An :class:`Interval` parses the spellings users bring (``"1min"``, ``"60s"``, TickDB's ``"1M"``
for a month) into one canonical form, knows its fixed duration where it has one, and gives the
Polars duration string used by resampling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Self

from quantstrata.core.errors import ConfigError

__all__ = ["Interval", "IntervalUnit"]


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
