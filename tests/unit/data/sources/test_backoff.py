from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from hypothesis import given
from hypothesis import strategies as st

from quantstrata.data.sources import (
    RateLimiter,
    backoff_delay,
    parse_reset_at,
    parse_retry_after,
    server_wait,
)
from quantstrata.data.sources.backoff import Backoff

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _highest(low: float, high: float) -> float:
    return high


def test_backoff_doubles_up_to_the_cap_with_full_jitter():
    schedule = [backoff_delay(n, base=0.5, cap=4.0, uniform=_highest) for n in range(6)]
    assert schedule == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert backoff_delay(3, base=0.5, cap=4.0, uniform=lambda low, high: low) == 0.0


@given(
    attempt=st.integers(0, 200),
    fraction=st.floats(0, 1),
    floor=st.floats(0, 100),
)
def test_backoff_stays_within_policy(attempt: int, fraction: float, floor: float):
    delay = backoff_delay(
        attempt,
        base=0.25,
        cap=30.0,
        uniform=lambda low, high: low + (high - low) * fraction,
        floor=floor,
    )
    assert floor <= delay <= max(floor, 30.0)


def test_retry_after_reads_seconds_and_http_dates():
    assert parse_retry_after("7", NOW) == 7.0
    assert parse_retry_after(format_datetime(NOW + timedelta(seconds=42), usegmt=True), NOW) == 42
    assert parse_retry_after(format_datetime(NOW - timedelta(seconds=5), usegmt=True), NOW) == 0
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


def test_reset_at_reads_epoch_seconds_milliseconds_and_iso_text():
    later = NOW + timedelta(seconds=30)
    assert parse_reset_at(int(later.timestamp()), NOW) == 30
    assert parse_reset_at(int(later.timestamp() * 1000), NOW) == 30
    assert parse_reset_at(str(int(later.timestamp())), NOW) == 30
    assert parse_reset_at(later.isoformat(), NOW) == 30
    assert parse_reset_at(True, NOW) is None
    assert parse_reset_at("never", NOW) is None


def test_server_wait_takes_the_longer_request_and_caps_it():
    reset = int((NOW + timedelta(seconds=20)).timestamp())
    assert server_wait("5", reset, NOW, limit=60) == 20
    assert server_wait("500", None, NOW, limit=60) == 60
    assert server_wait(None, None, NOW, limit=60) is None


def test_rate_limiter_spaces_requests_at_the_plan_rate():
    now = [0.0]
    limiter = RateLimiter(60, burst=2, monotonic=lambda: now[0])
    waits = [limiter.reserve() for _ in range(4)]
    assert waits == [0.0, 0.0, 1.0, 2.0]
    now[0] = 10.0
    assert limiter.reserve() == 0.0
    assert "per_minute=60" in repr(limiter)


def test_a_reconnect_schedule_grows_until_a_connection_stays_up_long_enough():
    backoff = Backoff(base=0.5, cap=4.0, uniform=_highest, healthy_after=10.0)
    ceilings = [backoff.failed(now).highest for now in range(4)]
    assert ceilings == [0.5, 1.0, 2.0, 4.0]
    backoff.connected_at(10.0)
    assert backoff.failed(15.0).highest == 4.0  # up 5 s: not healthy, the schedule goes on
    backoff.connected_at(20.0)
    delay = backoff.failed(30.0)  # up 10 s: healthy, back to the start
    assert (delay.seconds, delay.highest, delay.within_policy) == (0.5, 0.5, True)


def test_a_server_wait_is_a_floor_capped_at_the_most_the_client_accepts():
    backoff = Backoff(base=0.5, cap=4.0, uniform=lambda low, high: low, max_server_wait=60.0)
    assert backoff.failed(0.0, server_wait=7.0).seconds == 7.0
    assert backoff.failed(0.0, server_wait=3_600.0).seconds == 60.0
