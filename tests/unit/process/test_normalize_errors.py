"""to_bars refuses what it cannot read unambiguously, naming the row, column and value."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import polars as pl
import pytest

from quantstrata.core.errors import DataIssue, SchemaError, TimezoneError
from quantstrata.process.normalize import to_bars

_EPOCH_S = [1_700_000_000, 1_700_000_060, 1_700_000_120]


def _frame(**columns: Any) -> dict[str, Any]:
    """Return three valid bars as a dict of columns, with ``columns`` added or replaced."""
    base: dict[str, Any] = {"ts": _EPOCH_S, "open": [1.0] * 3, "high": [2.0] * 3}
    base |= {"low": [0.5] * 3, "close": [1.5] * 3, "volume": [10.0] * 3}
    return base | columns


def _where(issues: tuple[DataIssue, ...]) -> list[tuple[str, int | None, str | None, Any]]:
    return [(issue.check, issue.row, issue.column, issue.value) for issue in issues]


# ----------------------------------------------------------------------------- columns
def test_case_folding_collision_names_both_columns() -> None:
    frame = pd.DataFrame(_frame() | {"Close": [1.5] * 3})
    with pytest.raises(SchemaError) as caught:
        to_bars(frame, symbol="S")
    (issue,) = caught.value.issues
    assert issue.check == "duplicate_column"
    assert issue.value == ["close", "Close"]
    assert "'close'" in str(caught.value)


def test_two_aliases_for_one_role_are_ambiguous() -> None:
    frame = pl.DataFrame(_frame() | {"Vol": [1.0] * 3})
    with pytest.raises(SchemaError) as caught:
        to_bars(frame, symbol="S")
    assert _where(caught.value.issues) == [("ambiguous_column", None, "Vol", ["volume", "Vol"])]


def test_two_timestamp_columns_are_ambiguous() -> None:
    with pytest.raises(SchemaError, match="'ts'") as caught:
        to_bars(_frame(date=["2024-01-01"] * 3), symbol="S")
    assert caught.value.issues[0].value == ["ts", "date"]


def test_missing_columns_are_all_listed() -> None:
    frame = _frame()
    del frame["high"], frame["volume"]
    with pytest.raises(SchemaError) as caught:
        to_bars(frame, symbol="S")
    assert [issue.column for issue in caught.value.issues] == ["high", "volume"]
    assert "missing_volume" in str(caught.value)


def test_missing_timestamps_are_reported() -> None:
    frame = _frame()
    del frame["ts"]
    with pytest.raises(SchemaError) as caught:
        to_bars(frame, symbol="S")
    assert [(issue.check, issue.column) for issue in caught.value.issues] == [
        ("missing_column", "ts")
    ]


def test_pandas_duplicate_column_names() -> None:
    frame = pd.DataFrame([[1, 2, 3]], columns=["open", "open", "close"])
    with pytest.raises(SchemaError, match="duplicate"):
        to_bars(frame, symbol="S")


# ----------------------------------------------------------------------------- values
def test_non_numeric_text_reports_every_bad_value_up_to_twenty() -> None:
    opens = ["1.0", "n/a", "2.5", "1,234.5", ""] + ["x"] * 30
    closes = ["1.5"] * 34 + ["--"]
    frame = {"ts": [1_700_000_000 + 60 * row for row in range(35)], "open": opens}
    frame |= {"high": ["9"] * 35, "low": ["0.1"] * 35, "close": closes, "volume": [1] * 35}
    with pytest.raises(SchemaError) as caught:
        to_bars(frame, symbol="S")
    found = _where(caught.value.issues)
    assert found[:4] == [
        ("non_numeric", 1, "open", "n/a"),
        ("non_numeric", 3, "open", "1,234.5"),
        ("non_numeric", 4, "open", ""),
        ("non_numeric", 5, "open", "x"),
    ]
    assert len([item for item in found if item[2] == "open"]) == 20
    assert found[-1] == ("non_numeric", 34, "close", "--")


def test_non_numeric_column_type_is_refused() -> None:
    frame = _frame(open=[True, False, True])
    with pytest.raises(SchemaError) as caught:
        to_bars(frame, symbol="S")
    assert _where(caught.value.issues) == [("non_numeric", 0, "open", True)]


def test_string_extras_that_are_not_known_numbers_are_kept_as_text() -> None:
    result = to_bars(_frame(note=["a", "1", None]), symbol="S")
    assert result.get_column("note").to_list() == ["a", "1", None]


# ----------------------------------------------------------------------------- symbols
def test_missing_symbol() -> None:
    with pytest.raises(SchemaError, match="symbol") as caught:
        to_bars(_frame())
    assert caught.value.issues[0].column == "symbol"


def test_symbol_column_disagreeing_with_argument_names_the_rows() -> None:
    with pytest.raises(SchemaError) as caught:
        to_bars(_frame(Ticker=["A", "B", "A"]), symbol="A")
    assert _where(caught.value.issues) == [("symbol_mismatch", 1, "Ticker", "B")]


def test_null_symbol_names_the_row() -> None:
    with pytest.raises(SchemaError) as caught:
        to_bars(_frame(symbol=["A", None, "A"]))
    assert _where(caught.value.issues) == [("missing_symbol", 1, "symbol", None)]


@pytest.mark.parametrize("bad", ["", " SPX", "A=B"])
def test_invalid_symbol_text(bad: str) -> None:
    with pytest.raises(SchemaError) as caught:
        to_bars(_frame(), symbol=bad)
    assert caught.value.issues[0].check == "invalid_symbol"
    with pytest.raises(SchemaError) as caught:
        to_bars(_frame(symbol=["OK", bad, "OK"]))
    assert _where(caught.value.issues) == [("invalid_symbol", 1, "symbol", bad)]


# ----------------------------------------------------------------------------- timezones
def test_naive_timestamps_without_timezone() -> None:
    frame = _frame(ts=[datetime(2024, 1, 2, 9, 30 + minute) for minute in range(3)])
    with pytest.raises(TimezoneError, match="timezone=") as caught:
        to_bars(frame, symbol="S")
    assert caught.value.issues[0].column == "ts"


def test_date_only_text_without_timezone() -> None:
    with pytest.raises(TimezoneError):
        to_bars(_frame(ts=["2024-01-02", "2024-01-03", "2024-01-04"]), symbol="S")


def test_aware_timestamps_with_disagreeing_timezone() -> None:
    zone = ZoneInfo("Europe/Paris")
    frame = _frame(ts=[datetime(2024, 1, 2, 9, minute, tzinfo=zone) for minute in range(3)])
    with pytest.raises(SchemaError) as caught:
        to_bars(frame, symbol="S", timezone="America/New_York")
    assert not isinstance(caught.value, TimezoneError)
    assert _where(caught.value.issues) == [("timezone_mismatch", None, "ts", "America/New_York")]
    assert "Europe/Paris" in str(caught.value)
    same = to_bars(frame, symbol="S", timezone="Europe/Paris")
    assert same.equals(to_bars(frame, symbol="S"))


def test_offset_text_with_a_non_utc_timezone_is_refused() -> None:
    frame = _frame(ts=[f"2024-01-02T09:3{minute}:00-05:00" for minute in range(3)])
    with pytest.raises(SchemaError, match="drop timezone="):
        to_bars(frame, symbol="S", timezone="America/New_York")


def test_epoch_numbers_with_a_local_timezone_are_refused() -> None:
    with pytest.raises(SchemaError, match="UTC by definition"):
        to_bars(_frame(), symbol="S", timezone="Asia/Tokyo")
    assert to_bars(_frame(), symbol="S", timezone="UTC").height == 3


def test_unknown_timezone_name() -> None:
    with pytest.raises(TimezoneError, match="Mars/Olympus"):
        to_bars(_frame(), symbol="S", timezone="Mars/Olympus")


def test_nonexistent_and_ambiguous_local_times_name_their_rows() -> None:
    times = [
        datetime(2024, 3, 10, 1, 30),
        datetime(2024, 3, 10, 2, 30),  # spring forward: does not exist in New York
        datetime(2024, 3, 10, 3, 30),
        datetime(2024, 11, 3, 1, 30),  # fall back: happens twice
    ]
    frame = {"ts": times} | {name: [1.0] * 4 for name in ("open", "high", "low", "close", "volume")}
    with pytest.raises(TimezoneError, match="row 1") as caught:
        to_bars(frame, symbol="S", timezone="America/New_York")
    assert _where(caught.value.issues) == [
        ("nonexistent_local_time", 1, "ts", times[1]),
        ("ambiguous_local_time", 3, "ts", times[3]),
    ]


# ----------------------------------------------------------------------------- epochs
@pytest.mark.parametrize(
    "values",
    [
        [1_700_000_000, 1_700_000_000_000],  # seconds and milliseconds mixed
        [0, 60, 120],  # 1970: plausible in no unit
        [-86_400, 0],
    ],
)
def test_epoch_unit_that_cannot_be_inferred(values: list[int]) -> None:
    frame = _frame(ts=values, **{n: [1.0] * len(values) for n in ("open", "high", "low", "close")})
    frame["volume"] = [1.0] * len(values)
    with pytest.raises(SchemaError, match="time_unit=") as caught:
        to_bars(frame, symbol="S")
    assert caught.value.issues[0].value == (min(values), max(values))
    explicit = to_bars(frame, symbol="S", time_unit="ns", validation=None)
    assert explicit.get_column("ts").dt.epoch("ns").to_list() == values


def test_epoch_overflowing_nanoseconds_names_the_row() -> None:
    with pytest.raises(SchemaError) as caught:
        to_bars(_frame(ts=[1, 2, 10**17]), symbol="S", time_unit="s")
    assert _where(caught.value.issues)[0][:3] == ("epoch_out_of_range", 2, "ts")


def test_bad_time_unit_value() -> None:
    with pytest.raises(SchemaError, match="time_unit"):
        to_bars(_frame(), symbol="S", time_unit="minutes")


def test_time_unit_on_datetimes_is_refused() -> None:
    frame = _frame(ts=pl.Series([10**18] * 3).cast(pl.Datetime("ns", "UTC")))
    with pytest.raises(SchemaError, match="time_unit applies"):
        to_bars(frame, symbol="S", time_unit="ms")


def test_ccxt_rows_are_milliseconds_by_definition() -> None:
    rows = [[1_700_000_000_000, 1.0, 1.0, 1.0, 1.0, 1.0]]
    with pytest.raises(SchemaError, match="'ms' by definition"):
        to_bars(rows, symbol="S", time_unit="s")


# ----------------------------------------------------------------------------- text times
def test_slash_dates_readable_both_ways_need_time_format() -> None:
    frame = _frame(ts=["1/4/1999", "2/4/1999", "3/4/1999"])
    with pytest.raises(SchemaError, match="time_format") as caught:
        to_bars(frame, symbol="S", timezone="UTC")
    assert _where(caught.value.issues) == [("ambiguous_date_format", 0, "ts", "1/4/1999")]
    day_first = to_bars(frame, symbol="S", timezone="UTC", time_format="%d/%m/%Y")
    assert day_first.get_column("ts").dt.month().to_list() == [4, 4, 4]


def test_one_unambiguous_slash_date_decides_the_reading() -> None:
    month_first = to_bars(
        _frame(ts=["1/4/1999", "1/25/1999", "2/1/1999"]), symbol="S", timezone="UTC"
    )
    assert month_first.get_column("ts").dt.day().to_list() == [4, 25, 1]
    day_first = to_bars(
        _frame(ts=["4/1/1999", "25/1/1999", "1/2/1999"]), symbol="S", timezone="UTC"
    )
    assert day_first.get_column("ts").dt.day().to_list() == [4, 25, 1]


def test_slash_dates_with_times_and_two_digit_years() -> None:
    frame = _frame(ts=["01/13/99 09:30", "01/13/99 09:31", "01/13/99 09:32"])
    result = to_bars(frame, symbol="S", timezone="UTC")
    expected = [datetime(1999, 1, 13, 9, 30 + minute) for minute in range(3)]
    assert result.get_column("ts").dt.replace_time_zone(None).to_list() == expected


def test_unparseable_text_times_name_each_row() -> None:
    frame = _frame(ts=["2024-01-02 09:30", "yesterday", "2024-13-02 09:30"])
    with pytest.raises(SchemaError) as caught:
        to_bars(frame, symbol="S", timezone="UTC")
    assert _where(caught.value.issues) == [
        ("unparseable_timestamp", 1, "ts", "yesterday"),
        ("unparseable_timestamp", 2, "ts", "2024-13-02 09:30"),
    ]


def test_text_that_no_format_fits_names_the_first_row() -> None:
    with pytest.raises(SchemaError) as caught:
        to_bars(_frame(ts=[None, "soon", "later"]), symbol="S", timezone="UTC")
    assert _where(caught.value.issues) == [("unparseable_timestamp", 1, "ts", "soon")]


def test_time_format_on_numbers_is_refused() -> None:
    with pytest.raises(SchemaError, match="time_format applies"):
        to_bars(_frame(), symbol="S", time_format="%Y")


# ----------------------------------------------------------------------------- start, shapes
def test_start_with_data_that_has_timestamps_is_refused() -> None:
    with pytest.raises(SchemaError, match="drop start="):
        to_bars(_frame(), symbol="S", start="2024-01-01T00:00:00Z", interval="1m")


def test_five_column_array_needs_start() -> None:
    with pytest.raises(SchemaError, match="start="):
        to_bars(np.ones((2, 5)), symbol="S")


def test_start_needs_interval() -> None:
    with pytest.raises(SchemaError, match="interval="):
        to_bars(np.ones((2, 5)), symbol="S", start="2024-01-01T00:00:00Z")


def test_naive_start_needs_timezone() -> None:
    with pytest.raises(TimezoneError):
        to_bars(np.ones((2, 5)), symbol="S", start=datetime(2024, 1, 1), interval="1d")


@pytest.mark.parametrize(
    "data",
    [
        42,
        "bars.csv",
        np.ones(5),
        np.ones((2, 4)),
        np.ones((2, 2, 5)),
        np.array([["a"] * 5]),
        [1, 2],
    ],
)
def test_unsupported_inputs(data: object) -> None:
    with pytest.raises(SchemaError):
        to_bars(data, symbol="S")


def test_ccxt_row_of_wrong_length_names_the_row() -> None:
    rows = [[1_700_000_000_000, 1.0, 1.0, 1.0, 1.0, 1.0], [1_700_000_060_000, 1.0, 1.0]]
    with pytest.raises(SchemaError, match="row 1") as caught:
        to_bars(rows, symbol="S")
    assert caught.value.issues[0].row == 1


def test_records_with_a_non_dict_row_name_the_row() -> None:
    records = [{"ts": 1_700_000_000, "open": 1.0}, [1, 2]]
    with pytest.raises(SchemaError) as caught:
        to_bars(records, symbol="S")
    assert caught.value.issues[0].row == 1


def test_ragged_dict_of_columns() -> None:
    with pytest.raises(SchemaError, match="dict of columns"):
        to_bars(_frame(open=[1.0]), symbol="S")


def test_pandas_column_levels_without_one_field_level_are_refused() -> None:
    columns = pd.MultiIndex.from_product([["AAPL"], ["MSFT"]], names=["a", "b"])
    frame = pd.DataFrame([[1.0]], columns=columns)
    with pytest.raises(SchemaError, match="column levels"):
        to_bars(frame, timezone="UTC")
