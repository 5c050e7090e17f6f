"""SMA and EMA: batch equals streaming, both equal TA-Lib, bad input is refused.

This file is the template every indicator family's tests follow.
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
from tests.kit.indicator_data import (
    OHLCV,
    assert_same_numbers,
    make_ohlcv,
    ohlcv_arrays,
    stream_values,
)

CASES = [
    (sma, SimpleMovingAverage, talib.SMA),
    (ema, ExponentialMovingAverage, talib.EMA),
]
IDS = ["sma", "ema"]


@pytest.mark.parametrize(("batch", "streaming", "oracle"), CASES, ids=IDS)
@settings(max_examples=60, deadline=None)
@given(bars=ohlcv_arrays(), period=st.integers(2, 40))
def test_streaming_equals_batch_bit_for_bit(batch, streaming, oracle, bars: OHLCV, period: int):
    expected = batch(bars.close, period)
    assert_same_numbers(stream_values(streaming(period), bars.close), expected)


@pytest.mark.parametrize(("batch", "streaming", "oracle"), CASES, ids=IDS)
@settings(max_examples=60, deadline=None)
@given(bars=ohlcv_arrays(min_size=50), period=st.integers(2, 40))
def test_batch_matches_talib_on_random_data(batch, streaming, oracle, bars: OHLCV, period: int):
    ours = batch(bars.close, period)
    theirs = oracle(bars.close, timeperiod=period)
    assert_same_numbers(ours, theirs, relative=1e-9, start=period - 1)


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
    assert as_polars.null_count() == 9
    assert_same_numbers(as_polars.fill_null(np.nan).to_numpy(), expected)


@pytest.mark.parametrize(("batch", "streaming", "oracle"), CASES, ids=IDS)
def test_leading_nan_is_skipped_and_later_nan_refused(batch, streaming, oracle):
    close = make_ohlcv(40, seed=4).close
    padded = np.concatenate([[np.nan] * 5, close])
    assert_same_numbers(batch(padded, 10)[5:], batch(close, 10))
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


def test_ready_flips_exactly_at_lookback():
    average = SimpleMovingAverage(3)
    states = [(average.update(value), average.ready) for value in (1.0, 2.0, 3.0, 4.0)]
    assert [ready for _, ready in states] == [False, False, True, True]
    assert states[2][0] == 2.0
    assert states[3][0] == 3.0


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
