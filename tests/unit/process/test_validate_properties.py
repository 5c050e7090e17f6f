"""Property tests: corruptions injected at random rows are found at exactly those rows."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from quantstrata.process.validate import validate_bars
from tests.kit.bars import make_bars, make_multi_symbol_bars

Row = dict[str, object]


def _nan_close(row: Row) -> None:
    row["close"] = float("nan")


def _infinite_volume(row: Row) -> None:
    row["volume"] = float("inf")


def _zero_open(row: Row) -> None:
    row["open"] = 0.0


def _negative_low(row: Row) -> None:
    row["low"] = -abs(float(row["low"]))  # type: ignore[arg-type]


def _negative_volume(row: Row) -> None:
    row["volume"] = -1.0 - float(row["volume"])  # type: ignore[arg-type]


def _null_high(row: Row) -> None:
    row["high"] = None


def _high_inside_body(row: Row) -> None:
    row["high"] = min(row["open"], row["close"])  # type: ignore[type-var]
    row["low"] = min(row["low"], row["high"]) * 0.999  # type: ignore[type-var, operator]
    row["high"] = float(row["high"]) * 0.9999  # type: ignore[arg-type]


def _low_above_high(row: Row) -> None:
    row["low"] = float(row["high"]) * 1.01  # type: ignore[arg-type]


CORRUPTIONS: dict[str, Callable[[Row], None]] = {
    "nan_close": _nan_close,
    "infinite_volume": _infinite_volume,
    "zero_open": _zero_open,
    "negative_low": _negative_low,
    "negative_volume": _negative_volume,
    "null_high": _null_high,
    "high_inside_body": _high_inside_body,
    "low_above_high": _low_above_high,
}
REPAIRABLE = {"high_inside_body", "low_above_high"}


@st.composite
def corrupted_frames(draw: st.DrawFn) -> tuple[pl.DataFrame, pl.DataFrame, dict[int, str]]:
    """A clean multi-symbol frame, a copy with corruptions, and the corrupted rows."""
    n = draw(st.integers(min_value=5, max_value=60))
    symbols = draw(st.sampled_from([("AAA",), ("AAA", "BBB"), ("AAA", "BBB", "CCC")]))
    seed = draw(st.integers(min_value=0, max_value=1_000))
    clean = make_multi_symbol_bars(n, symbols, seed=seed)
    rows = draw(st.sets(st.integers(0, clean.height - 1), max_size=min(15, clean.height)))
    injected = {row: draw(st.sampled_from(sorted(CORRUPTIONS))) for row in sorted(rows)}
    records = clean.to_dicts()
    for row, kind in injected.items():
        CORRUPTIONS[kind](records[row])
    return clean, pl.DataFrame(records, schema=clean.schema), injected


@settings(max_examples=80, deadline=None)
@given(corrupted_frames())
def test_report_names_exactly_the_corrupted_rows(
    case: tuple[pl.DataFrame, pl.DataFrame, dict[int, str]],
) -> None:
    _, frame, injected = case
    report = validate_bars(frame, policy="drop").report
    assert {issue.row for issue in report.issues} == set(injected)
    assert report.ok == (not injected)


@settings(max_examples=80, deadline=None)
@given(corrupted_frames())
def test_drop_returns_exactly_the_clean_rows(
    case: tuple[pl.DataFrame, pl.DataFrame, dict[int, str]],
) -> None:
    clean, frame, injected = case
    result = validate_bars(frame, policy="drop")
    keep = [row for row in range(clean.height) if row not in injected]
    assert result.bars.equals(clean[keep])
    assert result.report.dropped_rows == tuple(sorted(injected))
    assert result.report.rows_out + len(result.report.dropped_rows) == frame.height


@settings(max_examples=80, deadline=None)
@given(corrupted_frames())
def test_repair_output_passes_validation_and_keeps_repairable_rows(
    case: tuple[pl.DataFrame, pl.DataFrame, dict[int, str]],
) -> None:
    clean, frame, injected = case
    result = validate_bars(frame, policy="repair")
    assert validate_bars(result.bars).report.ok
    unrepairable = {row for row, kind in injected.items() if kind not in REPAIRABLE}
    assert set(result.report.dropped_rows) == unrepairable
    assert set(result.report.repaired_rows) == set(injected) - unrepairable
    untouched = [row for row in range(clean.height) if row not in injected]
    kept_rows = [row for row in range(clean.height) if row not in unrepairable]
    positions = [kept_rows.index(row) for row in untouched]
    assert result.bars[positions].equals(clean[untouched])


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(min_value=2, max_value=80),
    seed=st.integers(min_value=0, max_value=10_000),
    copies=st.lists(st.tuples(st.integers(0, 79), st.integers(0, 100)), max_size=6),
)
def test_repair_restores_shuffled_and_duplicated_bars(
    n: int, seed: int, copies: list[tuple[int, int]]
) -> None:
    clean = make_bars(n, seed=seed)
    frame = clean.sample(fraction=1.0, shuffle=True, seed=seed)
    for source, where in copies:
        position = where % (frame.height + 1)
        frame = pl.concat([frame[:position], clean[source % n : source % n + 1], frame[position:]])
    result = validate_bars(frame, policy="repair")
    assert result.bars.equals(clean)
    assert result.report.rows_out + len(result.report.dropped_rows) == frame.height
    assert validate_bars(result.bars).report.ok
    dropped = frame.with_row_index("row").filter(pl.col("row").is_in(result.report.dropped_rows))
    # Only extra copies were dropped: each dropped row equals a kept one.
    assert dropped.drop("row").join(clean, on=clean.columns, how="anti").height == 0


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(min_value=3, max_value=200),
    seed=st.integers(min_value=0, max_value=10_000),
    holes=st.sets(st.integers(0, 199), max_size=30),
)
def test_always_open_gaps_account_for_every_missing_bar(n: int, seed: int, holes: set[int]) -> None:
    clean = make_bars(n, seed=seed, interval="15m")
    inside = {hole for hole in holes if 0 < hole < n - 1}
    frame = clean.filter(~pl.int_range(pl.len()).is_in(sorted(inside)))
    report = validate_bars(frame, interval="15m").report
    assert report.missing_bars == len(inside)
    expected_starts = [clean.get_column("ts")[h] for h in sorted(inside) if h - 1 not in inside]
    assert [gap.start for gap in report.gaps] == expected_starts
