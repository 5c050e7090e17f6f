from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from quantstrata.core.errors import ConfigError, DataError
from quantstrata.process import features as qf
from tests.kit.frames import minute_range, multi_symbol, random_walk_bars, utc

PandasFeature = Callable[[pd.DataFrame], pd.Series]


def _bars(seed: int = 0, length: int = 120) -> pl.DataFrame:
    times = minute_range(utc(2024, 4, 1), length)
    rng = np.random.default_rng(seed)
    frames = [
        random_walk_bars(times[rng.random(length) < 0.8], symbol, seed=seed + index)
        for index, symbol in enumerate(["A", "B", "C"])
    ]
    return multi_symbol(frames)  # symbols interleaved, as a time-sorted feed delivers them


def _pandas_vwr(group: pd.DataFrame, window: int) -> pd.Series:
    one_bar = group["close"] / group["close"].shift(1) - 1
    weighted = (one_bar * group["volume"]).rolling(window).sum()
    total = group["volume"].rolling(window).sum()
    return (weighted / total).where(total > 0)


def _std(values: pd.Series, window: int, ddof: int = 1) -> pd.Series:
    """Two-pass standard deviation of each window (pandas' running sums lose digits)."""
    return values.rolling(window).apply(lambda w: np.std(w, ddof=ddof), raw=True)


def _pandas_zscore(group: pd.DataFrame, window: int) -> pd.Series:
    std = _std(group["close"], window)
    return ((group["close"] - group["close"].rolling(window).mean()) / std).where(std > 0)


CASES: list[tuple[pl.Expr, PandasFeature]] = [
    (qf.returns(), lambda g: g["close"].pct_change(fill_method=None)),
    (qf.returns("open", periods=3), lambda g: g["open"] / g["open"].shift(3) - 1),
    (qf.log_returns(), lambda g: np.log(g["close"] / g["close"].shift(1))),
    (qf.log_returns(periods=2), lambda g: np.log(g["close"]).diff(2)),
    (qf.rolling_mean("close", 5), lambda g: g["close"].rolling(5).mean()),
    (qf.rolling_std("close", 7), lambda g: _std(g["close"], 7)),
    (qf.rolling_std("volume", 4, ddof=0), lambda g: _std(g["volume"], 4, ddof=0)),
    (qf.rolling_zscore("close", 6), lambda g: _pandas_zscore(g, 6)),
    (qf.volume_weighted_return(5), lambda g: _pandas_vwr(g, 5)),
    (qf.high_low_range(), lambda g: (g["high"] - g["low"]) / g["close"]),
]
IDS = [expression.meta.output_name() for expression, _ in CASES]


def _pandas_per_symbol(bars: pl.DataFrame, compute: PandasFeature) -> np.ndarray:
    frame = bars.to_pandas()
    pieces = [compute(group) for _, group in frame.groupby("symbol", sort=False)]
    if not pieces:  # every symbol's rows were sampled away
        return np.empty(0)
    return pd.concat(pieces).reindex(frame.index).to_numpy(dtype=float)


@pytest.mark.parametrize(("feature", "oracle"), CASES, ids=IDS)
def test_feature_matches_pandas_per_symbol(feature: pl.Expr, oracle: PandasFeature) -> None:
    bars = _bars()
    got = qf.compute_feature(bars, feature).cast(pl.Float64).to_numpy()
    expected = _pandas_per_symbol(bars, oracle)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12, equal_nan=True)
    assert np.isnan(got).sum() == np.isnan(expected).sum()


@pytest.mark.parametrize(("feature", "oracle"), CASES, ids=IDS)
def test_no_leakage_across_symbols(feature: pl.Expr, oracle: PandasFeature) -> None:
    bars = _bars(seed=3)
    together = qf.add_features(bars, {"value": feature})
    for symbol in ("A", "B", "C"):
        alone = qf.compute_feature(bars.filter(pl.col("symbol") == symbol), feature)
        mixed = together.filter(pl.col("symbol") == symbol).get_column("value")
        assert alone.cast(pl.Float64).equals(mixed.cast(pl.Float64).alias(alone.name))


@settings(max_examples=40, deadline=None)
@example(seed=174, length=1, window=2, periods=1)  # an empty frame: no symbol kept a bar
@given(
    seed=st.integers(0, 10_000),
    length=st.integers(1, 60),
    window=st.integers(2, 10),
    periods=st.integers(1, 5),
)
def test_warm_up_rows_are_null_and_values_match_pandas(
    seed: int, length: int, window: int, periods: int
) -> None:
    bars = _bars(seed, length)
    cases = [
        (qf.returns(periods=periods), lambda g: g["close"] / g["close"].shift(periods) - 1),
        (qf.rolling_mean("close", window), lambda g: g["close"].rolling(window).mean()),
        (qf.rolling_std("close", window), lambda g: _std(g["close"], window)),
        (qf.volume_weighted_return(window), lambda g: _pandas_vwr(g, window)),
    ]
    for feature, oracle in cases:
        got = qf.compute_feature(bars, feature).to_numpy()
        expected = _pandas_per_symbol(bars, oracle)
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12, equal_nan=True)
    warm = bars.with_columns(qf.rolling_mean("close", window).alias("m"))
    for symbol, group in warm.group_by("symbol"):
        nulls = group.get_column("m").null_count()
        assert nulls == min(window - 1, group.height), symbol


# ------------------------------------------------------------------ pandas entry points


def test_compute_on_a_pandas_series_keeps_its_index() -> None:
    index = pd.date_range("2024-01-01", periods=30, freq="D", tz="UTC")
    prices = pd.Series(np.linspace(100, 130, 30) ** 1.01, index=index, name="price")
    got = qf.compute_feature(prices, qf.returns())
    pd.testing.assert_series_equal(got, prices.pct_change(), check_names=False)
    rolled = qf.compute_feature(prices, qf.rolling_zscore("close", 5))
    assert rolled.index.equals(index)
    assert rolled.isna().sum() == 4


def test_compute_on_a_polars_series() -> None:
    prices = pl.Series("x", [1.0, 2.0, 4.0, 8.0])
    assert qf.compute_feature(prices, qf.log_returns()).to_list()[1:] == [np.log(2.0)] * 3


def test_add_features_on_pandas_returns_pandas_with_the_same_index() -> None:
    bars = _bars(seed=5).to_pandas().set_index("ts")
    out = qf.add_features(bars, [qf.returns(), qf.high_low_range()])
    assert isinstance(out, pd.DataFrame)
    assert out.index.equals(bars.index)
    assert list(out.columns) == [*bars.columns, "close_return_1", "high_low_range"]
    expected = bars.groupby("symbol")["close"].pct_change(fill_method=None)
    np.testing.assert_allclose(out["close_return_1"], expected, equal_nan=True)
    assert "close_return_1" not in bars.columns


def test_add_features_with_names_on_polars() -> None:
    bars = _bars(seed=6)
    out = qf.add_features(bars, {"ret": qf.returns(), "range": qf.high_low_range()})
    assert out.columns == [*bars.columns, "ret", "range"]
    assert out.height == bars.height


# ------------------------------------------------------------------ errors


def test_bad_parameters_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="window"):
        qf.rolling_mean("close", 0)
    with pytest.raises(ConfigError, match="periods"):
        qf.returns(periods=0)
    with pytest.raises(ConfigError, match="ddof"):
        qf.rolling_std("close", 1, ddof=1)


def test_rows_out_of_time_order_are_refused() -> None:
    bars = _bars().filter(pl.col("symbol") == "A")
    swapped = pl.concat([bars.slice(1, 1), bars.slice(0, 1), bars.slice(2)])
    with pytest.raises(DataError, match="time order") as caught:
        qf.add_features(swapped, [qf.returns()])
    assert caught.value.issues[0].row == 1


def test_series_input_needs_a_single_column_feature() -> None:
    with pytest.raises(ConfigError, match="DataFrame"):
        qf.compute_feature(pd.Series([1.0, 2.0]), qf.high_low_range())


def test_feature_names_must_not_clash() -> None:
    bars = _bars()
    with pytest.raises(ConfigError, match="overwrite"):
        qf.add_features(bars, {"close": qf.returns()})
    with pytest.raises(ConfigError, match="two features"):
        qf.add_features(bars, [qf.returns(), qf.returns()])
