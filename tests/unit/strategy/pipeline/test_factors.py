"""Built-in factors, filters and classifiers equal pandas or the indicator library; schedules."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import polars as pl
import pytest

from quantstrata.core.errors import ConfigError, DataError, SchemaError
from quantstrata.data.synthetic import generate_bars
from quantstrata.indicators import add_indicators, indicator
from quantstrata.strategy.pipeline import (
    Pipeline,
    PipelineConfig,
    average_dollar_volume,
    custom_factor,
    equal_weight,
    expression_classifier,
    expression_factor,
    expression_filter,
    has_history,
    indicator_factor,
    latest,
    membership,
    momentum,
    rebalance_times,
    trailing_return,
    volatility,
)

START = datetime(2021, 1, 4, tzinfo=UTC)


def _bars() -> pl.DataFrame:
    bars = generate_bars(symbols=4, bars=80, interval="1d", calendar="XNYS", start=START, seed=5)
    # one symbol lists late, so windows count that symbol's own bars
    return bars.filter(~((pl.col("symbol") == "SYN002") & (pl.col("ts") < START.replace(day=20))))


def _columns(bars: pl.DataFrame, **columns) -> pd.DataFrame:
    pipeline = Pipeline(weights=equal_weight(latest("close") > 0.0), columns=columns)
    return pipeline.run(bars).to_pandas()


def _pandas(bars: pl.DataFrame, compute) -> np.ndarray:
    table = bars.sort("ts", "symbol").to_pandas()
    parts = [compute(group) for _, group in table.groupby("symbol")]
    return pd.concat(parts).sort_index().to_numpy(float)


def test_time_series_factors_equal_pandas_per_symbol():
    bars = _bars()
    got = _columns(
        bars,
        ret=trailing_return(5),
        mom=momentum(20, 5),
        adv=average_dollar_volume(10),
        vol=volatility(10),
        expr=expression_factor(pl.col("close").pct_change(3), lookback=3),
        custom=custom_factor(lambda frame: frame["close"].cum_max(), lookback=0),
    )
    expected = {
        "ret": lambda g: g["close"] / g["close"].shift(5) - 1.0,
        "mom": lambda g: g["close"].shift(5) / g["close"].shift(20) - 1.0,
        "adv": lambda g: (g["close"] * g["volume"]).rolling(10).mean(),
        "vol": lambda g: g["close"].pct_change().rolling(10).std(),
        "expr": lambda g: g["close"].pct_change(3),
        "custom": lambda g: g["close"].cummax(),
    }
    for name, compute in expected.items():
        np.testing.assert_allclose(
            got[name].to_numpy(float), _pandas(bars, compute), rtol=1e-9, err_msg=name
        )


def test_indicator_factor_equals_add_indicators_and_has_its_warmup():
    bars = _bars()
    got = _columns(bars, rsi=indicator_factor("rsi", period=7))
    expected = add_indicators(bars.sort("ts", "symbol"), [indicator("rsi", period=7)])
    np.testing.assert_array_equal(got["rsi"].to_numpy(float), expected["rsi_7"].to_numpy())
    assert indicator_factor("rsi", period=7).lookback > 7
    macd = indicator_factor("macd", output="signal")
    assert macd.lookback > 26
    with pytest.raises(ConfigError, match="outputs"):
        indicator_factor("macd")
    with pytest.raises(ConfigError, match="no output"):
        indicator_factor("macd", output="nope")


def test_history_and_expression_filters_and_classifiers():
    bars = _bars()
    got = _columns(
        bars,
        seasoned=has_history(30).as_factor(),
        rising=expression_filter(
            pl.col("close") > pl.col("close").shift(1), lookback=1
        ).as_factor(),
        parity=expression_classifier(pl.int_range(pl.len()) % 2, lookback=0),
    )
    table = bars.sort("ts", "symbol").to_pandas()
    count = table.groupby("symbol").cumcount() + 1
    np.testing.assert_array_equal(got["seasoned"], (count >= 30).astype(float))
    previous = table.groupby("symbol")["close"].shift(1)
    np.testing.assert_array_equal(got["rising"], (table["close"] > previous).astype(float))
    np.testing.assert_array_equal(got["parity"], (count - 1) % 2)


def test_lookbacks_add_up_along_the_expression():
    score = (momentum(60, 20) - trailing_return(5)).rank(mask=has_history(100))
    assert score.lookback == 99
    pipeline = Pipeline(
        weights=equal_weight(score.top(3)), universe=average_dollar_volume(20).top(5)
    )
    assert pipeline.lookback == 99


def _times(days: list[str]) -> pl.Series:
    return pl.Series("ts", [datetime.fromisoformat(day).replace(tzinfo=UTC) for day in days])


def test_month_and_week_ends_come_from_the_calendar():
    sessions = generate_bars(symbols=1, bars=70, interval="1d", calendar="XNYS", start=START)["ts"]
    month_end = rebalance_times(sessions, PipelineConfig(rebalance="month_end", calendar="XNYS"))
    assert [value.date() for value in month_end] == [
        date(2021, 1, 29), date(2021, 2, 26), date(2021, 3, 31),
    ]  # fmt: skip
    week_end = rebalance_times(sessions, PipelineConfig(rebalance="week_end", calendar="XNYS"))
    assert date(2021, 4, 1) in [value.date() for value in week_end]  # Good Friday: Thursday
    table = sessions.to_frame().with_columns(week=pl.col("ts").dt.truncate("1w"))
    last_of_week = table.group_by("week").agg(pl.col("ts").max()).sort("week")["ts"]
    # the last week is unfinished: its end lies after the data
    assert week_end.to_list() == last_of_week.head(-1).to_list()


def test_period_starts_come_from_the_bars_and_daily_is_every_bar():
    times = _times(["2024-01-30", "2024-01-31", "2024-02-02", "2024-02-05", "2024-03-04"])
    starts = rebalance_times(times, PipelineConfig(rebalance="month_start"))
    assert [value.day for value in starts] == [30, 2, 4]
    weeks = rebalance_times(times, PipelineConfig(rebalance="week_start"))
    assert [value.isoformat()[:10] for value in weeks] == [
        "2024-01-30", "2024-02-05", "2024-03-04",
    ]  # fmt: skip
    assert rebalance_times(times, PipelineConfig(rebalance="daily")).len() == 5
    with pytest.raises(ConfigError):
        PipelineConfig.build(rebalance="hourly")


def test_membership_intervals_are_checked():
    with pytest.raises(SchemaError, match="lack"):
        membership(pl.DataFrame({"symbol": ["A"]}))
    with pytest.raises(SchemaError, match="timezone-aware"):
        membership(pl.DataFrame({"symbol": ["A"], "start": [datetime(2024, 1, 1)], "end": [None]}))
    bad = pl.DataFrame(
        {"symbol": ["A"], "start": [START], "end": [START]},
        schema={"symbol": pl.String, "start": pl.Datetime("us", "UTC"),
                "end": pl.Datetime("us", "UTC")},
    )  # fmt: skip
    with pytest.raises(DataError, match="invalid") as caught:
        membership(bad)
    assert caught.value.issues[0].symbol == "A"
