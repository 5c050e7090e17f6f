"""Gap detection: closed markets are not gaps, missing bars are grouped into runs."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta

import exchange_calendars as xcals
import numpy as np
import pandas as pd
import polars as pl
import pytest

from quantstrata.core.errors import BarValidationError, ConfigError
from quantstrata.model.interval import Interval
from quantstrata.process.validate import SessionGap, validate_bars
from tests.kit.bars import make_bars


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def bars_at(times: list[datetime] | pd.DatetimeIndex, symbol: str = "SPY") -> pl.DataFrame:
    """Valid bars at the given open times (prices from the test kit)."""
    template = make_bars(len(times), symbol=symbol)
    ts = pl.Series("ts", list(times)).cast(pl.Datetime("ns", "UTC"))
    return template.with_columns(ts)


def oracle_hourly_opens(start: str, end: str) -> list[datetime]:
    """XNYS 1h bar opens straight from exchange-calendars and pandas, session by session."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        calendar = xcals.get_calendar("XNYS", start="2024-01-01", end="2024-12-31")
        schedule = calendar.schedule.loc[start:end]
    opens: list[datetime] = []
    for _, session in schedule.iterrows():
        index = pd.date_range(session["open"], session["close"], freq="1h", inclusive="left")
        opens.extend(ts.to_pydatetime() for ts in index)
    return opens


def test_always_open_gaps_are_runs_of_missing_bars() -> None:
    bars = make_bars(100, start=utc(2024, 3, 30, 22))
    missing = [10, 11, 12, 13, 14, 40, 98]
    kept = bars.filter(~pl.int_range(pl.len()).is_in(missing))
    report = validate_bars(kept).report
    ts = bars.get_column("ts").to_list()
    assert report.gaps == (
        SessionGap("TEST", ts[10], ts[14], 5),
        SessionGap("TEST", ts[40], ts[40], 1),
        SessionGap("TEST", ts[98], ts[98], 1),
    )
    assert report.ok
    assert report.missing_bars == 7
    assert report.inferred_interval == Interval.parse("1m")


def test_always_open_gap_count_matches_pandas_date_range() -> None:
    rng = np.random.default_rng(7)
    bars = make_bars(2_000, interval="5m")
    kept = bars.filter(pl.Series(rng.random(2_000) > 0.1))
    report = validate_bars(kept, interval="5m").report
    present = kept.get_column("ts").to_pandas()
    full = pd.date_range(present.iloc[0], present.iloc[-1], freq="5min")
    assert report.missing_bars == len(full.difference(pd.DatetimeIndex(present)))
    assert report.inferred_interval is None
    assert report.interval == Interval.parse("5m")


def test_nights_weekends_and_thanksgiving_are_not_gaps_on_xnys() -> None:
    opens = oracle_hourly_opens("2024-11-20", "2024-12-06")
    report = validate_bars(bars_at(opens), calendar="XNYS").report
    assert report.gaps == ()
    assert report.notes == ()


def test_missing_bars_around_thanksgiving_are_found_on_xnys() -> None:
    opens = oracle_hourly_opens("2024-11-25", "2024-12-03")
    # Drop Wednesday's last bar and Friday's (early close) first two bars.
    wednesday_last = opens.index(utc(2024, 11, 27, 20, 30))
    friday_first = opens.index(utc(2024, 11, 29, 14, 30))
    removed = {wednesday_last, friday_first, friday_first + 1}
    kept = [ts for index, ts in enumerate(opens) if index not in removed]
    report = validate_bars(bars_at(kept), calendar="XNYS", interval="1h").report
    # Closed Thanksgiving adds nothing: one run of three consecutive expected bars.
    assert report.gaps == (
        SessionGap("SPY", utc(2024, 11, 27, 20, 30), utc(2024, 11, 29, 15, 30), 3),
    )
    # A bar back on the Friday splits the run in two.
    kept.insert(kept.index(utc(2024, 11, 29, 16, 30)), utc(2024, 11, 29, 14, 30))
    report = validate_bars(bars_at(kept), calendar="XNYS", interval="1h").report
    assert report.gaps == (
        SessionGap("SPY", utc(2024, 11, 27, 20, 30), utc(2024, 11, 27, 20, 30), 1),
        SessionGap("SPY", utc(2024, 11, 29, 15, 30), utc(2024, 11, 29, 15, 30), 1),
    )


def test_daily_bars_skip_weekends_and_holidays() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        calendar = xcals.get_calendar("XNYS", start="2024-01-01", end="2024-12-31")
        sessions = calendar.sessions_in_range("2024-06-01", "2024-07-31")
    days = [ts.tz_localize("UTC").to_pydatetime() for ts in sessions]
    assert validate_bars(bars_at(days), calendar="XNYS").report.gaps == ()
    without_july_5 = [day for day in days if day != utc(2024, 7, 5)]
    report = validate_bars(bars_at(without_july_5), calendar="XNYS").report
    assert report.gaps == (SessionGap("SPY", utc(2024, 7, 5), utc(2024, 7, 5), 1),)
    assert report.inferred_interval == Interval.parse("1d")


def test_gaps_are_per_symbol() -> None:
    aaa = make_bars(30, symbol="AAA")
    bbb = make_bars(30, symbol="BBB").filter(pl.int_range(pl.len()) != 12)
    frame = pl.concat([aaa, bbb]).sort("ts", "symbol")
    report = validate_bars(frame).report
    ts = aaa.get_column("ts").to_list()
    assert report.gaps == (SessionGap("BBB", ts[12], ts[12], 1),)


def test_bar_on_a_holiday_is_an_unexpected_bar_note() -> None:
    days = [utc(2024, 12, 23), utc(2024, 12, 24), utc(2024, 12, 25), utc(2024, 12, 26)]
    report = validate_bars(bars_at(days), calendar="XNYS", interval="1d").report
    assert report.ok
    assert [(n.check, n.row, n.value) for n in report.notes] == [
        ("unexpected_bar", 2, "2024-12-25T00:00:00+00:00")
    ]


def test_gaps_error_setting_raises_and_drop_removes_unexpected_bars() -> None:
    days = [utc(2024, 12, 20), utc(2024, 12, 24), utc(2024, 12, 25), utc(2024, 12, 26)]
    frame = bars_at(days)
    with pytest.raises(BarValidationError) as caught:
        validate_bars(frame, calendar="XNYS", interval="1d", gaps="error")
    checks = [(i.check, i.row) for i in caught.value.issues]
    assert checks == [("unexpected_bar", 2), ("gap", None)]
    result = validate_bars(frame, calendar="XNYS", interval="1d", gaps="error", policy="drop")
    assert result.report.dropped_rows == (2,)
    assert result.bars.get_column("ts").to_list() == [days[0], days[1], days[3]]
    assert result.report.gaps == (SessionGap("SPY", utc(2024, 12, 23), utc(2024, 12, 23), 1),)


def test_bars_on_another_grid_give_one_note_and_no_gaps() -> None:
    # Daily bars labelled at the NYSE open instead of the session date's 00:00 UTC.
    days = [utc(2024, 6, d, 13, 30) for d in (3, 4, 5, 6, 7, 10)]
    report = validate_bars(bars_at(days), calendar="XNYS", interval="1d").report
    assert report.gaps == ()
    assert [n.check for n in report.notes] == ["grid_mismatch"]
    assert "00:00 UTC" in report.notes[0].message


def test_gap_check_can_be_switched_off() -> None:
    bars = make_bars(50).filter(pl.int_range(pl.len()) != 20)
    report = validate_bars(bars, check_gaps=False).report
    assert report.gaps == ()
    assert report.inferred_interval is None


def test_interval_that_cannot_be_inferred_is_noted() -> None:
    report = validate_bars(make_bars(1)).report
    assert [n.check for n in report.notes] == ["interval_unknown"]


def test_monthly_bars_are_inferred_and_checked() -> None:
    months = [utc(2023, m, 1) for m in range(1, 13)] + [utc(2024, 2, 1)]
    report = validate_bars(bars_at(months, symbol="BTC")).report
    assert report.inferred_interval == Interval.parse("1mo")
    assert report.gaps == (SessionGap("BTC", utc(2024, 1, 1), utc(2024, 1, 1), 1),)


def test_weekly_fx_bars_on_the_24_5_calendar() -> None:
    mondays = [utc(2024, 1, 1) + timedelta(weeks=k) for k in range(10) if k != 4]
    report = validate_bars(bars_at(mondays, symbol="EURUSD"), calendar="24/5").report
    assert report.inferred_interval == Interval.parse("1w")
    assert report.gaps == (SessionGap("EURUSD", utc(2024, 1, 29), utc(2024, 1, 29), 1),)


def test_gap_summary_is_readable() -> None:
    bars = make_bars(50).filter(pl.int_range(pl.len()) != 20)
    text = validate_bars(bars).report.summary()
    assert "1 gap, 1 missing bar:" in text
    assert "symbol 'TEST': 1 missing bar at 2024-01-02T00:20:00+00:00" in text


def test_unknown_calendar_is_refused_even_without_gap_check() -> None:
    with pytest.raises(ConfigError, match="XNYS"):
        validate_bars(make_bars(5), calendar="XNYZ", check_gaps=False)


def test_calendar_code_is_reported_in_canonical_spelling() -> None:
    days = [utc(2024, 6, 3), utc(2024, 6, 4)]
    report = validate_bars(bars_at(days), calendar="xnys").report
    assert report.calendar == "XNYS"
    assert "calendar: XNYS; interval: 1d, inferred" in report.summary()


def test_weekday_only_bars_without_calendar_get_a_hint() -> None:
    weekdays = [utc(2024, 6, d) for d in (3, 4, 5, 6, 7, 10, 11, 12, 13, 14)]
    report = validate_bars(bars_at(weekdays), interval="1d").report
    assert len(report.gaps) == 1  # the weekend, on a 24/7 market
    assert [n.check for n in report.notes] == ["calendar_hint"]
    assert "calendar=" in report.summary()


def test_four_hour_bars_on_xnys_infer_the_bar_not_the_overnight_step() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        calendar = xcals.get_calendar("XNYS", start="2024-01-01", end="2024-12-31")
        schedule = calendar.schedule.loc["2024-04-01":"2024-04-30"]
    opens: list[datetime] = []
    for _, session in schedule.iterrows():
        index = pd.date_range(session["open"], session["close"], freq="4h", inclusive="left")
        opens.extend(ts.to_pydatetime() for ts in index)
    report = validate_bars(bars_at(opens), calendar="XNYS").report
    assert report.inferred_interval == Interval.parse("4h")
    assert report.gaps == ()
    assert report.notes == ()


def test_bars_only_when_the_market_is_closed_give_a_note() -> None:
    weekend = [utc(2024, 6, 8, 10), utc(2024, 6, 8, 11), utc(2024, 6, 9, 10)]
    report = validate_bars(bars_at(weekend), calendar="XNYS", interval="1h").report
    assert report.gaps == ()
    assert [n.check for n in report.notes] == ["grid_mismatch"]
    assert "only 0 of 3" in report.notes[0].message


def test_many_unexpected_bars_are_listed_up_to_a_limit_then_counted() -> None:
    bars = make_bars(3_000)
    # Shift 1 200 bars by 30 s: off the 1m grid, but most bars stay on it.
    shifted = bars.with_columns(
        ts=pl.when(pl.int_range(pl.len()) % 5 < 2)
        .then(pl.col("ts") + pl.duration(seconds=30, time_unit="ns"))
        .otherwise(pl.col("ts"))
    )
    report = validate_bars(shifted, interval="1m").report
    rows = [n.row for n in report.notes if n.row is not None]
    assert rows == [r for r in range(3_000) if r % 5 < 2][:1_000]
    assert report.notes[-1].message.startswith("200 more bars are off the 1m grid")
    errors = validate_bars(shifted, interval="1m", gaps="error", policy="drop").report
    assert errors.dropped_rows == tuple(r for r in range(3_000) if r % 5 < 2)
