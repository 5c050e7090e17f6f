"""Momentum oscillators: batch equals streaming, both equal TA-Lib, bad input is refused.

RSI, CMO, MOM, ROC, STOCH, STOCHRSI and WILLR reproduce TA-Lib 0.8's arithmetic exactly; MACD
follows the project's EMA step ``(x - ema) * k + ema`` where TA-Lib 0.8 fuses it into one
``fma``, so MACD is compared to a few ulps of the price (its outputs cross zero, where a purely
relative tolerance means nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st

from quantstrata.core.errors import ConfigError, DataError
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
from tests.kit.indicator_data import (
    OHLCV,
    assert_same_numbers,
    each_output,
    first_valid,
    make_ohlcv,
    ohlcv_arrays,
    stream_values,
)

BY_NAME = {item.name: item for item in DEFINITIONS}
PERIOD = st.integers(2, 30)


@dataclass(frozen=True)
class Case:
    """One indicator: its forms, its TA-Lib twin, its inputs and parameter space."""

    name: str
    batch: Callable[..., Any]
    streaming: type
    oracle: Callable[..., Any]
    columns: tuple[str, ...]
    parameters: st.SearchStrategy[dict[str, int]]
    example: dict[str, int]
    exact_ulps: bool = True

    def inputs(self, bars: OHLCV) -> list[np.ndarray]:
        return [getattr(bars, column) for column in self.columns]


def _rsi_oracle(close, period):
    return talib.RSI(close, timeperiod=period)


def _cmo_oracle(close, period):
    return talib.CMO(close, timeperiod=period)


def _mom_oracle(close, period):
    return talib.MOM(close, timeperiod=period)


def _roc_oracle(close, period):
    return talib.ROC(close, timeperiod=period)


def _willr_oracle(high, low, close, period):
    return talib.WILLR(high, low, close, timeperiod=period)


def _macd_oracle(close, fast_period, slow_period, signal_period):
    return talib.MACD(close, fast_period, slow_period, signal_period)


def _stoch_oracle(high, low, close, *, fast_k_period, slow_k_period, slow_d_period):
    return talib.STOCH(high, low, close, fast_k_period, slow_k_period, 0, slow_d_period, 0)


def _stochrsi_oracle(close, period, fast_k_period, fast_d_period):
    return talib.STOCHRSI(close, period, fast_k_period, fast_d_period, 0)


CASES = [
    Case(
        "rsi",
        rsi,
        RelativeStrengthIndex,
        _rsi_oracle,
        ("close",),
        st.fixed_dictionaries({"period": PERIOD}),
        {"period": 14},
    ),
    Case(
        "cmo",
        cmo,
        ChandeMomentumOscillator,
        _cmo_oracle,
        ("close",),
        st.fixed_dictionaries({"period": PERIOD}),
        {"period": 14},
    ),
    Case(
        "mom",
        mom,
        Momentum,
        _mom_oracle,
        ("close",),
        st.fixed_dictionaries({"period": st.integers(1, 30)}),
        {"period": 10},
    ),
    Case(
        "roc",
        roc,
        RateOfChange,
        _roc_oracle,
        ("close",),
        st.fixed_dictionaries({"period": st.integers(1, 30)}),
        {"period": 10},
    ),
    Case(
        "macd",
        macd,
        MovingAverageConvergenceDivergence,
        _macd_oracle,
        ("close",),
        st.fixed_dictionaries(
            {"fast_period": PERIOD, "slow_period": PERIOD, "signal_period": st.integers(1, 15)}
        ),
        {"fast_period": 12, "slow_period": 26, "signal_period": 9},
        exact_ulps=False,
    ),
    Case(
        "stoch",
        stoch,
        Stochastic,
        _stoch_oracle,
        ("high", "low", "close"),
        st.fixed_dictionaries(
            {
                "fast_k_period": st.integers(1, 20),
                "slow_k_period": st.integers(1, 8),
                "slow_d_period": st.integers(1, 8),
            }
        ),
        {"fast_k_period": 5, "slow_k_period": 3, "slow_d_period": 3},
    ),
    Case(
        "stochrsi",
        stochrsi,
        StochasticRelativeStrengthIndex,
        _stochrsi_oracle,
        ("close",),
        st.fixed_dictionaries(
            {
                "period": PERIOD,
                "fast_k_period": st.integers(1, 15),
                "fast_d_period": st.integers(1, 8),
            }
        ),
        {"period": 14, "fast_k_period": 5, "fast_d_period": 3},
    ),
    Case(
        "willr",
        willr,
        WilliamsR,
        _willr_oracle,
        ("high", "low", "close"),
        st.fixed_dictionaries({"period": PERIOD}),
        {"period": 14},
    ),
]
IDS = [case.name for case in CASES]


def _tolerances(case: Case, inputs: list[np.ndarray]) -> dict[str, float]:
    if case.exact_ulps:
        return {"relative": 1e-9}
    scale = float(np.nanmax(np.abs(inputs[0]))) if len(inputs[0]) else 1.0
    return {"relative": 1e-9, "absolute": 1e-12 * scale}


def _assert_outputs(ours: Any, theirs: Any, **tolerance: float) -> None:
    for mine, reference in zip(each_output(ours), each_output(theirs), strict=True):
        assert_same_numbers(mine, reference, **tolerance)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@settings(max_examples=40, deadline=None)
@given(bars=ohlcv_arrays(), data=st.data())
def test_streaming_equals_batch_bit_for_bit(case: Case, bars: OHLCV, data: st.DataObject):
    parameters = data.draw(case.parameters)
    inputs = case.inputs(bars)
    expected = case.batch(*inputs, **parameters)
    streamed = stream_values(case.streaming(**parameters), *inputs)
    _assert_outputs(streamed, expected)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@settings(max_examples=40, deadline=None)
@given(bars=ohlcv_arrays(min_size=60), data=st.data())
def test_batch_matches_talib_on_random_data(case: Case, bars: OHLCV, data: st.DataObject):
    parameters = data.draw(case.parameters)
    inputs = case.inputs(bars)
    ours = case.batch(*inputs, **parameters)
    theirs = case.oracle(*inputs, **parameters)
    _assert_outputs(ours, theirs, **_tolerances(case, inputs))


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("scale", [1, 3])
def test_batch_matches_talib_on_real_data(case: Case, spx_bars, scale: int):
    bars = OHLCV(
        *(spx_bars[column].to_numpy(dtype=np.float64) for column in ("Open", "High", "Low")),
        spx_bars["Close"].to_numpy(dtype=np.float64),
        spx_bars["Volume"].to_numpy(dtype=np.float64),
    )
    parameters = {name: value * scale for name, value in case.example.items()}
    inputs = case.inputs(bars)
    ours = case.batch(*inputs, **parameters)
    _assert_outputs(ours, case.oracle(*inputs, **parameters), **_tolerances(case, inputs))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_output_kind_follows_input_kind(case: Case):
    bars = make_ohlcv(80, seed=3)
    inputs = case.inputs(bars)
    expected = each_output(case.batch(*inputs, **case.example))
    index = pd.RangeIndex(100, 180)
    as_pandas = case.batch(*(pd.Series(x, index=index) for x in inputs), **case.example)
    as_polars = case.batch(
        *(pl.Series(column, x) for column, x in zip(case.columns, inputs, strict=True)),
        **case.example,
    )
    for pandas_out, polars_out, reference in zip(
        list(as_pandas) if isinstance(as_pandas, tuple) else [as_pandas],
        list(as_polars) if isinstance(as_polars, tuple) else [as_polars],
        expected,
        strict=True,
    ):
        assert isinstance(pandas_out, pd.Series)
        assert list(pandas_out.index) == list(index)
        assert_same_numbers(pandas_out.to_numpy(), reference)
        assert isinstance(polars_out, pl.Series)
        assert polars_out.null_count() == first_valid(reference)
        assert_same_numbers(polars_out.fill_null(np.nan).to_numpy(), reference)


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
def test_leading_nan_is_skipped_and_later_nan_refused(case: Case):
    inputs = case.inputs(make_ohlcv(120, seed=4))
    padded = [np.concatenate([[np.nan] * 5, x]) for x in inputs]
    for late, plain in zip(
        each_output(case.batch(*padded, **case.example)),
        each_output(case.batch(*inputs, **case.example)),
        strict=True,
    ):
        assert_same_numbers(late[5:], plain)
    _assert_outputs(
        case.batch(*padded, **case.example),
        case.oracle(*padded, **case.example),
        **_tolerances(case, inputs),
    )
    broken = [x.copy() for x in inputs]
    broken[-1][57] = np.nan
    with pytest.raises(DataError, match="non-finite") as caught:
        case.batch(*broken, **case.example)
    assert caught.value.issues[0].row == 57
    assert caught.value.issues[0].column == case.columns[-1]
    with pytest.raises(DataError, match="non-finite"):
        case.streaming(**case.example).update(*([1.0] * (len(inputs) - 1)), float("nan"))


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_bad_period_is_a_config_error(case: Case, bad):
    inputs = case.inputs(make_ohlcv(30, seed=1))
    for name in case.example:
        parameters = {**case.example, name: bad}
        with pytest.raises(ConfigError, match=name):
            case.batch(*inputs, **parameters)
        with pytest.raises(ConfigError, match=name):
            case.streaming(**parameters)


@pytest.mark.parametrize("name", ["rsi", "cmo", "willr"])
def test_period_one_is_refused_like_talib(name: str):
    case = CASES[IDS.index(name)]
    with pytest.raises(ConfigError, match="period"):
        case.batch(*case.inputs(make_ohlcv(30, seed=1)), period=1)
    with pytest.raises(Exception, match="Bad Parameter"):
        case.oracle(*case.inputs(make_ohlcv(30, seed=1)), period=1)


@pytest.mark.parametrize("name", ["stoch", "willr"])
def test_unequal_input_lengths_are_a_data_error(name: str):
    bars = make_ohlcv(30, seed=1)
    with pytest.raises(DataError, match="equal lengths"):
        CASES[IDS.index(name)].batch(bars.high[:-1], bars.low, bars.close)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_lookback_equals_talib_and_ready_flips_there(case: Case, data: st.DataObject):
    parameters = data.draw(case.parameters)
    inputs = case.inputs(make_ohlcv(150, seed=7))
    talib_lookback = min(
        first_valid(output) for output in each_output(case.oracle(*inputs, **parameters))
    )
    item = BY_NAME[case.name]
    assert item.lookback(**item.parameters(**parameters)) == talib_lookback
    indicator = case.streaming(**parameters)
    flags = []
    for row in zip(*inputs, strict=True):
        indicator.update(*(float(x) for x in row))
        flags.append(indicator.ready)
    assert flags.index(True) == talib_lookback
    assert all(flags[talib_lookback:])


@pytest.mark.parametrize("name", ["rsi", "cmo", "macd", "stochrsi"])
def test_warmup_makes_the_start_irrelevant(name: str):
    case = CASES[IDS.index(name)]
    item = BY_NAME[name]
    warmup = item.warmup(**case.example)
    assert warmup > item.lookback(**case.example)
    close = make_ohlcv(warmup + 1500, seed=11).close
    late = each_output(case.batch(close[700:], **case.example))
    full = each_output(case.batch(close, **case.example))
    for late_output, full_output in zip(late, full, strict=True):
        np.testing.assert_allclose(
            late_output[warmup:], full_output[700:][warmup:], rtol=1e-5, atol=1e-5
        )


def test_macd_swaps_a_fast_period_above_the_slow_one_like_talib():
    close = make_ohlcv(200, seed=13).close
    swapped = macd(close, fast_period=26, slow_period=12, signal_period=9)
    ordered = macd(close, fast_period=12, slow_period=26, signal_period=9)
    _assert_outputs(swapped, ordered)
    _assert_outputs(swapped, talib.MACD(close, 26, 12, 9), relative=1e-9, absolute=1e-10)


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
