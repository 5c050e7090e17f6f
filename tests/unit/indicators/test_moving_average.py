"""Moving averages: batch equals streaming, both equal TA-Lib, bad input is refused.

This file is the template every indicator family's tests follow. SMA and EMA are exported from
``quantstrata.indicators``; WMA, DEMA, TEMA and KAMA are imported from their family until the
package exports them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st

from quantstrata.core.errors import ConfigError, DataError
from quantstrata.indicators import (
    ExponentialMovingAverage,
    SimpleMovingAverage,
    ema,
    lookback,
    sma,
    warmup_bars,
)
from quantstrata.indicators.moving_average import (
    DoubleExponentialMovingAverage,
    KaufmanAdaptiveMovingAverage,
    TripleExponentialMovingAverage,
    WeightedMovingAverage,
    dema,
    kama,
    tema,
    wma,
)
from quantstrata.indicators.moving_average.definitions import DEFINITIONS
from tests.kit.indicator_data import (
    OHLCV,
    assert_same_numbers,
    first_valid,
    make_ohlcv,
    ohlcv_arrays,
    stream_values,
)

CASES = [
    (sma, SimpleMovingAverage, talib.SMA),
    (ema, ExponentialMovingAverage, talib.EMA),
    (wma, WeightedMovingAverage, talib.WMA),
    (dema, DoubleExponentialMovingAverage, talib.DEMA),
    (tema, TripleExponentialMovingAverage, talib.TEMA),
    (kama, KaufmanAdaptiveMovingAverage, talib.KAMA),
]
IDS = ["sma", "ema", "wma", "dema", "tema", "kama"]
NEW_CASES = CASES[2:]
NEW_IDS = IDS[2:]
BY_NAME = {item.name: item for item in DEFINITIONS}


@pytest.mark.parametrize(("batch", "streaming", "oracle"), CASES, ids=IDS)
@settings(max_examples=50, deadline=None)
@given(bars=ohlcv_arrays(), period=st.integers(1, 40))
def test_streaming_equals_batch_bit_for_bit(batch, streaming, oracle, bars: OHLCV, period: int):
    expected = batch(bars.close, period)
    assert_same_numbers(stream_values(streaming(period), bars.close), expected)


@pytest.mark.parametrize(("batch", "streaming", "oracle"), CASES, ids=IDS)
@settings(max_examples=50, deadline=None)
@given(bars=ohlcv_arrays(min_size=50), period=st.integers(2, 40))
def test_batch_matches_talib_on_random_data(batch, streaming, oracle, bars: OHLCV, period: int):
    ours = batch(bars.close, period)
    theirs = oracle(bars.close, timeperiod=period)
    assert_same_numbers(ours, theirs, relative=1e-9, start=period - 1)


@pytest.mark.parametrize(("batch", "streaming", "oracle"), NEW_CASES, ids=NEW_IDS)
def test_period_one_returns_the_input_like_talib(batch, streaming, oracle):
    close = make_ohlcv(60, seed=12, scale=1e-3).close
    assert_same_numbers(batch(close, 1), close)
    assert_same_numbers(batch(close, 1), oracle(close, timeperiod=1))


@pytest.mark.parametrize(("batch", "streaming", "oracle"), CASES, ids=IDS)
@pytest.mark.parametrize("period", [5, 20, 200])
def test_batch_matches_talib_on_real_data(batch, streaming, oracle, spx_close, period):
    ours = batch(spx_close, period)
    assert_same_numbers(ours, oracle(spx_close, timeperiod=period), relative=1e-9)


@pytest.mark.parametrize(("batch", "streaming", "oracle"), CASES, ids=IDS)
def test_output_kind_follows_input_kind(batch, streaming, oracle):
    close = make_ohlcv(50, seed=3).close
    expected = batch(close, 10)
    as_pandas = batch(pd.Series(close, index=pd.RangeIndex(100, 150), name="close"), 10)
    assert isinstance(as_pandas, pd.Series)
    assert list(as_pandas.index) == list(range(100, 150))
    assert_same_numbers(as_pandas.to_numpy(), expected)
    as_polars = batch(pl.Series("close", close), 10)
    assert isinstance(as_polars, pl.Series)
    assert as_polars.null_count() == first_valid(expected)
    assert_same_numbers(as_polars.fill_null(np.nan).to_numpy(), expected)


@pytest.mark.parametrize(("batch", "streaming", "oracle"), CASES, ids=IDS)
def test_leading_nan_is_skipped_and_later_nan_refused(batch, streaming, oracle):
    close = make_ohlcv(40, seed=4).close
    padded = np.concatenate([[np.nan] * 5, close])
    assert_same_numbers(batch(padded, 10)[5:], batch(close, 10))
    assert_same_numbers(batch(padded, 10), oracle(padded, timeperiod=10), relative=1e-9)
    broken = close.copy()
    broken[17] = np.nan
    with pytest.raises(DataError, match="non-finite") as caught:
        batch(broken, 10)
    assert caught.value.issues[0].row == 17
    with pytest.raises(DataError, match="non-finite"):
        streaming(10).update(float("inf"))


@pytest.mark.parametrize(("batch", "streaming", "oracle"), CASES, ids=IDS)
@pytest.mark.parametrize("period", [0, -3, 2.5, True])
def test_bad_period_is_a_config_error(batch, streaming, oracle, period):
    with pytest.raises(ConfigError, match="period"):
        batch(np.ones(10), period)
    with pytest.raises(ConfigError, match="period"):
        streaming(period)


@pytest.mark.parametrize(("batch", "streaming", "oracle"), CASES, ids=IDS)
def test_shorter_input_than_the_lookback_is_all_nan(batch, streaming, oracle):
    close = make_ohlcv(5, seed=6).close
    assert np.isnan(batch(close, 10)).all()
    assert np.isnan(oracle(close, timeperiod=10)).all()


def test_ready_flips_exactly_at_lookback():
    average = SimpleMovingAverage(3)
    states = [(average.update(value), average.ready) for value in (1.0, 2.0, 3.0, 4.0)]
    assert [ready for _, ready in states] == [False, False, True, True]
    assert states[2][0] == 2.0
    assert states[3][0] == 3.0


@pytest.mark.parametrize(("batch", "streaming", "oracle"), NEW_CASES, ids=NEW_IDS)
def test_ready_flips_at_the_talib_lookback(batch, streaming, oracle):
    close = make_ohlcv(120, seed=8).close
    indicator = streaming(7)
    flags = []
    for value in close:
        indicator.update(float(value))
        flags.append(indicator.ready)
    talib_lookback = int(np.isnan(oracle(close, timeperiod=7)).sum())
    assert flags.index(True) == talib_lookback
    assert all(flags[talib_lookback:])
    assert indicator.value == batch(close, 7)[-1]


def test_wma_weights_newest_heaviest():
    # Independent oracle: the definition sum(i * x_i) / sum(i) with a plain loop.
    close = make_ohlcv(30, seed=10).close
    period = 4
    expected = np.full(len(close), np.nan)
    for end in range(period - 1, len(close)):
        window = close[end - period + 1 : end + 1]
        expected[end] = sum((i + 1) * value for i, value in enumerate(window)) / 10
    assert_same_numbers(wma(close, period), expected, relative=1e-12)


def test_kama_follows_a_clean_trend_at_the_fastest_rate():
    # A straight line has efficiency ratio 1, so KAMA is an EMA with factor (2/3) ** 2.
    close = np.arange(1.0, 41.0)
    ours = kama(close, 10)
    factor = (2.0 / 3.0) ** 2
    expected = close[9]
    for index in range(10, 40):
        expected += (close[index] - expected) * factor
        assert ours[index] == pytest.approx(expected, rel=1e-12)


def test_lookback_and_warmup_are_queryable():
    talib_lookback = int(np.isnan(talib.SMA(np.ones(100), 20)).sum())
    assert lookback("sma", period=20) == talib_lookback
    assert warmup_bars("sma", period=20) == talib_lookback
    ema_warmup = warmup_bars("ema", period=20)
    assert ema_warmup > lookback("ema", period=20)
    # After the warm-up, two EMAs started at different points agree to the tolerance.
    close = make_ohlcv(2000, seed=9).close
    late = ema(close[500:], 20)
    full = ema(close, 20)[500:]
    settled = ema_warmup
    np.testing.assert_allclose(late[settled:], full[settled:], rtol=1e-5)


@pytest.mark.parametrize(("batch", "streaming", "oracle"), NEW_CASES, ids=NEW_IDS)
@pytest.mark.parametrize("period", [1, 2, 10, 30])
def test_new_lookbacks_equal_talib(batch, streaming, oracle, period):
    item = BY_NAME[batch.__name__]
    talib_lookback = int(np.isnan(oracle(np.linspace(1.0, 2.0, 400), timeperiod=period)).sum())
    assert item.lookback(**item.parameters(period=period)) == talib_lookback


@pytest.mark.parametrize(("batch", "streaming", "oracle"), NEW_CASES, ids=NEW_IDS)
def test_new_warmups_make_the_start_irrelevant(batch, streaming, oracle):
    item = BY_NAME[batch.__name__]
    period = 10
    warmup = item.warmup(period=period)
    close = make_ohlcv(warmup + 1000, seed=11).close
    late = batch(close[500:], period)
    full = batch(close, period)[500:]
    np.testing.assert_allclose(late[warmup:], full[warmup:], rtol=1e-5)
    if item.name != "wma":
        assert warmup > item.lookback(period=period)


def test_huge_but_finite_input_is_accepted_and_nan_after_overflow_is_found():
    huge = np.full(20, 1e308)
    assert_same_numbers(sma(huge, 1), huge)
    huge[12] = np.nan
    with pytest.raises(DataError) as caught:
        sma(huge, 3)
    assert [issue.row for issue in caught.value.issues] == [12]
