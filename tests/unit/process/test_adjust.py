from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from quantstrata.core.errors import DataError, SchemaError, TimezoneError
from quantstrata.process.adjust import adjust_for_actions
from tests.kit.frames import multi_symbol, random_walk_bars, utc

DAY_NS = 86_400 * 1_000_000_000


def _daily(
    closes: list[float], volumes: list[float] | None = None, symbol: str = "A"
) -> pl.DataFrame:
    start = utc(2024, 1, 1)
    return pl.DataFrame(
        {
            "ts": [start + timedelta(days=i) for i in range(len(closes))],
            "symbol": [symbol] * len(closes),
            "open": closes,
            "high": [c * 1.01 for c in closes],
            "low": [c * 0.99 for c in closes],
            "close": closes,
            "volume": volumes or [100.0] * len(closes),
        }
    ).with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC")))


def _actions(rows: list[tuple[str, date, str, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"symbol": pl.String, "ex_date": pl.Date, "kind": pl.String, "value": pl.Float64},
        orient="row",
    )


# ------------------------------------------------------------------ hand-checked case


def test_split_then_dividend_by_hand() -> None:
    bars = _daily([100.0, 102.0, 51.0, 50.0, 49.0], [10.0, 10.0, 20.0, 20.0, 20.0])
    actions = _actions(
        [
            ("A", date(2024, 1, 3), "split", 2.0),
            ("A", date(2024, 1, 5), "dividend", 1.0),
            ("OTHER", date(2024, 1, 2), "split", 3.0),  # no bars: ignored
        ]
    )
    out = adjust_for_actions(bars, actions)
    # Dividend 1.0 against the prior close 50.0: factor 1 - 1/50 = 0.98 before Jan 5.
    # Split 2-for-1 on Jan 3: factor 1/2 before Jan 3, so 0.5 * 0.98 = 0.49 there.
    assert out.get_column("adjustment_factor").to_list() == pytest.approx(
        [0.49, 0.49, 0.98, 0.98, 1.0]
    )
    assert out.get_column("close").to_list() == pytest.approx([49.0, 49.98, 49.98, 49.0, 49.0])
    assert out.get_column("volume").to_list() == pytest.approx([20.0, 20.0, 20.0, 20.0, 20.0])
    assert out.get_column("unadjusted_close").to_list() == [100.0, 102.0, 51.0, 50.0, 49.0]
    assert out.get_column("high").to_list() == pytest.approx(
        [49.0 * 1.01, 49.98 * 1.01, *[c * 1.01 for c in (49.98, 49.0, 49.0)]]
    )
    assert out.columns == [
        *bars.columns,
        "unadjusted_open",
        "unadjusted_high",
        "unadjusted_low",
        "unadjusted_close",
        "unadjusted_volume",
        "adjustment_factor",
    ]


def test_split_and_dividend_on_the_same_day_use_post_split_terms() -> None:
    bars = _daily([100.0, 52.0])
    actions = _actions(
        [("A", date(2024, 1, 2), "split", 2.0), ("A", date(2024, 1, 2), "dividend", 1.0)]
    )
    out = adjust_for_actions(bars, actions)
    # Prior close 100 is 50 per new share; a 1.0 dividend on it: (1/2) * (1 - 1/50) = 0.49.
    assert out.get_column("adjustment_factor").to_list() == pytest.approx([0.49, 1.0])


def test_datetime_ex_dates_and_intraday_bars() -> None:
    times = np.array([utc(2024, 3, 4, h).timestamp() for h in (14, 15, 16, 17)]) * 1e9
    bars = random_walk_bars(times.astype(np.int64), "A")
    actions = pl.DataFrame(
        {"symbol": ["A"], "ex_date": [utc(2024, 3, 4, 16)], "kind": ["split"], "value": [4.0]}
    )
    out = adjust_for_actions(bars, actions)
    assert out.get_column("adjustment_factor").to_list() == [0.25, 0.25, 1.0, 1.0]


def test_rows_keep_their_order_and_symbols_do_not_mix() -> None:
    times = (utc(2024, 1, 1).timestamp() * 1e9 + np.arange(6) * DAY_NS).astype(np.int64)
    bars = multi_symbol([random_walk_bars(times, "A", seed=1), random_walk_bars(times, "B")])
    out = adjust_for_actions(bars, _actions([("B", date(2024, 1, 4), "split", 2.0)]))
    assert_frame_equal(out.select(bars.columns[:2]), bars.select(bars.columns[:2]))
    factors = dict(zip(out["symbol"].to_list(), out["adjustment_factor"].to_list(), strict=False))
    assert factors["A"] == 1.0
    b_factors = out.filter(pl.col("symbol") == "B").get_column("adjustment_factor").to_list()
    assert b_factors == [0.5, 0.5, 0.5, 1.0, 1.0, 1.0]


# ------------------------------------------------------------------ properties


@st.composite
def history_with_actions(draw: st.DrawFn) -> tuple[pl.DataFrame, pl.DataFrame]:
    count = draw(st.integers(2, 40))
    seed = draw(st.integers(0, 10_000))
    times = (utc(2024, 1, 1).timestamp() * 1e9 + np.arange(count) * DAY_NS).astype(np.int64)
    bars = random_walk_bars(times, "A", seed=seed)
    closes = bars.get_column("close").to_list()
    days = draw(st.lists(st.integers(1, count), max_size=6, unique=True))
    rows = []
    for day in days:  # ex-date on bar `day`, or the day after the last bar when day == count
        ex_date = date(2024, 1, 1) + timedelta(days=day)
        if draw(st.booleans()):
            rows.append(("A", ex_date, "split", draw(st.sampled_from([0.1, 0.5, 1.5, 2.0, 3.0]))))
        if draw(st.booleans()):
            share = draw(st.floats(0.001, 0.3))
            rows.append(("A", ex_date, "dividend", share * closes[day - 1]))
    return bars, _actions(rows)


def _reference_returns(bars: pl.DataFrame, actions: pl.DataFrame) -> list[float]:
    """Returns against the ex-distribution reference price, from raw closes and the actions."""
    ts = bars.get_column("ts").to_list()
    closes = bars.get_column("close").to_list()
    result = []
    for i in range(1, len(closes)):
        ratio, dividend = 1.0, 0.0
        for row in actions.iter_rows(named=True):
            ex = utc(row["ex_date"].year, row["ex_date"].month, row["ex_date"].day)
            if ts[i - 1] < ex <= ts[i]:
                if row["kind"] == "split":
                    ratio *= row["value"]
                else:
                    dividend += row["value"]
        # Per post-split share the previous close is closes[i-1] / ratio, worth `dividend` less.
        result.append(closes[i] / (closes[i - 1] / ratio - dividend) - 1.0)
    return result


@settings(max_examples=80, deadline=None)
@given(case=history_with_actions())
def test_adjusted_returns_equal_total_returns(case: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    bars, actions = case
    out = adjust_for_actions(bars, actions)
    adjusted = out.get_column("close").to_numpy()
    np.testing.assert_allclose(
        adjusted[1:] / adjusted[:-1] - 1.0, _reference_returns(bars, actions), rtol=1e-9, atol=1e-12
    )
    # The latest price is never touched unless an action is dated after it.
    after_last = actions.filter(pl.col("ex_date") > bars.get_column("ts").max().date())
    if after_last.height == 0:
        assert out.get_column("close")[-1] == bars.get_column("close")[-1]
    # Volumes before a split scale by its ratio (computed here from the raw action rows).
    expected_volume = [
        volume
        * np.prod(
            [
                row["value"]
                for row in actions.iter_rows(named=True)
                if row["kind"] == "split" and ts.date() < row["ex_date"]
            ]
        )
        for ts, volume in bars.select("ts", "volume").iter_rows()
    ]
    np.testing.assert_allclose(out.get_column("volume").to_numpy(), expected_volume, rtol=1e-12)
    assert_frame_equal(adjust_for_actions(out, actions), out)


def test_idempotent_and_re_adjustable_from_unadjusted_columns() -> None:
    bars = _daily([10.0, 11.0, 12.0, 6.5, 6.0])
    split = _actions([("A", date(2024, 1, 4), "split", 2.0)])
    both = _actions(
        [("A", date(2024, 1, 4), "split", 2.0), ("A", date(2024, 1, 3), "dividend", 0.5)]
    )
    once = adjust_for_actions(bars, split)
    assert_frame_equal(adjust_for_actions(once, split), once)
    assert_frame_equal(adjust_for_actions(once, both), adjust_for_actions(bars, both))
    no_actions = adjust_for_actions(bars, split.clear())
    assert_frame_equal(no_actions.select(bars.columns), bars)
    assert no_actions.get_column("adjustment_factor").to_list() == [1.0] * 5


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("row", "check"),
    [
        (("A", date(2024, 1, 3), "bonus", 1.0), "unknown_kind"),
        (("A", date(2024, 1, 3), "split", 0.0), "non_positive_value"),
        (("A", date(2024, 1, 3), "split", float("nan")), "non_positive_value"),
        (("A", date(2024, 1, 3), "dividend", -1.0), "non_positive_value"),
        (("A", date(2024, 1, 3), "dividend", 11.0), "dividend_too_large"),
        (("A", date(2024, 1, 1), "split", 2.0), "no_prior_bar"),
    ],
)
def test_invalid_actions_name_the_row(row: tuple[str, date, str, float], check: str) -> None:
    bars = _daily([10.0, 11.0, 12.0])
    actions = _actions([("A", date(2024, 1, 2), "dividend", 0.1), row])
    with pytest.raises(DataError, match=check) as caught:
        adjust_for_actions(bars, actions)
    assert [(issue.check, issue.row) for issue in caught.value.issues] == [(check, 1)]


def test_duplicate_actions_are_refused() -> None:
    row = ("A", date(2024, 1, 2), "split", 2.0)
    with pytest.raises(DataError, match="duplicate_action") as caught:
        adjust_for_actions(_daily([10.0, 5.0]), _actions([row, row]))
    assert caught.value.issues[0].row == 1


def test_null_fields_are_refused() -> None:
    actions = _actions([("A", date(2024, 1, 2), "split", 2.0)]).with_columns(
        pl.lit(None, dtype=pl.Float64).alias("value")
    )
    with pytest.raises(DataError, match="null_value"):
        adjust_for_actions(_daily([10.0, 5.0]), actions)


def test_schema_problems_are_typed() -> None:
    bars = _daily([10.0, 5.0])
    with pytest.raises(SchemaError, match="kind"):
        adjust_for_actions(bars, _actions([]).drop("kind"))
    naive = pl.DataFrame(
        {
            "symbol": ["A"],
            "ex_date": [utc(2024, 1, 2).replace(tzinfo=None)],
            "kind": ["split"],
            "value": [2.0],
        }
    )
    with pytest.raises(TimezoneError):
        adjust_for_actions(bars, naive)
