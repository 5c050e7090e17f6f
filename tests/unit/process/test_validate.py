"""validate_bars: each row check names the exact row, column and value; schema; policies; report."""

from __future__ import annotations

import math
from datetime import datetime

import pandas as pd
import polars as pl
import pytest

from quantstrata.core.errors import (
    BarValidationError,
    ConfigError,
    DataIssue,
    SchemaError,
    TimezoneError,
)
from quantstrata.process.config import ValidationConfig, ValidationPolicy
from quantstrata.process.validate import ValidationReport, ValidationResult, validate_bars
from tests.kit.bars import make_bars, make_multi_symbol_bars


def set_value(frame: pl.DataFrame, row: int, column: str, value: object) -> pl.DataFrame:
    """Return a copy of ``frame`` with one cell replaced (written without our own code)."""
    data = frame.to_dict(as_series=False)
    data[column][row] = value
    return pl.DataFrame(data, schema=frame.schema)


def only_issue(frame: pl.DataFrame) -> DataIssue:
    result = validate_bars(frame, policy="drop", check_gaps=False)
    assert len(result.report.issues) == 1, result.report.summary()
    return result.report.issues[0]


def iso(frame: pl.DataFrame, row: int) -> str:
    value = frame.get_column("ts")[row]
    assert isinstance(value, datetime)
    return value.isoformat()


# ---------------------------------------------------------------- one test per row check


def test_clean_bars_pass_unchanged() -> None:
    bars = make_bars(50)
    result = validate_bars(bars)
    assert isinstance(result, ValidationResult)
    assert result.bars.equals(bars)
    assert result.report.ok
    assert result.report.issues == ()
    assert result.report.rows_in == result.report.rows_out == 50


@pytest.mark.parametrize("column", ["open", "high", "low", "close", "volume"])
def test_nan_is_named_by_row_and_column(column: str) -> None:
    issue = only_issue(set_value(make_bars(20), 7, column, float("nan")))
    assert (issue.check, issue.row, issue.column, issue.symbol) == ("non_finite", 7, column, "TEST")
    assert math.isnan(issue.value)


def test_infinite_volume_is_non_finite() -> None:
    issue = only_issue(set_value(make_bars(20), 3, "volume", float("inf")))
    assert (issue.check, issue.row, issue.column, issue.value) == (
        "non_finite",
        3,
        "volume",
        math.inf,
    )


def test_negative_infinite_price_is_only_non_finite() -> None:
    issue = only_issue(set_value(make_bars(20), 4, "close", -math.inf))
    assert (issue.check, issue.row, issue.column) == ("non_finite", 4, "close")


def test_null_price_is_missing_value() -> None:
    issue = only_issue(set_value(make_bars(20), 11, "low", None))
    assert (issue.check, issue.row, issue.column, issue.value) == ("missing_value", 11, "low", None)


def test_null_symbol_is_missing_value() -> None:
    issue = only_issue(set_value(make_bars(20), 2, "symbol", None))
    assert (issue.check, issue.row, issue.column) == ("missing_value", 2, "symbol")


@pytest.mark.parametrize(("column", "value"), [("open", 0.0), ("low", -1.5), ("close", -0.01)])
def test_non_positive_price(column: str, value: float) -> None:
    issue = only_issue(set_value(make_bars(20), 5, column, value))
    assert (issue.check, issue.row, issue.column, issue.value) == (
        "non_positive_price",
        5,
        column,
        value,
    )


def test_negative_volume() -> None:
    issue = only_issue(set_value(make_bars(20), 9, "volume", -3.0))
    assert (issue.check, issue.row, issue.column, issue.value) == (
        "negative_volume",
        9,
        "volume",
        -3.0,
    )


def test_zero_volume_is_fine() -> None:
    assert validate_bars(set_value(make_bars(20), 9, "volume", 0.0)).report.ok


def test_high_below_body() -> None:
    bars = make_bars(20)
    row = bars.row(6, named=True)
    top, bottom = max(row["open"], row["close"]), min(row["open"], row["close"])
    high = (top + bottom) / 2
    issue = only_issue(set_value(bars, 6, "high", high))
    assert (issue.check, issue.row, issue.column, issue.value) == (
        "high_below_body",
        6,
        "high",
        high,
    )
    assert "high" in issue.message
    assert f"high {high:.10g}," in issue.message


def test_low_above_body() -> None:
    bars = make_bars(20)
    row = bars.row(13, named=True)
    low = (row["open"] + row["close"]) / 2
    issue = only_issue(set_value(bars, 13, "low", low))
    assert (issue.check, issue.row, issue.column, issue.value) == ("low_above_body", 13, "low", low)


def test_high_below_low_is_reported_with_the_body_check() -> None:
    bars = make_bars(20)
    low = bars.get_column("low")[8]
    high = low * 0.99
    report = validate_bars(set_value(bars, 8, "high", high), policy="drop").report
    assert {(i.check, i.row, i.column, i.value) for i in report.issues} == {
        ("high_below_body", 8, "high", high),
        ("high_below_low", 8, "high", high),
    }


def test_duplicate_timestamp_names_every_row_involved() -> None:
    bars = make_bars(10)
    doubled = pl.concat([bars, bars[3:4], bars[3:4]])  # rows 10 and 11 repeat row 3
    report = validate_bars(doubled, policy="drop", check_gaps=False).report
    duplicates = [i for i in report.issues if i.check == "duplicate_timestamp"]
    assert [(i.row, i.column, i.value) for i in duplicates] == [
        (3, "ts", iso(bars, 3)),
        (10, "ts", iso(bars, 3)),
        (11, "ts", iso(bars, 3)),
    ]
    assert "3 rows (3, 10, 11)" in duplicates[0].message


def test_same_time_in_different_symbols_is_not_a_duplicate() -> None:
    bars = make_multi_symbol_bars(10, ("AAA", "BBB", "CCC"))
    assert validate_bars(bars).report.ok


def test_multi_symbol_duplicates_match_pandas() -> None:
    bars = make_multi_symbol_bars(6, ("AAA", "BBB"))
    # Repeat AAA's 3rd bar and BBB's 5th bar at the end, and one BBB bar in the middle.
    extra = pl.concat([bars[4:5], bars[9:10], bars[1:2]])
    doubled = pl.concat([bars[:7], extra[2:3], bars[7:], extra[:2]])
    report = validate_bars(doubled, policy="drop", check_gaps=False).report
    found = sorted(i.row for i in report.issues if i.check == "duplicate_timestamp")
    expected = doubled.to_pandas().duplicated(subset=["symbol", "ts"], keep=False)
    assert found == [int(i) for i in expected[expected].index]
    assert {i.symbol for i in report.issues if i.check == "duplicate_timestamp"} == {"AAA", "BBB"}


def test_out_of_order_names_the_row_that_goes_back_in_time() -> None:
    bars = make_bars(10)
    order = [0, 1, 2, 3, 4, 6, 5, 7, 8, 9]
    swapped = bars[order]
    issue = only_issue(swapped)
    assert (issue.check, issue.row, issue.column, issue.value) == (
        "out_of_order",
        6,
        "ts",
        iso(bars, 5),
    )


def test_out_of_order_is_judged_per_symbol() -> None:
    aaa, bbb = make_bars(5, symbol="AAA"), make_bars(5, symbol="BBB")
    # Symbols one after the other: BBB starts again at the first time, which is fine.
    assert validate_bars(pl.concat([aaa, bbb])).report.ok
    backwards = pl.concat([aaa, bbb[[0, 1, 3, 2, 4]]])
    issue = only_issue(backwards)
    assert (issue.check, issue.row, issue.symbol) == ("out_of_order", 8, "BBB")


def test_out_of_order_matches_a_plain_loop_on_a_shuffled_multi_symbol_frame() -> None:
    bars = make_multi_symbol_bars(40, ("AAA", "BBB", "CCC")).sample(
        fraction=1.0, shuffle=True, seed=3
    )
    report = validate_bars(bars, policy="drop", check_gaps=False).report
    latest: dict[str, datetime] = {}
    expected = []
    for row, (ts, symbol) in enumerate(bars.select("ts", "symbol").iter_rows()):
        if symbol in latest and ts < latest[symbol]:
            expected.append(row)
        latest[symbol] = max(ts, latest.get(symbol, ts))
    assert [i.row for i in report.issues if i.check == "out_of_order"] == expected


# ---------------------------------------------------------------- schema


def test_missing_column_is_a_schema_error() -> None:
    with pytest.raises(SchemaError) as caught:
        validate_bars(make_bars(5).drop("volume"))
    assert [(i.check, i.column) for i in caught.value.issues] == [("missing_column", "volume")]


def test_wrong_dtype_is_a_schema_error_whatever_the_policy() -> None:
    bars = make_bars(5).with_columns(pl.col("close").cast(pl.Float32))
    with pytest.raises(SchemaError) as caught:
        validate_bars(bars, policy="repair")
    assert [(i.check, i.column, i.value) for i in caught.value.issues] == [
        ("wrong_dtype", "close", "Float32")
    ]


def test_millisecond_timestamps_are_the_wrong_dtype() -> None:
    bars = make_bars(5).with_columns(pl.col("ts").dt.cast_time_unit("ms"))
    with pytest.raises(SchemaError, match="wrong_dtype"):
        validate_bars(bars)


def test_naive_timestamps_raise_timezone_error() -> None:
    bars = make_bars(5).with_columns(pl.col("ts").dt.replace_time_zone(None))
    with pytest.raises(TimezoneError) as caught:
        validate_bars(bars)
    assert caught.value.issues[0].check == "naive_timestamp"


def test_columns_out_of_canonical_order_are_a_schema_error() -> None:
    bars = make_bars(5).select("symbol", "ts", "open", "high", "low", "close", "volume")
    with pytest.raises(SchemaError, match="column_order"):
        validate_bars(bars)


def test_extra_columns_after_the_canonical_ones_are_kept() -> None:
    bars = make_bars(5).with_columns(adj_close=pl.col("close"))
    assert validate_bars(bars).bars.columns[-1] == "adj_close"


def test_pandas_input_is_refused_with_a_pointer_to_to_bars() -> None:
    with pytest.raises(SchemaError, match="to_bars"):
        validate_bars(make_bars(5).to_pandas())  # type: ignore[arg-type]


# ---------------------------------------------------------------- policies


def corrupted() -> tuple[pl.DataFrame, pl.DataFrame]:
    """Twelve clean bars and a copy with NaN at row 2, negative volume at row 5."""
    bars = make_bars(12)
    return bars, set_value(set_value(bars, 2, "close", float("nan")), 5, "volume", -1.0)


def test_raise_carries_every_issue_and_says_how_many() -> None:
    _, bad = corrupted()
    with pytest.raises(BarValidationError) as caught:
        validate_bars(bad)
    assert [(i.check, i.row) for i in caught.value.issues] == [
        ("non_finite", 2),
        ("negative_volume", 5),
    ]
    text = str(caught.value)
    assert text.startswith("2 issues in 12 bars")
    assert str(caught.value.issues[0]) in text


def test_raise_message_lists_the_first_ten_of_many() -> None:
    bars = make_bars(30).with_columns(volume=pl.lit(-1.0))
    with pytest.raises(BarValidationError) as caught:
        validate_bars(bars)
    assert len(caught.value.issues) == 30
    assert "... and 20 more" in str(caught.value)


def test_drop_keeps_exactly_the_clean_rows() -> None:
    bars, bad = corrupted()
    result = validate_bars(bad, policy="drop")
    assert result.bars.equals(bars[[0, 1, 3, 4, 6, 7, 8, 9, 10, 11]])
    assert result.report.dropped_rows == (2, 5)
    assert result.report.rows_out == 10
    assert not result.report.ok


def test_policy_accepts_enum_and_refuses_unknown_text() -> None:
    _, bad = corrupted()
    assert validate_bars(bad, policy=ValidationPolicy.DROP).report.rows_out == 10
    with pytest.raises(ConfigError, match="policy"):
        validate_bars(bad, policy="ignore")


def test_repair_widens_high_and_low_to_the_body() -> None:
    bars = make_bars(10)
    row = bars.row(4, named=True)
    bad = set_value(bars, 4, "high", min(row["open"], row["close"]))
    bad = set_value(bad, 7, "low", bars.get_column("high")[7])
    result = validate_bars(bad, policy="repair")
    assert result.report.repaired_rows == (4, 7)
    assert result.report.dropped_rows == ()
    repaired = result.bars.row(4, named=True)
    assert repaired["high"] == max(row["open"], row["close"])
    assert result.bars.get_column("low")[7] == min(
        bars.get_column("open")[7], bars.get_column("close")[7]
    )
    assert validate_bars(result.bars).report.ok


def test_repair_sorts_each_symbol_in_its_own_slots() -> None:
    bars = make_multi_symbol_bars(4, ("AAA", "BBB"))  # AAA, BBB, AAA, BBB, ...
    order = [0, 1, 4, 3, 2, 5, 6, 7]  # AAA rows 2 and 4 swapped
    result = validate_bars(bars[order], policy="repair")
    assert result.bars.equals(bars)
    assert result.report.repaired_rows == (2, 4)
    assert [i.row for i in result.report.issues] == [4]


def test_repair_keeps_one_exact_duplicate_and_drops_conflicting_ones() -> None:
    bars = make_bars(6)
    conflicting = bars[4:5].with_columns(close=pl.col("close") * 1.0001, high=pl.col("high") * 2)
    doubled = pl.concat([bars, bars[1:2], conflicting])  # row 6 copies 1; row 7 disagrees with 4
    result = validate_bars(doubled, policy="repair")
    assert result.report.dropped_rows == (4, 6, 7)
    assert result.bars.equals(bars[[0, 1, 2, 3, 5]])
    actions = dict(
        zip(
            result.report.to_frame().get_column("row").to_list(),
            result.report.to_frame().get_column("action").to_list(),
            strict=False,
        )
    )
    assert actions[1] == "kept"
    assert actions[6] == "dropped"


def test_repair_drops_what_has_no_fix() -> None:
    bars, bad = corrupted()
    result = validate_bars(bad, policy="repair")
    assert result.report.dropped_rows == (2, 5)
    assert result.bars.equals(bars[[0, 1, 3, 4, 6, 7, 8, 9, 10, 11]])


# ---------------------------------------------------------------- report


def test_report_summary_counts_checks_and_names_row_column_value() -> None:
    _, bad = corrupted()
    report = validate_bars(bad, policy="drop").report
    text = report.summary()
    assert "2 issues" in text
    assert "non_finite" in text
    assert "negative_volume" in text
    assert "row 5, column 'volume'" in text
    assert "(value: -1.0)" in text
    assert "interval: 1m, inferred" in text
    assert report.counts_by_check() == {"non_finite": 1, "negative_volume": 1}


def test_report_to_frame_has_one_row_per_issue() -> None:
    _, bad = corrupted()
    frame = validate_bars(bad, policy="drop").report.to_frame()
    assert frame.columns == ["check", "symbol", "row", "column", "value", "message", "action"]
    assert frame.select("check", "row", "column", "value", "action").rows() == [
        ("non_finite", 2, "close", "nan", "dropped"),
        ("negative_volume", 5, "volume", "-1.0", "dropped"),
    ]


def test_empty_report_frame_keeps_its_schema() -> None:
    frame = validate_bars(make_bars(3)).report.to_frame()
    assert frame.height == 0
    assert frame.schema["row"] == pl.Int64


def test_report_refuses_to_lose_rows() -> None:
    with pytest.raises(ConfigError, match="account"):
        ValidationReport((), (), 10, 9, (), (), None)


def test_config_round_trips_into_validate_bars() -> None:
    config = ValidationConfig.build(policy="drop", interval="1min", gaps="error")
    assert config.interval == "1m"
    _, bad = corrupted()
    assert validate_bars(bad, **config.model_dump()).report.rows_out == 10


def test_empty_frame_is_valid() -> None:
    result = validate_bars(make_bars(3).head(0))
    assert result.report.ok
    assert result.report.rows_in == 0


def test_report_counts_match_pandas_on_a_messy_frame() -> None:
    bars = make_bars(200, seed=5)
    messy = bars.with_columns(
        close=pl.when(pl.int_range(pl.len()) % 17 == 0).then(float("nan")).otherwise("close"),
        volume=pl.when(pl.int_range(pl.len()) % 23 == 0).then(-1.0).otherwise("volume"),
    )
    report = validate_bars(messy, policy="drop").report
    table = messy.to_pandas()
    expected = set(table.index[table["close"].isna() | (table["volume"] < 0)])
    assert set(report.dropped_rows) == expected
    assert report.counts_by_check() == {
        "non_finite": int(table["close"].isna().sum()),
        "negative_volume": int((table["volume"] < 0).sum()),
    }
    assert isinstance(table, pd.DataFrame)
