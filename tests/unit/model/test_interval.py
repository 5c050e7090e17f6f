from __future__ import annotations

from datetime import timedelta

import pytest

from quantstrata.core.errors import ConfigError
from quantstrata.model import Interval, IntervalUnit


@pytest.mark.parametrize(
    ("text", "canonical", "seconds"),
    [
        ("1m", "1m", 60),
        ("15min", "15m", 900),
        ("60s", "60s", 60),
        ("1h", "1h", 3600),
        ("4H", "4h", 14_400),
        ("1d", "1d", 86_400),
        ("1w", "1w", 604_800),
    ],
)
def test_fixed_intervals_parse_to_their_length(text: str, canonical: str, seconds: int):
    interval = Interval.parse(text)
    assert str(interval) == canonical
    assert interval.seconds == seconds
    assert interval.duration == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["1M", "1mo", "3months"])
def test_upper_case_m_and_mo_are_months(text: str):
    interval = Interval.parse(text)
    assert interval.unit is IntervalUnit.MONTH
    assert not interval.is_fixed
    with pytest.raises(ConfigError, match="no fixed length"):
        _ = interval.seconds


@pytest.mark.parametrize("text", ["", "m", "0m", "1x", "-5m", "1.5h"])
def test_bad_intervals_are_refused(text: str):
    with pytest.raises(ConfigError):
        Interval.parse(text)


@pytest.mark.parametrize(
    ("coarse", "fine", "expected"),
    [
        ("1h", "1m", True),
        ("1h", "7m", False),
        ("1m", "1h", False),
        ("1d", "1h", True),
        ("1mo", "1d", True),
        ("3mo", "1mo", True),
        ("1mo", "7h", False),
        ("1h", "1mo", False),
    ],
)
def test_multiples(coarse: str, fine: str, expected: bool):
    assert Interval.parse(coarse).is_multiple_of(Interval.parse(fine)) is expected
