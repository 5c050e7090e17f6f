"""Moving averages: batch equals streaming, both equal TA-Lib, bad input is refused.

The shared contracts run through :mod:`tests.kit.indicator_conformance`; this file declares the
cases and keeps the moving-average-specific tests. SMA and EMA are exported from
``quantstrata.indicators``; WMA, DEMA, TEMA and KAMA are imported from their family until the
package exports them.
"""

from __future__ import annotations

import numpy as np
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st

from quantstrata.core.errors import DataError
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
from tests.kit import indicator_conformance as conformance
from tests.kit.indicator_conformance import IndicatorCase
from tests.kit.indicator_data import OHLCV, assert_same_numbers, make_ohlcv, ohlcv_arrays

BY_NAME = {item.name: item for item in DEFINITIONS}
CASES = [
    IndicatorCase(
        name,
        batch,
        streaming,
        ("close",),
        example={"period": 10},
        oracle=conformance.talib_oracle(oracle, period="timeperiod"),
        nan_aware_oracle=True,
        definition=BY_NAME[name],
    )
    for name, batch, streaming, oracle in [
        ("sma", sma, SimpleMovingAverage, talib.SMA),
        ("ema", ema, ExponentialMovingAverage, talib.EMA),
        ("wma", wma, WeightedMovingAverage, talib.WMA),
        ("dema", dema, DoubleExponentialMovingAverage, talib.DEMA),
        ("tema", tema, TripleExponentialMovingAverage, talib.TEMA),
        ("kama", kama, KaufmanAdaptiveMovingAverage, talib.KAMA),
    ]
]
IDS = conformance.ids(CASES)
NEW_CASES = CASES[2:]
NEW_IDS = IDS[2:]


@pytest.mark.parametrize("case", CASES, ids=IDS)
@settings(max_examples=50, deadline=None)
@given(bars=ohlcv_arrays(), period=st.integers(1, 40))
def test_streaming_equals_batch_bit_for_bit(case: IndicatorCase, bars: OHLCV, period: int):
    conformance.check_streaming_equals_batch(case, [bars.close], {"period": period})


@pytest.mark.parametrize("case", CASES, ids=IDS)
@settings(max_examples=50, deadline=None)
@given(bars=ohlcv_arrays(min_size=50), period=st.integers(2, 40))
def test_batch_matches_talib_on_random_data(case: IndicatorCase, bars: OHLCV, period: int):
    conformance.check_batch_matches_oracle(case, [bars.close], {"period": period})


@pytest.mark.parametrize("case", NEW_CASES, ids=NEW_IDS)
def test_period_one_returns_the_input_like_talib(case: IndicatorCase):
    close = make_ohlcv(60, seed=12, scale=1e-3).close
    assert_same_numbers(case.batch(close, 1), close)
    assert_same_numbers(case.batch(close, 1), case.call_oracle([close], {"period": 1}))


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("period", [5, 20, 200])
def test_batch_matches_talib_on_real_data(case: IndicatorCase, spx_close, period):
    conformance.check_batch_matches_oracle(case, [spx_close], {"period": period})


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_output_kind_follows_input_kind(case: IndicatorCase):
    conformance.check_output_kind(
        case, [make_ohlcv(50, seed=3).close], case.example, only_leading_nulls=True
    )


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_leading_nan_is_skipped_and_later_nan_refused(case: IndicatorCase):
    inputs = [make_ohlcv(40, seed=4).close]
    conformance.check_leading_nan_is_skipped(case, inputs, case.example)
    conformance.check_later_nan_is_refused(case, inputs, case.example, row=17, broken=["close"])
    conformance.check_streaming_refuses_non_finite(
        case, inputs, case.example, broken=["close"], value=float("inf")
    )


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("period", [0, -3, 2.5, True])
def test_bad_period_is_a_config_error(case: IndicatorCase, period):
    conformance.check_bad_parameter(case, [np.ones(10)], {}, "period", period)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_shorter_input_than_the_lookback_is_all_nan(case: IndicatorCase):
    close = make_ohlcv(5, seed=6).close
    assert np.isnan(case.batch(close, 10)).all()
    assert np.isnan(case.call_oracle([close], {"period": 10})).all()


def test_ready_flips_exactly_at_lookback():
    average = SimpleMovingAverage(3)
    states = [(average.update(value), average.ready) for value in (1.0, 2.0, 3.0, 4.0)]
    assert [ready for _, ready in states] == [False, False, True, True]
    assert states[2][0] == 2.0
    assert states[3][0] == 3.0


@pytest.mark.parametrize("case", NEW_CASES, ids=NEW_IDS)
def test_ready_flips_at_the_talib_lookback(case: IndicatorCase):
    inputs = [make_ohlcv(120, seed=8).close]
    talib_lookback = conformance.check_lookback_equals_oracle(case, inputs, {"period": 7})
    conformance.check_ready_flips_at(case, inputs, {"period": 7}, talib_lookback)


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


@pytest.mark.parametrize("case", NEW_CASES, ids=NEW_IDS)
@pytest.mark.parametrize("period", [1, 2, 10, 30])
def test_new_lookbacks_equal_talib(case: IndicatorCase, period):
    conformance.check_lookback_equals_oracle(case, [np.linspace(1.0, 2.0, 400)], {"period": period})


@pytest.mark.parametrize("case", NEW_CASES, ids=NEW_IDS)
def test_new_warmups_make_the_start_irrelevant(case: IndicatorCase):
    warmup = case.registered.warmup(period=10)
    close = make_ohlcv(warmup + 1000, seed=11).close
    conformance.check_warmup_makes_the_start_irrelevant(
        case, [close], {"period": 10}, cut=500, beyond_lookback=case.name != "wma"
    )


def test_huge_but_finite_input_is_accepted_and_nan_after_overflow_is_found():
    huge = np.full(20, 1e308)
    assert_same_numbers(sma(huge, 1), huge)
    huge[12] = np.nan
    with pytest.raises(DataError) as caught:
        sma(huge, 3)
    assert [issue.row for issue in caught.value.issues] == [12]
