"""Signal strategies: the entry/exit state machine, per-symbol targets and the target checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantstrata.core.errors import DataError, SchemaError
from quantstrata.strategy.signal import (
    TARGET_SCHEMA,
    SignalStrategy,
    TargetUnit,
    check_targets,
    targets_from_signals,
    targets_per_symbol,
)
from tests.kit.bars import make_bars, make_multi_symbol_bars


def reference_targets(entries, exits, short_entries, short_exits, sizes):
    """Walk the documented rules bar by bar, written as a plain decision table."""
    out, position = [], 0.0
    for long_in, long_out, short_in, short_out, size in zip(
        entries, exits, short_entries, short_exits, sizes, strict=True
    ):
        opens_long = long_in and not long_out and not short_in
        opens_short = short_in and not short_out and not long_in
        if position > 0:
            closing = long_out or short_in
            position = (-size if opens_short else 0.0) if closing else position
        elif position < 0:
            closing = short_out or long_in
            position = (size if opens_long else 0.0) if closing else position
        elif opens_long:
            position = size
        elif opens_short:
            position = -size
        out.append(position)
    return np.array(out, dtype=np.float64)


def test_long_only_signals_enter_hold_and_exit():
    entries = [False, True, False, True, False, False, True]
    exits = [False, False, False, False, True, False, False]
    assert targets_from_signals(entries, exits).tolist() == [0, 1, 1, 1, 0, 0, 1]


def test_size_of_the_entry_bar_is_held_until_the_exit():
    entries = np.array([True, False, False, True, False])
    exits = np.array([False, False, True, False, False])
    sizes = np.array([0.5, 0.9, 0.9, 0.25, 0.7])
    assert targets_from_signals(entries, exits, size=sizes).tolist() == [0.5, 0.5, 0, 0.25, 0.25]


def test_short_entry_reverses_a_long_and_entry_reverses_a_short():
    entries = [True, False, False, True, False]
    exits = [False] * 5
    short_entries = [False, False, True, False, False]
    result = targets_from_signals(entries, exits, 2.0, short_entries, [False] * 5)
    assert result.tolist() == [2.0, 2.0, -2.0, 2.0, 2.0]


def test_conflicting_bars_open_nothing_and_exit_wins_in_a_position():
    # flat: entry and exit together -> stays flat; entry and short entry together -> flat
    assert targets_from_signals([True], [True]).tolist() == [0.0]
    assert targets_from_signals([True], [False], 1.0, [True]).tolist() == [0.0]
    # long: entry again with exit -> closes
    assert targets_from_signals([True, True], [False, True]).tolist() == [1.0, 0.0]
    # long: short entry and entry together -> closes without reversing
    assert targets_from_signals([True, True], [False, False], 1.0, [False, True]).tolist() == [
        1.0,
        0.0,
    ]


@settings(max_examples=80, deadline=None)
@given(
    st.integers(min_value=0, max_value=60).flatmap(
        lambda n: st.tuples(
            *(st.lists(st.booleans(), min_size=n, max_size=n) for _ in range(4)),
            st.lists(st.floats(0.01, 5.0), min_size=n, max_size=n),
        )
    )
)
def test_kernel_matches_the_plain_decision_table(signals):
    entries, exits, short_entries, short_exits, sizes = signals
    expected = reference_targets(entries, exits, short_entries, short_exits, sizes)
    result = targets_from_signals(
        np.array(entries, dtype=bool),
        np.array(exits, dtype=bool),
        np.array(sizes),
        np.array(short_entries, dtype=bool),
        np.array(short_exits, dtype=bool),
    )
    np.testing.assert_array_equal(result, expected)


def test_result_comes_back_in_the_container_kind_of_entries():
    index = pd.date_range("2024-01-01", periods=3, freq="D")
    as_pandas = targets_from_signals(pd.Series([True, False, False], index=index), [0, 0, 1])
    assert isinstance(as_pandas, pd.Series)
    assert as_pandas.index.equals(index)
    as_polars = targets_from_signals(
        pl.Series([True, None, False]), pl.Series([False, False, True])
    )
    assert isinstance(as_polars, pl.Series)
    assert as_polars.name == "target"
    assert as_polars.to_list() == [1.0, 1.0, 0.0]


def test_missing_signal_values_count_as_false():
    shifted = pd.Series([True, False, True]).shift(1)  # object dtype with NaN first
    assert targets_from_signals(shifted, [False, False, False]).tolist() == [0.0, 1.0, 1.0]
    floats = np.array([np.nan, 1.0, 0.0])
    assert targets_from_signals(floats, np.zeros(3)).tolist() == [0.0, 1.0, 1.0]


def test_bad_signals_and_sizes_are_refused_naming_the_row():
    with pytest.raises(DataError, match="entries must hold booleans") as caught:
        targets_from_signals([False, 0.5], [False, False])
    assert caught.value.issues[0].row == 1
    with pytest.raises(DataError, match="exits has 1 values"):
        targets_from_signals([True, False], [False])
    with pytest.raises(DataError, match="invalid size") as caught:
        targets_from_signals([True, True], [False, False], size=[1.0, -1.0])
    assert caught.value.issues[0].row == 1
    with pytest.raises(DataError, match="invalid size"):
        targets_from_signals([True], [False], size=0.0)
    with pytest.raises(DataError, match="one-dimensional"):
        targets_from_signals(np.zeros((2, 2), dtype=bool), None)
    with pytest.raises(DataError, match="entries must be boolean"):
        targets_from_signals(pl.Series(["a", "b"]), None)


class HalfLong(SignalStrategy):
    def warmup_bars(self) -> int:
        return 0

    def targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        return targets_per_symbol(bars, lambda frame: np.full(frame.height, 0.5))


class Returns(SignalStrategy):
    """Return whatever frame the test put in ``result``."""

    result: pl.DataFrame

    def warmup_bars(self) -> int:
        return 0

    def targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        return self.result


def test_default_target_unit_is_a_fraction_of_equity():
    assert HalfLong.target_unit is TargetUnit.FRACTION_OF_EQUITY


def test_targets_per_symbol_sees_only_one_symbol_sorted_by_time():
    bars = make_multi_symbol_bars(30, ("AAA", "BBB", "CCC"))
    seen = []

    def cumulative_count(frame: pl.DataFrame) -> np.ndarray:
        seen.append(frame["symbol"].unique().to_list())
        assert frame["ts"].is_sorted()
        return np.arange(frame.height, dtype=float)

    result = targets_per_symbol(bars.sample(fraction=1.0, shuffle=True, seed=1), cumulative_count)
    assert sorted(seen) == [["AAA"], ["BBB"], ["CCC"]]
    assert result.schema == TARGET_SCHEMA
    assert result["ts"].is_sorted()
    expected = bars.sort("ts", "symbol").with_columns(
        pl.int_range(pl.len()).over("symbol").cast(pl.Float64).alias("target")
    )
    assert result.equals(expected.select("ts", "symbol", "target"))


def test_targets_per_symbol_turns_nan_into_no_decision():
    bars = make_bars(3)
    result = targets_per_symbol(bars, lambda frame: [np.nan, 1.0, None])
    assert result["target"].to_list() == [None, 1.0, None]


def test_compute_targets_gives_one_row_per_bar_with_null_where_left_out():
    bars = make_multi_symbol_bars(4, ("AAA", "BBB"))
    strategy = Returns()
    strategy.result = bars.filter(pl.col("symbol") == "BBB").select(
        "ts", "symbol", target=pl.lit(1, dtype=pl.Int64)
    )
    result = strategy.compute_targets(bars.reverse())
    assert result.schema == TARGET_SCHEMA
    assert result.select("ts", "symbol").equals(bars.sort("ts", "symbol").select("ts", "symbol"))
    by_symbol = result.group_by("symbol").agg(pl.col("target").drop_nulls().len())
    assert dict(by_symbol.iter_rows()) == {"AAA": 0, "BBB": 4}


def test_latest_targets_is_the_last_row_of_each_symbol():
    bars = make_multi_symbol_bars(6, ("AAA", "BBB"))
    latest = HalfLong().latest_targets(bars)
    assert latest["symbol"].to_list() == ["AAA", "BBB"]
    assert latest["ts"].to_list() == [bars["ts"].max()] * 2
    assert latest["target"].to_list() == [0.5, 0.5]


def test_check_targets_refuses_wrong_shapes_naming_the_strategy():
    bars = make_bars(3)
    good = bars.select("ts", "symbol", target=pl.lit(1.0))
    with pytest.raises(SchemaError, match=r"Mine.targets\(\) must return a Polars DataFrame"):
        check_targets(good.to_pandas(), bars, strategy="Mine")  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match="lacks column"):
        check_targets(good.drop("target"), bars, strategy="Mine")
    with pytest.raises(SchemaError, match="must be numeric"):
        check_targets(good.with_columns(target=pl.lit("x")), bars, strategy="Mine")


def test_check_targets_refuses_non_finite_duplicate_and_unknown_rows():
    bars = make_bars(3)
    good = bars.select("ts", "symbol", target=pl.lit(1.0))
    with pytest.raises(DataError, match="non-finite") as caught:
        check_targets(good.with_columns(target=pl.Series([1.0, np.nan, 0.0])), bars)
    assert (caught.value.issues[0].row, caught.value.issues[0].column) == (1, "target")
    with pytest.raises(DataError, match="more than one row"):
        check_targets(pl.concat([good, good.head(1)]), bars)
    with pytest.raises(DataError, match="do not exist") as caught:
        check_targets(good.with_columns(symbol=pl.lit("ZZZ")), bars)
    assert caught.value.issues[0].symbol == "ZZZ"


def test_check_targets_ignores_extra_columns_and_accepts_other_time_units():
    bars = make_bars(3)
    targets = bars.select(
        pl.col("ts").cast(pl.Datetime("us", "UTC")), "symbol", target=pl.lit(0.0), debug=pl.lit(1)
    )
    result = check_targets(targets, bars)
    assert result.schema == TARGET_SCHEMA
    assert result["target"].to_list() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_check_targets_refuses_infinite_targets_of_either_sign_beside_nulls(bad: float):
    bars = make_bars(3)
    targets = bars.select("ts", "symbol").with_columns(target=pl.Series([None, 1.0, bad]))
    with pytest.raises(DataError, match="non-finite") as caught:
        check_targets(targets, bars)
    assert (caught.value.issues[0].row, caught.value.issues[0].value) == (2, bad)
    assert check_targets(targets.head(2), bars)["target"].to_list() == [None, 1.0, None]
