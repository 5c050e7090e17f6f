"""Statistical features: batch equals streaming, each equals an independent oracle.

- ``correl`` / ``beta``: TA-Lib. The installed TA-Lib computes CORREL with its own accurate
  running scheme that we cannot reproduce bit for bit, and both libraries carry rounding of
  about 1e-10 in windows that nearly cancel; correlations and betas are O(1) numbers, so the
  random-data comparison uses an absolute tolerance of 1e-9 on top of the 1e-9 relative one. An
  exact rational-arithmetic oracle shows our CORREL within 1e-12 even for 2-value windows.
- ``zscore``: pandas rolling mean/std(ddof=0) on ordinary data; on pathological flat data pandas'
  own rounding reaches 1e-7, so there the oracle is an exact ``math.fsum`` two-pass computation.
- ``hurst``: a plain-Python loop of the same formula (bit for bit) and known processes.
- ``half_life``: NumPy ``lstsq`` on each window.
- ``adf_pvalue``: statsmodels ``adfuller`` called directly on each window (few windows: slow).

The shared contracts run through :mod:`tests.kit.indicator_conformance`.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.tsa.stattools import adfuller

from quantstrata.core.errors import ConfigError
from quantstrata.indicators.statistics import (
    AugmentedDickeyFuller,
    Beta,
    Correlation,
    HurstExponent,
    MeanReversionHalfLife,
    ZScore,
    adf_pvalue,
    beta,
    correl,
    half_life,
    hurst,
    zscore,
)
from quantstrata.indicators.statistics.definitions import DEFINITIONS
from tests.kit import indicator_conformance as conformance
from tests.kit.indicator_conformance import IndicatorCase
from tests.kit.indicator_data import (
    OHLCV,
    assert_same_numbers,
    make_ohlcv,
    ohlcv_arrays,
    stream_values,
)

BY_NAME = {item.name: item for item in DEFINITIONS}
PAIR_OPTIONS = {
    "tolerance": conformance.Tolerance(relative=1e-9, absolute=1e-9),
    "inputs": ("close", "open"),
}


def _case(name, batch, streaming, example, **options) -> IndicatorCase:
    options = {"inputs": ("close",), **options}
    return IndicatorCase(
        name, batch, streaming, example=example, definition=BY_NAME[name], **options
    )


CASES = [
    _case("zscore", zscore, ZScore, {"period": 5}),
    _case(
        "hurst",
        hurst,
        HurstExponent,
        {"period": 12, "max_lag": 4},
        at_period=lambda period: {"period": period, "max_lag": period - 3},
    ),
    _case("half_life", half_life, MeanReversionHalfLife, {"period": 8}),
    _case(
        "correl",
        correl,
        Correlation,
        {"period": 5},
        oracle=conformance.talib_oracle(talib.CORREL, period="timeperiod"),
        **PAIR_OPTIONS,
    ),
    _case(
        "beta",
        beta,
        Beta,
        {"period": 5},
        oracle=conformance.talib_oracle(talib.BETA, period="timeperiod"),
        **PAIR_OPTIONS,
    ),
]
IDS = conformance.ids(CASES)
SINGLE, PAIRED = CASES[:3], CASES[3:]
SINGLE_IDS, PAIRED_IDS = IDS[:3], IDS[3:]


def other_series(bars: OHLCV) -> np.ndarray:
    """Return a second price series correlated with the first, for pair statistics."""
    return 0.5 * bars.close + bars.open


# ----------------------------------------------------------------- batch equals streaming


@pytest.mark.parametrize("case", SINGLE, ids=SINGLE_IDS)
@settings(max_examples=40, deadline=None)
@given(bars=ohlcv_arrays(), period=st.integers(6, 40))
def test_single_input_streaming_equals_batch_bit_for_bit(case: IndicatorCase, bars, period):
    conformance.check_streaming_equals_batch(case, [bars.close], case.at_period(period))


@pytest.mark.parametrize("case", PAIRED, ids=PAIRED_IDS)
@settings(max_examples=50, deadline=None)
@given(bars=ohlcv_arrays(), period=st.integers(1, 40))
def test_pair_streaming_equals_batch_bit_for_bit(case: IndicatorCase, bars, period):
    conformance.check_streaming_equals_batch(
        case, [bars.high, other_series(bars)], case.at_period(period)
    )


def test_adf_streaming_equals_batch():
    close = make_ohlcv(30, seed=1).close
    expected = adf_pvalue(close, 24)
    assert_same_numbers(stream_values(AugmentedDickeyFuller(24), close), expected)


# ----------------------------------------------------------------------- TA-Lib: CORREL, BETA


@pytest.mark.parametrize("case", PAIRED, ids=PAIRED_IDS)
@settings(max_examples=50, deadline=None)
@given(bars=ohlcv_arrays(min_size=50), period=st.integers(5, 40))
def test_pair_matches_talib_on_random_data(case: IndicatorCase, bars, period):
    conformance.check_batch_matches_oracle(
        case, [bars.close, other_series(bars)], {"period": period}
    )


@pytest.mark.parametrize("case", PAIRED, ids=PAIRED_IDS)
@pytest.mark.parametrize("period", [2, 5, 30, 200])
def test_pair_matches_talib_on_real_data(case: IndicatorCase, spx_ohlcv: OHLCV, period):
    inputs = [spx_ohlcv.close, spx_ohlcv.high]
    tolerance = conformance.Tolerance(relative=1e-9, absolute=1e-12)
    conformance.check_batch_matches_oracle(case, inputs, {"period": period}, tolerance)


def exact_correlation(x: np.ndarray, y: np.ndarray) -> float:
    xs = [Fraction(value) for value in x]
    ys = [Fraction(value) for value in y]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    covariance = sum((a - mean_x) * (b - mean_y) for a, b in zip(xs, ys, strict=True))
    variance_x = sum((a - mean_x) ** 2 for a in xs)
    variance_y = sum((b - mean_y) ** 2 for b in ys)
    if variance_x == 0 or variance_y == 0:
        return 0.0
    return float(covariance) / math.sqrt(float(variance_x) * float(variance_y))


@settings(max_examples=30, deadline=None)
@given(bars=ohlcv_arrays(min_size=10, max_size=60), period=st.integers(1, 8))
def test_correl_is_exact_even_for_tiny_and_flat_windows(bars, period):
    second = other_series(bars)
    ours = correl(bars.close, second, period)
    expected = np.full(len(bars), np.nan)
    for index in range(period - 1, len(bars)):
        window = slice(index - period + 1, index + 1)
        expected[index] = exact_correlation(bars.close[window], second[window])
    assert_same_numbers(ours, expected, relative=1e-11, absolute=1e-12)


def test_beta_regresses_the_second_series_returns_on_the_first():
    market = make_ohlcv(80, seed=11).close
    asset_returns = 1.5 * (market[1:] / market[:-1] - 1.0)
    asset = np.concatenate([[50.0], 50.0 * np.cumprod(1.0 + asset_returns)])
    values = beta(market, asset, 10)
    np.testing.assert_allclose(values[10:], 1.5, rtol=1e-9)


# ----------------------------------------------------------------------------------- zscore


def pandas_zscore(close: np.ndarray, period: int) -> np.ndarray:
    series = pd.Series(close)
    spread = series.rolling(period).std(ddof=0)
    values = ((series - series.rolling(period).mean()) / spread).to_numpy(copy=True)
    values[spread.to_numpy() == 0.0] = 0.0
    return values


def fsum_zscore(close: np.ndarray, period: int) -> np.ndarray:
    out = np.full(close.shape[0], np.nan)
    for index in range(period - 1, close.shape[0]):
        window = close[index - period + 1 : index + 1]
        mean = math.fsum(window) / period
        variance = math.fsum((value - mean) ** 2 for value in window) / period
        out[index] = 0.0 if np.ptp(window) == 0.0 else (close[index] - mean) / math.sqrt(variance)
    return out


@pytest.mark.parametrize("period", [2, 20, 100])
def test_zscore_matches_pandas(spx_close, period):
    assert_same_numbers(zscore(spx_close, period), pandas_zscore(spx_close, period), relative=1e-9)
    close = make_ohlcv(500, seed=12, scale=1e6).close
    assert_same_numbers(zscore(close, period), pandas_zscore(close, period), relative=1e-9)


@settings(max_examples=50, deadline=None)
@given(bars=ohlcv_arrays(min_size=2), period=st.integers(2, 40))
def test_zscore_matches_an_exact_two_pass_oracle(bars, period):
    ours = zscore(bars.close, period)
    expected = fsum_zscore(bars.close, period)
    assert_same_numbers(ours, expected, relative=1e-9, absolute=1e-9)


# ----------------------------------------------------------------------------------- hurst


def python_hurst(close: np.ndarray, period: int, max_lag: int) -> np.ndarray:
    """The variance-of-lags Hurst exponent, one window at a time, in plain Python floats."""
    out = np.full(close.shape[0], np.nan)
    for end in range(period - 1, close.shape[0]):
        window = [float(value) for value in close[end - period + 1 : end + 1]]
        logs_lag, logs_moment = [], []
        for lag in range(1, max_lag + 1):
            total = 0.0
            for index in range(lag, period):
                difference = window[index] - window[index - lag]
                total += difference * difference
            moment = total / (period - lag)
            if moment <= 0.0:
                break
            logs_lag.append(math.log(lag))
            logs_moment.append(math.log(moment))
        else:
            out[end] = 0.5 * python_slope(logs_lag, logs_moment)
    return out


def python_slope(x: list[float], y: list[float]) -> float:
    mean_x = mean_y = 0.0
    for a, b in zip(x, y, strict=True):
        mean_x += a
        mean_y += b
    mean_x /= len(x)
    mean_y /= len(y)
    covariance = variance = 0.0
    for a, b in zip(x, y, strict=True):
        covariance += (a - mean_x) * (b - mean_y)
        variance += (a - mean_x) * (a - mean_x)
    return covariance / variance


@settings(max_examples=40, deadline=None)
@given(bars=ohlcv_arrays(min_size=10, max_size=120), period=st.integers(6, 40))
def test_hurst_equals_a_plain_python_loop(bars, period):
    max_lag = max(2, period // 3)
    expected = python_hurst(bars.close, period, max_lag)
    assert_same_numbers(hurst(bars.close, period, max_lag), expected)


def ar_process(size: int, coefficient: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=size)
    values = np.zeros(size)
    for index in range(1, size):
        values[index] = coefficient * values[index - 1] + noise[index]
    return values


def test_hurst_classifies_known_processes():
    random_walk = np.cumsum(np.random.default_rng(1).normal(size=3000))
    mean_reverting = ar_process(3000, 0.2, seed=2)
    trending = np.cumsum(ar_process(3000, 0.8, seed=3))
    walk_h = np.nanmean(hurst(random_walk, 500, 20))
    assert abs(walk_h - 0.5) < 0.05
    assert np.nanmean(hurst(mean_reverting, 500, 20)) < 0.2
    assert np.nanmean(hurst(trending, 500, 20)) > 0.7


def test_hurst_of_a_flat_window_is_nan():
    close = np.concatenate([np.full(30, 5.0), np.linspace(5.0, 6.0, 10)])
    values = hurst(close, 20, 5)
    assert np.isnan(values[19:30]).all()
    assert np.isfinite(values[-1])


# ------------------------------------------------------------------------------- half-life


def lstsq_half_life(close: np.ndarray, period: int) -> np.ndarray:
    out = np.full(close.shape[0], np.nan)
    for end in range(period - 1, close.shape[0]):
        window = close[end - period + 1 : end + 1]
        design = np.column_stack([np.ones(period - 1), window[:-1]])
        (_, rate), *_ = np.linalg.lstsq(design, np.diff(window), rcond=None)
        out[end] = -math.log(2.0) / rate if rate < 0.0 else np.nan
    return out


@pytest.mark.parametrize("period", [10, 60])
def test_half_life_matches_lstsq(period):
    close = 100.0 + ar_process(400, 0.9, seed=4)
    ours = half_life(close, period)
    expected = lstsq_half_life(close, period)
    # Compare the slopes λ = -ln 2 / half-life: the half-life itself explodes as λ → 0.
    rate, oracle_rate = -math.log(2.0) / ours, -math.log(2.0) / expected
    clear = np.abs(oracle_rate) > 1e-6
    assert_same_numbers(rate[clear], oracle_rate[clear], relative=1e-9)
    true_rate = 0.9 - 1.0
    assert abs(np.nanmedian(half_life(close, 200)) - (-math.log(2.0) / true_rate)) < 3.0


def test_half_life_is_nan_without_mean_reversion():
    explosive = np.cumprod(np.full(50, 1.05))
    assert np.isnan(half_life(explosive, 20)[19:]).all()
    assert np.isnan(half_life(np.full(30, 2.0), 10)).all()


# ------------------------------------------------------------------------------------- ADF


def test_adf_pvalue_equals_statsmodels_on_each_window():
    close = make_ohlcv(40, seed=5).close
    ours = adf_pvalue(close, 36, max_lag=2, regression="ct")
    assert np.isnan(ours[:35]).all()
    for end in range(35, 40):
        window = close[end - 35 : end + 1]
        expected = adfuller(window, maxlag=2, regression="ct", autolag=None, result_object=False)
        assert ours[end] == expected[1]


def test_adf_pvalue_separates_stationary_from_random_walk():
    # One window each of 12 independent series: a unit root is rejected at 5% for about 5% of
    # random walks, and for every strongly stationary AR(1).
    rng = np.random.default_rng(7)
    walks = [adf_pvalue(np.cumsum(rng.normal(size=100)), 100)[-1] for _ in range(12)]
    stationary = [adf_pvalue(ar_process(100, 0.1, seed=seed), 100)[-1] for seed in range(12)]
    assert sum(pvalue < 0.05 for pvalue in walks) <= 3
    assert all(pvalue < 0.01 for pvalue in stationary)
    assert np.isnan(adf_pvalue(np.full(30, 3.0), 20)[-1])
    assert np.isnan(adf_pvalue(np.arange(30.0), 20)[-1])
    assert np.isnan(adf_pvalue(np.arange(30.0) ** 2, 20, regression="ct")[-1])


@pytest.mark.parametrize(
    "options",
    [
        {"regression": "x"},
        {"autolag": "best"},
        {"max_lag": -1},
        {"period": 7},
        {"period": 12, "max_lag": 4},
    ],
)
def test_bad_adf_options_are_config_errors(options):
    close = make_ohlcv(50).close
    with pytest.raises(ConfigError):
        adf_pvalue(close, **options)
    with pytest.raises(ConfigError):
        AugmentedDickeyFuller(**options)


# ------------------------------------------------------------------------- common contracts


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_output_kind_follows_input_kind(case: IndicatorCase):
    conformance.check_output_kind(case, case.columns(make_ohlcv(60, seed=3)), case.example)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_leading_nan_is_skipped_and_later_nan_refused(case: IndicatorCase):
    inputs = case.columns(make_ohlcv(40, seed=4))
    first = case.inputs[0]
    conformance.check_leading_nan_is_skipped(case, inputs, case.example)
    conformance.check_later_nan_is_refused(
        case, inputs, case.example, row=17, broken=[first], value=np.inf
    )
    conformance.check_streaming_refuses_non_finite(case, inputs, case.example, broken=case.inputs)


@pytest.mark.parametrize("case", PAIRED, ids=PAIRED_IDS)
def test_unequal_lengths_are_refused(case: IndicatorCase):
    inputs = case.columns(make_ohlcv(40, seed=4))
    conformance.check_unequal_lengths(case, inputs, case.example, {case.inputs[1]: 1})


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("period", [0, -3, 2.5, True])
def test_bad_period_is_a_config_error(case: IndicatorCase, period):
    conformance.check_bad_parameter(
        case, [np.ones(30)] * len(case.inputs), case.example, "period", period
    )


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_ready_flips_exactly_at_lookback(case: IndicatorCase):
    close = make_ohlcv(40, seed=8).close
    definition = case.registered
    lookback = definition.lookback(**definition.parameters(**case.example))
    conformance.check_ready_flips_at(case, [close] * len(case.inputs), case.example, lookback)


def test_lookback_matches_talib_and_first_values():
    by_name = {item.name: item for item in DEFINITIONS}
    ones = np.ones(100)
    correl_lookback = int(np.isnan(talib.CORREL(ones, ones, 17)).sum())
    assert by_name["correl"].lookback(period=17) == correl_lookback
    assert by_name["beta"].lookback(period=7) == int(np.isnan(talib.BETA(ones, ones, 7)).sum())
    close = make_ohlcv(200, seed=10).close
    for name, values in [
        ("zscore", zscore(close, 20)),
        ("hurst", hurst(close, 50, 10)),
        ("half_life", half_life(close, 40)),
    ]:
        item = by_name[name]
        period = {"zscore": 20, "hurst": 50, "half_life": 40}[name]
        resolved = item.parameters(period=period, **({"max_lag": 10} if name == "hurst" else {}))
        assert item.lookback(**resolved) == int(np.argmax(~np.isnan(values)))
        assert item.warmup(**resolved) == item.lookback(**resolved)
