"""Whatever the symbols, times and order of appends, the catalog returns what was written.

Symbols include ``/``, ``.``, ``%`` and non-ASCII text; times straddle month, year and decade ends.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from quantstrata.data.catalog import Catalog
from quantstrata.data.catalog._layout import decode_symbol, encode_symbol
from tests.kit.catalogs import memory_catalog, sorted_bars
from tests.kit.frames import random_walk_bars

_SYMBOL_ALPHABET = st.characters(
    codec="utf-8", exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp"), exclude_characters="="
)
symbols = st.one_of(
    st.sampled_from(["BTC/USDT", "AAPL.US", "..", ".", "a/b/c", "100%", "x y", "Ü", "BRK.B"]),
    st.text(_SYMBOL_ALPHABET, min_size=1, max_size=12),
)
# Anchors near period boundaries so bars often straddle a month, year or decade change.
_ANCHORS = [datetime(2019, 12, 31, 22, tzinfo=UTC), datetime(2024, 2, 29, 23, tzinfo=UTC)]
_NS = 10**9


@st.composite
def bar_sets(draw: st.DrawFn) -> pl.DataFrame:
    names = draw(st.lists(symbols, min_size=1, max_size=4, unique=True))
    interval_seconds = draw(st.sampled_from([60, 3600, 86400]))
    frames = []
    for index, name in enumerate(names):
        anchor = int(draw(st.sampled_from(_ANCHORS)).timestamp()) * _NS
        steps = draw(st.lists(st.integers(-2000, 2000), min_size=1, max_size=40, unique=True))
        times = sorted(anchor + step * interval_seconds * _NS for step in steps)
        frames.append(random_walk_bars(times, name, seed=index))
    return pl.concat(frames).with_columns(pl.lit(interval_seconds).alias("__seconds"))


def _interval(bars: pl.DataFrame) -> str:
    return {60: "1m", 3600: "1h", 86400: "1d"}[bars["__seconds"][0]]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bars=bar_sets(), data=st.data())
def test_appends_in_any_split_with_duplicates_read_back_exactly(
    bars: pl.DataFrame, data: st.DataObject
) -> None:
    interval = _interval(bars)
    bars = bars.drop("__seconds")
    order = data.draw(st.permutations(range(bars.height)))
    shuffled = bars[list(order)]
    cuts = sorted(data.draw(st.lists(st.integers(0, bars.height), max_size=4)))
    pieces = [shuffled[a:b] for a, b in zip([0, *cuts], [*cuts, bars.height], strict=True)]
    repeat = data.draw(st.integers(0, bars.height))
    pieces.append(shuffled.head(repeat))  # a re-delivery of bars already written
    catalog = memory_catalog()

    summaries = [catalog.write(piece, interval=interval) for piece in pieces if piece.height]

    assert sum(summary.rows_written for summary in summaries) == bars.height
    assert sum(s.rows_written + s.rows_skipped_duplicate for s in summaries) == bars.height + repeat
    assert_frame_equal(catalog.read(interval=interval), sorted_bars(bars))
    assert catalog.symbols(interval) == sorted(set(bars["symbol"].to_list()))


@settings(max_examples=100, deadline=None)
@given(symbol=symbols)
def test_symbol_encoding_round_trips_and_is_one_path_segment(symbol: str) -> None:
    encoded = encode_symbol(symbol)
    assert decode_symbol(encoded) == symbol
    assert "/" not in encoded
    assert "=" not in encoded


def test_write_to_local_disk_matches_memory(tmp_path_factory: object) -> None:
    bars = random_walk_bars([0, _NS * 60, _NS * 120], "a/b")
    local = Catalog(tmp_path_factory.mktemp("catalog"))  # type: ignore[attr-defined]
    memory = memory_catalog()
    for catalog in (local, memory):
        catalog.write(bars, interval="1m")
    assert_frame_equal(local.read(interval="1m"), memory.read(interval="1m"))
