"""Synthetic bars: reproducible, independent per symbol, always consistent, statistically sane."""

from __future__ import annotations

import math
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantstrata.core.errors import ConfigError, TimezoneError
from quantstrata.data.synthetic import DEFAULT_START, default_symbol_names, generate_bars
from quantstrata.model.bar import BAR_SCHEMA, Bar

MINUTE_YEARS = 60 / (365 * 86_400)


def _bits(frame: pl.DataFrame) -> dict[str, bytes]:
    """Every column's raw bytes, so equality means bit-for-bit equality."""
    numeric = {
        name: frame.get_column(name).to_numpy().tobytes()
        for name in ("open", "high", "low", "close", "volume")
    }
    numeric["ts"] = frame.get_column("ts").dt.epoch("ns").to_numpy().tobytes()
    numeric["symbol"] = "\n".join(frame.get_column("symbol").to_list()).encode()
    return numeric


def _symbol(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    return frame.filter(pl.col("symbol") == name)


# ------------------------------------------------------------------ shape and determinism


def test_default_frame_has_the_canonical_schema_and_size() -> None:
    frame = generate_bars()

    assert frame.schema == BAR_SCHEMA
    assert frame.height == 1_000
    assert frame.get_column("symbol").unique().to_list() == ["SYN000"]
    assert frame.get_column("ts")[0] == DEFAULT_START


def test_same_arguments_give_the_same_frame_bit_for_bit() -> None:
    options: dict[str, Any] = {
        "symbols": 3,
        "bars": 5_000,
        "interval": "5m",
        "seed": 42,
        "gap_volatility": 0.001,
    }

    assert _bits(generate_bars(**options)) == _bits(generate_bars(**options))


def test_different_seeds_give_different_paths() -> None:
    first = generate_bars(bars=100, seed=1).get_column("close")
    second = generate_bars(bars=100, seed=2).get_column("close")

    assert not np.array_equal(first.to_numpy(), second.to_numpy())


def test_fewer_bars_give_a_prefix_of_the_longer_path() -> None:
    long = generate_bars(bars=1_000, seed=7)
    short = generate_bars(bars=100, seed=7)

    assert _bits(short) == _bits(long.head(100))


def test_bars_zero_gives_an_empty_canonical_frame() -> None:
    frame = generate_bars(symbols=["A", "B"], bars=0)

    assert frame.height == 0
    assert frame.schema == BAR_SCHEMA


# ------------------------------------------------------------------ symbols


def test_a_symbol_path_does_not_depend_on_the_other_symbols_asked_for() -> None:
    alone = generate_bars(symbols=["BBB"], bars=500, seed=3)
    with_others = generate_bars(symbols=["ZZZ", "BBB", "AAA"], bars=500, seed=3)

    assert _bits(_symbol(with_others, "BBB")) == _bits(alone)


def test_a_counted_symbol_keeps_its_path_when_more_are_asked_for() -> None:
    two = generate_bars(symbols=2, bars=300)
    five = generate_bars(symbols=5, bars=300)

    assert _bits(_symbol(five, "SYN001")) == _bits(_symbol(two, "SYN001"))


def test_symbols_are_sorted_then_time_ordered() -> None:
    frame = generate_bars(symbols=["b", "C", "a"], bars=50)

    expected = frame.sort(["symbol", "ts"])
    assert _bits(frame) == _bits(expected)
    assert frame.get_column("symbol").unique(maintain_order=True).to_list() == ["C", "a", "b"]


def test_symbol_streams_are_uncorrelated() -> None:
    frame = generate_bars(symbols=["AAA", "BBB"], bars=50_000, seed=11)
    returns = [
        np.diff(np.log(_symbol(frame, name).get_column("close").to_numpy()))
        for name in ("AAA", "BBB")
    ]

    correlation = np.corrcoef(returns[0], returns[1])[0, 1]
    # Under independence the sample correlation has standard error 1/sqrt(n) ≈ 0.0045.
    assert abs(correlation) < 0.03


def test_default_symbol_names_are_fixed_width_and_sortable() -> None:
    names = default_symbol_names(12)

    assert names[0] == "SYN000"
    assert names[11] == "SYN011"
    assert sorted(names) == names


# ------------------------------------------------------------------ OHLC invariants


def _check_consistent(frame: pl.DataFrame, *, gap: bool) -> None:
    values = {name: frame.get_column(name).to_numpy() for name in BAR_SCHEMA.names()[2:]}
    open_, high, low, close, volume = (
        values[n] for n in ("open", "high", "low", "close", "volume")
    )
    assert np.isfinite(np.stack([open_, high, low, close, volume])).all()
    assert (low > 0).all()
    assert (low <= np.minimum(open_, close)).all()
    assert (np.maximum(open_, close) <= high).all()
    assert (volume >= 0).all()
    for symbol in frame.get_column("symbol").unique().to_list():
        part = _symbol(frame, symbol)
        times = part.get_column("ts").dt.epoch("ns").to_numpy()
        assert (np.diff(times) > 0).all()
        if not gap:
            closes, opens = part.get_column("close").to_numpy(), part.get_column("open").to_numpy()
            assert np.array_equal(opens[1:], closes[:-1])


@settings(max_examples=60, deadline=None)
@given(
    options=st.fixed_dictionaries(
        {
            "seed": st.integers(0, 2**32),
            "bars": st.integers(0, 1_500),
            "symbols": st.integers(1, 3),
            "interval": st.sampled_from(["1s", "1m", "7m", "1h", "4h", "1d", "1w", "1mo"]),
            # Milder than markets ever are would be pointless; wilder ones can leave float64
            # over 125 years of monthly bars, which generate_bars refuses (tested below).
            "volatility": st.floats(0.0, 1.5),
            "drift": st.floats(-1.0, 1.0),
            "gap_volatility": st.sampled_from([0.0, 0.0, 0.01]),
            "start_price": st.floats(0.01, 1e5),
        }
    )
)
def test_bars_are_always_consistent(options: dict[str, Any]) -> None:
    frame = generate_bars(**options)

    assert frame.schema == BAR_SCHEMA
    assert frame.height == options["bars"] * options["symbols"]
    _check_consistent(frame, gap=options["gap_volatility"] > 0)
    for row in frame.head(50).iter_rows(named=True):
        Bar(**row)  # the domain type's own checks, an independent oracle


def test_zero_volatility_gives_a_smooth_drifting_path() -> None:
    frame = generate_bars(bars=365, interval="1d", volatility=0.0, drift=0.1, start_price=50.0)

    close = frame.get_column("close").to_numpy()
    expected = 50.0 * np.exp(0.1 * np.arange(1, 366) / 365)
    np.testing.assert_allclose(close, expected, rtol=1e-12)
    body_top = np.maximum(frame.get_column("open").to_numpy(), close)
    np.testing.assert_allclose(frame.get_column("high").to_numpy(), body_top, rtol=1e-12)


# ------------------------------------------------------------------ statistics


def test_sample_volatility_matches_the_requested_one() -> None:
    frame = generate_bars(bars=400_000, volatility=0.3, seed=5)
    closes = frame.get_column("close").to_numpy()

    log_returns = np.diff(np.log(np.concatenate(([100.0], closes))))
    annualised = log_returns.std(ddof=1) / math.sqrt(MINUTE_YEARS)
    # Standard error of a sample volatility is about 0.3 / sqrt(2n) ≈ 0.0003.
    assert annualised == pytest.approx(0.3, rel=0.01)


def test_drift_moves_the_log_price_as_gbm_says() -> None:
    frame = generate_bars(bars=3_650, interval="1d", drift=0.4, volatility=0.02, seed=9)

    years = 3_650 / 365
    log_growth = math.log(frame.get_column("close")[-1] / 100.0)
    expected = (0.4 - 0.02**2 / 2) * years
    standard_deviation = 0.02 * math.sqrt(years)
    assert abs(log_growth - expected) < 5 * standard_deviation


def test_high_and_low_excursions_match_brownian_motion_extremes() -> None:
    frame = generate_bars(bars=300_000, volatility=0.25, drift=0.0, seed=13)
    open_ = frame.get_column("open").to_numpy()

    up = np.log(frame.get_column("high").to_numpy() / open_)
    down = np.log(open_ / frame.get_column("low").to_numpy())
    # The maximum of Brownian motion over a time t has mean sigma * sqrt(2 t / pi).
    expected = 0.25 * math.sqrt(2 * MINUTE_YEARS / math.pi)
    assert up.mean() == pytest.approx(expected, rel=0.01)
    assert down.mean() == pytest.approx(expected, rel=0.01)


def test_gaps_add_their_variance_between_close_and_open() -> None:
    frame = generate_bars(bars=200_000, gap_volatility=0.002, seed=17)
    opens, closes = frame.get_column("open").to_numpy(), frame.get_column("close").to_numpy()

    gaps = np.log(opens[1:] / closes[:-1])
    assert gaps.std() == pytest.approx(0.002, rel=0.02)
    assert abs(gaps.mean()) < 5 * 0.002 / math.sqrt(len(gaps))


# ------------------------------------------------------------------ time


@pytest.mark.parametrize(
    ("interval", "frequency"),
    [("1s", "1s"), ("5m", "5min"), ("1h", "1h"), ("1d", "1D"), ("1w", "W-MON"), ("1mo", "MS")],
)
def test_round_the_clock_bars_sit_on_the_epoch_grid(interval: str, frequency: str) -> None:
    start = datetime(2024, 1, 3, 5, 7, 30, tzinfo=UTC)
    frame = generate_bars(bars=40, interval=interval, start=start)

    stamp = pd.Timestamp(start)
    first = stamp.ceil(frequency) if frequency[0].isdigit() else None
    expected = pd.date_range(first or stamp.normalize(), periods=60, freq=frequency)
    expected = expected[expected >= stamp][:40]
    actual = pd.DatetimeIndex(frame.get_column("ts").to_pandas())
    assert actual.equals(expected.as_unit("ns"))


def test_start_in_another_timezone_is_converted_to_utc() -> None:
    start = datetime(2024, 3, 1, 9, 30, tzinfo=ZoneInfo("America/New_York"))

    frame = generate_bars(bars=3, start=start)

    assert frame.get_column("ts")[0] == datetime(2024, 3, 1, 14, 30, tzinfo=UTC)


def _exchange_calendar(code: str, start: str, end: str) -> object:
    import exchange_calendars as xcals

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return xcals.get_calendar(code, start=start, end=end)


def test_calendar_minute_bars_are_exactly_the_trading_minutes() -> None:
    start = datetime(
        2024, 11, 25, tzinfo=UTC
    )  # the week of Thanksgiving: a holiday, an early close
    frame = generate_bars(bars=2_000, calendar="XNYS", start=start)

    calendar = _exchange_calendar("XNYS", "2024-01-01", "2024-12-31")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        minutes = calendar.minutes_in_range(pd.Timestamp(start), pd.Timestamp("2024-12-31"))  # type: ignore[attr-defined]
    expected = pd.DatetimeIndex(minutes[:2_000]).as_unit("ns")
    assert pd.DatetimeIndex(frame.get_column("ts").to_pandas()).equals(expected)
    _check_consistent(frame, gap=False)


def test_calendar_daily_bars_are_the_sessions_at_midnight_utc() -> None:
    start = datetime(2023, 12, 20, tzinfo=UTC)
    frame = generate_bars(bars=30, interval="1d", calendar="XNYS", start=start)

    calendar = _exchange_calendar("XNYS", "2023-01-01", "2024-12-31")
    sessions = calendar.sessions_in_range("2023-12-20", "2024-03-01")  # type: ignore[attr-defined]
    expected = pd.DatetimeIndex(sessions[:30]).tz_localize("UTC").as_unit("ns")
    assert pd.DatetimeIndex(frame.get_column("ts").to_pandas()).equals(expected)


@pytest.mark.parametrize(
    ("code", "interval"), [("XTKS", "30m"), ("XLON", "1h"), ("XNYS", "1w"), ("XHKG", "15m")]
)
def test_calendar_bars_follow_the_expected_session_bars(code: str, interval: str) -> None:
    from quantstrata.process.calendar import expected_bar_opens

    start = datetime(2024, 3, 1, 12, tzinfo=UTC)
    frame = generate_bars(bars=700, interval=interval, calendar=code, start=start)

    times = frame.get_column("ts")
    expected = expected_bar_opens(code, interval, start, times[-1])
    assert times.to_list() == expected.to_list()
    _check_consistent(frame, gap=False)


def test_calendar_volatility_is_per_252_sessions() -> None:
    frame = generate_bars(bars=200_000, calendar="XNYS", volatility=0.2, seed=21)
    closes = frame.get_column("close").to_numpy()

    sessions = frame.get_column("ts").dt.date().n_unique()
    log_returns = np.diff(np.log(np.concatenate(([100.0], closes))))
    annualised = math.sqrt((log_returns**2).sum() / sessions * 252)
    assert annualised == pytest.approx(0.2, rel=0.02)


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"start": datetime(2024, 1, 1)}, TimezoneError),  # naive on purpose
        ({"bars": -1}, ConfigError),
        ({"symbols": 0}, ConfigError),
        ({"symbols": []}, ConfigError),
        ({"symbols": ["A", "A"]}, ConfigError),
        ({"symbols": ["bad=name"]}, ConfigError),
        ({"volatility": -0.1}, ConfigError),
        ({"volatility": math.nan}, ConfigError),
        ({"start_price": 0.0}, ConfigError),
        ({"gap_volatility": -1.0}, ConfigError),
        ({"seed": -1}, ConfigError),
        ({"interval": "fortnight"}, ConfigError),
        ({"calendar": "NOPE"}, ConfigError),
        ({"bars": 10_000, "interval": "1d", "drift": 1e6}, ConfigError),
        ({"bars": 2_000_000, "interval": "1mo"}, ConfigError),
    ],
)
def test_bad_arguments_raise_typed_errors(
    options: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        generate_bars(**options)  # type: ignore[arg-type]


def test_start_far_in_the_future_is_refused_before_overflow() -> None:
    with pytest.raises(ConfigError, match="2262"):
        generate_bars(bars=100, interval="1d", start=datetime(2262, 3, 1, tzinfo=UTC))
    assert (
        generate_bars(bars=1, start=datetime(2262, 1, 1, tzinfo=UTC) - timedelta(days=1)).height
        == 1
    )
