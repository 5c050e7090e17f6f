"""to_bars reads epochs, text and local times exactly as independent oracles do, or refuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantstrata.core.errors import SchemaError, TimezoneError
from quantstrata.process.normalize import to_bars

_NS_PER_UNIT = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
_FIRST_NS = 100_000_000 * 10**9  # 1973-03-03, start of the plausible window
_LAST_NS = 2**63 - 1
_ZONES = ("America/New_York", "Europe/London", "Australia/Sydney", "America/Santiago", "UTC")


def _bars(times: list[Any]) -> dict[str, list[Any]]:
    count = len(times)
    return (
        {"ts": times}
        | {name: [1.0] * count for name in ("open", "high", "low", "close")}
        | {"volume": [0.0] * count}
    )


def _result_ns(times: list[Any], **kwargs: Any) -> list[int]:
    frame = to_bars(_bars(times), symbol="S", validation=None, **kwargs)
    return frame.get_column("ts").dt.epoch("ns").to_list()


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(("s", "ms", "us", "ns")),
    st.lists(st.integers(min_value=_FIRST_NS, max_value=_LAST_NS), min_size=1, max_size=8),
)
def test_epoch_unit_is_inferred_inside_its_window(unit: str, instants: list[int]) -> None:
    values = [instant // _NS_PER_UNIT[unit] for instant in instants]
    expected = np.array(values, dtype=f"datetime64[{unit}]").astype("datetime64[ns]")
    assert _result_ns(values) == expected.astype(np.int64).tolist()
    assert _result_ns(values, time_unit=unit) == expected.astype(np.int64).tolist()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(min_value=1e8, max_value=4e9), min_size=1, max_size=8))
def test_fractional_epoch_seconds_round_to_the_nearest_nanosecond(seconds: list[float]) -> None:
    expected = [
        int((Decimal(value) * 10**9).to_integral_value(rounding=ROUND_HALF_EVEN))
        for value in seconds
    ]
    got = _result_ns(seconds, time_unit="s")
    assert all(abs(left - right) <= 1 for left, right in zip(got, expected, strict=True))


_DATES = st.dates(min_value=datetime(1971, 1, 1).date(), max_value=datetime(2099, 12, 31).date())


@settings(max_examples=100, deadline=None)
@given(st.lists(_DATES, min_size=1, max_size=6), st.booleans())
def test_slash_dates_follow_the_only_reading_that_fits(dates: list[Any], day_first: bool) -> None:
    texts = [
        f"{day.day}/{day.month}/{day.year}" if day_first else f"{day.month}/{day.day}/{day.year}"
        for day in dates
    ]
    readings = {}
    for form in ("%m/%d/%Y", "%d/%m/%Y"):
        try:
            readings[form] = [datetime.strptime(text, form).replace(tzinfo=UTC) for text in texts]
        except ValueError:
            continue
    if len(readings) == 2:
        with pytest.raises(SchemaError, match="time_format"):
            _result_ns(texts, timezone="UTC")
        return
    (expected,) = readings.values()
    assert _result_ns(texts, timezone="UTC") == [
        int(moment.timestamp()) * 10**9 for moment in expected
    ]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.datetimes(
            min_value=datetime(1990, 1, 1),
            max_value=datetime(2030, 12, 31),
            timezones=st.sampled_from([ZoneInfo(name) for name in _ZONES]),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_iso_text_with_offsets_is_read_as_the_same_instant(moments: list[datetime]) -> None:
    texts = [moment.isoformat() for moment in moments]
    expected = [_ns(moment) for moment in moments]
    assert _result_ns(texts) == expected
    assert _result_ns(texts, timezone="UTC") == expected


def _ns(moment: datetime) -> int:
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta // timedelta(microseconds=1)) * 1000


def _local_kind(wall: datetime, zone: ZoneInfo) -> str:
    """Classify a naive wall time with zoneinfo: normal, nonexistent (gap) or ambiguous."""
    aware = wall.replace(tzinfo=zone)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
        return "nonexistent_local_time"
    if wall.replace(tzinfo=zone, fold=1).utcoffset() != aware.utcoffset():
        return "ambiguous_local_time"
    return "normal"


# Wall times near DST changes so that gaps and overlaps are drawn often.
_NEAR_CHANGES = st.builds(
    lambda base, minutes: base + timedelta(minutes=minutes),
    st.sampled_from(
        [
            datetime(2021, 3, 14, 0, 0),
            datetime(2021, 11, 7, 0, 0),
            datetime(2022, 3, 27, 0, 0),
            datetime(2022, 10, 30, 0, 0),
            datetime(2023, 4, 2, 0, 0),
            datetime(2023, 10, 1, 0, 0),
            datetime(2024, 4, 6, 22, 0),
            datetime(2024, 9, 7, 22, 0),
        ]
    ),
    st.integers(min_value=0, max_value=6 * 60),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_NEAR_CHANGES, min_size=1, max_size=5), st.sampled_from(_ZONES))
def test_naive_local_times_match_zoneinfo_or_are_refused(walls: list[datetime], name: str) -> None:
    zone = ZoneInfo(name)
    kinds = [_local_kind(wall, zone) for wall in walls]
    bad = [(kind, row, wall) for row, (kind, wall) in enumerate(zip(kinds, walls, strict=True))]
    bad = [item for item in bad if item[0] != "normal"]
    if not bad:
        expected = [_ns(wall.replace(tzinfo=zone)) for wall in walls]
        assert _result_ns(walls, timezone=name) == expected
        return
    with pytest.raises(TimezoneError) as caught:
        _result_ns(walls, timezone=name)
    found = [(issue.check, issue.row, issue.value) for issue in caught.value.issues]
    assert found == bad
