"""Trading calendars: sessions and bar opens, checked by hand and against exchange-calendars."""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime, timedelta

import exchange_calendars as xcals
import pandas as pd
import polars as pl
import pytest

from quantstrata.core.errors import ConfigError, TimezoneError
from quantstrata.process.calendar import (
    expected_bar_opens,
    get_calendar,
    session_table,
)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def oracle_calendar(code: str, start: str, end: str) -> xcals.ExchangeCalendar:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return xcals.get_calendar(code, start=start, end=end)


# ---------------------------------------------------------------- get_calendar


def test_get_calendar_covers_old_ranges_beyond_the_default_twenty_years() -> None:
    calendar = get_calendar("XNYS", date(1999, 3, 1), date(1999, 3, 31))
    assert calendar.first_session <= pd.Timestamp("1999-03-01")
    assert calendar.last_session >= pd.Timestamp("1999-03-31")


def test_get_calendar_accepts_lower_case_codes_and_caches() -> None:
    first = get_calendar("xnys", "2024-01-02", "2024-02-01")
    second = get_calendar("XNYS", "2024-03-01", "2024-04-01")
    assert first is second


def test_unknown_code_names_close_matches_and_how_to_list_codes() -> None:
    with pytest.raises(ConfigError, match="XNYS") as caught:
        get_calendar("XNYZ", "2024-01-01", "2024-02-01")
    assert "get_calendar_names" in str(caught.value)


def test_naive_datetime_bound_is_refused() -> None:
    with pytest.raises(TimezoneError):
        session_table("XNYS", datetime(2024, 1, 2), datetime(2024, 1, 3))


def test_end_before_start_is_refused() -> None:
    with pytest.raises(ConfigError):
        session_table("XNYS", "2024-02-01", "2024-01-01")


# ---------------------------------------------------------------- session_table


def test_session_table_schema_and_thanksgiving_by_hand() -> None:
    table = session_table("XNYS", "2024-11-27", "2024-12-02")
    assert table.schema == pl.Schema(
        {
            "session": pl.Date(),
            "open": pl.Datetime("ns", "UTC"),
            "close": pl.Datetime("ns", "UTC"),
        }
    )
    # 28 Nov 2024 is Thanksgiving (closed); 29 Nov closes early at 13:00 New York (18:00 UTC).
    assert table.get_column("session").to_list() == [
        date(2024, 11, 27),
        date(2024, 11, 29),
        date(2024, 12, 2),
    ]
    assert table.get_column("open").to_list() == [
        utc(2024, 11, 27, 14, 30),
        utc(2024, 11, 29, 14, 30),
        utc(2024, 12, 2, 14, 30),
    ]
    assert table.get_column("close").to_list() == [
        utc(2024, 11, 27, 21),
        utc(2024, 11, 29, 18),
        utc(2024, 12, 2, 21),
    ]


def test_session_table_follows_daylight_saving_change() -> None:
    # US clocks moved forward on Sunday 10 March 2024: the open moves from 14:30 to 13:30 UTC.
    table = session_table("XNYS", date(2024, 3, 8), date(2024, 3, 11))
    assert table.get_column("open").to_list() == [utc(2024, 3, 8, 14, 30), utc(2024, 3, 11, 13, 30)]


@pytest.mark.parametrize("code", ["XNYS", "XLON", "XHKG", "XASX", "CMES", "24/5"])
def test_session_table_matches_exchange_calendars(code: str) -> None:
    oracle = oracle_calendar(code, "2023-01-01", "2024-12-31")
    expected = oracle.schedule.loc["2023-06-01":"2024-06-30"]
    table = session_table(code, date(2023, 6, 1), date(2024, 6, 30))
    assert table.get_column("session").to_list() == [ts.date() for ts in expected.index]
    assert table.get_column("open").to_list() == [ts.to_pydatetime() for ts in expected["open"]]
    assert table.get_column("close").to_list() == [ts.to_pydatetime() for ts in expected["close"]]


def test_session_table_for_always_open_market_is_one_utc_day_each() -> None:
    table = session_table(None, date(2024, 2, 28), date(2024, 3, 1))
    assert table.get_column("session").to_list() == [
        date(2024, 2, 28),
        date(2024, 2, 29),
        date(2024, 3, 1),
    ]
    assert table.get_column("open").to_list() == [utc(2024, 2, d) for d in (28, 29)] + [
        utc(2024, 3, 1)
    ]
    closes = [utc(2024, 2, 29), utc(2024, 3, 1), utc(2024, 3, 2)]
    assert table.get_column("close").to_list() == closes


# ---------------------------------------------------------------- expected_bar_opens


def test_one_minute_bars_match_exchange_calendars_trading_minutes() -> None:
    oracle = oracle_calendar("XNYS", "2024-01-01", "2024-12-31")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        minutes = oracle.sessions_minutes("2024-06-24", "2024-07-08")
    opens = expected_bar_opens("XNYS", "1m", date(2024, 6, 24), date(2024, 7, 8))
    assert opens.dtype == pl.Datetime("ns", "UTC")
    assert opens.to_list() == [ts.to_pydatetime() for ts in minutes]


@pytest.mark.parametrize(("code", "interval"), [("XNYS", "1h"), ("XHKG", "30m"), ("XASX", "15m")])
def test_intraday_bars_are_session_anchored_like_pandas_ranges(code: str, interval: str) -> None:
    oracle = oracle_calendar(code, "2024-01-01", "2024-12-31")
    schedule = oracle.schedule.loc["2024-03-01":"2024-03-31"]
    expected: list[datetime] = []
    for _, session in schedule.iterrows():
        parts = [(session["open"], session["close"])]
        if not pd.isna(session["break_start"]):
            parts = [
                (session["open"], session["break_start"]),
                (session["break_end"], session["close"]),
            ]
        for begin, finish in parts:
            index = pd.date_range(begin, finish, freq=pd.Timedelta(interval), inclusive="left")
            expected.extend(ts.to_pydatetime() for ts in index)
    start, end = schedule["open"].iloc[0], schedule["close"].iloc[-1]
    opens = expected_bar_opens(code, interval, start.to_pydatetime(), end.to_pydatetime())
    assert opens.to_list() == expected


def test_early_close_ends_with_a_short_last_bar() -> None:
    # 29 Nov 2024 trades 14:30-18:00 UTC: 1h bars open at 14:30, 15:30, 16:30, 17:30 (30 min).
    opens = expected_bar_opens("XNYS", "1h", date(2024, 11, 29), date(2024, 11, 29))
    assert opens.to_list() == [utc(2024, 11, 29, h, 30) for h in (14, 15, 16, 17)]


def test_holiday_and_weekend_have_no_bars() -> None:
    opens = expected_bar_opens("XNYS", "1h", date(2024, 11, 28), date(2024, 12, 1))
    assert all(ts.date() == date(2024, 11, 29) for ts in opens.to_list())
    assert opens.len() == 4


def test_daily_bars_are_labelled_at_session_date_midnight_utc() -> None:
    opens = expected_bar_opens("XNYS", "1d", date(2024, 11, 25), date(2024, 12, 2))
    expected_days = [25, 26, 27, 29]
    assert opens.to_list() == [utc(2024, 11, d) for d in expected_days] + [utc(2024, 12, 2)]


def test_daily_bars_match_exchange_calendars_sessions() -> None:
    oracle = oracle_calendar("XLON", "2020-01-01", "2024-12-31")
    sessions = oracle.sessions_in_range("2021-01-01", "2023-12-31")
    opens = expected_bar_opens("XLON", "1d", date(2021, 1, 1), date(2023, 12, 31))
    assert opens.to_list() == [ts.tz_localize("UTC").to_pydatetime() for ts in sessions]


def test_weekly_bars_are_labelled_at_monday_of_each_week_with_a_session() -> None:
    opens = expected_bar_opens("XNYS", "1w", date(2024, 12, 2), date(2024, 12, 31))
    mondays = [utc(2024, 12, 2) + timedelta(weeks=k) for k in range(5)]
    assert opens.to_list() == mondays


def test_always_open_market_bars_are_epoch_anchored_and_bounds_inclusive() -> None:
    opens = expected_bar_opens(None, "5m", utc(2024, 1, 1, 0, 1), utc(2024, 1, 1, 0, 20))
    assert opens.to_list() == [utc(2024, 1, 1, 0, m) for m in (5, 10, 15, 20)]


def test_always_open_market_counts_every_minute_of_a_day() -> None:
    opens = expected_bar_opens(None, "1m", date(2024, 3, 31), date(2024, 3, 31))
    assert opens.len() == 1440
    assert opens.diff().drop_nulls().unique().to_list() == [timedelta(minutes=1)]


def test_fx_calendar_skips_weekends() -> None:
    opens = expected_bar_opens("24/5", "1d", date(2024, 1, 5), date(2024, 1, 8))
    assert opens.to_list() == [utc(2024, 1, 5), utc(2024, 1, 8)]


def test_calendar_with_recorded_holidays_up_to_a_year_works_up_to_that_year() -> None:
    # exchange-calendars records XBOM holidays to 2026 only; late December 2026 still works.
    opens = expected_bar_opens("XBOM", "1d", date(2026, 12, 28), date(2026, 12, 31))
    assert opens.len() == 4


def test_range_outside_a_calendars_records_is_refused_with_its_bounds() -> None:
    with pytest.raises(ConfigError, match="2017-01-01"):
        session_table("AIXK", date(2016, 12, 1), date(2017, 1, 31))
    with pytest.raises(ConfigError, match="2026-12-31"):
        expected_bar_opens("XBOM", "1h", date(2026, 12, 1), date(2027, 1, 5))
