from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from quantstrata.core.errors import ConfigError, DataError, TimezoneError, UnknownSymbolError
from quantstrata.process.align import align, to_wide, to_wide_pandas
from quantstrata.process.calendar import expected_bar_opens
from tests.kit.frames import NS_PER_MINUTE, minute_range, multi_symbol, random_walk_bars, utc

UTC_NS = pl.Datetime("ns", "UTC")


def _bar(hour: int, symbol: str, close: float, volume: float = 5.0) -> dict[str, object]:
    return {
        "ts": utc(2024, 1, 1, hour),
        "symbol": symbol,
        "open": close - 0.5,
        "high": close + 1.0,
        "low": close - 1.0,
        "close": close,
        "volume": volume,
    }


@pytest.fixture
def small() -> pl.DataFrame:
    rows = [_bar(0, "A", 10.0), _bar(1, "A", 11.0), _bar(4, "A", 12.0)]
    rows += [_bar(2, "B", 20.0), _bar(3, "B", 21.0)]
    return pl.DataFrame(rows).with_columns(pl.col("ts").cast(UTC_NS))


def _rows(frame: pl.DataFrame, symbol: str, column: str) -> list[object]:
    return frame.filter(pl.col("symbol") == symbol).get_column(column).to_list()


# ------------------------------------------------------------------ hand-made cases


def test_forward_fill_carries_the_close_and_zero_volume(small: pl.DataFrame) -> None:
    out = align(small)
    assert out.get_column("ts").unique().len() == 5
    assert out.columns == ["ts", "symbol", "open", "high", "low", "close", "volume", "filled"]
    assert _rows(out, "A", "close") == [10.0, 11.0, 11.0, 11.0, 12.0]
    assert _rows(out, "A", "open") == [9.5, 10.5, 11.0, 11.0, 11.5]
    assert _rows(out, "A", "high") == [11.0, 12.0, 11.0, 11.0, 13.0]
    assert _rows(out, "A", "volume") == [5.0, 5.0, 0.0, 0.0, 5.0]
    assert _rows(out, "A", "filled") == [False, False, True, True, False]
    # B starts at 02:00: never filled backwards.
    assert _rows(out, "B", "close") == [None, None, 20.0, 21.0, 21.0]
    assert _rows(out, "B", "filled") == [False, False, False, False, True]
    assert out.get_column("symbol").to_list()[:4] == ["A", "B", "A", "B"]


def test_max_fill_limits_consecutive_filled_ticks(small: pl.DataFrame) -> None:
    out = align(small, max_fill=1)
    assert _rows(out, "A", "close") == [10.0, 11.0, 11.0, None, 12.0]
    assert _rows(out, "A", "filled") == [False, False, True, False, False]
    assert _rows(align(small, max_fill=0), "A", "close") == [10.0, 11.0, None, None, 12.0]


def test_fill_none_leaves_nulls_and_no_filled_column(small: pl.DataFrame) -> None:
    out = align(small, fill="none")
    assert "filled" not in out.columns
    assert _rows(out, "A", "close") == [10.0, 11.0, None, None, 12.0]
    assert _rows(out, "B", "volume") == [None, None, 5.0, 5.0, None]


def test_symbols_pick_and_order_the_output(small: pl.DataFrame) -> None:
    out = align(small, symbols=["B", "A"])
    assert out.get_column("symbol").to_list()[:2] == ["B", "A"]
    only_b = align(small, symbols=["B"])
    assert only_b.get_column("ts").to_list() == [utc(2024, 1, 1, 2), utc(2024, 1, 1, 3)]


def test_an_explicit_clock_between_bars_takes_the_latest_earlier_bar(small: pl.DataFrame) -> None:
    clock = pl.Series([utc(2024, 1, 1, 0, 30), utc(2024, 1, 1, 4)]).cast(UTC_NS)
    out = align(small, clock=clock, fill="none")
    assert _rows(out, "A", "close") == [None, 12.0]
    filled = align(small, clock=clock)
    assert _rows(filled, "A", "close") == [10.0, 12.0]
    assert _rows(filled, "A", "filled") == [True, False]


def test_extras_carry_or_zero_when_filled() -> None:
    times = minute_range(utc(2024, 1, 1), 3, step_minutes=2)
    bars = random_walk_bars(times, "A", extras=True)
    other = random_walk_bars(minute_range(utc(2024, 1, 1, 0, 1), 1), "B", extras=True)
    out = align(pl.concat([bars, other])).filter(pl.col("symbol") == "A")
    assert out.get_column("filled").to_list() == [False, True, False, False]
    assert out.get_column("quote_volume")[1] == 0.0
    assert out.get_column("adj_close")[1] == bars.get_column("adj_close")[0]
    assert out.get_column("open_interest")[1] == bars.get_column("open_interest")[0]


def test_interval_clock_lays_out_every_tick() -> None:
    bars = random_walk_bars(minute_range(utc(2024, 1, 1), 3, step_minutes=30), "A")
    out = align(bars, clock="10m")
    assert out.height == 7
    assert out.get_column("filled").sum() == 4


def test_interval_clock_on_a_calendar_follows_sessions() -> None:
    opens = expected_bar_opens("XNYS", "1h", date(2024, 7, 1), date(2024, 7, 2))
    hourly = random_walk_bars(opens.dt.epoch("ns").to_numpy()[::2], "SPY")
    out = align(hourly, clock="1h", calendar="XNYS")
    start, end = hourly.get_column("ts").min(), hourly.get_column("ts").max()
    assert out.get_column("ts").to_list() == opens.filter(opens.is_between(start, end)).to_list()


# ------------------------------------------------------------------ oracle and properties


def _as_of_oracle(bars: pl.DataFrame, clock: list[datetime], max_fill: int | None) -> list[tuple]:
    """Plain-Python as-of alignment: the latest bar with ts <= tick, per symbol."""
    result = []
    by_symbol: dict[str, list[dict]] = {}
    for row in bars.sort("ts").iter_rows(named=True):
        by_symbol.setdefault(row["symbol"], []).append(row)
    for tick in clock:
        for symbol in sorted(by_symbol):
            earlier = [row for row in by_symbol[symbol] if row["ts"] <= tick]
            if not earlier:
                result.append((tick, symbol, None, None, False))
                continue
            latest = earlier[-1]
            if latest["ts"] == tick:
                result.append((tick, symbol, latest["open"], latest["volume"], False))
                continue
            run = sum(1 for t in clock if latest["ts"] < t <= tick)
            if max_fill is not None and run > max_fill:
                result.append((tick, symbol, None, None, False))
            else:
                result.append((tick, symbol, latest["close"], 0.0, True))
    return result


@st.composite
def sparse_bars(draw: st.DrawFn) -> pl.DataFrame:
    frames = []
    for index, symbol in enumerate(["A", "B", "C"][: draw(st.integers(1, 3))]):
        minutes = draw(st.lists(st.integers(0, 40), min_size=1, max_size=25, unique=True))
        times = utc(2024, 6, 3).timestamp() * 1e9 + np.sort(minutes) * NS_PER_MINUTE
        frames.append(random_walk_bars(times.astype(np.int64), symbol, seed=index))
    return multi_symbol(frames)


def _clock_from(draw: st.DrawFn) -> pl.Series | None:
    if draw(st.booleans()):
        return None
    minutes = draw(st.lists(st.integers(-5, 45), min_size=1, max_size=30, unique=True))
    start = int(utc(2024, 6, 3).timestamp()) * 1_000_000_000
    return pl.Series([start + m * NS_PER_MINUTE for m in minutes]).cast(UTC_NS)


@settings(max_examples=60, deadline=None)
@given(bars=sparse_bars(), data=st.data(), max_fill=st.none() | st.integers(0, 3))
def test_alignment_matches_a_plain_python_as_of_oracle(
    bars: pl.DataFrame, data: st.DataObject, max_fill: int | None
) -> None:
    clock = _clock_from(data.draw)
    out = align(bars, clock=clock, max_fill=max_fill)
    ticks = sorted(set((bars.get_column("ts") if clock is None else clock).to_list()))
    got = out.select("ts", "symbol", "open", "volume", "filled").rows()
    assert got == _as_of_oracle(bars, ticks, max_fill)


@settings(max_examples=60, deadline=None)
@given(bars=sparse_bars(), data=st.data(), max_fill=st.none() | st.integers(0, 3))
def test_no_look_ahead_truncating_the_data_at_t_changes_nothing_at_t(
    bars: pl.DataFrame, data: st.DataObject, max_fill: int | None
) -> None:
    clock = _clock_from(data.draw)
    if clock is None:
        clock = bars.get_column("ts").unique()
    full = align(bars, clock=clock, max_fill=max_fill)
    tick = data.draw(st.sampled_from(sorted(clock.to_list())))
    past = bars.filter(pl.col("ts") <= tick)
    at_tick = full.filter(pl.col("ts") == tick)
    if past.height == 0:
        assert at_tick.get_column("close").null_count() == at_tick.height
        return
    truncated = align(past, clock=clock.filter(clock <= tick), max_fill=max_fill)
    present = truncated.get_column("symbol").unique()
    assert_frame_equal(
        truncated.filter(pl.col("ts") == tick),
        at_tick.filter(pl.col("symbol").is_in(present.implode())),
    )
    absent = at_tick.filter(~pl.col("symbol").is_in(present.implode()))
    assert absent.get_column("close").null_count() == absent.height


# ------------------------------------------------------------------ wide frames


def test_to_wide_matches_a_pandas_pivot() -> None:
    times = minute_range(utc(2024, 1, 1), 50)
    rng = np.random.default_rng(4)
    frames = [
        random_walk_bars(times[rng.random(50) < 0.6], symbol, seed=index)
        for index, symbol in enumerate(["Z", "A", "M"])
    ]
    bars = multi_symbol(frames)
    wide = to_wide_pandas(bars, "close")
    expected = bars.to_pandas().pivot_table(index="ts", columns="symbol", values="close")
    pd.testing.assert_frame_equal(wide, expected, check_names=False, check_freq=False)
    assert list(wide.columns) == ["A", "M", "Z"]
    assert str(wide.index.tz) == "UTC"
    polars_wide = to_wide(bars, "volume", symbols=["Z", "A"])
    assert polars_wide.columns == ["ts", "Z", "A"]


# ------------------------------------------------------------------ errors


def test_unknown_symbol_is_named(small: pl.DataFrame) -> None:
    with pytest.raises(UnknownSymbolError, match="NOPE"):
        align(small, symbols=["A", "NOPE"])


def test_bad_settings_are_config_errors(small: pl.DataFrame) -> None:
    with pytest.raises(ConfigError, match="fill"):
        align(small, fill="backward")
    with pytest.raises(ConfigError, match="max_fill"):
        align(small, max_fill=-1)
    with pytest.raises(ConfigError, match="calendar"):
        align(small, calendar="XNYS")
    with pytest.raises(ConfigError, match="column"):
        to_wide(small, "ts")


def test_clock_must_be_utc(small: pl.DataFrame) -> None:
    clock = pl.Series([utc(2024, 1, 1)]).dt.convert_time_zone("Europe/Paris")
    with pytest.raises(TimezoneError):
        align(small, clock=clock)


def test_duplicate_bars_are_refused(small: pl.DataFrame) -> None:
    with pytest.raises(DataError, match="duplicate") as caught:
        align(pl.concat([small, small.head(1)]), symbols=["B", "A"])
    assert [issue.row for issue in caught.value.issues] == [5]
