"""fetch_alpaca_bars through the real alpaca-py on the fake Alpaca: every page, every bar.

The fake serves ``GET /v2/stocks/bars`` a few bars a page (``page_size``); the SDK follows
``next_page_token``. The fetched frame must be exactly the fake's bars in the range, and the
fake must have been asked one request per page.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import polars as pl
from polars.testing import assert_frame_equal

from quantstrata.core.secrets import Secret
from quantstrata.data.samples import load_sample
from quantstrata.data.sources.alpaca_history import (
    alpaca_data_client,
    fetch_alpaca_bars,
)
from quantstrata.model.bar import BAR_COLUMNS
from tests.kit.fake_alpaca import FakeAlpaca

PAGE = 7
NAMES = ("SPX_1d", "GOOG_1d")


def _bars() -> pl.DataFrame:
    start = datetime(2012, 1, 1, tzinfo=UTC)
    frames = [
        load_sample(name).select(BAR_COLUMNS).filter(pl.col("ts") >= start).head(40)
        for name in NAMES
    ]
    return pl.concat(frames).sort("ts", "symbol")


def _range(bars: pl.DataFrame) -> tuple[datetime, datetime]:
    """A range cutting a few bars off both ends (the bounds must be honoured)."""
    times = bars["ts"].unique().sort()
    return times[3], times[-3]


def _bar_requests(fake: FakeAlpaca) -> list[dict[str, str]]:
    return [r.query for r in fake.requests if r.method == "GET" and r.path == "/v2/stocks/bars"]


def test_every_page_is_fetched_and_the_bars_are_exactly_the_fakes() -> None:
    bars = _bars()
    start, end = _range(bars)
    expected = bars.filter((pl.col("ts") >= start) & (pl.col("ts") < end))
    with FakeAlpaca(bars, published=bars["ts"].n_unique(), page_size=PAGE) as fake:
        client = alpaca_data_client(Secret(fake.key_id), Secret(fake.secret), url=fake.data_url)
        symbols = fake.symbols
        fetched = fetch_alpaca_bars(client, symbols, interval="1d", start=start, end=end)
        asked = _bar_requests(fake)
    assert_frame_equal(
        fetched.select(BAR_COLUMNS).sort("symbol", "ts"), expected.sort("symbol", "ts")
    )
    per_symbol = expected.group_by("symbol").len()["len"].to_list()
    assert len(asked) == sum(math.ceil(rows / PAGE) for rows in per_symbol)
    assert sum(1 for query in asked if query.get("page_token")) == len(asked) - len(symbols)
