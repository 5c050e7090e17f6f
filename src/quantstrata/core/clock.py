"""Injected time: core code asks a :class:`Clock` and never reads the system time itself.

Backtests and tests drive a :class:`SimulatedClock`; live trading uses :class:`LiveClock`. This is
the only module that may read the system clock.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Protocol, runtime_checkable

from quantstrata.core.errors import ConfigError, TimezoneError

__all__ = [
    "Clock",
    "LiveClock",
    "SimulatedClock",
    "datetime_from_ns",
    "ns_from_datetime",
    "parse_time_bound",
    "utc_bound",
]

_NS_PER_SECOND = 1_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ns_from_datetime(moment: datetime) -> int:
    """Return nanoseconds since the Unix epoch for a timezone-aware datetime."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ConfigError(f"datetime {moment.isoformat()} has no timezone; pass an aware datetime")
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * _NS_PER_SECOND + delta.microseconds * 1_000


def datetime_from_ns(nanoseconds: int) -> datetime:
    """Return the UTC datetime for nanoseconds since the epoch (microsecond precision)."""
    return _EPOCH + timedelta(microseconds=nanoseconds // 1_000)


def parse_time_bound(value: datetime | date | str, name: str) -> datetime | date:
    """Read a range bound: an aware datetime, a date, or ISO text (``2024-01-31[T09:30+00:00]``).

    A naive datetime is refused (its timezone would be a guess); a date stays a date so the
    caller decides whether it means the day's start or its end.
    """
    if isinstance(value, str):
        text = value.strip()
        try:
            value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        except ValueError:
            raise ConfigError(f"{name}={text!r} is not an ISO date or datetime") from None
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise TimezoneError(
                f"{name}={value.isoformat()} has no timezone; pass an aware datetime (e.g. UTC)"
            )
        return value.astimezone(UTC)
    if isinstance(value, date):
        return value
    raise ConfigError(f"{name}={value!r} is not a datetime, a date or an ISO string")


def utc_bound(value: datetime | date | str | None, name: str) -> datetime | None:
    """Return a range bound as an aware UTC datetime; a date means 00:00 UTC that day."""
    if value is None:
        return None
    bound = parse_time_bound(value, name)
    if isinstance(bound, datetime):
        return bound
    return datetime(bound.year, bound.month, bound.day, tzinfo=UTC)


@runtime_checkable
class Clock(Protocol):
    """A source of the current time in UTC."""

    def now_ns(self) -> int:
        """Return the current time as nanoseconds since the Unix epoch."""
        ...

    def now(self) -> datetime:
        """Return the current time as a UTC datetime."""
        ...


class LiveClock:
    """The wall clock, for live trading."""

    def now_ns(self) -> int:
        """Return the system time in nanoseconds since the epoch."""
        return time.time_ns()

    def now(self) -> datetime:
        """Return the system time as a UTC datetime."""
        return datetime_from_ns(self.now_ns())

    def __repr__(self) -> str:
        """Name the clock."""
        return "LiveClock()"


class SimulatedClock:
    """A clock that moves only when told to, and only forward, for backtests and tests."""

    __slots__ = ("_now_ns",)

    def __init__(self, start: datetime | int = 0) -> None:
        """Start at an aware datetime or at nanoseconds since the epoch."""
        self._now_ns = start if isinstance(start, int) else ns_from_datetime(start)

    def now_ns(self) -> int:
        """Return the simulated time in nanoseconds since the epoch."""
        return self._now_ns

    def now(self) -> datetime:
        """Return the simulated time as a UTC datetime."""
        return datetime_from_ns(self._now_ns)

    def set_time(self, moment: datetime | int) -> None:
        """Move the clock to ``moment``; moving backwards is an error."""
        target = moment if isinstance(moment, int) else ns_from_datetime(moment)
        if target < self._now_ns:
            raise ConfigError(
                f"simulated clock cannot move backwards (now {self._now_ns} ns, asked {target} ns)"
            )
        self._now_ns = target

    def advance(self, nanoseconds: int) -> None:
        """Move the clock forward by a non-negative number of nanoseconds."""
        if nanoseconds < 0:
            raise ConfigError(f"cannot advance the clock by a negative amount ({nanoseconds} ns)")
        self._now_ns += nanoseconds

    def __repr__(self) -> str:
        """Show the simulated time."""
        return f"SimulatedClock({self.now().isoformat()})"
