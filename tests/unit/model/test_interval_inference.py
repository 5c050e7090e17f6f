"""The one rule that reads a bar interval from timestamps: the most common positive step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from quantstrata.core.errors import DataError
from quantstrata.model.interval import Interval, IntervalUnit, interval_from_times

_DAY = 86_400 * 10**9
_HOUR = 3_600 * 10**9
_MINUTE = 60 * 10**9


def _ns(*moments: datetime) -> np.ndarray:
    return np.array([int(moment.timestamp()) * 10**9 for moment in moments], dtype=np.int64)


def _weekdays(start: datetime, count: int) -> list[datetime]:
    days, moment = [], start
    while len(days) < count:
        if moment.weekday() < 5:
            days.append(moment)
        moment += timedelta(days=1)
    return days


def test_daily_bars_with_weekends_are_daily() -> None:
    times = _ns(*_weekdays(datetime(2024, 1, 5, tzinfo=UTC), 30))  # starts on a Friday

    assert interval_from_times([times]) == Interval(1, IntervalUnit.DAY)


def test_hourly_bars_with_overnight_gaps_and_holes_are_hourly() -> None:
    start = datetime(2024, 3, 4, 14, tzinfo=UTC)
    hours = [start + timedelta(days=d, hours=h) for d in range(5) for h in range(7)]
    del hours[10:13]  # a hole of three bars

    assert interval_from_times([_ns(*hours)]) == Interval(1, IntervalUnit.HOUR)


def test_one_bar_or_none_gives_none() -> None:
    one = _ns(datetime(2024, 1, 1, tzinfo=UTC))

    assert interval_from_times([one]) is None
    assert interval_from_times([]) is None
    assert interval_from_times([one, one]) is None  # two symbols, one bar each


def test_a_duplicate_timestamp_is_not_a_step() -> None:
    times = np.array([0, _MINUTE, _MINUTE, 2 * _MINUTE, 3 * _MINUTE], dtype=np.int64)

    assert interval_from_times([times]) == Interval(1, IntervalUnit.MINUTE)
    assert interval_from_times([np.array([5, 5], dtype=np.int64)]) is None


def test_one_stray_short_step_does_not_win() -> None:
    """The smallest step would say 1m here; the median of a gappy series would not be 5m."""
    times = np.arange(0, 100 * 5 * _MINUTE, 5 * _MINUTE, dtype=np.int64)
    times = np.sort(np.append(times, 7 * _MINUTE))

    assert interval_from_times([times]) == Interval(5, IntervalUnit.MINUTE)


def test_many_gaps_do_not_move_the_step() -> None:
    """Half the steps are gaps of different sizes: the median would land on a gap."""
    steps = [_HOUR, 5 * _HOUR, _HOUR, 9 * _HOUR, _HOUR, 17 * _HOUR, _HOUR, 3 * _HOUR] * 10
    times = np.cumsum(np.array([0, *steps], dtype=np.int64))

    assert interval_from_times([times]) == Interval(1, IntervalUnit.HOUR)


def test_irregular_steps_tie_to_the_smallest() -> None:
    times = np.cumsum(np.array([0, 90, 150, 90, 150, 7], dtype=np.int64) * 10**9)

    assert interval_from_times([times]) == Interval(90, IntervalUnit.SECOND)


def test_steps_are_counted_within_a_symbol_only() -> None:
    a = np.arange(0, 10 * _DAY, _DAY, dtype=np.int64)
    b = a + _HOUR  # one hour after a's bars: never a step of its own

    assert interval_from_times([a, b]) == Interval(1, IntervalUnit.DAY)


def test_month_starts_and_month_ends_are_months() -> None:
    starts = [datetime(2020 + m // 12, m % 12 + 1, 1, tzinfo=UTC) for m in range(30)]
    ends = [moment - timedelta(days=1) for moment in starts[1:]]
    quarters = starts[::3]

    assert interval_from_times([_ns(*starts)]) == Interval(1, IntervalUnit.MONTH)
    assert interval_from_times([_ns(*ends)]) == Interval(1, IntervalUnit.MONTH)
    assert interval_from_times([_ns(*quarters)]) == Interval(3, IntervalUnit.MONTH)


def test_weeks_stay_weeks() -> None:
    times = np.arange(0, 60 * 7 * _DAY, 14 * _DAY, dtype=np.int64) + 4 * _DAY

    assert interval_from_times([times]) == Interval(2, IntervalUnit.WEEK)


def test_unsorted_times_are_read_in_order() -> None:
    times = np.array([3 * _MINUTE, 0, _MINUTE, 2 * _MINUTE], dtype=np.int64)

    assert interval_from_times([times]) == Interval(1, IntervalUnit.MINUTE)


def test_sub_second_steps_are_refused_with_the_step() -> None:
    times = np.array([0, 250_000_000, 500_000_000], dtype=np.int64)

    with pytest.raises(DataError, match="250000000 ns"):
        interval_from_times([times])


@given(
    st.sampled_from([1, 60, 300, 3_600, 86_400]),
    st.lists(st.integers(min_value=1, max_value=39), max_size=10),
)
def test_a_regular_grid_with_holes_keeps_its_step(seconds: int, holes: list[int]) -> None:
    """Removing bars (never two in a row) never changes the answer."""
    grid = np.arange(0, 120 * seconds, seconds, dtype=np.int64) * 10**9
    kept = np.delete(grid, sorted({hole * 3 for hole in holes}))

    found = interval_from_times([kept])

    assert found is not None
    assert found.seconds == seconds
