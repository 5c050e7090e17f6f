"""Momentum oscillators: batch equals streaming, both equal TA-Lib, bad input is refused.

RSI, CMO, MOM, ROC, STOCH, STOCHRSI and WILLR reproduce TA-Lib 0.8's arithmetic exactly; MACD
follows the project's EMA step ``(x - ema) * k + ema`` where TA-Lib 0.8 fuses it into one
``fma``, so MACD is compared to a few ulps of the price (its outputs cross zero, where a purely
relative tolerance means nothing). The shared contracts run through
:mod:`tests.kit.indicator_conformance`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st

from quantstrata.core.errors import ConfigError
from quantstrata.indicators.momentum import (
    ChandeMomentumOscillator,
    MACDResult,
    Momentum,
    MovingAverageConvergenceDivergence,
    RateOfChange,
    RelativeStrengthIndex,
    Stochastic,
    StochasticRelativeStrengthIndex,
    StochasticResult,
    StochasticRSIResult,
    WilliamsR,
    cmo,
    macd,
    mom,
    roc,
    rsi,
    stoch,
    stochrsi,
    willr,
)
from quantstrata.indicators.momentum.definitions import DEFINITIONS
from tests.kit import indicator_conformance as conformance
from tests.kit.indicator_conformance import IndicatorCase
from tests.kit.indicator_data import (
    OHLCV,
    assert_same_numbers,
    make_ohlcv,
    ohlcv_arrays,
)

BY_NAME = {item.name: item for item in DEFINITIONS}
PERIOD = st.integers(2, 30)
PERIOD_NAME = {"period": "timeperiod"}


def _price_scale(inputs: Sequence[np.ndarray]) -> float:
    return float(np.nanmax(np.abs(inputs[0]))) if len(inputs[0]) else 1.0


def _stoch_oracle(high, low, close, *, fast_k_period, slow_k_period, slow_d_period):
    return talib.STOCH(high, low, close, fast_k_period, slow_k_period, 0, slow_d_period, 0)


def _stochrsi_oracle(close, period, fast_k_period, fast_d_period):
    return talib.STOCHRSI(close, period, fast_k_period, fast_d_period, 0)


MACD_TOLERANCE = conformance.Tolerance(relative=1e-9, absolute=1e-12, scale=_price_scale)
MACD_NAMES = {"fast_period": "fastperiod", "slow_period": "slowperiod"}
CLOSE, HLC = ("close",), ("high", "low", "close")
CASES = [
    IndicatorCase(
        name,
        batch,
        streaming,
        inputs,
        example=example,
        oracle=oracle,
        tolerance=MACD_TOLERANCE if name == "macd" else conformance.RELATIVE_1E9,
        nan_aware_oracle=True,
        definition=BY_NAME[name],
    )
    for name, batch, streaming, oracle, inputs, example in [
        (
            "rsi",
            rsi,
            RelativeStrengthIndex,
            conformance.talib_oracle(talib.RSI, **PERIOD_NAME),
            CLOSE,
            {"period": 14},
        ),
        (
            "cmo",
            cmo,
            ChandeMomentumOscillator,
            conformance.talib_oracle(talib.CMO, **PERIOD_NAME),
            CLOSE,
            {"period": 14},
        ),
        (
            "mom",
            mom,
            Momentum,
            conformance.talib_oracle(talib.MOM, **PERIOD_NAME),
            CLOSE,
            {"period": 10},
        ),
        (
            "roc",
            roc,
            RateOfChange,
            conformance.talib_oracle(talib.ROC, **PERIOD_NAME),
            CLOSE,
            {"period": 10},
        ),
        (
            "macd",
            macd,
            MovingAverageConvergenceDivergence,
            conformance.talib_oracle(talib.MACD, signal_period="signalperiod", **MACD_NAMES),
            CLOSE,
            {"fast_period": 12, "slow_period": 26, "signal_period": 9},
        ),
        (
            "stoch",
            stoch,
            Stochastic,
            _stoch_oracle,
            HLC,
            {"fast_k_period": 5, "slow_k_period": 3, "slow_d_period": 3},
        ),
        (
            "stochrsi",
            stochrsi,
            StochasticRelativeStrengthIndex,
            _stochrsi_oracle,
            CLOSE,
            {"period": 14, "fast_k_period": 5, "fast_d_period": 3},
        ),
        (
            "willr",
            willr,
            WilliamsR,
            conformance.talib_oracle(talib.WILLR, **PERIOD_NAME),
            HLC,
            {"period": 14},
        ),
    ]
]
IDS = conformance.ids(CASES)
BY_CASE = dict(zip(IDS, CASES, strict=True))
SPACES: dict[str, st.SearchStrategy[dict[str, int]]] = {
    "rsi": st.fixed_dictionaries({"period": PERIOD}),
    "cmo": st.fixed_dictionaries({"period": PERIOD}),
    "mom": st.fixed_dictionaries({"period": st.integers(1, 30)}),
    "roc": st.fixed_dictionaries({"period": st.integers(1, 30)}),
    "macd": st.fixed_dictionaries(
        {"fast_period": PERIOD, "slow_period": PERIOD, "signal_period": st.integers(1, 15)}
    ),
    "stoch": st.fixed_dictionaries(
        {
            "fast_k_period": st.integers(1, 20),
            "slow_k_period": st.integers(1, 8),
            "slow_d_period": st.integers(1, 8),
        }
    ),
    "stochrsi": st.fixed_dictionaries(
        {"period": PERIOD, "fast_k_period": st.integers(1, 15), "fast_d_period": st.integers(1, 8)}
    ),
    "willr": st.fixed_dictionaries({"period": PERIOD}),
}


@pytest.mark.parametrize("case", CASES, ids=IDS)
@settings(max_examples=40, deadline=None)
@given(bars=ohlcv_arrays(), data=st.data())
def test_streaming_equals_batch_bit_for_bit(case: IndicatorCase, bars: OHLCV, data: st.DataObject):
    conformance.check_streaming_equals_batch(case, case.columns(bars), data.draw(SPACES[case.name]))


@pytest.mark.parametrize("case", CASES, ids=IDS)
@settings(max_examples=40, deadline=None)
@given(bars=ohlcv_arrays(min_size=60), data=st.data())
def test_batch_matches_talib_on_random_data(case: IndicatorCase, bars: OHLCV, data: st.DataObject):
    conformance.check_batch_matches_oracle(case, case.columns(bars), data.draw(SPACES[case.name]))


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("scale", [1, 3])
def test_batch_matches_talib_on_real_data(case: IndicatorCase, spx_ohlcv: OHLCV, scale: int):
    parameters = {name: value * scale for name, value in case.example.items()}
    conformance.check_batch_matches_oracle(case, case.columns(spx_ohlcv), parameters)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_output_kind_follows_input_kind(case: IndicatorCase):
    conformance.check_output_kind(
        case, case.columns(make_ohlcv(80, seed=3)), case.example, only_leading_nulls=True
    )


def test_multi_output_results_are_named_tuples():
    bars = make_ohlcv(100, seed=5)
    result = macd(pd.Series(bars.close))
    assert isinstance(result, MACDResult)
    assert result.macd.name == "macd"
    assert result.histogram.name == "histogram"
    assert isinstance(stoch(bars.high, bars.low, bars.close), StochasticResult)
    assert isinstance(stochrsi(bars.close), StochasticRSIResult)
    assert isinstance(MovingAverageConvergenceDivergence().update(1.0), MACDResult)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_leading_nan_is_skipped_and_later_nan_refused(case: IndicatorCase):
    inputs = case.columns(make_ohlcv(120, seed=4))
    last = case.inputs[-1]
    conformance.check_leading_nan_is_skipped(case, inputs, case.example)
    conformance.check_later_nan_is_refused(
        case, inputs, case.example, row=57, broken=[last], column=last
    )
    conformance.check_streaming_refuses_non_finite(case, inputs, case.example, broken=[last])


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_bad_period_is_a_config_error(case: IndicatorCase, bad):
    inputs = case.columns(make_ohlcv(30, seed=1))
    for name in case.example:
        conformance.check_bad_parameter(case, inputs, case.example, name, bad)


@pytest.mark.parametrize("name", ["rsi", "cmo", "willr"])
def test_period_one_is_refused_like_talib(name: str):
    case = BY_CASE[name]
    with pytest.raises(ConfigError, match="period"):
        case.batch(*case.columns(make_ohlcv(30, seed=1)), period=1)
    with pytest.raises(Exception, match="Bad Parameter"):
        case.call_oracle(case.columns(make_ohlcv(30, seed=1)), {"period": 1})


@pytest.mark.parametrize("name", ["stoch", "willr"])
def test_unequal_input_lengths_are_a_data_error(name: str):
    case = BY_CASE[name]
    conformance.check_unequal_lengths(case, case.columns(make_ohlcv(30, seed=1)), {}, {"high": 1})


@pytest.mark.parametrize("case", CASES, ids=IDS)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_lookback_equals_talib_and_ready_flips_there(case: IndicatorCase, data: st.DataObject):
    parameters = data.draw(SPACES[case.name])
    inputs = case.columns(make_ohlcv(150, seed=7))
    talib_lookback = conformance.check_lookback_equals_oracle(case, inputs, parameters)
    conformance.check_ready_flips_at(case, inputs, parameters, talib_lookback)


@pytest.mark.parametrize("name", ["rsi", "cmo", "macd", "stochrsi"])
def test_warmup_makes_the_start_irrelevant(name: str):
    case = BY_CASE[name]
    close = make_ohlcv(case.registered.warmup(**case.example) + 1500, seed=11).close
    conformance.check_warmup_makes_the_start_irrelevant(
        case, [close], case.example, cut=700, relative=1e-5, absolute=1e-5
    )


def test_macd_swaps_a_fast_period_above_the_slow_one_like_talib():
    close = make_ohlcv(200, seed=13).close
    swapped = macd(close, fast_period=26, slow_period=12, signal_period=9)
    ordered = macd(close, fast_period=12, slow_period=26, signal_period=9)
    conformance.assert_outputs(swapped, ordered)
    conformance.assert_outputs(swapped, talib.MACD(close, 26, 12, 9), relative=1e-9, absolute=1e-10)


def test_macd_fast_ema_is_seeded_where_the_slow_one_starts():
    # Independent oracle: plain-Python EMAs with TA-Lib's documented alignment.
    close = make_ohlcv(120, seed=14).close
    fast, slow, signal = 5, 12, 4

    def ema_from(values, period, seed_end):
        value = sum(values[seed_end - period + 1 : seed_end + 1]) / period
        out = {seed_end: value}
        for index in range(seed_end + 1, len(values)):
            value += (values[index] - value) * (2.0 / (period + 1))
            out[index] = value
        return out

    fast_ema = ema_from(close, fast, slow - 1)
    slow_ema = ema_from(close, slow, slow - 1)
    line = np.array([fast_ema[i] - slow_ema[i] for i in range(slow - 1, len(close))])
    signal_ema = ema_from(line, signal, signal - 1)
    result = macd(close, fast, slow, signal)
    first = slow + signal - 2
    np.testing.assert_allclose(result.macd[first:], line[signal - 1 :], rtol=1e-12)
    expected_signal = [signal_ema[i] for i in range(signal - 1, len(line))]
    np.testing.assert_allclose(result.signal[first:], expected_signal, rtol=1e-12)


def test_roc_of_a_zero_price_is_zero_and_mom_is_a_difference():
    close = np.array([0.0, 1.0, 2.0, 0.0, 3.0, 4.0])
    assert_same_numbers(roc(close, 1), [np.nan, 0.0, 100.0, -100.0, 0.0, (4 / 3 - 1) * 100])
    assert_same_numbers(mom(close, 2), [np.nan, np.nan, 2.0, -1.0, 1.0, 4.0])


@settings(max_examples=40, deadline=None)
@given(bars=ohlcv_arrays(min_size=20), period=PERIOD)
def test_bounded_oscillators_stay_in_their_ranges(bars: OHLCV, period: int):
    for values, low, high in [
        (rsi(bars.close, period), 0.0, 100.0),
        (cmo(bars.close, period), -100.0, 100.0),
        (willr(bars.high, bars.low, bars.close, period), -100.0, 0.0),
        (stoch(bars.high, bars.low, bars.close, fast_k_period=period).slow_d, 0.0, 100.0),
        (stochrsi(bars.close, period).fast_k, 0.0, 100.0),
    ]:
        valid = values[~np.isnan(values)]
        assert (valid >= low - 1e-9).all()
        assert (valid <= high + 1e-9).all()


def test_rolling_extremes_match_a_plain_window_scan():
    # Independent oracle for the monotonic deques: Williams %R from max/min of each window.
    bars = make_ohlcv(300, seed=15, flat_fraction=0.3)
    period = 9
    expected = np.full(len(bars), np.nan)
    for end in range(period - 1, len(bars)):
        highest = bars.high[end - period + 1 : end + 1].max()
        lowest = bars.low[end - period + 1 : end + 1].min()
        if highest - lowest > 0:
            expected[end] = (highest - bars.close[end]) / (highest - lowest) * -100.0
        else:
            expected[end] = 0.0
    assert_same_numbers(
        willr(bars.high, bars.low, bars.close, period), expected, relative=1e-12, absolute=1e-12
    )
