"""Cross-sectional steps and weights equal their pandas formulas on random universes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantstrata.core.errors import ConfigError, SchemaError
from quantstrata.strategy.pipeline import (
    Pipeline,
    equal_weight,
    latest,
    long_short,
    proportional,
    symbol_groups,
    symbols_in,
)

START = datetime(2024, 1, 1, tzinfo=UTC)


@st.composite
def universes(draw: st.DrawFn) -> pl.DataFrame:
    """Draw a long frame: several times, a few symbols each, values with ties and gaps."""
    times = draw(st.integers(1, 4))
    symbols = draw(st.integers(1, 7))
    value = st.one_of(st.none(), st.integers(-3, 3).map(float), st.floats(-5.0, 5.0))
    rows = [
        {"ts": START + timedelta(days=step), "symbol": f"S{number}", "close": draw(value)}
        for step in range(times)
        for number in range(symbols)
        if number == 0 or draw(st.booleans())
    ]
    return pl.DataFrame(
        rows, schema={"ts": pl.Datetime("ns", "UTC"), "symbol": pl.String, "close": pl.Float64}
    )


def _evaluate(frame: pl.DataFrame, **columns) -> pd.DataFrame:
    pipeline = Pipeline(weights=equal_weight(latest("close") > 0.0), columns=columns)
    return pipeline.run(frame).to_pandas()


def _by_time(frame: pl.DataFrame) -> pd.core.groupby.SeriesGroupBy:
    table = frame.sort("ts", "symbol").to_pandas()
    return table.groupby("ts")["close"]


@settings(max_examples=40, deadline=None)
@given(universes())
def test_rank_equals_pandas_average_rank_per_time(frame: pl.DataFrame):
    got = _evaluate(frame, up=latest("close").rank(), down=latest("close").rank(ascending=False))
    grouped = _by_time(frame)
    np.testing.assert_array_equal(got["up"].to_numpy(), grouped.rank(method="average").to_numpy())
    np.testing.assert_array_equal(
        got["down"].to_numpy(), grouped.rank(method="average", ascending=False).to_numpy()
    )


@settings(max_examples=40, deadline=None)
@given(universes())
def test_rank_invariants_ranks_sum_to_the_triangle_number(frame: pl.DataFrame):
    got = pl.from_pandas(_evaluate(frame, rank=latest("close").rank()))
    sums = got.group_by("ts").agg(pl.col("rank").sum(), pl.col("rank").count().alias("n"))
    for total, count in sums.select("rank", "n").iter_rows():
        assert total == pytest.approx(count * (count + 1) / 2)


@settings(max_examples=40, deadline=None)
@given(universes())
def test_zscore_and_demean_equal_pandas(frame: pl.DataFrame):
    got = _evaluate(frame, z=latest("close").zscore(), d=latest("close").demean())
    grouped = _by_time(frame)
    mean = grouped.transform("mean")
    spread = grouped.transform(lambda values: values.std(ddof=0))
    expected = ((_by_time(frame).obj - mean) / spread).where(spread > 0.0)
    np.testing.assert_allclose(got["z"].to_numpy(float), expected.to_numpy(float), atol=1e-9)
    demeaned = (_by_time(frame).obj - mean).to_numpy(float)
    np.testing.assert_allclose(got["d"].to_numpy(float), demeaned, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(universes(), st.integers(1, 4))
def test_top_and_bottom_pick_the_extremes_ties_by_symbol(frame: pl.DataFrame, count: int):
    got = _evaluate(frame, top=latest("close").top(count), bottom=latest("close").bottom(count))
    table = frame.sort("ts", "symbol").to_pandas()
    for _, rows in table.dropna(subset=["close"]).groupby("ts"):
        ranked = rows.sort_values(["close", "symbol"], ascending=[False, True], kind="stable")
        chosen = set(ranked.head(count).index)
        lows = rows.sort_values(["close", "symbol"], kind="stable")
        assert set(got.index[got["top"]]) & set(rows.index) == chosen
        assert set(got.index[got["bottom"]]) & set(rows.index) == set(lows.head(count).index)
    assert not got.loc[table["close"].isna(), "top"].any()


@settings(max_examples=40, deadline=None)
@given(universes(), st.integers(1, 5))
def test_quantiles_cut_each_time_into_near_equal_buckets(frame: pl.DataFrame, bins: int):
    got = _evaluate(frame, bucket=latest("close").quantiles(bins))
    table = frame.sort("ts", "symbol").to_pandas()
    table["bucket"] = got["bucket"]
    for _, rows in table.dropna(subset=["close"]).groupby("ts"):
        ordered = rows.sort_values(["close", "symbol"], kind="stable")
        size = len(ordered)
        expected = [(position * bins) // size for position in range(size)]
        assert ordered["bucket"].tolist() == expected
    assert table.loc[table["close"].isna(), "bucket"].isna().all()


@settings(max_examples=40, deadline=None)
@given(universes(), st.floats(0.5, 2.0))
def test_weights_sum_to_their_gross_per_time(frame: pl.DataFrame, gross: float):
    value = latest("close")
    chosen = {
        "equal": equal_weight(value > 0.0, gross=gross),
        "long_short": long_short(value > 1.0, value < -1.0, gross=gross),
        "proportional": proportional(value.demean(), gross=gross),
    }
    for name, weights in chosen.items():
        table = Pipeline(weights=weights).run(frame)
        sums = table.group_by("ts").agg(
            gross=pl.col("weight").abs().sum(), net=pl.col("weight").sum()
        )
        for total, net in sums.select("gross", "net").iter_rows():
            # a long/short side with no symbol leaves its half out
            allowed = [gross, 0.0] + ([gross / 2.0] if name == "long_short" else [])
            assert any(total == pytest.approx(value) for value in allowed), name
            if name == "equal":
                assert net == pytest.approx(total)


def test_long_short_halves_split_equally():
    frame = pl.DataFrame(
        {
            "ts": [START] * 5,
            "symbol": ["A", "B", "C", "D", "E"],
            "close": [5.0, 4.0, 0.0, -2.0, -3.0],
        }
    ).with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC")))
    weights = long_short(latest("close") > 1.0, latest("close") < -1.0)
    got = Pipeline(weights=weights).run(frame)["weight"].to_list()
    assert got == [0.25, 0.25, 0.0, -0.25, -0.25]


def test_groupby_ranks_and_masks_within_each_group():
    frame = pl.DataFrame(
        {
            "ts": [START] * 4,
            "symbol": ["A", "B", "C", "D"],
            "close": [1.0, 2.0, 3.0, 4.0],
        }
    ).with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC")))
    sectors = symbol_groups({"A": "tech", "B": "energy", "C": "tech", "D": "energy"})
    pipeline = Pipeline(
        weights=equal_weight(latest("close").top(1, groupby=sectors)),
        universe=~symbols_in(["D"]),
        columns={"rank": latest("close").rank(groupby=sectors)},
    )
    got = pipeline.run(frame)
    assert got["rank"].to_list() == [1.0, 1.0, 2.0, None]
    assert got["weight"].to_list() == [0.0, 0.5, 0.5, 0.0]
    assert got["in_universe"].to_list() == [True, True, True, False]


def test_arithmetic_and_comparisons_follow_the_rows():
    frame = pl.DataFrame(
        {"ts": [START] * 3, "symbol": ["A", "B", "C"], "close": [1.0, 0.0, -2.0]}
    ).with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC")))
    price = latest("close")
    got = Pipeline(
        weights=equal_weight(price >= 0.0),
        columns={
            "mixed": (2.0 * price + 1.0 - price) / price,
            "negated": -price,
            "absolute": price.abs(),
            "logarithm": price.log(),
            "kept": price.where(price < 0.5),
            "flag": (price > 0.5).as_factor(),
        },
    ).run(frame)
    assert got["mixed"].to_list() == [2.0, None, 0.5]
    assert got["negated"].to_list() == [-1.0, -0.0, 2.0]
    assert got["absolute"].to_list() == [1.0, 0.0, 2.0]
    assert got["logarithm"].to_list() == [0.0, None, None]
    assert got["kept"].to_list() == [None, 0.0, -2.0]
    assert got["flag"].to_list() == [1.0, 0.0, 0.0]
    assert got["weight"].to_list() == [0.5, 0.5, 0.0]


def test_bad_terms_are_refused_with_clear_errors():
    with pytest.raises(ConfigError, match="count"):
        latest("close").top(0)
    with pytest.raises(ConfigError, match="mask must be a Filter"):
        latest("close").rank(mask=latest("close"))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="weights must be a Factor"):
        Pipeline(weights=latest("close") > 0.0)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="reserved"):
        Pipeline(weights=latest("close"), columns={"weight": latest("close")})
    with pytest.raises(ConfigError, match="gross"):
        equal_weight(latest("close") > 0.0, gross=0.0)
    frame = pl.DataFrame({"ts": [START], "symbol": ["A"], "close": [1.0]})
    with pytest.raises(SchemaError, match="column"):
        Pipeline(weights=equal_weight(latest("open") > 0.0)).run(frame)
