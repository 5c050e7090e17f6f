"""The bundled samples hold exactly the source files' values, with the documented conventions.

The sources are the gzipped copies in tests/kit/sample_sources (written by
scripts/bundle_samples.py); they are read here with pandas, not with quantstrata's importers.
"""

from __future__ import annotations

import gzip
import hashlib
import re
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

import pandas as pd
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from quantstrata.core.errors import UnknownSymbolError
from quantstrata.data.catalog import Catalog
from quantstrata.data.samples import (
    SampleInfo,
    load_sample,
    load_samples_into,
    sample_info,
    sample_names,
)
from quantstrata.model.bar import TIMESTAMP_DTYPE
from quantstrata.model.instrument import AssetClass
from quantstrata.model.interval import Interval
from quantstrata.process.validate import validate_bars
from tests.kit.catalogs import memory_catalog

SOURCES = Path(__file__).resolve().parents[2] / "kit" / "sample_sources"
NAMES = ("BTCUSD_1mo", "EURUSD_1h", "GOOG_1d", "IXIC_1d", "SPX_1d")


def _source(name: str) -> pd.DataFrame:
    """Read a source CSV with pandas and apply the conventions of PROVENANCE.md by hand."""
    # Values stay text and go through Python's float(), so parsing is independent of our reader.
    frame = pd.read_csv(SOURCES / f"{name}.csv.gz", dtype=str, keep_default_na=False)
    first = frame.columns[0]
    if name in {"SPX_1d", "IXIC_1d"}:  # M/D/YYYY session dates
        stamps = pd.to_datetime(frame[first], format="%m/%d/%Y").dt.tz_localize("UTC")
    elif name == "BTCUSD_1mo":  # month-end labels move to the month's first day
        ends = pd.to_datetime(frame[first], format="%Y-%m-%d")
        assert (ends + pd.offsets.MonthEnd(0) == ends).all()
        stamps = ends.dt.to_period("M").dt.to_timestamp().dt.tz_localize("UTC")
    else:  # GOOG dates, EURUSD naive hours taken as UTC
        stamps = pd.to_datetime(frame[first]).dt.tz_localize("UTC")
    values = frame.drop(columns=[first]).map(float)
    values.columns = [column.lower().replace(" ", "_") for column in values.columns]
    return values.assign(ts=stamps, symbol=name.split("_", maxsplit=1)[0])


def test_names_are_sorted_and_complete() -> None:
    assert sample_names() == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_sample_matches_its_source_row_by_row(name: str) -> None:
    bars = load_sample(name)
    source = _source(name)

    assert bars.columns[:7] == ["ts", "symbol", "open", "high", "low", "close", "volume"]
    assert bars.schema["ts"] == TIMESTAMP_DTYPE
    assert bars.height == len(source)
    assert bars["ts"].to_list() == [moment.to_pydatetime() for moment in source["ts"]]
    assert bars["symbol"].to_list() == source["symbol"].tolist()
    for column in bars.columns[2:]:
        assert bars[column].to_list() == source[column].tolist(), column


@pytest.mark.parametrize("name", NAMES)
def test_sample_passes_validation(name: str) -> None:
    bars = load_sample(name)
    result = validate_bars(bars, check_gaps=False, interval=str(sample_info(name).interval))
    assert result.report.ok
    assert_frame_equal(result.bars, bars)


@pytest.mark.parametrize("name", ["SPX_1d", "IXIC_1d", "GOOG_1d"])
def test_daily_samples_follow_their_exchange_calendar_exactly(name: str) -> None:
    info = sample_info(name)
    report = validate_bars(load_sample(name), calendar=info.calendar, interval="1d").report
    assert report.gaps == ()
    assert report.notes == ()


@pytest.mark.parametrize("name", NAMES)
def test_sample_info_describes_the_data(name: str) -> None:
    info = sample_info(name)
    source = _source(name)
    assert isinstance(info, SampleInfo)
    assert info.name == name
    assert info.symbol == name.split("_", maxsplit=1)[0]
    assert info.interval == Interval.parse(name.split("_")[1])
    assert info.rows == len(source)
    assert info.first == source["ts"].min().to_pydatetime()
    assert info.last == source["ts"].max().to_pydatetime()
    assert info.source


def test_markets_and_calendars() -> None:
    facts = {name: (sample_info(name).asset_class, sample_info(name).calendar) for name in NAMES}
    assert facts == {
        "BTCUSD_1mo": (AssetClass.CRYPTO, None),
        "EURUSD_1h": (AssetClass.FOREX, "24/5"),
        "GOOG_1d": (AssetClass.EQUITY, "XNAS"),
        "IXIC_1d": (AssetClass.INDEX, "XNAS"),
        "SPX_1d": (AssetClass.INDEX, "XNYS"),
    }


def test_names_are_case_insensitive_and_unknown_ones_list_the_samples() -> None:
    assert_frame_equal(load_sample("spx_1D"), load_sample("SPX_1d"))
    with pytest.raises(UnknownSymbolError, match="BTCUSD_1mo, EURUSD_1h, GOOG_1d, IXIC_1d, SPX_1d"):
        load_sample("AAPL_1d")
    with pytest.raises(KeyError):
        sample_info("nope")


def test_eurusd_weekly_open_follows_new_york_17h_in_utc() -> None:
    """The evidence for reading EURUSD's naive times as UTC (see PROVENANCE.md)."""
    ts = load_sample("EURUSD_1h")["ts"]
    gaps = pl.DataFrame({"ts": ts, "step": ts.diff()}).filter(
        pl.col("step") > pl.duration(hours=24)
    )
    for moment in gaps["ts"].to_list():
        new_york = pd.Timestamp(moment).tz_convert("America/New_York")
        assert new_york.weekday() in {6, 0}  # Sunday, or Monday after a holiday
        assert new_york.hour == 17, moment


def test_load_samples_into_a_catalog() -> None:
    catalog = memory_catalog()

    summaries = load_samples_into(catalog)
    again = load_samples_into(catalog)

    assert [summary.rows_written for summary in summaries] == [sample_info(n).rows for n in NAMES]
    assert all(summary.rows_written == 0 for summary in again)
    for name in NAMES:
        info = sample_info(name)
        assert_frame_equal(catalog.read(info.symbol, interval=info.interval), load_sample(name))


def test_load_samples_into_a_local_catalog(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path)
    load_samples_into(catalog)
    assert catalog.intervals() == ["1h", "1d", "1mo"]
    assert catalog.symbols("1d") == ["GOOG", "IXIC", "SPX"]


def test_provenance_lists_each_sample_and_the_plain_sources_checksums() -> None:
    provenance = (files("quantstrata.data.samples") / "PROVENANCE.md").read_text(encoding="utf-8")
    for name in NAMES:
        assert f"`{name}`" in provenance
    listed = dict(re.findall(r"\| `(\w+\.csv(?:\.gz)?)` \| `([0-9a-f]{64})` \|", provenance))
    assert len(listed) == len(NAMES)
    for name in ("BTCUSD_1mo", "EURUSD_1h", "GOOG_1d"):  # copied byte for byte, then gzipped
        text = gzip.decompress((SOURCES / f"{name}.csv.gz").read_bytes())
        assert hashlib.sha256(text).hexdigest() == listed[f"{name}.csv"]


def test_first_bar_of_spx_is_the_documented_session() -> None:
    first = load_sample("SPX_1d").row(0, named=True)
    assert first["ts"] == datetime(1999, 1, 4, tzinfo=UTC)
    assert first["open"] == 1229.22998
