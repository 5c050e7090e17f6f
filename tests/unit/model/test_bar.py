from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import polars as pl
import pytest

from quantstrata.core.errors import BarValidationError
from quantstrata.model import BAR_COLUMNS, BAR_SCHEMA, Bar
from quantstrata.model.bar import same_times

MOMENT = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)


def _bar(**changes: float) -> Bar:
    values = {"open": 10.0, "high": 11.0, "low": 9.0, "close": 10.5, "volume": 100.0}
    values.update(changes)
    return Bar(MOMENT, "SPX", **values)  # type: ignore[arg-type]


def test_a_consistent_bar_builds_and_fits_the_schema():
    frame = pl.DataFrame([_bar().as_row], schema=BAR_SCHEMA)
    assert tuple(frame.columns) == BAR_COLUMNS
    assert frame.schema == BAR_SCHEMA


@pytest.mark.parametrize(
    ("changes", "check"),
    [
        ({"high": 10.2}, "high_below_body"),
        ({"low": 10.4}, "low_above_body"),
        ({"close": math.nan}, "non_finite"),
        ({"open": -1.0}, "non_positive_price"),
        ({"volume": -5.0}, "negative_volume"),
    ],
)
def test_inconsistent_bars_are_refused_naming_the_check(changes: dict[str, float], check: str):
    with pytest.raises(BarValidationError) as caught:
        _bar(**changes)
    assert [issue.check for issue in caught.value.issues] == [check]
    assert caught.value.issues[0].column == next(iter(changes)) or check.endswith("body")


def test_naive_timestamps_are_refused():
    with pytest.raises(BarValidationError, match="timezone"):
        Bar(datetime(2024, 1, 1), "X", 1.0, 1.0, 1.0, 1.0, 0.0)


def test_same_times_compares_values_and_trusts_one_buffer() -> None:
    times = np.arange(0, 50, 5, dtype=np.int64)
    assert same_times(times, times[:])  # a view of the same memory
    assert same_times(times, times.copy())  # equal values in another buffer
    changed = times.copy()
    changed[-1] += 1
    assert not same_times(times, changed)
    assert not same_times(times, times[:-1])
    assert not same_times(times[::2], times[:5])  # same start, other stride
