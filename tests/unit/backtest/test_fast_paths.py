"""The fast paths of a signal backtest give what the general paths give.

Bars already in canonical order skip the sort, one symbol skips the joins, round trips are
matched in compiled code: each is checked here against the general path or a plain-Python
oracle, on inputs where both apply.
"""

from __future__ import annotations

from collections import deque
from datetime import timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from quantstrata.backtest import Backtest, BacktestConfig
from quantstrata.backtest._align import canonical_bars
from quantstrata.backtest.record import fingerprint
from quantstrata.backtest.trades import round_trips
from quantstrata.core.errors import DataError
from quantstrata.execution import CommissionConfig
from quantstrata.model.bar import TIMESTAMP_DTYPE, keys_strictly_increasing
from quantstrata.strategy.examples import SmaCrossover
from tests.kit.bars import DEFAULT_START, make_bars, make_multi_symbol_bars

_CONFIG = BacktestConfig(
    cash=100_000.0,
    commission=CommissionConfig(rate=0.001),
    allow_short=True,
    fractional=True,
    size_at="fill",  # the compiled signal loop, whose fast paths docs/backtest-speed.md lists
)


def _run(bars: pl.DataFrame) -> object:
    return Backtest(bars, SmaCrossover(fast=3, slow=8, allow_short=True), _CONFIG).run()


def test_shuffled_bars_give_the_same_result_as_ordered_bars() -> None:
    ordered = make_multi_symbol_bars(120, ("AAA", "BBB", "CCC"))
    shuffled = ordered.sample(fraction=1.0, shuffle=True, seed=7)
    first, second = _run(ordered), _run(shuffled)
    for name in ("equity", "positions", "orders", "fills", "trades"):
        assert_frame_equal(getattr(first, name), getattr(second, name))
    assert first.metrics == second.metrics  # type: ignore[attr-defined]
    assert first.record.data_fingerprint == second.record.data_fingerprint  # type: ignore[attr-defined]


def test_one_symbol_matches_the_same_bars_beside_a_second_symbol() -> None:
    alone = make_bars(200, symbol="AAA", seed=3)
    other = make_bars(200, symbol="ZZZ", seed=4).with_columns(pl.col("ts").dt.offset_by("30d"))
    together = pl.concat([alone, other])
    single, mixed = _run(alone), _run(together)
    trades = mixed.trades.filter(pl.col("symbol") == "AAA")  # type: ignore[attr-defined]
    assert_frame_equal(single.trades, trades)  # type: ignore[attr-defined]
    assert single.trades.height > 0  # type: ignore[attr-defined]


def test_duplicate_bars_are_refused_whatever_their_order() -> None:
    bars = make_bars(20)
    doubled = pl.concat([bars, bars.slice(5, 1)])
    for frame in (doubled, doubled.sort("ts")):
        with pytest.raises(DataError, match="more than one row"):
            canonical_bars(frame)


def test_fingerprint_is_stable_and_sees_every_column() -> None:
    bars = canonical_bars(make_multi_symbol_bars(50))
    assert fingerprint(bars) == fingerprint(bars.clone())
    assert len(fingerprint(bars)) == 64
    changed_price = bars.with_columns(pl.col("close").shift(1, fill_value=1.0))
    renamed = bars.with_columns(pl.col("symbol").str.replace("BBB", "BBC"))
    later = bars.with_columns(pl.col("ts").dt.offset_by("1us"))
    with_null = bars.with_columns(pl.col("volume").shift(1))
    digests = {fingerprint(frame) for frame in (bars, changed_price, renamed, later, with_null)}
    assert len(digests) == 5


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.sampled_from("AB")), min_size=1, max_size=30))
def test_strict_key_order_means_sorted_without_repeats(keys: list[tuple[int, str]]) -> None:
    frame = pl.DataFrame(
        {
            "ts": [DEFAULT_START + timedelta(minutes=minute) for minute, _ in keys],
            "symbol": [symbol for _, symbol in keys],
        },
        schema_overrides={"ts": TIMESTAMP_DTYPE},
    )
    expected = keys == sorted(set(keys))
    assert keys_strictly_increasing(frame) == expected


def _oracle_trips(fills: list[tuple[int, str, float, float, float]]) -> list[tuple[object, ...]]:
    """Match fills first in, first out per symbol, one at a time (the rules of round_trips)."""
    trips: list[tuple[object, ...]] = []
    for symbol in sorted({fill[1] for fill in fills}):
        lots: deque[list[float]] = deque()
        for minute, name, signed, price, commission in fills:
            if name != symbol:
                continue
            quantity, left = abs(signed), signed
            while lots and left != 0.0 and (lots[0][0] > 0) != (left > 0):
                lot = lots[0]
                closed = min(abs(lot[0]), abs(left))
                entry_share = lot[3] * closed / abs(lot[0])
                fee = entry_share + commission * closed / quantity
                direction = 1.0 if lot[0] > 0 else -1.0
                pnl = closed * (price - lot[1]) * direction - fee
                trips.append((int(lot[2]), minute, symbol, closed, lot[1], price, pnl, fee))
                lot[3] -= entry_share
                lot[0] += closed if lot[0] < 0 else -closed
                left += closed if left < 0 else -closed
                if abs(lot[0]) <= 1e-9 * closed:
                    lots.popleft()
                if abs(left) <= 1e-9 * quantity:
                    left = 0.0
            if left != 0.0:
                lots.append([left, price, float(minute), commission * abs(left) / quantity])
    return sorted(trips, key=lambda trip: (trip[1], trip[0], trip[2]))


fill_rows = st.lists(
    st.tuples(
        st.sampled_from(["AAA", "BBB"]),
        st.integers(-30, 30).filter(bool).map(float),
        st.integers(50, 150).map(float),
        st.integers(0, 5).map(lambda cents: cents / 100),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=80, deadline=None)
@given(fill_rows)
def test_compiled_round_trips_match_a_plain_python_matcher(
    rows: list[tuple[str, float, float, float]],
) -> None:
    fills = [(minute, *row) for minute, row in enumerate(rows)]
    frame = pl.DataFrame(
        {
            "ts": [DEFAULT_START + timedelta(minutes=minute) for minute, *_ in fills],
            "symbol": [fill[1] for fill in fills],
            "side": ["buy" if fill[2] > 0 else "sell" for fill in fills],
            "quantity": [abs(fill[2]) for fill in fills],
            "price": [fill[3] for fill in fills],
            "commission": [fill[4] for fill in fills],
        },
        schema_overrides={"ts": TIMESTAMP_DTYPE},
    )
    bar_times = frame["ts"].dt.epoch("ns").to_numpy()
    trades = round_trips(frame, bar_times)
    expected = _oracle_trips(fills)
    assert trades.height == len(expected)
    start = DEFAULT_START
    columns = ("entry_ts", "exit_ts", "symbol", "quantity", "entry_price", "exit_price", "pnl")
    got = [
        (
            round((entry - start) / timedelta(minutes=1)),
            round((exit_ - start) / timedelta(minutes=1)),
            *rest,
        )
        for entry, exit_, *rest in trades.select(*columns, "commission").iter_rows()
    ]
    assert got == expected
    held = (trades["exit_ts"] - trades["entry_ts"]).dt.total_minutes().to_numpy()
    assert np.array_equal(trades["bars_held"].to_numpy(), held)


def test_bars_in_many_chunks_come_back_in_one_with_the_same_rows() -> None:
    bars = make_bars(60)
    pieces = pl.concat([bars.slice(0, 20), bars.slice(20, 20), bars.slice(40, 20)], rechunk=False)
    assert pieces.n_chunks() == 3

    canonical = canonical_bars(pieces)

    assert canonical.n_chunks() == 1
    assert_frame_equal(canonical, canonical_bars(bars))
