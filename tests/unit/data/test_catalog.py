from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from fsspec.core import url_to_fs
from platformdirs import user_data_dir
from polars.testing import assert_frame_equal

from quantstrata.core.errors import (
    BarValidationError,
    CatalogConflictError,
    ConfigError,
    SchemaError,
    TimezoneError,
    UnknownSymbolError,
)
from quantstrata.data.catalog import Catalog, CatalogConfig, WriteSummary
from quantstrata.data.catalog import _storage as storage_module
from tests.kit.bars import make_bars
from tests.kit.catalogs import (
    expected_stem,
    memory_catalog,
    parquet_files,
    snapshot,
    sorted_bars,
)
from tests.kit.frames import minute_range, random_walk_bars, utc


def _hourly(symbol: str, start: datetime, count: int, seed: int = 0) -> pl.DataFrame:
    return random_walk_bars(minute_range(start, count, 60), symbol, seed=seed)


# ---------------------------------------------------------------- layout and round trips


@pytest.mark.parametrize("interval", ["1s", "1m", "5m", "1h", "4h", "1d", "1w"])
def test_files_follow_the_period_rule_and_read_back_exactly(tmp_path: Path, interval: str) -> None:
    step = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[interval.lstrip("0123456789")]
    seconds = int(interval[:-1]) * step
    start = utc(2019, 12, 31, 22)
    count = 400
    times = int(start.timestamp()) * 10**9 + np.arange(count, dtype=np.int64) * seconds * 10**9
    bars = random_walk_bars(times, "BTC/USDT", seed=1)
    catalog = Catalog(tmp_path)

    summary = catalog.write(bars, interval=interval)

    stems = {expected_stem(moment, interval) for moment in bars["ts"].to_list()}
    assert parquet_files(tmp_path) == sorted(
        f"interval={interval}/symbol=BTC%2FUSDT/{stem}.parquet" for stem in stems
    )
    assert summary == WriteSummary(
        rows_written=count,
        rows_skipped_duplicate=0,
        files_written=len(stems),
        symbols=("BTC/USDT",),
    )
    assert_frame_equal(catalog.read("BTC/USDT", interval=interval), bars)


def test_many_symbols_come_back_sorted_by_symbol_then_time(tmp_path: Path) -> None:
    names = ["b.x", "A/B", "a b", "Ü%", "AAPL.US"]
    parts = [_hourly(name, utc(2023, 12, 30), 80, seed=index) for index, name in enumerate(names)]
    interleaved = pl.concat(parts).sort("ts", "symbol")
    catalog = Catalog(tmp_path)
    catalog.write(interleaved, interval="1h")

    result = catalog.read(interval="1h")

    assert_frame_equal(result, sorted_bars(interleaved))
    assert catalog.symbols("1h") == sorted(names)
    assert catalog.symbols() == sorted(names)
    assert catalog.intervals() == ["1h"]


def test_symbols_are_percent_encoded_in_paths_and_decoded_exactly(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path)
    catalog.write(make_bars(3, symbol="BTC/USDT", interval="1d"), interval="1d")
    catalog.write(make_bars(3, symbol="50% off", interval="1d"), interval="1d")
    directories = sorted(path.name for path in (tmp_path / "interval=1d").iterdir())
    assert directories == ["symbol=50%25%20off", "symbol=BTC%2FUSDT"]
    assert catalog.symbols("1d") == ["50% off", "BTC/USDT"]


def test_extra_columns_round_trip_and_missing_ones_read_as_null(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path)
    first = random_walk_bars(minute_range(utc(2024, 1, 31, 23), 30), "X", extras=True)
    later = random_walk_bars(minute_range(utc(2024, 3, 1), 10), "X", seed=3)
    catalog.write(first, interval="1m")
    catalog.write(later, interval="1m")

    result = catalog.read("X", interval="1m")

    expected = pl.concat([first, later], how="diagonal")
    assert result.columns == [*later.columns, "adj_close", "quote_volume", "open_interest"]
    assert_frame_equal(result, expected)


def test_scan_is_lazy_and_the_time_range_is_half_open(tmp_path: Path) -> None:
    bars = make_bars(24 * 10, symbol="EURUSD", interval="1h", start=utc(2024, 12, 28))
    catalog = Catalog(tmp_path)
    catalog.write(bars, interval="1h")
    start, end = utc(2024, 12, 31, 5), utc(2025, 1, 2)

    lazy = catalog.scan("EURUSD", interval="1h", start=start, end=end)

    assert isinstance(lazy, pl.LazyFrame)
    expected = bars.filter((pl.col("ts") >= start) & (pl.col("ts") < end))
    assert_frame_equal(lazy.collect(), expected)
    by_date = catalog.read("EURUSD", interval="1h", start=date(2025, 1, 1), end="2025-01-02")
    assert by_date["ts"].to_list() == [utc(2025, 1, 1) + timedelta(hours=h) for h in range(24)]


def test_files_outside_the_range_are_never_opened(tmp_path: Path) -> None:
    bars = make_bars(24 * 62, symbol="X", interval="1m", start=utc(2024, 1, 1))
    catalog = Catalog(tmp_path)
    catalog.write(bars, interval="1m")
    (tmp_path / "interval=1m/symbol=X/2024-01.parquet").write_bytes(b"not parquet")

    february = catalog.read("X", interval="1m", start=utc(2024, 2, 1), end=utc(2024, 3, 1))

    assert_frame_equal(february, bars.filter(pl.col("ts") >= utc(2024, 2, 1)))
    with pytest.raises(pl.exceptions.ComputeError):
        catalog.read("X", interval="1m", start=utc(2024, 1, 15), end=utc(2024, 2, 2))


def test_columns_picks_values_and_always_keeps_the_keys(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path)
    bars = make_bars(5, symbol="X", interval="1d")
    catalog.write(bars, interval="1d")

    assert catalog.read("X", interval="1d", columns=["close", "open"]).columns == [
        "ts",
        "symbol",
        "open",
        "close",
    ]
    with pytest.raises(SchemaError, match="'nope'"):
        catalog.read("X", interval="1d", columns=["nope"])


def test_unknown_symbol_names_it_and_lists_what_the_interval_holds(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path)
    catalog.write(make_bars(3, symbol="AAA", interval="1d"), interval="1d")
    catalog.write(make_bars(3, symbol="ZZZ", interval="1h"), interval="1h")

    with pytest.raises(UnknownSymbolError, match=r"'ZZZ'.*holds: AAA$") as caught:
        catalog.read(["AAA", "ZZZ"], interval="1d")
    assert isinstance(caught.value, KeyError)
    with pytest.raises(UnknownSymbolError, match="holds: nothing"):
        catalog.read("AAA", interval="1m")


def test_reading_an_empty_interval_gives_an_empty_canonical_frame(tmp_path: Path) -> None:
    result = Catalog(tmp_path).read(interval="1d")
    assert result.height == 0
    assert result.columns == ["ts", "symbol", "open", "high", "low", "close", "volume"]


def test_naive_bounds_are_refused(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path)
    with pytest.raises(TimezoneError):
        catalog.read(interval="1d", start=datetime(2024, 1, 1))
    with pytest.raises(ConfigError):
        catalog.read(interval="1d", end="yesterday")


# ---------------------------------------------------------------- appends, duplicates, conflicts


def test_appends_merge_and_identical_rows_are_skipped(tmp_path: Path) -> None:
    bars = _hourly("X", utc(2023, 12, 31), 48)
    catalog = Catalog(tmp_path)
    catalog.write(bars.head(30), interval="1h")

    summary = catalog.write(bars.slice(20), interval="1h")

    assert summary.rows_written == 18
    assert summary.rows_skipped_duplicate == 10
    assert summary.files_written == 1  # 2023 is unchanged, only 2024 grew
    assert_frame_equal(catalog.read("X", interval="1h"), bars)


def test_rewriting_identical_bars_changes_no_file(tmp_path: Path) -> None:
    bars = _hourly("X", utc(2023, 12, 31), 48)
    catalog = Catalog(tmp_path)
    catalog.write(bars, interval="1h")
    before = snapshot(tmp_path)

    summary = catalog.write(bars.reverse(), interval="1h")

    assert (summary.rows_written, summary.rows_skipped_duplicate, summary.files_written) == (
        0,
        48,
        0,
    )
    assert snapshot(tmp_path) == before


def _with_close(bars: pl.DataFrame, row: int, value: float) -> pl.DataFrame:
    return bars.with_columns(
        close=pl.when(pl.int_range(pl.len()) == row).then(value).otherwise(pl.col("close")),
        high=pl.when(pl.int_range(pl.len()) == row)
        .then(pl.max_horizontal("high", pl.lit(value)))
        .otherwise(pl.col("high")),
    )


def test_conflicts_raise_naming_symbol_time_and_both_values(tmp_path: Path) -> None:
    bars = _hourly("BTC/USDT", utc(2024, 5, 1), 10)
    catalog = Catalog(tmp_path)
    catalog.write(bars, interval="1h")
    before = snapshot(tmp_path)
    changed = _with_close(bars, 4, 12345.5).slice(2)  # input row 2 is bar 4
    stored_close = bars["close"][4]

    with pytest.raises(CatalogConflictError) as caught:
        catalog.write(changed, interval="1h")

    message = str(caught.value)
    assert "BTC/USDT" in message
    assert "2024-05-01T04:00:00+00:00" in message
    assert repr(stored_close) in message
    assert "12345.5" in message
    close_issue = next(issue for issue in caught.value.issues if issue.column == "close")
    assert (close_issue.row, close_issue.symbol, close_issue.value) == (2, "BTC/USDT", 12345.5)
    assert snapshot(tmp_path) == before


def test_overwrite_lets_the_new_bar_win(tmp_path: Path) -> None:
    bars = _hourly("X", utc(2024, 5, 1), 10)
    catalog = Catalog(tmp_path)
    catalog.write(bars, interval="1h")
    changed = _with_close(bars, 4, 999.0).slice(3, 5)

    summary = catalog.write(changed, interval="1h", on_conflict="overwrite")

    assert (summary.rows_written, summary.rows_skipped_duplicate, summary.rows_conflicting) == (
        1,
        4,
        1,
    )
    assert_frame_equal(catalog.read("X", interval="1h"), _with_close(bars, 4, 999.0))


def test_keep_leaves_the_stored_bar(tmp_path: Path) -> None:
    bars = _hourly("X", utc(2024, 5, 1), 10)
    catalog = Catalog(tmp_path)
    catalog.write(bars.head(8), interval="1h")
    changed = _with_close(bars, 4, 999.0)

    summary = catalog.write(changed, interval="1h", on_conflict="keep")

    assert (summary.rows_written, summary.rows_conflicting) == (2, 1)
    assert_frame_equal(catalog.read("X", interval="1h"), bars)


def test_unknown_conflict_policy_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="on_conflict"):
        Catalog(tmp_path).write(make_bars(2), interval="1m", on_conflict="merge")


def test_repeated_input_rows_are_dropped_but_differing_ones_refused(tmp_path: Path) -> None:
    bars = _hourly("X", utc(2024, 5, 1), 5)
    catalog = Catalog(tmp_path)

    summary = catalog.write(pl.concat([bars, bars.slice(1, 2)]), interval="1h")
    assert (summary.rows_written, summary.rows_skipped_duplicate) == (5, 2)

    clash = pl.concat([bars, _with_close(bars, 3, 500.0).slice(3, 1)])
    with pytest.raises(BarValidationError) as caught:
        memory_catalog().write(clash, interval="1h")
    assert {issue.row for issue in caught.value.issues} == {5}


def test_invalid_bars_are_reported_at_the_users_row(tmp_path: Path) -> None:
    bars = _hourly("X", utc(2024, 5, 1), 6).reverse()  # unsorted input
    broken = bars.with_columns(
        low=pl.when(pl.int_range(pl.len()) == 1).then(pl.col("high") * 2).otherwise("low")
    )
    with pytest.raises(BarValidationError) as caught:
        Catalog(tmp_path).write(broken, interval="1h")
    assert {issue.row for issue in caught.value.issues} == {1}
    assert parquet_files(tmp_path) == []


@pytest.mark.parametrize(
    ("change", "check"),
    [
        (lambda frame: frame.drop("volume"), "missing_column"),
        (lambda frame: frame.with_columns(pl.col("ts").dt.replace_time_zone(None)), "column_dtype"),
        (lambda frame: frame.with_columns(note=pl.lit("x")), "column_dtype"),
    ],
)
def test_non_canonical_frames_are_schema_errors(tmp_path: Path, change: object, check: str) -> None:
    frame = change(make_bars(3))  # type: ignore[operator]
    with pytest.raises(SchemaError) as caught:
        Catalog(tmp_path).write(frame, interval="1m")
    assert [issue.check for issue in caught.value.issues] == [check]


def test_pandas_input_is_refused_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="to_bars"):
        Catalog(tmp_path).write(make_bars(3).to_pandas(), interval="1m")  # type: ignore[arg-type]


def test_integer_extra_columns_are_stored_as_float(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path)
    catalog.write(make_bars(3).with_columns(trades=pl.lit(7)), interval="1m")
    assert catalog.read("TEST", interval="1m")["trades"].to_list() == [7.0, 7.0, 7.0]


# ---------------------------------------------------------------- atomic writes


def _failing_writer(frame: pl.DataFrame, target: object) -> None:
    if hasattr(target, "write"):
        target.write(b"PAR1 half a file")
    raise OSError("disk full")


@pytest.mark.parametrize("where", ["local", "memory"])
def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    catalog = Catalog(tmp_path) if where == "local" else memory_catalog()
    bars = _hourly("X", utc(2024, 5, 1), 10)
    catalog.write(bars.head(5), interval="1h")
    filesystem, base = url_to_fs(catalog.root)
    directory = f"{base}/interval=1h/symbol=X"
    before = {name: filesystem.cat_file(name) for name in filesystem.find(directory)}
    monkeypatch.setattr(storage_module, "write_parquet", _failing_writer)

    with pytest.raises(OSError, match="disk full"):
        catalog.write(bars, interval="1h")

    after = {name: filesystem.cat_file(name) for name in filesystem.find(directory)}
    assert after == before
    monkeypatch.undo()
    assert_frame_equal(catalog.read("X", interval="1h"), bars.head(5))


# ---------------------------------------------------------------- inventory


def test_describe_matches_an_independent_count(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path)
    daily = pl.concat([make_bars(40, symbol=name, interval="1d") for name in ("B", "A/1")])
    minutes = random_walk_bars(minute_range(utc(2024, 1, 31, 23), 120), "A/1")
    catalog.write(daily, interval="1d")
    catalog.write(minutes, interval="1m")

    described = catalog.describe()

    expected = (
        pl.concat(
            [daily.with_columns(interval=pl.lit("1d")), minutes.with_columns(interval=pl.lit("1m"))]
        )
        .group_by("interval", "symbol")
        .agg(rows=pl.len(), first=pl.col("ts").min(), last=pl.col("ts").max())
    )
    sizes = []
    for row in expected.iter_rows(named=True):
        encoded = row["symbol"].replace("/", "%2F")
        folder = tmp_path / f"interval={row['interval']}" / f"symbol={encoded}"
        files = list(folder.glob("*.parquet"))
        sizes.append(
            (row["interval"], row["symbol"], len(files), sum(f.stat().st_size for f in files))
        )
    expected = expected.join(
        pl.DataFrame(sizes, schema=["interval", "symbol", "files", "bytes"], orient="row"),
        on=["interval", "symbol"],
    ).with_columns(pl.col("rows", "files", "bytes").cast(pl.Int64))
    order = {"1m": 0, "1d": 1}
    expected = expected.sort(pl.col("interval").replace_strict(order), "symbol")
    assert_frame_equal(described, expected.select(described.columns))
    assert catalog.intervals() == ["1m", "1d"]


def test_delete_removes_one_symbol_of_one_interval(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path)
    for name in ("A", "B"):
        catalog.write(make_bars(3, symbol=name, interval="1d"), interval="1d")
    catalog.write(make_bars(3, symbol="A", interval="1h"), interval="1h")

    catalog.delete("A", interval="1d")

    assert catalog.symbols("1d") == ["B"]
    assert catalog.symbols("1h") == ["A"]
    with pytest.raises(UnknownSymbolError):
        catalog.delete("A", interval="1d")


def test_foreign_files_in_the_root_are_ignored(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path)
    catalog.write(make_bars(3, interval="1d"), interval="1d")
    (tmp_path / "README.txt").write_text("notes")
    (tmp_path / "interval=1d" / "symbol=TEST" / "notes.txt").write_text("x")
    (tmp_path / "interval=1d" / "symbol=TEST" / "backup.parquet").write_text("x")
    (tmp_path / "interval=1d" / "symbol=TEST" / "2024-01.parquet").write_text("x")
    (tmp_path / "other").mkdir()
    assert catalog.symbols() == ["TEST"]
    assert catalog.read(interval="1d").height == 3
    assert catalog.describe()["files"].to_list() == [1]


# ---------------------------------------------------------------- configuration


def test_default_root_comes_from_the_environment_then_the_user_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUANTSTRATA_CATALOG", str(tmp_path / "from-env"))
    assert Catalog().root == str(tmp_path / "from-env")
    monkeypatch.delenv("QUANTSTRATA_CATALOG")
    assert Catalog().root == str(Path(user_data_dir("quantstrata", appauthor=False)) / "catalog")


def test_storage_options_never_appear_in_reprs() -> None:
    catalog = Catalog("memory://quantstrata-tests/repr", storage_options={"secret": "hunter2"})
    config = CatalogConfig.resolve(
        "s3://bucket/bars?token=abc123", {"key": "AKIAXXXX", "secret": "hunter2"}
    )
    for text in (repr(catalog), repr(catalog.config), str(config), repr(config)):
        assert "hunter2" not in text
        assert "AKIAXXXX" not in text
        assert "abc123" not in text
    assert "secret" in repr(config)


def test_config_is_frozen_and_rejects_unknown_fields() -> None:
    config = CatalogConfig.resolve("/tmp/x")
    with pytest.raises(ValueError, match="frozen"):
        config.root = "/elsewhere"  # type: ignore[misc]
    with pytest.raises(ConfigError):
        CatalogConfig.build(root="/tmp/x", compression="zstd")
    with pytest.raises(ConfigError):
        CatalogConfig.build(root="  ")


def test_memory_filesystem_write_read_describe() -> None:
    catalog = memory_catalog()
    bars = pl.concat(
        [
            make_bars(50, symbol="ETH/USDT", interval="1h"),
            make_bars(50, symbol="BTC/USDT", interval="1h"),
        ]
    )

    catalog.write(bars, interval="1h")

    assert_frame_equal(catalog.read(interval="1h"), sorted_bars(bars))
    described = catalog.describe()
    assert described["symbol"].to_list() == ["BTC/USDT", "ETH/USDT"]
    assert described["rows"].to_list() == [50, 50]
    assert (described["bytes"] > 0).all()
    assert described["first"].to_list() == [bars["ts"].min()] * 2


def test_write_summary_refuses_negative_counts() -> None:
    with pytest.raises(ConfigError):
        WriteSummary(rows_written=-1, rows_skipped_duplicate=0, files_written=0, symbols=())


def test_timestamps_keep_nanoseconds(tmp_path: Path) -> None:
    bars = make_bars(3, interval="1d").with_columns(pl.col("ts") + pl.duration(nanoseconds=7))
    catalog = Catalog(tmp_path)
    catalog.write(bars, interval="1d")
    assert_frame_equal(catalog.read(interval="1d"), bars)


def test_times_before_1970_and_far_ahead_are_stored(tmp_path: Path) -> None:
    times = [datetime(1969, 12, 31, 23, tzinfo=UTC), datetime(2199, 6, 1, tzinfo=UTC)]
    bars = random_walk_bars([int(t.timestamp()) * 10**9 for t in times], "X")
    catalog = Catalog(tmp_path)
    catalog.write(bars, interval="1s")
    assert parquet_files(tmp_path) == [
        "interval=1s/symbol=X/1969-12-31.parquet",
        "interval=1s/symbol=X/2199-06-01.parquet",
    ]
    assert_frame_equal(catalog.read(interval="1s", start=date(1969, 12, 31)), bars)


def test_writing_no_bars_writes_nothing(tmp_path: Path) -> None:
    summary = Catalog(tmp_path).write(make_bars(0), interval="1d")
    assert summary == WriteSummary(0, 0, 0, ())
    assert parquet_files(tmp_path) == []


def test_symbols_that_would_break_partition_paths_are_refused(tmp_path: Path) -> None:
    bars = make_bars(2).with_columns(symbol=pl.lit("A=B"))
    with pytest.raises(SchemaError) as caught:
        Catalog(tmp_path).write(bars, interval="1m")
    assert caught.value.issues[0].value == "A=B"


def test_from_config_and_path_roots_open_the_same_catalog(tmp_path: Path) -> None:
    bars = make_bars(3, interval="1d")
    Catalog(str(tmp_path)).write(bars, interval="1d")
    for catalog in (Catalog(tmp_path), Catalog.from_config(CatalogConfig.resolve(tmp_path))):
        assert_frame_equal(catalog.read("TEST", interval="1d"), bars)


def test_home_relative_roots_are_expanded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert Catalog("~/bars").root == str(tmp_path / "bars")
