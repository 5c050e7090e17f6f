from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from quantstrata.core.errors import ConfigError, DataError
from quantstrata.process.calendar import expected_bar_opens, session_table
from quantstrata.process.resample import resample
from tests.kit.frames import minute_range, multi_symbol, random_walk_bars, utc

AGGREGATIONS = {
    "open": "first",
    "high": "max",
    "low": "min",
    "close": "last",
    "volume": "sum",
    "adj_close": "last",
    "quote_volume": "sum",
    "open_interest": "last",
}


def _opens(code: str | None, interval: str, first: date, last: date) -> np.ndarray:
    return expected_bar_opens(code, interval, first, last).dt.epoch("ns").to_numpy()


def _drop_random(times: np.ndarray, seed: int, keep: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return times[rng.random(len(times)) < keep]


def _pandas_resample(bars: pl.DataFrame, rule: str) -> pl.DataFrame:
    """Resample each symbol with pandas, drop empty buckets, return a canonical Polars frame."""
    pieces = []
    for symbol, group in bars.to_pandas().groupby("symbol", sort=True):
        frame = group.drop(columns="symbol").set_index("ts")
        # Naive UTC wall times: pandas honours origin="epoch" for days only on a naive index.
        frame.index = frame.index.tz_convert(None)
        agg = {name: how for name, how in AGGREGATIONS.items() if name in frame.columns}
        # Fixed-length rules count from the epoch (pandas' default is the first day).
        options = {"origin": "epoch"} if rule[-1] in "DhinT" else {}
        out = frame.resample(rule, label="left", closed="left", **options).agg(agg)
        counts = frame["close"].resample(rule, label="left", closed="left", **options).count()
        out = out[counts > 0].reset_index()
        out.insert(1, "symbol", symbol)
        pieces.append(out)
    result = pl.from_pandas(pd.concat(pieces, ignore_index=True))
    return result.with_columns(pl.col("ts").cast(pl.Datetime("ns")).dt.replace_time_zone("UTC"))


# ------------------------------------------------------------------ hand-checked small case


def test_five_one_minute_bars_make_one_five_minute_bar_by_hand() -> None:
    times = minute_range(utc(2024, 1, 1, 0, 3), 4)  # 00:03 .. 00:06
    bars = pl.DataFrame(
        {
            "ts": pl.Series(times).cast(pl.Datetime("ns", "UTC")),
            "symbol": ["X"] * 4,
            "open": [10.0, 11.0, 12.0, 13.0],
            "high": [11.5, 12.5, 14.0, 13.5],
            "low": [9.5, 10.5, 11.5, 12.5],
            "close": [11.0, 12.0, 13.0, 13.2],
            "volume": [1.0, 2.0, 3.0, 4.0],
        }
    )
    out = resample(bars, "5m")
    # 00:03 and 00:04 fall in [00:00, 00:05); 00:05 and 00:06 in [00:05, 00:10).
    expected = pl.DataFrame(
        {
            "ts": [utc(2024, 1, 1, 0, 0), utc(2024, 1, 1, 0, 5)],
            "symbol": ["X", "X"],
            "open": [10.0, 12.0],
            "high": [12.5, 14.0],
            "low": [9.5, 11.5],
            "close": [12.0, 13.2],
            "volume": [3.0, 7.0],
        }
    ).with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC")))
    assert_frame_equal(out, expected)


# ------------------------------------------------------------------ 24/7 against pandas


@pytest.mark.parametrize("rule", ["5min", "1h", "4h", "1D", "3D"])
def test_matches_pandas_resample_on_gappy_multi_symbol_minutes(rule: str) -> None:
    times = minute_range(utc(2024, 2, 27, 21, 0), 60 * 24 * 4)
    frames = [
        random_walk_bars(_drop_random(times, seed, 0.7), symbol, seed=seed, extras=True)
        for seed, symbol in enumerate(["ETH", "BTC"])
    ]
    bars = multi_symbol(frames)
    interval = {"5min": "5m", "1h": "1h", "4h": "4h", "1D": "1d", "3D": "3d"}[rule]
    assert_frame_equal(resample(bars, interval, source_interval="1m"), _pandas_resample(bars, rule))


def test_weeks_start_on_monday_and_months_on_the_first_like_pandas() -> None:
    times = _drop_random(_opens(None, "1h", date(2023, 12, 20), date(2024, 3, 10)), 3, 0.8)
    bars = random_walk_bars(times, "SOL", seed=3)
    weekly = resample(bars, "1w")
    assert_frame_equal(weekly, _pandas_resample(bars, "W-MON"))
    assert set(weekly.get_column("ts").dt.weekday().to_list()) == {1}
    assert_frame_equal(resample(bars, "1mo"), _pandas_resample(bars, "MS"))
    assert_frame_equal(resample(bars, "3mo"), _pandas_resample(bars, "QS-JAN"))


def test_unsorted_input_gives_the_sorted_result() -> None:
    times = minute_range(utc(2024, 5, 1), 600)
    bars = multi_symbol([random_walk_bars(times, "A", seed=1), random_walk_bars(times, "B")])
    shuffled = bars.sample(fraction=1.0, shuffle=True, seed=7)
    assert_frame_equal(resample(shuffled, "1h"), resample(bars.sort("symbol", "ts"), "1h"))


# ------------------------------------------------------------------ properties


@st.composite
def gappy_minutes(draw: st.DrawFn) -> pl.DataFrame:
    seed = draw(st.integers(0, 10_000))
    keep = draw(st.floats(0.05, 1.0))
    days = draw(st.integers(1, 3))
    start_minute = draw(st.integers(0, 1439))
    start = utc(2024, 3, 8) + timedelta(minutes=start_minute)
    times = _drop_random(minute_range(start, days * 1440), seed, keep)
    other = _drop_random(minute_range(start, days * 1440), seed + 1, keep)
    frames = [random_walk_bars(times, "A", seed=seed), random_walk_bars(other, "B", seed=seed + 1)]
    return multi_symbol([frame for frame in frames if frame.height])


def _check_bar_rules(source: pl.DataFrame, out: pl.DataFrame) -> None:
    assert (out["high"] >= out["open"]).all()
    assert (out["high"] >= out["close"]).all()
    assert (out["low"] <= out["open"]).all()
    assert (out["low"] <= out["close"]).all()
    assert (out["low"] <= out["high"]).all()
    totals_in = source.group_by("symbol").agg(pl.col("volume").sum()).sort("symbol")
    totals_out = out.group_by("symbol").agg(pl.col("volume").sum()).sort("symbol")
    assert_frame_equal(totals_in, totals_out)
    assert out.select(pl.struct("symbol", "ts").is_unique().all()).item()


@settings(max_examples=40, deadline=None)
@given(bars=gappy_minutes())
def test_resampling_in_steps_equals_resampling_at_once_24_7(bars: pl.DataFrame) -> None:
    hourly = resample(bars, "1h", source_interval="1m")
    via_five = resample(resample(bars, "5m", source_interval="1m"), "1h", source_interval="5m")
    assert_frame_equal(hourly, via_five)
    daily = resample(bars, "1d", source_interval="1m")
    assert_frame_equal(daily, resample(hourly, "1d", source_interval="1h"))
    _check_bar_rules(bars, hourly)
    _check_bar_rules(bars, daily)


@st.composite
def session_minutes(draw: st.DrawFn) -> pl.DataFrame:
    first = date(2024, 11, 20) + timedelta(days=draw(st.integers(0, 20)))
    last = first + timedelta(days=draw(st.integers(0, 6)))
    seed = draw(st.integers(0, 10_000))
    keep = draw(st.floats(0.05, 1.0))
    times = _drop_random(_opens("XNYS", "1m", first, last), seed, keep)
    if len(times) == 0:
        times = _opens("XNYS", "1m", first, last + timedelta(days=4))[:1]
    return random_walk_bars(times, "SPY", seed=seed, extras=True)


@settings(max_examples=30, deadline=None)
@given(bars=session_minutes(), anchor=st.sampled_from(["session", "clock"]))
def test_resampling_in_steps_equals_resampling_at_once_on_xnys(
    bars: pl.DataFrame, anchor: str
) -> None:
    def step(frame: pl.DataFrame, interval: str, source: str) -> pl.DataFrame:
        return resample(frame, interval, calendar="XNYS", anchor=anchor, source_interval=source)

    hourly = step(bars, "1h", "1m")
    assert_frame_equal(hourly, step(step(bars, "5m", "1m"), "1h", "5m"))
    assert_frame_equal(step(bars, "30m", "1m"), step(step(bars, "15m", "1m"), "30m", "15m"))
    daily = step(bars, "1d", "1m")
    assert_frame_equal(daily, step(hourly, "1d", "1h"))
    _check_bar_rules(bars, hourly)
    _check_bar_rules(bars, daily)


# ------------------------------------------------------------------ session-aware conventions


def test_xnys_hourly_bars_start_at_the_open_and_the_last_one_is_short() -> None:
    first, last = date(2024, 11, 25), date(2024, 12, 3)  # includes the Nov 29 half day
    bars = random_walk_bars(_opens("XNYS", "1m", first, last), "SPY")
    hourly = resample(bars, "1h", calendar="XNYS")
    assert_frame_equal(
        hourly.select("ts"), expected_bar_opens("XNYS", "1h", first, last).to_frame()
    )
    new_york = hourly.get_column("ts").dt.convert_time_zone("America/New_York")
    monday = new_york.filter(new_york.dt.date() == date(2024, 11, 25)).dt.strftime("%H:%M")
    assert monday.to_list() == ["09:30", "10:30", "11:30", "12:30", "13:30", "14:30", "15:30"]
    # The 15:30 bar holds 30 one-minute bars: the session closes at 16:00.
    last_bar = bars.filter(
        pl.col("ts") >= utc(2024, 11, 25, 20, 30), pl.col("ts") < utc(2024, 11, 26)
    )
    row = hourly.filter(pl.col("ts") == utc(2024, 11, 25, 20, 30))
    assert row.get_column("volume").item() == last_bar.get_column("volume").sum()
    assert last_bar.height == 30


def test_clock_anchor_puts_bars_on_the_hour_after_a_short_first_bar() -> None:
    bars = random_walk_bars(_opens("XNYS", "1m", date(2024, 7, 1), date(2024, 7, 1)), "SPY")
    hourly = resample(bars, "1h", calendar="XNYS", anchor="clock")
    local = hourly.get_column("ts").dt.convert_time_zone("America/New_York").dt.strftime("%H:%M")
    assert local.to_list() == ["09:30", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00"]
    first = bars.filter(pl.col("ts") < utc(2024, 7, 1, 14, 0))
    assert hourly.get_column("open")[0] == first.get_column("open")[0]
    assert hourly.get_column("close")[0] == first.get_column("close")[-1]


def test_no_bar_spans_the_hong_kong_lunch_break() -> None:
    first, last = date(2024, 3, 4), date(2024, 3, 8)
    bars = random_walk_bars(_opens("XHKG", "1m", first, last), "0700.HK")
    hourly = resample(bars, "1h", calendar="XHKG")
    assert_frame_equal(
        hourly.select("ts"), expected_bar_opens("XHKG", "1h", first, last).to_frame()
    )
    local = hourly.get_column("ts").dt.convert_time_zone("Asia/Hong_Kong")
    one_day = local.filter(local.dt.date() == date(2024, 3, 5)).dt.strftime("%H:%M").to_list()
    assert one_day == ["09:30", "10:30", "11:30", "13:00", "14:00", "15:00"]


def test_daily_weekly_monthly_group_sessions_and_label_them_by_date() -> None:
    first, last = date(2024, 1, 2), date(2024, 3, 28)
    minutes = random_walk_bars(_drop_random(_opens("XNYS", "5m", first, last), 5, 0.9), "SPY")
    daily = resample(minutes, "1d", calendar="XNYS")
    assert_frame_equal(daily.select("ts"), expected_bar_opens("XNYS", "1d", first, last).to_frame())
    sessions = session_table("XNYS", first, last)
    # Independent check: each daily bar gathers the bars between its session's open and close.
    for row in sessions.sample(5, seed=1).iter_rows(named=True):
        inside = minutes.filter(pl.col("ts") >= row["open"], pl.col("ts") < row["close"])
        bar = daily.filter(pl.col("ts").dt.date() == row["session"])
        assert bar.get_column("high").item() == inside.get_column("high").max()
        assert bar.get_column("volume").item() == inside.get_column("volume").sum()
    for interval, rule in (("1w", "W-MON"), ("1mo", "MS")):
        expected = _pandas_resample(daily, rule)
        assert_frame_equal(resample(daily, interval, calendar="XNYS"), expected)
        assert_frame_equal(resample(minutes, interval, calendar="XNYS"), expected)


# ------------------------------------------------------------------ errors


def test_target_that_is_not_a_multiple_is_refused() -> None:
    bars = random_walk_bars(minute_range(utc(2024, 1, 1), 100, step_minutes=7))
    with pytest.raises(ConfigError, match="multiple"):
        resample(bars, "1h")


def test_bar_outside_the_session_is_refused_with_its_row() -> None:
    times = _opens("XNYS", "1m", date(2024, 7, 1), date(2024, 7, 1))
    times = np.append(times, int(utc(2024, 7, 1, 22, 0).timestamp()) * 1_000_000_000)
    with pytest.raises(DataError, match="outside_session") as caught:
        resample(random_walk_bars(times), "1h", calendar="XNYS")
    assert [issue.row for issue in caught.value.issues] == [len(times) - 1]


def test_bar_off_the_target_grid_is_refused_with_its_row() -> None:
    times = minute_range(utc(2024, 1, 1, 9, 30), 5, step_minutes=60)  # 09:30, 10:30, ...
    with pytest.raises(DataError, match="straddles_output_bar") as caught:
        resample(random_walk_bars(times), "2h")
    # 09:30-10:30 crosses 10:00, 11:30-12:30 crosses 12:00, 13:30-14:30 crosses 14:00.
    assert [issue.row for issue in caught.value.issues] == [0, 2, 4]


def test_duplicate_bars_are_refused() -> None:
    bars = random_walk_bars(minute_range(utc(2024, 1, 1), 10))
    with pytest.raises(DataError, match="duplicate") as caught:
        resample(pl.concat([bars, bars.slice(4, 1)]), "5m")
    assert caught.value.issues[0].row in {4, 10}


def test_single_bar_needs_a_source_interval() -> None:
    bar = random_walk_bars(minute_range(utc(2024, 1, 1, 0, 7), 1))
    with pytest.raises(ConfigError, match="source_interval"):
        resample(bar, "5m")
    out = resample(bar, "5m", source_interval="1m")
    assert out.get_column("ts").to_list() == [utc(2024, 1, 1, 0, 5)]


def test_bad_arguments_are_config_errors() -> None:
    bars = random_walk_bars(minute_range(utc(2024, 1, 1), 10))
    with pytest.raises(ConfigError, match="anchor"):
        resample(bars, "5m", anchor="noon")
    daily = random_walk_bars(_opens("XNYS", "1d", date(2024, 1, 2), date(2024, 2, 1)))
    with pytest.raises(ConfigError, match="1d"):
        resample(daily, "2d", calendar="XNYS")


def test_empty_frame_gives_an_empty_frame() -> None:
    empty = random_walk_bars(np.zeros(0, dtype=np.int64))
    assert_frame_equal(resample(empty, "1h"), empty)
