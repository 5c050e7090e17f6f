"""yfinance's frames into canonical bars, and Yahoo's interval names (no network)."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from quantstrata.core.errors import ConfigError
from quantstrata.data.sources.yfinance_history import (
    bars_from_yfinance,
    redirected_session,
    yahoo_interval,
)


@pytest.mark.parametrize(
    ("ours", "yahoo"),
    [("1m", "1m"), ("5m", "5m"), ("90m", "90m"), ("1h", "1h"), ("1d", "1d"), ("1w", "1wk"),
     ("1M", "1mo"), ("3M", "3mo")],
)  # fmt: skip
def test_intervals_map_to_yahoo_names(ours: str, yahoo: str):
    assert yahoo_interval(ours) == yahoo


def test_an_interval_yahoo_lacks_is_a_config_error():
    with pytest.raises(ConfigError, match="no 4h bars"):
        yahoo_interval("4h")


def _frame(index: pd.DatetimeIndex) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Open": [10.0, None, 12.0],
            "High": [11.0, None, 13.0],
            "Low": [9.0, None, 11.0],
            "Close": [10.5, None, 12.5],
            "Volume": [100, 0, None],
        },
        index=index,
    )


def test_daily_frames_keep_session_dates_and_drop_rows_without_prices():
    index = pd.DatetimeIndex(["2024-01-02", "2024-01-03", "2024-01-04"]).tz_localize(
        "America/New_York"
    )
    bars = bars_from_yfinance(_frame(index), "AAPL", "1d")
    assert bars["ts"].to_list() == [
        datetime(2024, 1, 2, tzinfo=UTC),
        datetime(2024, 1, 4, tzinfo=UTC),
    ]
    assert bars["volume"].to_list() == [100.0, 0.0]
    assert bars["symbol"].unique().to_list() == ["AAPL"]


def test_intraday_frames_are_converted_to_utc():
    index = pd.DatetimeIndex(
        ["2024-07-01 09:30", "2024-07-01 09:35", "2024-07-01 09:40"]
    ).tz_localize("America/New_York")
    bars = bars_from_yfinance(_frame(index), "AAPL", "5m")
    assert bars["ts"].to_list()[0] == datetime(2024, 7, 1, 13, 30, tzinfo=UTC)


def test_bad_frames_and_urls_are_config_errors():
    naive = pd.DatetimeIndex(["2024-01-02", "2024-01-03", "2024-01-04"])
    with pytest.raises(ConfigError, match="time-zone-aware"):
        bars_from_yfinance(_frame(naive), "AAPL", "1d")
    aware = naive.tz_localize("UTC")
    with pytest.raises(ConfigError, match="volume"):
        bars_from_yfinance(_frame(aware).drop(columns="Volume"), "AAPL", "1d")
    with pytest.raises(ConfigError, match="base URL"):
        redirected_session("ftp://example")
