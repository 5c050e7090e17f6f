"""yfinance's own code parses recorded Yahoo chart payloads; quantstrata turns them into bars.

The fake Yahoo (tests/kit/fake_yahoo.py) serves the recorded payloads over real HTTP, and
yfinance talks to it through a requests session, so cookie, crumb, chart request, time-zone
handling and the dropping of pre-market rows are yfinance's own.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
import yfinance

from quantstrata.data import load_sample
from quantstrata.data.catalog import Catalog
from quantstrata.data.sources import fetch_yfinance_bars, fetch_yfinance_to_catalog
from quantstrata.data.sources.errors import ProviderUnavailableError
from tests.kit.fake_yahoo import CRUMB, FakeYahoo, load_payload

COLUMNS = ["ts", "open", "high", "low", "close", "volume"]


@pytest.fixture(autouse=True)
def _yfinance_cache(tmp_path: Path) -> None:
    yfinance.set_tz_cache_location(str(tmp_path / "yfinance-cache"))


def test_daily_history_lands_in_the_catalog_as_session_dates(tmp_path: Path):
    catalog = Catalog(tmp_path / "catalog")
    with FakeYahoo() as server:
        summary = fetch_yfinance_to_catalog(
            catalog,
            ["GOOG"],
            interval="1d",
            start="2012-01-03",
            end="2012-02-01",
            session=server.session(),
        )
    stored = catalog.read(interval="1d", symbols=["GOOG"]).sort("ts")
    # The recorded payload is the bundled sample's January 2012, with one session sent
    # without prices (Yahoo does that); it is dropped, everything else matches the sample.
    sample = load_sample("GOOG_1d").filter(
        (pl.col("ts") >= datetime(2012, 1, 3, tzinfo=UTC))
        & (pl.col("ts") < datetime(2012, 2, 1, tzinfo=UTC))
    )
    missing = sample["ts"][7]
    expected = sample.filter(pl.col("ts") != missing)
    assert summary.rows_written == expected.height == 19
    assert stored.select(COLUMNS).to_dicts() == expected.select(COLUMNS).to_dicts()
    assert stored["symbol"].unique().to_list() == ["GOOG"]
    charts = server.chart_requests()
    assert charts[-1]["interval"] == "1d"
    assert charts[-1]["crumb"] == CRUMB


def test_intraday_history_is_utc_open_times_in_regular_hours():
    with FakeYahoo() as server:
        bars = fetch_yfinance_bars(
            ["GOOG"], interval="5m", start="2012-01-30", end="2012-02-01", session=server.session()
        )
    result = load_payload("GOOG_5m")["chart"]["result"][0]
    quote = result["indicators"]["quote"][0]
    opens = [datetime.fromtimestamp(ts, UTC) for ts in result["timestamp"]]
    regular = [
        (ts, quote["open"][i], quote["close"][i])
        for i, ts in enumerate(opens)
        if quote["open"][i] is not None and (ts.hour, ts.minute) >= (14, 30)
    ]
    assert bars.height == len(regular) == 2 * 78 - 1
    assert [(row[0], row[1], row[4]) for row in bars.select(COLUMNS).iter_rows()] == regular
    assert bars["ts"].dtype == pl.Datetime("ns", "UTC")
    assert server.chart_requests()[-1]["interval"] == "5m"


def test_an_unknown_interval_and_a_failing_server_are_typed_errors():
    from quantstrata.core.errors import ConfigError

    with pytest.raises(ConfigError, match="Yahoo Finance has no 4h bars"):
        fetch_yfinance_bars(["GOOG"], interval="4h", start="2012-01-03", end="2012-02-01")
    with FakeYahoo() as server:
        session = server.session()
    # The server is gone; yfinance logs the failure and returns nothing, which is an error.
    # (Another range than the other tests: yfinance caches answers within the process.)
    with pytest.raises(ProviderUnavailableError, match="GOOG"):
        fetch_yfinance_bars(
            ["GOOG"], interval="1d", start="2011-01-03", end="2011-02-01", session=session
        )
