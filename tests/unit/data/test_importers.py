from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from quantstrata.core.errors import BarValidationError, DataError, SchemaError, TimezoneError
from quantstrata.data.catalog import Catalog
from quantstrata.data.importers import FileLayout, import_file, read_bars_file, symbol_from_path
from quantstrata.model.bar import BAR_COLUMNS, TIMESTAMP_DTYPE
from tests.kit.frames import minute_range, random_walk_bars, utc


def _daily_pandas(count: int = 30) -> pd.DataFrame:
    """Daily OHLCV built with NumPy and pandas only (no quantstrata code)."""
    rng = np.random.default_rng(7)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, count)))
    open_ = np.r_[100.0, close[:-1]]
    frame = pd.DataFrame(
        {
            "Open": open_,
            "High": np.maximum(open_, close) + 1,
            "Low": np.minimum(open_, close) - 1,
            "Close": close,
            "Volume": rng.integers(1_000, 9_000, count),
        },
        index=pd.bdate_range("2024-01-01", periods=count),
    )
    frame["Adj Close"] = frame["Close"] * 0.9
    return frame


def _expected_daily(frame: pd.DataFrame, symbol: str, *, adj_close: bool) -> pl.DataFrame:
    dates = [pd.Timestamp(day.date(), tz="UTC").to_pydatetime() for day in frame.index]
    data = {
        "ts": pl.Series(dates).cast(TIMESTAMP_DTYPE),
        "symbol": [symbol] * len(frame),
        **{
            name.lower(): frame[name].astype(float).to_numpy()
            for name in ("Open", "High", "Low", "Close", "Volume")
        },
    }
    if adj_close:
        data["adj_close"] = frame["Adj Close"].to_numpy()
    return pl.DataFrame(data)


def test_yahoo_csv_with_month_first_dates(tmp_path: Path) -> None:
    frame = _daily_pandas()
    path = tmp_path / "AAPL_daily.csv"
    yahoo = frame[["Open", "High", "Low", "Close", "Adj Close", "Volume"]]
    yahoo.index = [f"{day.month}/{day.day}/{day.year}" for day in frame.index]
    yahoo.to_csv(path, index_label="Date", float_format="%.17g")

    bars = read_bars_file(path)

    assert_frame_equal(bars, _expected_daily(frame, "AAPL", adj_close=True))


def test_yahoo_dates_are_month_first_even_when_every_day_is_twelve_or_less(tmp_path: Path) -> None:
    path = tmp_path / "X.csv"
    path.write_text(
        "Date,Open,High,Low,Close,Adj Close,Volume\n"
        "1/2/2024,1,2,0.5,1.5,1.5,10\n1/3/2024,1,2,0.5,1.5,1.5,10\n"
    )
    bars = read_bars_file(path)
    assert bars["ts"].to_list() == [utc(2024, 1, 2), utc(2024, 1, 3)]


def test_pandas_index_csv_gzipped(tmp_path: Path) -> None:
    frame = _daily_pandas()[["Open", "High", "Low", "Close", "Volume"]]
    path = tmp_path / "GOOG_1d.csv.gz"
    with gzip.open(path, "wt") as handle:
        frame.to_csv(handle, float_format="%.17g")

    bars = read_bars_file(path)

    assert_frame_equal(bars, _expected_daily(frame, "GOOG", adj_close=False))


def _ccxt_rows(count: int = 50) -> list[list[float]]:
    rng = np.random.default_rng(3)
    start_ms = 1_704_067_200_000  # 2024-01-01T00:00:00Z
    rows = []
    for index in range(count):
        open_ = 100 + rng.random()
        close = 100 + rng.random()
        rows.append(
            [
                start_ms + index * 60_000,
                open_,
                max(open_, close) + 0.1,
                min(open_, close) - 0.1,
                close,
                rng.random(),
            ]
        )
    return rows


def _expected_ccxt(rows: list[list[float]], symbol: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "ts": pl.Series([int(row[0]) * 1_000_000 for row in rows]).cast(TIMESTAMP_DTYPE),
            "symbol": [symbol] * len(rows),
            **{
                name: [row[i + 1] for row in rows]
                for i, name in enumerate(["open", "high", "low", "close", "volume"])
            },
        }
    )


@pytest.mark.parametrize("header", [True, False])
def test_ccxt_dump_with_millisecond_epochs(tmp_path: Path, header: bool) -> None:
    rows = _ccxt_rows()
    path = tmp_path / "BTC-USDT_1m.csv"
    lines = ["timestamp,open,high,low,close,volume"] if header else []
    lines += [",".join([str(int(row[0]))] + [repr(value) for value in row[1:]]) for row in rows]
    path.write_text("\n".join(lines) + "\n")

    bars = read_bars_file(path, layout="ccxt" if not header else "auto")

    assert_frame_equal(bars, _expected_ccxt(rows, "BTC-USDT"))


def test_canonical_parquet_is_read_unchanged(tmp_path: Path) -> None:
    bars = random_walk_bars(minute_range(utc(2024, 3, 1), 20), "BTC/USDT", extras=True)
    path = tmp_path / "export.parquet"
    bars.write_parquet(path)
    assert_frame_equal(read_bars_file(path), bars)


def test_naive_intraday_times_need_a_timezone(tmp_path: Path) -> None:
    path = tmp_path / "EURUSD_1h.csv"
    path.write_text(
        ",Open,High,Low,Close,Volume\n"
        "2024-03-10 01:00:00,1,2,0.5,1.5,10\n2024-03-10 03:00:00,1,2,0.5,1.5,10\n"
    )
    with pytest.raises(TimezoneError):
        read_bars_file(path)

    bars = read_bars_file(path, timezone="America/New_York")

    expected = pd.DatetimeIndex(["2024-03-10 01:00", "2024-03-10 03:00"]).tz_localize(
        "America/New_York"
    )
    assert bars["ts"].to_list() == [moment.to_pydatetime() for moment in expected.tz_convert("UTC")]
    assert bars["symbol"].unique().to_list() == ["EURUSD"]


def test_explicit_symbol_and_time_format(tmp_path: Path) -> None:
    path = tmp_path / "whatever.csv"
    path.write_text("Date,Open,High,Low,Close,Volume\n05.02.2024,1,2,0.5,1.5,10\n")
    bars = read_bars_file(path, symbol="DAX", time_format="%d.%m.%Y")
    assert bars.select("ts", "symbol").row(0) == (utc(2024, 2, 5), "DAX")


def test_bad_bars_raise_with_the_file_row(tmp_path: Path) -> None:
    path = tmp_path / "X.csv"
    path.write_text(
        "ts,open,high,low,close,volume\n"
        "2024-01-01T00:00:00Z,1,2,0.5,1.5,10\n2024-01-01T00:01:00Z,1,0.9,0.5,1.5,10\n"
    )
    with pytest.raises(BarValidationError) as caught:
        read_bars_file(path)
    assert {issue.row for issue in caught.value.issues} == {1}


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        read_bars_file(tmp_path / "nope.csv")
    with pytest.raises(SchemaError, match="layout"):
        read_bars_file(tmp_path / "nope.csv", layout="excel")
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet at all")
    with pytest.raises(SchemaError, match=r"broken\.parquet"):
        read_bars_file(broken)


@pytest.mark.parametrize(
    ("name", "symbol"),
    [
        ("SPX_1d.csv.gz", "SPX"),
        ("BRK.B_daily.parquet", "BRK.B"),
        ("EURUSD.csv", "EURUSD"),
        ("BTC-USDT_1m_2024.csv", "BTC-USDT"),
        ("/some/dir/AAPL.US_1h.pq", "AAPL.US"),
    ],
)
def test_symbol_from_path(name: str, symbol: str) -> None:
    assert symbol_from_path(name) == symbol


def test_symbol_from_path_refuses_an_empty_stem() -> None:
    with pytest.raises(SchemaError, match="symbol="):
        symbol_from_path("_1d.csv")


def test_import_file_writes_to_the_catalog(tmp_path: Path) -> None:
    rows = _ccxt_rows(200)
    path = tmp_path / "ETH_1m.csv"
    pl.DataFrame(
        rows, schema=["timestamp", "open", "high", "low", "close", "volume"], orient="row"
    ).with_columns(pl.col("timestamp").cast(pl.Int64)).write_csv(path)
    catalog = Catalog(tmp_path / "catalog")

    summary = import_file(catalog, path, interval="1m", layout=FileLayout.CCXT)
    again = import_file(catalog, path, interval="1m")

    assert (summary.rows_written, again.rows_skipped_duplicate) == (200, 200)
    assert_frame_equal(catalog.read("ETH", interval="1m"), _expected_ccxt(rows, "ETH"))


def test_import_file_can_drop_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "X_1m.csv"
    path.write_text(
        "ts,open,high,low,close,volume\n"
        "2024-01-01T00:00:00Z,1,2,0.5,1.5,10\n2024-01-01T00:01:00Z,1,0.9,0.5,1.5,10\n"
    )
    catalog = Catalog(tmp_path / "catalog")
    summary = import_file(catalog, path, interval="1m", validation="drop")
    assert summary.rows_written == 1
    assert catalog.read("X", interval="1m").columns == list(BAR_COLUMNS)


def test_a_late_fractional_volume_does_not_break_type_inference(tmp_path: Path) -> None:
    count = 12_000
    times = pd.date_range("2024-01-01", periods=count, freq="min", tz="UTC")
    volumes = [str(index) for index in range(count - 1)] + ["0.5"]
    lines = ["timestamp,open,high,low,close,volume"] + [
        f"{moment.isoformat()},1,2,0.5,1.5,{volume}"
        for moment, volume in zip(times, volumes, strict=True)
    ]
    path = tmp_path / "X_1m.csv"
    path.write_text("\n".join(lines) + "\n")

    bars = read_bars_file(path)

    assert bars["volume"].to_list() == [float(volume) for volume in volumes]


def test_header_less_file_with_other_than_six_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "X.csv"
    path.write_text("1704067200000,1,2,0.5,1.5\n")
    with pytest.raises(SchemaError, match="ccxt columns"):
        read_bars_file(path)


def test_pandas_layout_names_a_labelled_first_column_as_time(tmp_path: Path) -> None:
    path = tmp_path / "X.csv"
    path.write_text("when,Open,High,Low,Close,Volume\n2024-01-02,1,2,0.5,1.5,10\n")
    with pytest.raises(SchemaError):
        read_bars_file(path)
    bars = read_bars_file(path, layout="pandas")
    assert bars["ts"].to_list() == [utc(2024, 1, 2)]


YAHOO_WITH_NULL = (
    "Date,Open,High,Low,Close,Adj Close,Volume\n"
    "2024-01-02,1,2,0.5,1.5,1.5,100\n"
    "2024-01-03,null,null,null,null,null,null\n"
    "2024-01-04,1,2,0.5,1.5,1.5,100\n"
)


def test_yahoo_null_rows_are_read_as_missing_values(tmp_path: Path) -> None:
    path = tmp_path / "YHO_1d.csv"
    path.write_text(YAHOO_WITH_NULL)

    bars = read_bars_file(path, validation="drop")
    with pytest.raises(BarValidationError) as caught:
        read_bars_file(path)

    assert bars["ts"].to_list() == [utc(2024, 1, 2), utc(2024, 1, 4)]
    assert {issue.row for issue in caught.value.issues} == {1}
    assert "file line 3" in str(caught.value)


def test_a_value_that_is_not_a_number_names_the_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "X_1d.csv"
    path.write_text(
        "Date,Open,High,Low,Close,Volume\n2024-01-02,1,2,0.5,1.5,100\n"
        "2024-01-03,1,2,0.5,1.5,100\n2024-01-04,1,2,0.5,n/a,100\n"
    )

    with pytest.raises(SchemaError) as caught:
        read_bars_file(path)

    message = str(caught.value)
    assert "file line 4" in message
    assert "'Close'" in message
    assert "'n/a'" in message
    assert "infer_schema_length" not in message


def test_row_messages_of_a_csv_count_file_lines_with_the_header_as_line_1(tmp_path: Path) -> None:
    path = tmp_path / "X.csv"
    path.write_text(
        "ts,open,high,low,close,volume\n"
        "2024-01-01T00:00:00Z,1,2,0.5,1.5,10\n2024-01-01T00:01:00Z,1,0.9,0.5,1.5,10\n"
    )

    with pytest.raises(BarValidationError) as caught:
        read_bars_file(path)

    assert "file line 3" in str(caught.value)
    assert "row 1" not in str(caught.value)
    assert [issue.line for issue in caught.value.issues] == [3] * len(caught.value.issues)


def test_import_errors_name_file_lines_too(tmp_path: Path) -> None:
    path = tmp_path / "X_1m.csv"
    path.write_text(
        "ts,open,high,low,close,volume\n"
        "2024-01-01T00:00:00Z,1,2,0.5,1.5,10\n2024-01-01T00:01:00Z,1,0.9,0.5,1.5,10\n"
    )

    with pytest.raises(BarValidationError) as caught:
        import_file(Catalog(tmp_path / "catalog"), path, interval="1m")

    assert "file line 3" in str(caught.value)
    assert {issue.row for issue in caught.value.issues} == {1}


def test_a_header_less_file_counts_its_first_row_as_line_1(tmp_path: Path) -> None:
    path = tmp_path / "BTC_1m.csv"
    path.write_text("1704067200000,1,2,0.5,1.5,10\n1704067260000,1,0.9,0.5,1.5,10\n")

    with pytest.raises(BarValidationError, match="file line 2"):
        read_bars_file(path)


def test_import_refuses_an_interval_the_bars_do_not_have(tmp_path: Path) -> None:
    path = tmp_path / "X_1d.csv"
    path.write_text(
        "Date,Open,High,Low,Close,Volume\n2024-01-02,1,2,0.5,1.5,100\n"
        "2024-01-03,1,2,0.5,1.5,100\n2024-01-04,1,2,0.5,1.5,100\n"
    )
    catalog = Catalog(tmp_path / "catalog")

    with pytest.raises(DataError, match=r"1d apart.*not 1m"):
        import_file(catalog, path, interval="1m")

    assert catalog.describe().is_empty()
    assert import_file(catalog, path, interval="1d").rows_written == 3
