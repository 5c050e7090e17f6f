"""Annualisation factors: the documented conventions, checked against the calendars directly."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta

import pandas as pd
import polars as pl
import pytest

from quantstrata.analytics import infer_interval, infer_periods_per_year, periods_per_year
from quantstrata.analytics.annualization import REFERENCE_YEARS, bars_per_year
from quantstrata.core.errors import ConfigError, DataError, TimezoneError
from quantstrata.data.samples import load_sample
from quantstrata.model.interval import Interval, IntervalUnit
from quantstrata.process.calendar import expected_bar_opens

FIRST_YEAR, LAST_YEAR = REFERENCE_YEARS
YEARS = LAST_YEAR - FIRST_YEAR + 1


def _reference_bar_count(code: str, interval: str) -> int:
    """Count bars over the reference years with the processing layer's bar schedule."""
    opens = expected_bar_opens(code, interval, f"{FIRST_YEAR}-01-01", f"{LAST_YEAR}-12-31")
    return opens.len()


def _minutes(start: datetime, count: int) -> pl.Series:
    return pl.Series("ts", [start + timedelta(minutes=i) for i in range(count)]).cast(
        pl.Datetime("ns", "UTC")
    )


@pytest.mark.parametrize(
    ("interval", "expected"),
    [
        ("1m", 365 * 24 * 60),
        ("5m", 365 * 24 * 12),
        ("1h", 365 * 24),
        ("4h", 365 * 6),
        ("1d", 365),
        ("2d", 182.5),
        ("1w", 52),
        ("2w", 26),
        ("1mo", 12),
        ("3mo", 4),
    ],
)
def test_always_open_market_counts_365_days(interval: str, expected: float) -> None:
    assert periods_per_year(interval) == pytest.approx(expected, rel=1e-15)
    assert periods_per_year(interval, "24/7") == pytest.approx(expected, rel=1e-15)


def test_daily_bars_on_a_calendar_average_its_real_sessions() -> None:
    import exchange_calendars as xcals

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        calendar = xcals.get_calendar("XNYS", start=f"{FIRST_YEAR}-01-01", end=f"{LAST_YEAR}-12-31")
    expected = len(calendar.sessions) / YEARS

    assert periods_per_year("1d", "XNYS") == pytest.approx(expected, rel=1e-15)
    assert 250 < periods_per_year("1d", "xnys") < 253
    assert periods_per_year("5d", "XNYS") == pytest.approx(expected / 5, rel=1e-15)


@pytest.mark.parametrize(
    ("code", "interval"), [("XNYS", "1m"), ("XNYS", "30m"), ("XHKG", "1h"), ("XLON", "15m")]
)
def test_intraday_bars_on_a_calendar_match_the_bar_schedule(code: str, interval: str) -> None:
    """Early closes and lunch breaks count exactly as the processing layer schedules bars."""
    expected = _reference_bar_count(code, interval) / YEARS

    assert periods_per_year(interval, code) == pytest.approx(expected, rel=1e-12)
    assert bars_per_year(code, interval) == pytest.approx(expected, rel=1e-12)


def test_nyse_minute_bars_are_about_252_sessions_of_390_minutes() -> None:
    assert periods_per_year("1m", "XNYS") == pytest.approx(252 * 390, rel=0.01)


def test_weekly_and_monthly_ignore_the_calendar() -> None:
    assert periods_per_year("1w", "XNYS") == 52
    assert periods_per_year("1mo", "XLON") == 12


def test_unknown_calendar_and_bad_intervals_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="XNYS"):
        periods_per_year("1d", "XNYZ")
    with pytest.raises(ConfigError):
        periods_per_year("fortnight")
    with pytest.raises(ConfigError, match="intraday"):
        bars_per_year("XNYS", "1d")


def test_infer_24_7_minute_data() -> None:
    ts = _minutes(datetime(2024, 3, 4, tzinfo=UTC), 7 * 24 * 60)

    assert infer_interval(ts) == Interval(1, IntervalUnit.MINUTE)
    assert infer_periods_per_year(ts) == 365 * 24 * 60


def test_infer_nyse_minute_data() -> None:
    ts = expected_bar_opens("XNYS", "1m", "2024-03-01", "2024-04-30")

    assert infer_periods_per_year(ts) == 252 * 390


def test_infer_nyse_daily_data_gives_252() -> None:
    ts = load_sample("SPX_1d").get_column("ts")

    assert infer_interval(ts) == Interval(1, IntervalUnit.DAY)
    assert infer_periods_per_year(ts) == 252


def test_infer_crypto_daily_data_gives_365() -> None:
    ts = pl.datetime_range(
        datetime(2023, 1, 1, tzinfo=UTC), datetime(2023, 12, 31, tzinfo=UTC), "1d", eager=True
    )

    assert infer_periods_per_year(ts) == 365


def test_infer_monthly_and_weekly_data() -> None:
    monthly = load_sample("BTCUSD_1mo").get_column("ts")
    weekly = pd.date_range("2020-01-06", periods=60, freq="W-MON", tz="UTC")

    assert infer_interval(monthly) == Interval(1, IntervalUnit.MONTH)
    assert infer_periods_per_year(monthly) == 12
    assert infer_periods_per_year(weekly) == 52
    assert infer_periods_per_year(pd.Series(weekly)) == 52


def test_infer_fx_hourly_data_follows_the_session_rule() -> None:
    """FX has only a couple of Sunday-evening bars a week: read as 252 sessions of 24 bars."""
    ts = load_sample("EURUSD_1h").get_column("ts")

    assert infer_interval(ts) == Interval(1, IntervalUnit.HOUR)
    assert infer_periods_per_year(ts) == 252 * 24


def test_infer_odd_spacings() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    every = [start + timedelta(seconds=90 * i) for i in range(8 * 960)]  # eight whole days
    series = pl.Series("ts", every).cast(pl.Datetime("ns", "UTC"))

    assert infer_interval(series) == Interval(90, IntervalUnit.SECOND)
    assert infer_periods_per_year(series) == pytest.approx(365 * 86_400 / 90)


def test_infer_too_short_to_see_a_weekend_uses_the_session_rule() -> None:
    """Documented limit: a few weekday hours of 24/7 data look like one session."""
    ts = _minutes(datetime(2024, 3, 4, 9, tzinfo=UTC), 60)

    assert infer_periods_per_year(ts) == 252 * 60


def test_infer_refuses_bad_timestamps() -> None:
    one = pl.Series("ts", [datetime(2024, 1, 1, tzinfo=UTC)]).cast(pl.Datetime("ns", "UTC"))
    with pytest.raises(DataError, match="two timestamps"):
        infer_periods_per_year(one)
    naive = pl.Series("ts", [datetime(2024, 1, 1), datetime(2024, 1, 2)])
    with pytest.raises(TimezoneError):
        infer_periods_per_year(naive)
    backwards = pl.Series(
        "ts", [datetime(2024, 1, 2, tzinfo=UTC), datetime(2024, 1, 1, tzinfo=UTC)]
    )
    with pytest.raises(DataError) as caught:
        infer_periods_per_year(backwards)
    assert caught.value.issues[0].row == 1
    with pytest.raises(TimezoneError):
        infer_periods_per_year(pd.date_range("2024-01-01", periods=3, freq="D"))
