"""to_bars: every input shape gives the canonical frame, in the input's row order."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from random import Random
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantstrata.core.errors import BarValidationError
from quantstrata.model.bar import BAR_COLUMNS, BAR_SCHEMA
from quantstrata.process.normalize import to_bars
from tests.kit.bar_inputs import (
    EURUSD_HOURLY_CSV,
    GOOG_DAILY_CSV,
    SPX_DAILY_CSV,
    BarSample,
    bar_samples,
    input_shapes,
    reference_frame,
)


def _utc_ns(moments: pd.Series | pd.DatetimeIndex) -> list[int]:
    """Return pandas times as UTC epoch nanoseconds, computed by pandas alone."""
    index = pd.DatetimeIndex(moments)
    return index.tz_convert("UTC").as_unit("ns").asi8.tolist()


def _ts_ns(frame: pl.DataFrame) -> list[int]:
    return frame.get_column("ts").dt.epoch("ns").to_list()


# ----------------------------------------------------------------------------- every shape
@settings(max_examples=50, deadline=None)
@given(bar_samples())
def test_every_input_shape_gives_the_polars_reference(sample: BarSample) -> None:
    expected = reference_frame(sample)
    shapes = input_shapes(sample)
    assert len(shapes) >= 14
    for shape in shapes:
        result = to_bars(shape.data, validation=None, **shape.kwargs)
        assert result.equals(expected), shape.name


@settings(max_examples=40, deadline=None)
@given(bar_samples(max_length=15), st.data())
def test_valid_bars_pass_validation_unchanged(sample: BarSample, data: st.DataObject) -> None:
    shape = data.draw(st.sampled_from(input_shapes(sample)), label="shape")
    assert to_bars(shape.data, **shape.kwargs).equals(reference_frame(sample))


@settings(max_examples=40, deadline=None)
@given(bar_samples(min_length=1, max_length=25), st.randoms(use_true_random=False))
def test_row_order_is_kept_not_sorted(sample: BarSample, random: Random) -> None:
    order = list(range(sample.length))
    random.shuffle(order)
    reference = reference_frame(sample)
    shuffled = {name: reference.get_column(name).gather(order) for name in reference.columns}
    records = pl.DataFrame(shuffled).to_dicts()
    result = to_bars(records, validation=None)
    assert result.equals(reference[order])


# ----------------------------------------------------------------------------- output shape
def test_output_has_the_canonical_columns_first_then_extras_in_input_order() -> None:
    frame = pd.DataFrame(
        {
            "Venue": ["X", "Y"],
            "Close": [2.0, 3.0],
            "Trades": [5, 7],
            "Open": [1.0, 2.5],
            "Date": ["2024-01-02", "2024-01-03"],
            "High": [2.0, 3.5],
            "Adj Close": [1.9, 2.9],
            "Low": [1.0, 2.0],
            "Volume": [10, 20],
        }
    )
    result = to_bars(frame, symbol="AAA", timezone="UTC", validation=None)
    assert result.columns == [*BAR_COLUMNS, "venue", "trades", "adj_close"]
    assert dict(result.schema) == {
        **dict(BAR_SCHEMA),
        "venue": pl.String(),
        "trades": pl.Float64(),
        "adj_close": pl.Float64(),
    }
    assert result.get_column("trades").to_list() == [5.0, 7.0]
    assert result.get_column("venue").to_list() == ["X", "Y"]


@pytest.mark.parametrize(
    ("names", "extra"),
    [
        (["ts", "open", "high", "low", "close", "volume"], None),
        (["TIMESTAMP", "OPEN", "HIGH", "LOW", "CLOSE", "VOL"], None),
        (["Datetime", "Open", "High", "Low", "Close", "Volume"], None),
        (["openTime", "o", "h", "l", "c", "v"], None),
        (["Date Time", "Open", "High", "Low", "Close", "Volume", "Adj Close"], "adj_close"),
        (["open_time", "Open", "High", "Low", "Close", "Volume", "QuoteVolume"], "quote_volume"),
    ],
)
def test_column_spellings_are_recognised(names: list[str], extra: str | None) -> None:
    values = [[1_700_000_000, 1_700_000_060], [1.0, 2.0], [2.0, 3.0], [0.5, 1.5], [1.5, 2.5]]
    values += [[10.0, 20.0]] * (len(names) - 5)
    frame = pl.DataFrame(dict(zip(names, values, strict=True)))
    result = to_bars(frame, symbol="S", validation=None)
    assert result.get_column("open").to_list() == [1.0, 2.0]
    assert result.get_column("close").to_list() == [1.5, 2.5]
    assert result.get_column("volume").to_list() == [10.0, 20.0]
    assert _ts_ns(result) == [1_700_000_000 * 10**9, 1_700_000_060 * 10**9]
    assert result.columns[7:] == ([extra] if extra else [])


def test_missing_volume_is_filled_only_when_asked() -> None:
    frame = {"ts": [1_700_000_000_000], "open": [1.1], "high": [1.2], "low": [1.0], "close": [1.1]}
    result = to_bars(frame, symbol="EURUSD", missing_volume=0.0)
    assert result.get_column("volume").to_list() == [0.0]
    assert result.get_column("volume").dtype == pl.Float64


def test_empty_input_gives_an_empty_canonical_frame() -> None:
    result = to_bars([], symbol="SPX")
    assert result.height == 0
    assert result.schema == BAR_SCHEMA


def test_symbol_column_carries_several_symbols() -> None:
    frame = pl.DataFrame(
        {
            "Ticker": ["A", "B", "A"],
            "time": [1_700_000_000, 1_700_000_000, 1_700_000_060],
            "open": [1.0, 5.0, 1.0],
            "high": [1.0, 5.0, 1.0],
            "low": [1.0, 5.0, 1.0],
            "close": [1.0, 5.0, 1.0],
            "volume": [0, 0, 0],
        }
    )
    result = to_bars(frame)
    assert result.get_column("symbol").to_list() == ["A", "B", "A"]


def test_symbol_column_and_matching_argument_are_accepted() -> None:
    frame = {"symbol": ["A", "A"], "ts": [10**18, 10**18 + 60 * 10**9]}
    frame |= {name: [1.0, 1.0] for name in ("open", "high", "low", "close", "volume")}
    assert to_bars(frame, symbol="A").get_column("symbol").to_list() == ["A", "A"]


# ----------------------------------------------------------------------------- pandas
def test_pandas_multiindex_symbol_ts() -> None:
    ts = pd.to_datetime(["2024-01-02 14:30", "2024-01-02 14:30", "2024-01-02 14:31"]).tz_localize(
        "UTC"
    )
    frame = pd.DataFrame(
        {"symbol": ["A", "B", "A"], "ts": ts, "Open": [1.0, 2.0, 1.5]}
        | {"High": [1.5, 2.5, 2.0], "Low": [1.0, 2.0, 1.5], "Close": [1.5, 2.5, 2.0]}
        | {"Volume": [1, 2, 3]}
    ).set_index(["symbol", "ts"])
    result = to_bars(frame)
    assert result.get_column("symbol").to_list() == ["A", "B", "A"]
    assert _ts_ns(result) == _utc_ns(ts)


def _wide(tickers: list[str]) -> pd.DataFrame:
    """Return a yfinance-style frame: columns (Price, Ticker), one row per date."""
    fields = ["Close", "High", "Low", "Open", "Volume"]
    columns = pd.MultiIndex.from_product([fields, tickers], names=["Price", "Ticker"])
    index = pd.date_range("2024-01-02", periods=3, freq="D", name="Date")
    values = np.full((3, len(columns)), 10.0)
    return pd.DataFrame(values, index=index, columns=columns)


def test_pandas_wide_columns_of_several_tickers_become_rows() -> None:
    frame = _wide(["C", "MSFT"])
    frame.loc[frame.index[1], (slice(None), "MSFT")] = np.nan  # MSFT has no bar that day
    frame.loc[frame.index[2], ("Close", "C")] = 11.0
    result = to_bars(frame, timezone="UTC", validation=None)
    expected = [
        (date(2024, 1, 2), "C", 10.0),
        (date(2024, 1, 2), "MSFT", 10.0),
        (date(2024, 1, 3), "C", 10.0),
        (date(2024, 1, 4), "C", 11.0),
        (date(2024, 1, 4), "MSFT", 10.0),
    ]
    got = result.select(pl.col("ts").dt.date(), "symbol", "close").rows()
    assert got == expected


def test_pandas_wide_columns_of_one_ticker() -> None:
    result = to_bars(_wide(["AAPL"]), symbol="AAPL", timezone="UTC", interval="1d")
    assert result.get_column("symbol").to_list() == ["AAPL"] * 3
    assert result.columns == list(BAR_COLUMNS)


def test_pandas_named_datetime_index_in_local_time() -> None:
    index = pd.date_range("2024-03-08 09:30", periods=4, freq="D", name="Date")
    frame = pd.DataFrame({"Open": 1.0, "High": 1.0, "Low": 1.0, "Close": 1.0, "Vol": 0}, index)
    result = to_bars(frame, symbol="AAA", timezone="America/New_York", interval="1d")
    assert _ts_ns(result) == _utc_ns(index.tz_localize("America/New_York"))


def test_pandas_unnamed_integer_index_is_not_data() -> None:
    frame = pd.DataFrame(
        {"t": [1_700_000_000_000, 1_700_000_060_000]}
        | {name: [1.0, 1.0] for name in ("o", "h", "l", "c", "v")},
        index=[7, 3],
    )
    result = to_bars(frame, symbol="X")
    assert result.columns == list(BAR_COLUMNS)
    assert _ts_ns(result) == [1_700_000_000 * 10**9, 1_700_000_060 * 10**9]


# ----------------------------------------------------------------------------- NumPy
def test_numpy_five_columns_daily_bars_stay_at_local_midnight_across_dst() -> None:
    rows = np.tile([10.0, 11.0, 9.0, 10.5, 100.0], (5, 1))
    start = datetime(2024, 3, 8, tzinfo=ZoneInfo("America/New_York"))
    result = to_bars(rows, symbol="AAA", start=start, interval="1d")
    expected = pd.date_range("2024-03-08", periods=5, freq="D", tz="America/New_York")
    assert _ts_ns(result) == _utc_ns(expected)
    assert result.get_column("close").to_list() == [10.5] * 5


def test_numpy_five_columns_naive_start_with_timezone_and_minutes() -> None:
    rows = np.tile([1.0, 1.0, 1.0, 1.0, 0.0], (3, 1))
    result = to_bars(
        rows, symbol="S", start="2024-03-10 01:55", timezone="America/New_York", interval="5m"
    )
    first = datetime(2024, 3, 10, 6, 55, tzinfo=UTC).timestamp()
    assert _ts_ns(result) == [int(first + 300 * step) * 10**9 for step in range(3)]


def test_numpy_five_columns_monthly_start() -> None:
    rows = np.tile([1.0, 1.0, 1.0, 1.0, 0.0], (4, 1))
    result = to_bars(rows, symbol="S", start=date(2023, 11, 1), timezone="UTC", interval="1mo")
    expected = [datetime(2023, 11, 1), datetime(2023, 12, 1), datetime(2024, 1, 1)]
    expected.append(datetime(2024, 2, 1))
    assert result.get_column("ts").dt.replace_time_zone(None).to_list() == expected


def test_numpy_record_array_with_epoch_field() -> None:
    records = np.rec.fromarrays(
        [
            np.array([1_700_000_000, 1_700_000_060], dtype=np.int64),
            *([np.array([2.0, 3.0])] * 4),
            np.array([5, 6], dtype=np.int32),
        ],
        dtype=np.dtype(
            [("Timestamp", "i8")]
            + [(name, "f8") for name in ("Open", "High", "Low", "Close")]
            + [("Volume", "i4")]
        ),
    )
    result = to_bars(records, symbol="S")
    assert _ts_ns(result) == [1_700_000_000 * 10**9, 1_700_000_060 * 10**9]
    assert result.get_column("volume").to_list() == [5.0, 6.0]


def test_numpy_six_columns_with_fractional_epoch_seconds_are_exact() -> None:
    rows = np.array([[1_700_000_000.25, 1.0, 1.0, 1.0, 1.0, 0.0]])
    result = to_bars(rows, symbol="S", time_unit="s", validation=None)
    assert _ts_ns(result) == [1_700_000_000_250_000_000]


# ----------------------------------------------------------------------------- ccxt, lists
def test_ccxt_rows_with_integer_prices_and_missing_volume_value() -> None:
    rows = [
        [1_700_000_000_000, 100, 110, 90, 105, None],
        [1_700_000_060_000, 105.5, 106, 104, 105, 3],
    ]
    result = to_bars(rows, symbol="BTC/USDT", validation=None)
    assert result.get_column("open").to_list() == [100.0, 105.5]
    assert result.get_column("volume").to_list() == [None, 3.0]
    with pytest.raises(BarValidationError) as caught:
        to_bars(rows, symbol="BTC/USDT")
    assert [(issue.row, issue.column) for issue in caught.value.issues] == [(0, "volume")]


def test_dict_of_numpy_columns_with_datetime64_and_timezone() -> None:
    times = np.array(["2024-01-02T14:30", "2024-01-02T14:31"], dtype="datetime64[ns]")
    frame = {"Time": times} | {name: np.array([1.0, 2.0]) for name in ("O", "H", "L", "C", "V")}
    result = to_bars(frame, symbol="S", timezone="Etc/UTC")
    assert _ts_ns(result) == times.astype(np.int64).tolist()


def test_records_with_date_objects_need_and_use_the_timezone() -> None:
    records = [
        {"date": date(2024, 1, 2), "open": 1, "high": 2, "low": 1, "close": 2, "volume": 0},
        {"date": date(2024, 1, 3), "open": 2, "high": 3, "low": 2, "close": 3, "volume": 0},
    ]
    result = to_bars(records, symbol="S", timezone="Asia/Tokyo")
    expected = pd.to_datetime(["2024-01-02", "2024-01-03"]).tz_localize("Asia/Tokyo")
    assert _ts_ns(result) == _utc_ns(expected)


# ----------------------------------------------------------------------------- validation
def test_validation_rows_are_input_positions() -> None:
    times = [1_700_000_120, 1_700_000_000, 1_700_000_060, 1_700_000_180]
    frame = {"ts": times, "open": [1.0, 1.0, -1.0, 1.0], "high": [1.0] * 4}
    frame |= {"low": [1.0] * 4, "close": [1.0] * 4, "volume": [0.0] * 4}
    with pytest.raises(BarValidationError) as caught:
        to_bars(frame, symbol="S")
    flagged = {(issue.check, issue.row) for issue in caught.value.issues}
    assert ("non_positive_price", 2) in flagged
    assert ("out_of_order", 1) in flagged
    dropped = to_bars(frame, symbol="S", validation="drop")
    assert _ts_ns(dropped) == [times[0] * 10**9, times[3] * 10**9]


def test_validation_none_returns_bad_bars_untouched() -> None:
    frame = {"ts": [10**18, 10**18 + 60 * 10**9], "open": [1.0, 1.0], "high": [0.5, 1.0]}
    frame |= {"low": [1.0, 1.0], "close": [1.0, 1.0], "volume": [0.0, 0.0]}
    result = to_bars(frame, symbol="S", time_unit="ns", validation=None)
    assert result.get_column("high").to_list() == [0.5, 1.0]


# ----------------------------------------------------------------------------- real data
def test_real_spx_csv_via_pandas_reads_month_first_dates() -> None:
    frame = pd.read_csv(io.StringIO(SPX_DAILY_CSV))
    result = to_bars(frame, symbol="SPX", timezone="UTC", interval="1d", calendar="XNYS")
    expected_ts = pd.to_datetime(frame["Date"], format="%m/%d/%Y").dt.tz_localize("UTC")
    assert _ts_ns(result) == _utc_ns(expected_ts)
    assert result.get_column("adj_close").to_list() == frame["Adj Close"].tolist()
    assert result.get_column("volume").to_list() == frame["Volume"].astype(float).tolist()


def test_real_spx_csv_via_polars_matches_pandas_route() -> None:
    from_polars = to_bars(pl.read_csv(io.StringIO(SPX_DAILY_CSV)), symbol="SPX", timezone="UTC")
    from_pandas = to_bars(pd.read_csv(io.StringIO(SPX_DAILY_CSV)), symbol="SPX", timezone="UTC")
    assert from_polars.equals(from_pandas)


def test_real_eurusd_csv_with_unnamed_index_parsed_or_not() -> None:
    parsed = pd.read_csv(io.StringIO(EURUSD_HOURLY_CSV), index_col=0, parse_dates=True)
    text = pd.read_csv(io.StringIO(EURUSD_HOURLY_CSV), index_col=0)
    from_parsed = to_bars(parsed, symbol="EURUSD", timezone="UTC", interval="1h")
    from_text = to_bars(text, symbol="EURUSD", timezone="UTC", interval="1h")
    assert from_parsed.equals(from_text)
    assert _ts_ns(from_parsed) == _utc_ns(pd.DatetimeIndex(parsed.index).tz_localize("UTC"))
    assert from_parsed.get_column("close").to_list() == parsed["Close"].tolist()


def test_real_goog_csv_in_new_york_time() -> None:
    frame = pd.read_csv(io.StringIO(GOOG_DAILY_CSV), index_col=0, parse_dates=True)
    result = to_bars(frame, symbol="GOOG", timezone="America/New_York")
    assert _ts_ns(result) == _utc_ns(pd.DatetimeIndex(frame.index).tz_localize("America/New_York"))
    assert result.get_column("open").to_list() == frame["Open"].astype(float).tolist()
