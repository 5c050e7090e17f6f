from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from quantstrata.data.stream import BarBuilder, BuiltBar, StreamGap

MINUTE = 60_000


def _reference(trades: list[tuple[int, float, float]]) -> dict[int, tuple[float, ...]]:
    buckets: dict[int, list[tuple[int, float, float]]] = {}
    for trade in sorted(trades):
        buckets.setdefault(trade[0] - trade[0] % MINUTE, []).append(trade)
    return {
        start: (
            rows[0][1],
            max(row[1] for row in rows),
            min(row[1] for row in rows),
            rows[-1][1],
            sum(row[2] for row in rows),
        )
        for start, rows in buckets.items()
    }


def test_the_first_bucket_seen_is_a_gap_then_bars_follow_open_time_labels():
    builder = BarBuilder(MINUTE)
    assert builder.add("A", 30_000, 10.0, 1.0, "t1") == []
    assert builder.add("A", 61_000, 11.0, 2.0, "t2") == [StreamGap("A", 0, MINUTE)]
    builder.add("A", 90_000, 9.0, 1.0, "t3")
    builder.add("A", 119_000, 10.5, 3.0, "t4")
    assert builder.add("A", 120_000, 12.0, 1.0, "t5") == [
        BuiltBar("A", MINUTE, 11.0, 11.0, 9.0, 10.5, 6.0)
    ]


def test_a_quiet_market_is_not_a_gap():
    builder = BarBuilder(MINUTE)
    builder.add("A", 0, 10.0, 1.0, 1)
    builder.add("A", MINUTE, 10.0, 1.0, 2)
    closed = builder.add("A", 10 * MINUTE, 10.0, 1.0, 3)
    assert closed == [BuiltBar("A", MINUTE, 10.0, 10.0, 10.0, 10.0, 1.0)]


def test_after_a_taint_the_gap_starts_at_the_last_delivered_bar():
    builder = BarBuilder(MINUTE)
    builder.add("A", 0, 10.0, 1.0, 1)
    builder.add("A", MINUTE, 10.0, 1.0, 2)
    builder.add("A", 2 * MINUTE, 10.0, 1.0, 3)  # closes bucket 1
    builder.taint()
    builder.add("A", 7 * MINUTE + 5, 10.0, 1.0, 4)
    assert builder.add("A", 8 * MINUTE, 10.0, 1.0, 5) == [StreamGap("A", 2 * MINUTE, 8 * MINUTE)]


def test_rewinding_undelivers_bars_so_the_next_gap_covers_them():
    builder = BarBuilder(MINUTE)
    builder.add("A", 0, 10.0, 1.0, 1)
    builder.add("A", MINUTE, 10.0, 1.0, 2)
    builder.add("A", 2 * MINUTE, 10.0, 1.0, 3)
    builder.taint("A", rewind_to_ms=MINUTE)
    builder.add("A", 3 * MINUTE, 10.0, 1.0, 4)
    assert builder.add("A", 4 * MINUTE, 10.0, 1.0, 5) == [StreamGap("A", MINUTE, 4 * MINUTE)]


def test_advance_closes_bars_when_time_passes_without_trades():
    builder = BarBuilder(MINUTE, late_tolerance_ms=1_000)
    builder.add("A", 0, 10.0, 1.0, 1)
    builder.add("A", MINUTE + 1, 10.0, 1.0, 2)  # closes nothing: tolerance
    assert builder.advance(2 * MINUTE) == [StreamGap("A", 0, MINUTE)]
    assert builder.advance(2 * MINUTE + 1_000) == [
        BuiltBar("A", MINUTE, 10.0, 10.0, 10.0, 10.0, 1.0)
    ]


@given(
    seed=st.integers(0, 2**32 - 1),
    count=st.integers(20, 300),
    step=st.sampled_from([1_000, 7_000, 20_000]),
)
def test_shuffled_and_repeated_trades_within_tolerance_give_the_reference_bars(
    seed: int, count: int, step: int
):
    draw = random.Random(seed)
    trades = [
        (index * step, float(draw.randint(100, 200)), float(draw.randint(1, 9)))
        for index in range(count)
    ]
    arrival = list(enumerate(trades))
    position = 0
    while position < len(arrival) - 1:  # swap disjoint neighbours: late within tolerance
        if draw.random() < 0.3:
            arrival[position], arrival[position + 1] = arrival[position + 1], arrival[position]
            position += 1
        position += 1
    arrival += [arrival[draw.randrange(len(arrival))] for _ in range(count // 10)]  # repeats
    builder = BarBuilder(MINUTE, late_tolerance_ms=2 * step)
    closed: list[BuiltBar | StreamGap] = []
    for key, (moment, price, quantity) in arrival:
        closed.extend(builder.add("A", moment, price, quantity, key))
    closed.extend(builder.advance(10**12))
    bars = [item for item in closed if isinstance(item, BuiltBar)]
    reference = _reference(trades)
    assert isinstance(closed[0], StreamGap)
    assert {bar.ts_ms: (bar.open, bar.high, bar.low, bar.close, bar.volume) for bar in bars} == {
        start: values for start, values in reference.items() if start != 0
    }
    assert [bar.ts_ms for bar in bars] == sorted({bar.ts_ms for bar in bars})
    assert builder.open_buckets() == 0
