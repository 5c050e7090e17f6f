"""Drawdowns on small curves checked by hand, and against a plain loop on real data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import polars as pl
import pytest

from quantstrata.analytics import (
    DrawdownDuration,
    drawdown_series,
    max_drawdown,
    max_drawdown_duration,
    underwater_periods,
)
from quantstrata.core.errors import DataError
from tests.kit.analytics import START, daily_times, equity_frame, spx_equity

CURVE = [100.0, 120.0, 90.0, 60.0, 130.0, 120.0, 125.0]


def test_drawdown_series_by_hand() -> None:
    frame = drawdown_series(equity_frame(CURVE))

    assert frame.columns == ["ts", "equity", "peak", "drawdown"]
    assert frame.get_column("peak").to_list() == [100, 120, 120, 120, 130, 130, 130]
    expected = [0.0, 0.0, 0.25, 0.5, 0.0, 10 / 130, 5 / 130]
    np.testing.assert_allclose(frame.get_column("drawdown").to_numpy(), expected, rtol=1e-15)


def test_max_drawdown_and_duration_by_hand() -> None:
    curve = equity_frame(CURVE)

    assert max_drawdown(curve) == pytest.approx(0.5, rel=1e-15)
    # Peak at bar 1 (120), back above it at bar 4: 3 bars, 3 days.
    assert max_drawdown_duration(curve) == DrawdownDuration(3, timedelta(days=3))


def test_underwater_periods_by_hand() -> None:
    table = underwater_periods(equity_frame(CURVE))

    assert table.columns == ["peak", "trough", "end", "depth", "bars", "duration", "recovered"]
    assert table.get_column("peak").to_list() == [
        START + timedelta(days=1),
        START + timedelta(days=4),
    ]
    assert table.get_column("trough").to_list() == [
        START + timedelta(days=3),
        START + timedelta(days=5),
    ]
    assert table.get_column("end").to_list() == [
        START + timedelta(days=4),
        START + timedelta(days=6),
    ]
    np.testing.assert_allclose(table.get_column("depth").to_numpy(), [0.5, 10 / 130], rtol=1e-15)
    assert table.get_column("bars").to_list() == [3, 2]
    assert table.get_column("duration").to_list() == [timedelta(days=3), timedelta(days=2)]
    assert table.get_column("recovered").to_list() == [True, False]


def test_a_loss_on_the_first_bar_counts_from_the_starting_capital() -> None:
    curve = equity_frame([100.0, 90.0, 95.0])

    assert max_drawdown(curve) == pytest.approx(0.1)
    assert max_drawdown_duration(curve) == DrawdownDuration(2, timedelta(days=2))
    assert underwater_periods(curve).get_column("recovered").to_list() == [False]


def test_returning_exactly_to_the_peak_is_a_recovery() -> None:
    table = underwater_periods(equity_frame([100.0, 90.0, 100.0, 95.0]))

    assert table.get_column("bars").to_list() == [2, 1]
    assert table.get_column("recovered").to_list() == [True, False]


def test_longest_in_time_and_longest_in_bars_are_maximised_separately() -> None:
    """A weekend gap makes the two-bar dip longer in time than the three-bar one."""
    times = [START + timedelta(days=day) for day in (0, 1, 2, 3, 4, 5, 9, 10)]
    curve = equity_frame([100, 90, 95, 101, 102, 99, 98, 103], times)

    duration = max_drawdown_duration(curve)

    assert duration.bars == 3  # bars 0 -> 3
    assert duration.span == timedelta(days=6)  # bars 4 -> 7: day 4 to day 10


def test_a_rising_curve_has_no_drawdown() -> None:
    curve = equity_frame([1.0, 2.0, 2.0, 3.0])

    assert max_drawdown(curve) == 0.0
    assert max_drawdown_duration(curve) == DrawdownDuration(0, timedelta(0))
    table = underwater_periods(curve)
    assert table.height == 0
    assert table.schema["duration"] == pl.Duration("ns")


def test_single_point_curve() -> None:
    curve = equity_frame([5.0])

    assert max_drawdown(curve) == 0.0
    assert max_drawdown_duration(curve).bars == 0


def test_real_data_matches_a_plain_loop() -> None:
    curve = spx_equity()
    values = curve.get_column("equity").to_list()
    times = curve.get_column("ts").to_list()
    peak, peak_index, underwater = values[0], 0, False
    deepest, longest_bars, longest_span = 0.0, 0, timedelta(0)
    for index, value in enumerate(values):
        deepest = max(deepest, 1 - value / max(peak, value))
        if value < peak or underwater:  # still underwater, or this bar is the recovery
            longest_bars = max(longest_bars, index - peak_index)
            longest_span = max(longest_span, times[index] - times[peak_index])
        underwater = value < peak
        if value >= peak:
            peak, peak_index = value, index

    assert max_drawdown(curve) == pytest.approx(deepest, rel=1e-12)
    assert max_drawdown_duration(curve) == DrawdownDuration(longest_bars, longest_span)
    assert longest_bars > 100  # the 2000-2007 and 2007-2013 bear markets


def test_pandas_series_input() -> None:
    index = pd.DatetimeIndex(daily_times(len(CURVE)))
    series = pd.Series(CURVE, index=index)

    assert max_drawdown(series) == max_drawdown(equity_frame(CURVE))
    assert underwater_periods(series).equals(underwater_periods(equity_frame(CURVE)))


def test_non_positive_equity_is_refused_with_the_row() -> None:
    with pytest.raises(DataError) as caught:
        max_drawdown(equity_frame([100.0, 0.0, -5.0]))

    assert [issue.row for issue in caught.value.issues] == [1, 2]
    assert {issue.column for issue in caught.value.issues} == {"equity"}
    assert caught.value.issues[1].value == -5.0


def test_times_are_utc_aware() -> None:
    frame = drawdown_series(equity_frame(CURVE))

    assert frame.schema["ts"] == pl.Datetime("ns", "UTC")
    assert frame.get_column("ts")[0] == datetime(2024, 1, 1, tzinfo=UTC)
