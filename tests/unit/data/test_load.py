"""load_bars finds bars by name: a bundled sample, a CSV or Parquet file, or a catalog symbol."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from quantstrata.core.errors import ConfigError, DataError, UnknownSymbolError
from quantstrata.data import Catalog, generate_bars, load_bars, load_named_bars
from quantstrata.data.catalog import CATALOG_ENVIRONMENT_VARIABLE
from quantstrata.data.samples import load_sample, sample_info, sample_names


def _hourly(symbol: str = "AAA") -> pl.DataFrame:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    return generate_bars(symbols=symbol, bars=48, interval="1h", seed=3, start=start)


def test_a_sample_is_found_by_its_name_or_its_symbol_in_any_case():
    by_name = load_named_bars(["SPX_1d"])
    by_symbol = load_bars("spx")
    assert_frame_equal(by_symbol, load_sample("SPX_1d"))
    assert_frame_equal(by_name.bars, by_symbol)
    assert by_name.sources == ("sample SPX_1d",)
    assert by_name.calendar == sample_info("SPX_1d").calendar


def test_a_parquet_or_csv_file_is_read_by_its_path(tmp_path: Path):
    bars = _hourly()
    parquet, csv = tmp_path / "aaa.parquet", tmp_path / "aaa.csv"
    bars.write_parquet(parquet)
    bars.write_csv(csv)
    from_parquet = load_named_bars([parquet], interval="1h")
    assert_frame_equal(from_parquet.bars, bars)
    assert from_parquet.sources == (f"file {parquet}",)
    assert from_parquet.calendar is None
    assert_frame_equal(load_bars(str(csv), interval="1h"), bars, check_dtypes=False)


def test_a_catalog_symbol_is_read_from_the_catalog_given_as_object_or_root(tmp_path: Path):
    bars = pl.concat([_hourly("AAA"), _hourly("BBB")])
    catalog = Catalog(tmp_path / "catalog")
    catalog.write(bars, interval="1h")
    start, end = datetime(2024, 1, 1, 12, tzinfo=UTC), "2024-01-02"
    window = load_bars(["AAA", "BBB"], interval="1h", catalog=catalog, start=start, end=end)
    from_root = load_bars(["AAA", "BBB"], interval="1h", catalog=catalog.root, start=start, end=end)
    expected = bars.filter(
        (pl.col("ts") >= start) & (pl.col("ts") < datetime(2024, 1, 2, tzinfo=UTC))
    )
    assert window.height > 0
    assert_frame_equal(window, expected.sort("ts", "symbol"))
    assert_frame_equal(from_root, window)


def test_a_symbol_in_the_default_catalog_is_found_after_the_samples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv(CATALOG_ENVIRONMENT_VARIABLE, str(tmp_path / "default"))
    Catalog().write(_hourly("ZZZ"), interval="1h")
    loaded = load_named_bars(["ZZZ"], interval="1h")
    assert loaded.bars["symbol"].unique().to_list() == ["ZZZ"]
    assert loaded.sources == (f"catalog {Catalog().root} ZZZ 1h",)


def test_a_name_that_matches_nothing_says_what_was_tried_and_lists_the_samples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv(CATALOG_ENVIRONMENT_VARIABLE, str(tmp_path / "empty"))
    with pytest.raises(UnknownSymbolError) as caught:
        load_bars("XYZ")
    message = str(caught.value)
    assert message.startswith("no sample, file or catalog symbol named 'XYZ'")
    assert "no file XYZ" in message
    assert "no bundled sample" in message
    assert f"no 1d bars of XYZ in the catalog at {tmp_path / 'empty'}" in message
    assert all(name in message for name in sample_names())


def test_a_missing_file_an_empty_window_and_a_symbol_named_twice_are_errors(tmp_path: Path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_bars(tmp_path / "missing.csv")
    with pytest.raises(DataError, match="no bars between"):
        load_bars("SPX", start="2030-01-01")
    with pytest.raises(ConfigError, match="must be before end"):
        load_bars("SPX", start="2010-01-01", end="2009-01-01")
    with pytest.raises(ConfigError, match=r"\['SPX'\] are named twice"):
        load_bars(["SPX", "SPX_1d"])
    with pytest.raises(ConfigError, match="at least one"):
        load_bars([])
