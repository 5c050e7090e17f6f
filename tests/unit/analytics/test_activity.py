"""Exposure and turnover from positions: array arithmetic against the as-of join definition."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantstrata.analytics._activity import exposure, read_positions, traded_notional
from quantstrata.analytics._inputs import read_equity

_START = datetime(2024, 1, 1, tzinfo=UTC)
_UTC_NS = pl.Datetime("ns", "UTC")


def _reference_exposure(bar_count: int, positions: pl.DataFrame) -> float:
    """Every bar × symbol, the last position at or before it (an as-of join), any held."""
    bars = pl.DataFrame({"ts": [_START + timedelta(hours=h) for h in range(bar_count)]}).cast(
        {"ts": _UTC_NS}
    )
    grid = bars.join(positions.select("symbol").unique(), how="cross").sort("symbol", "ts")
    held = grid.join_asof(
        positions.sort("symbol", "ts").select("symbol", "ts", "position"),
        on="ts",
        by="symbol",
        strategy="backward",
    )
    invested = held.group_by("ts").agg((pl.col("position").fill_null(0.0) != 0.0).any())
    return float(invested["position"].mean())  # type: ignore[arg-type]


rows = st.lists(
    st.tuples(st.integers(-3, 40), st.sampled_from("AB"), st.integers(-2, 2)),
    min_size=1,
    max_size=30,
    unique_by=lambda row: (row[0], row[1]),
)


@settings(max_examples=80, deadline=None)
@given(rows, st.integers(1, 30))
def test_exposure_and_turnover_match_their_definitions(
    records: list[tuple[int, str, int]], bar_count: int
) -> None:
    frame = pl.DataFrame(
        {
            "ts": [_START + timedelta(minutes=30 * half) for half, _, _ in records],
            "symbol": [symbol for _, symbol, _ in records],
            "position": [float(size) for _, _, size in records],
            "price": [10.0 + half for half, _, _ in records],
        }
    ).cast({"ts": _UTC_NS})
    curve = read_equity(
        pl.DataFrame(
            {"ts": [_START + timedelta(hours=h) for h in range(bar_count)], "equity": 1.0}
        ).cast({"ts": _UTC_NS})
    )
    positions = read_positions(frame)
    assert exposure(curve, positions) == _reference_exposure(bar_count, frame)
    ordered = frame.sort("symbol", "ts")
    changes = ordered.select(
        pl.col("position").diff().over("symbol").fill_null(pl.col("position")).abs()
        * pl.col("price")
    ).to_series()
    assert traded_notional(None, positions) == pytest.approx(float(changes.sum()), rel=1e-12)
