"""The momentum pipeline example equals a hand-written pandas loop; weights never look ahead."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime

import exchange_calendars as xcals
import numpy as np
import pandas as pd
import polars as pl
import pytest

from quantstrata.data.synthetic import generate_bars
from quantstrata.strategy import LookAheadError, check_no_lookahead
from quantstrata.strategy.examples import MomentumPipeline
from quantstrata.strategy.pipeline import (
    Pipeline,
    PipelineConfig,
    PipelineStrategy,
    custom_factor,
    equal_weight,
    membership,
    trailing_return,
)

START = datetime(2020, 1, 2, tzinfo=UTC)
PARAMETERS = {"lookback": 40, "skip": 5, "top": 3, "liquid": 8, "min_price": 98.0}


def _universe() -> pl.DataFrame:
    """Twelve symbols on the NYSE calendar; one lists late, one delists early."""
    bars = generate_bars(
        symbols=12, bars=300, interval="1d", calendar="XNYS", start=START, seed=11,
        volatility=0.35,
    )  # fmt: skip
    times = bars["ts"].unique().sort()
    late, early = times[100], times[200]
    return bars.filter(
        ~((pl.col("symbol") == "SYN000") & (pl.col("ts") < late))
        & ~((pl.col("symbol") == "SYN001") & (pl.col("ts") > early))
    ).sort("ts", "symbol")


def _month_ends(first: pd.Timestamp, last: pd.Timestamp) -> list[pd.Timestamp]:
    with warnings.catch_warnings():  # exchange-calendars trips a pandas deprecation warning
        warnings.simplefilter("ignore")
        calendar = xcals.get_calendar("XNYS")
        sessions = calendar.sessions_in_range(
            str(first.date()), str((last + pd.offsets.MonthEnd(0)).date())
        )
    ends: dict[tuple[int, int], pd.Timestamp] = {}
    for session in sessions:
        ends[(session.year, session.month)] = session  # sessions ascend: the last one stays
    # a month's end is known from the calendar: the last, unfinished month has none yet
    return [
        pd.Timestamp(value.date(), tz="UTC")
        for value in ends.values()
        if value.date() <= last.date()
    ]


def _reference(  # noqa: PLR0917 - the example's parameters, spelled out
    bars: pl.DataFrame, lookback: int, skip: int, top: int, liquid: int, min_price: float
) -> pd.DataFrame:
    """Loop over month ends; on each, rank what is known by then, as a person would."""
    table = bars.to_pandas()
    rows = []
    for date in _month_ends(table["ts"].min(), table["ts"].max()):
        known = table[table["ts"] <= date]
        scores = []
        for symbol, unordered in known.groupby("symbol"):
            history = unordered.sort_values("ts")
            if history["ts"].iloc[-1] != date:
                continue  # no bar today: not in today's cross-section
            close = history["close"].to_numpy()
            dollars = close * history["volume"].to_numpy()
            volume = dollars[-20:].mean() if len(close) >= 20 else np.nan
            score = (
                close[-1 - skip] / close[-1 - lookback] - 1.0 if len(close) > lookback else np.nan
            )
            scores.append((symbol, close[-1], volume, score))
        today = pd.DataFrame(scores, columns=["symbol", "close", "volume", "score"])
        if today.empty:
            continue
        liquid_names = (
            today.dropna(subset=["volume"])
            .sort_values(["volume", "symbol"], ascending=[False, True])
            .head(liquid)["symbol"]
        )
        eligible = today[
            today["symbol"].isin(liquid_names)
            & (today["close"] > min_price)
            & today["score"].notna()
        ]
        chosen = eligible.sort_values(["score", "symbol"], ascending=[False, True]).head(top)
        for symbol in today["symbol"]:
            weight = 1.0 / len(chosen) if symbol in set(chosen["symbol"]) else 0.0
            rows.append((date, symbol, weight))
    return pd.DataFrame(rows, columns=["ts", "symbol", "weight"])


def test_example_weights_equal_the_pandas_reference_loop():
    bars = _universe()
    strategy = MomentumPipeline(**PARAMETERS, calendar="XNYS")
    got = strategy.pipeline().rebalances(bars).to_pandas()
    expected = _reference(bars, **PARAMETERS)
    assert len(expected) > 100
    assert expected["weight"].gt(0).sum() > 20
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True), expected, check_dtype=False, atol=1e-12, rtol=0
    )


def test_targets_are_the_weights_at_rebalances_and_null_between():
    bars = _universe()
    strategy = MomentumPipeline(**PARAMETERS, calendar="XNYS")
    targets = strategy.compute_targets(bars)
    decided = targets.drop_nulls("target")
    weights = strategy.pipeline().rebalances(bars)
    assert decided.equals(weights.rename({"weight": "target"}))
    assert targets.height == bars.height
    assert strategy.warmup_bars() == PARAMETERS["lookback"]


def test_changing_future_bars_changes_no_earlier_weight():
    bars = _universe()
    cutoff = bars["ts"].unique().sort()[180]
    rng = np.random.default_rng(3)
    shock = pl.Series(rng.uniform(0.5, 1.5, bars.height))
    changed = bars.with_columns(
        pl.when(pl.col("ts") > cutoff).then(pl.col(name) * shock).otherwise(pl.col(name))
        for name in ("open", "high", "low", "close")
    ).with_columns(pl.when(pl.col("ts") > cutoff).then(pl.col("volume") * shock.reverse())
                   .otherwise(pl.col("volume")))  # fmt: skip
    pipeline = MomentumPipeline(**PARAMETERS, calendar="XNYS").pipeline()
    before = pipeline.rebalances(bars).filter(pl.col("ts") <= cutoff)
    after = pipeline.rebalances(changed).filter(pl.col("ts") <= cutoff)
    assert before.height > 50
    assert before.equals(after)
    later = pipeline.rebalances(bars).filter(pl.col("ts") > cutoff)
    assert not later.equals(pipeline.rebalances(changed).filter(pl.col("ts") > cutoff))


def test_the_backtester_look_ahead_check_passes_the_example_and_catches_a_peek():
    bars = _universe()
    check_no_lookahead(MomentumPipeline(**PARAMETERS, calendar="XNYS"), bars, samples=6)

    class PeekingPipeline(PipelineStrategy):
        def pipeline(self) -> Pipeline:
            tomorrow = custom_factor(
                lambda frame: frame["close"].shift(-1) / frame["close"], lookback=0
            )
            return Pipeline(
                weights=equal_weight(tomorrow.top(2)),
                config=PipelineConfig(rebalance="daily", calendar="XNYS"),
            )

    with pytest.raises(LookAheadError):
        check_no_lookahead(PeekingPipeline(), bars, samples=6)


def test_membership_changes_are_respected_as_of_each_rebalance():
    bars = _universe()
    times = bars["ts"].unique().sort()
    joins, leaves = times[60], times[160]
    others = [name for name in bars["symbol"].unique().sort() if name != "SYN005"]
    intervals = pl.DataFrame(
        {
            "symbol": ["SYN005", *others],
            "start": [joins, *[times[0]] * len(others)],
            "end": [leaves, *[None] * len(others)],
        },
        schema={"symbol": pl.String, "start": pl.Datetime("ns", "UTC"),
                "end": pl.Datetime("ns", "UTC")},
    )  # fmt: skip
    pipeline = Pipeline(
        weights=equal_weight(trailing_return(5).top(11)),
        universe=membership(intervals),
        config=PipelineConfig(rebalance="month_end", calendar="XNYS"),
    )
    got = pipeline.rebalances(bars).filter(pl.col("symbol") == "SYN005")
    inside = (pl.col("ts") >= joins) & (pl.col("ts") < leaves)
    assert got.filter(~inside)["weight"].to_list() == [0.0] * got.filter(~inside).height
    assert got.filter(inside)["weight"].min() > 0.0
    run = pipeline.run(bars).filter(pl.col("symbol") == "SYN005")
    assert run["in_universe"].to_list() == run.select(inside)["ts"].to_list()


def test_a_live_trailing_window_decides_what_the_backtest_decided():
    bars = _universe()
    strategy = MomentumPipeline(**PARAMETERS, calendar="XNYS")
    full = strategy.compute_targets(bars).drop_nulls("target")
    times = bars["ts"].unique().sort()
    window = strategy.warmup_bars() + 1
    checked = 0
    for when in full["ts"].unique().sort().tail(6):
        position = times.search_sorted(when)
        recent = bars.filter(pl.col("ts").is_between(times[position - window + 1], when))
        live = strategy.latest_targets(recent).filter(pl.col("ts") == when)
        assert live.equals(full.filter(pl.col("ts") == when)), when
        checked += live.height
    assert checked > 40
