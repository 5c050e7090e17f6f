from __future__ import annotations

import json
from datetime import UTC, datetime
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quantstrata.data.sources import (
    AuthenticationError,
    ProviderUnavailableError,
    RateLimitedError,
    RequestRejectedError,
    RetryPolicy,
)
from quantstrata.data.sources._tickdb_protocol import (
    error_code,
    interpret,
    kline_request,
    kline_windows,
    retry_delay,
)
from quantstrata.model.interval import Interval

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _answer(status: int, body: object, headers: dict[str, str] | None = None):
    return interpret(status, headers or {}, json.dumps(body).encode(), NOW, limit=300)


@pytest.mark.parametrize("code", [3001, "3001", " 3001 "])
def test_rate_limit_code_as_int_or_text_is_retryable_with_the_servers_wait(code: object):
    outcome = _answer(429, {"code": code, "message": "Rate limit exceeded"}, {"Retry-After": "9"})
    assert outcome.retryable
    assert outcome.server_wait == 9


def test_rate_limit_in_a_200_body_reads_reset_at():
    reset = int(NOW.timestamp()) + 12
    outcome = _answer(200, {"code": "3001", "message": "slow down", "reset_at": reset})
    assert outcome.retryable
    assert outcome.server_wait == 12


@pytest.mark.parametrize(
    ("status", "code"), [(401, 1001), (401, "1002"), (200, 1001), (403, 1004), (200, "3002")]
)
def test_authentication_errors_are_fatal_and_name_the_fix(status: int, code: object):
    with pytest.raises(AuthenticationError, match="TICKDB_API_KEY") as caught:
        _answer(status, {"code": code, "message": "Invalid or expired token"})
    assert caught.value.code == int(str(code))


@pytest.mark.parametrize(("status", "code"), [(500, 5000), (503, None), (200, "5001")])
def test_server_errors_are_retryable(status: int, code: object):
    assert _answer(status, {"code": code, "message": "down"}).retryable


def test_bad_parameters_are_rejected_without_retry():
    with pytest.raises(RequestRejectedError, match="Symbol not found"):
        _answer(400, {"code": 2002, "message": "Symbol not found"})


def test_success_returns_the_body_and_a_garbled_200_is_retried():
    body = {"code": 0, "message": "success", "data": {"klines": []}}
    assert _answer(200, body).payload == body
    assert interpret(200, {}, b"<html>", NOW, limit=300).retryable


def test_error_code_reads_ints_and_text_and_refuses_booleans():
    assert error_code({"code": "3003"}) == 3003
    assert error_code({"code": 7}) == 7
    assert error_code({"code": True}) is None
    assert error_code({"code": "x"}) is None
    assert error_code([1]) is None


def test_retry_delay_uses_the_policy_then_gives_up_with_the_right_error():
    policy = RetryPolicy(base_seconds=1, cap_seconds=8, max_attempts=3)
    retryable = _answer(500, {"code": 5000, "message": "boom"})
    highest = [retry_delay(retryable, n, policy, lambda low, high: high) for n in range(2)]
    assert highest == [1.0, 2.0]
    with pytest.raises(ProviderUnavailableError, match="3 attempt"):
        retry_delay(retryable, 2, policy, lambda low, high: high)
    limited = _answer(429, {"code": 3001, "message": "x"}, {"Retry-After": "30"})
    assert retry_delay(limited, 0, policy, lambda low, high: low) == 30
    with pytest.raises(RateLimitedError):
        retry_delay(limited, 2, policy, lambda low, high: low)


def test_kline_request_speaks_tickdb_spelling_of_months():
    request = kline_request("AAPL.US", Interval.parse("1mo"), 0, 10, 1000)
    assert request.params["interval"] == "1M"
    assert request.params["limit"] == 1000
    assert "api_key" not in request.params


@given(
    start=st.integers(0, 10**12),
    length=st.integers(1, 10**8),
    minutes=st.sampled_from([1, 5, 60, 1440]),
    limit=st.integers(1, 1000),
)
def test_kline_windows_cover_the_range_exactly_within_the_limit(
    start: int, length: int, minutes: int, limit: int
):
    interval = Interval.parse(f"{minutes}m")
    step = minutes * 60_000
    windows = kline_windows(start, start + length, interval, limit)
    assert windows[0][0] == start
    assert windows[-1][1] == start + length - 1
    for (_, high), (next_low, _) in pairwise(windows):
        assert next_low == high + 1
    for low, high in windows:
        assert low <= high
        opens = (high // step) - (-(-low // step)) + 1
        assert opens <= limit
