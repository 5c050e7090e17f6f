from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quantstrata.core.clock import (
    Clock,
    LiveClock,
    SimulatedClock,
    datetime_from_ns,
    ns_from_datetime,
)
from quantstrata.core.errors import ConfigError

aware_datetimes = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)


@given(moment=aware_datetimes)
def test_nanosecond_conversion_round_trips(moment: datetime):
    assert datetime_from_ns(ns_from_datetime(moment)) == moment


def test_offset_timezones_convert_to_the_same_instant():
    eastern = timezone(timedelta(hours=-5))
    local = datetime(2024, 3, 1, 9, 30, tzinfo=eastern)
    assert ns_from_datetime(local) == ns_from_datetime(datetime(2024, 3, 1, 14, 30, tzinfo=UTC))


def test_naive_datetimes_are_refused():
    with pytest.raises(ConfigError, match="no timezone"):
        ns_from_datetime(datetime(2024, 1, 1))


def test_simulated_clock_moves_only_forward():
    clock = SimulatedClock(datetime(2024, 1, 1, tzinfo=UTC))
    clock.advance(1_000_000_000)
    assert clock.now() == datetime(2024, 1, 1, 0, 0, 1, tzinfo=UTC)
    clock.set_time(datetime(2024, 1, 2, tzinfo=UTC))
    assert clock.now_ns() == ns_from_datetime(datetime(2024, 1, 2, tzinfo=UTC))
    with pytest.raises(ConfigError, match="backwards"):
        clock.set_time(datetime(2023, 12, 31, tzinfo=UTC))
    with pytest.raises(ConfigError, match="negative"):
        clock.advance(-1)


def test_live_clock_reads_the_wall_clock_and_both_satisfy_the_protocol():
    live = LiveClock()
    before = datetime.now(UTC)
    reading = live.now()
    after = datetime.now(UTC)
    assert before - timedelta(milliseconds=1) <= reading <= after + timedelta(milliseconds=1)
    assert isinstance(live, Clock)
    assert isinstance(SimulatedClock(), Clock)


def test_time_bounds_read_dates_aware_datetimes_and_iso_text():
    from datetime import date

    from quantstrata.core.clock import parse_time_bound, utc_bound
    from quantstrata.core.errors import TimezoneError

    assert parse_time_bound("2024-01-31", "start") == date(2024, 1, 31)
    assert utc_bound("2024-01-31", "start") == datetime(2024, 1, 31, tzinfo=UTC)
    assert utc_bound("2024-01-31T09:30:00-05:00", "end") == datetime(
        2024, 1, 31, 14, 30, tzinfo=UTC
    )
    assert utc_bound(None, "end") is None
    with pytest.raises(TimezoneError, match="start=2024-01-31T09:30:00 has no timezone"):
        utc_bound(datetime(2024, 1, 31, 9, 30), "start")
    with pytest.raises(ConfigError, match="'yesterday' is not an ISO date"):
        utc_bound("yesterday", "start")
