"""Trend indicators: batch equals streaming bit for bit, both match TA-Lib.

Batch and streaming run the same operations in the same order, so they are compared bit for
bit. Against TA-Lib the tolerance is 1e-9 relative: ADX/DI, Aroon, CCI and the regression slope
agree bit for bit in practice, while TA-Lib's x86-64 build fuses SAR's ``sar + af·(ep - sar)``
into an FMA instruction, which moves the last bit. The shared contracts run through
:mod:`tests.kit.indicator_conformance`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st

from quantstrata.core.errors import ConfigError
from quantstrata.indicators.trend import (
    Aroon,
    AroonOscillator,
    AverageDirectionalIndex,
    CommodityChannelIndex,
    DirectionalMovementIndex,
    LinearRegressionSlope,
    MinusDirectionalIndicator,
    ParabolicStopAndReverse,
    PlusDirectionalIndicator,
    adx,
    aroon,
    aroonosc,
    cci,
    dmi,
    linearreg_slope,
    minus_di,
    plus_di,
    sar,
)
from quantstrata.indicators.trend.definitions import DEFINITIONS
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
HLC, HIGH_LOW = ("high", "low", "close"), ("high", "low")
TIMEPERIOD = {"period": "timeperiod"}


def _sar_parameters(period: int) -> dict[str, Any]:
    """Map the drawn period onto SAR factors, including acceleration > maximum."""
    drawn = min(period, 40)
    return {"acceleration": drawn / 200.0, "maximum": (41 - drawn) / 100.0}


def _dmi_oracle(high, low, close, period):
    return (
        talib.ADX(high, low, close, period),
        talib.PLUS_DI(high, low, close, period),
        talib.MINUS_DI(high, low, close, period),
    )


def _case(name, batch, streaming, inputs, oracle, *, at_period=None) -> IndicatorCase:
    options = {} if at_period is None else {"at_period": at_period}
    return IndicatorCase(
        name, batch, streaming, inputs, oracle=oracle, definition=BY_NAME[name], **options
    )


CASES = [
    _case(
        "adx", adx, AverageDirectionalIndex, HLC, conformance.talib_oracle(talib.ADX, **TIMEPERIOD)
    ),
    _case(
        "plus_di",
        plus_di,
        PlusDirectionalIndicator,
        HLC,
        conformance.talib_oracle(talib.PLUS_DI, **TIMEPERIOD),
    ),
    _case(
        "minus_di",
        minus_di,
        MinusDirectionalIndicator,
        HLC,
        conformance.talib_oracle(talib.MINUS_DI, **TIMEPERIOD),
    ),
    _case("dmi", dmi, DirectionalMovementIndex, HLC, _dmi_oracle),
    _case("aroon", aroon, Aroon, HIGH_LOW, conformance.talib_oracle(talib.AROON, **TIMEPERIOD)),
    _case(
        "aroonosc",
        aroonosc,
        AroonOscillator,
        HIGH_LOW,
        conformance.talib_oracle(talib.AROONOSC, **TIMEPERIOD),
    ),
    _case(
        "cci", cci, CommodityChannelIndex, HLC, conformance.talib_oracle(talib.CCI, **TIMEPERIOD)
    ),
    _case(
        "sar",
        sar,
        ParabolicStopAndReverse,
        HIGH_LOW,
        conformance.talib_oracle(talib.SAR, acceleration="acceleration", maximum="maximum"),
        at_period=_sar_parameters,
    ),
    _case(
        "linearreg_slope",
        linearreg_slope,
        LinearRegressionSlope,
        ("close",),
        conformance.talib_oracle(talib.LINEARREG_SLOPE, **TIMEPERIOD),
    ),
]
IDS = conformance.ids(CASES)
BY_CASE = dict(zip(IDS, CASES, strict=True))
MULTI_INPUT = [case for case in CASES if case.name != "linearreg_slope"]
PERIODIC = [case for case in CASES if case.name != "sar"]


@pytest.mark.parametrize("case", CASES, ids=IDS)
@settings(max_examples=50, deadline=None)
@given(bars=ohlcv_arrays(), period=st.integers(2, 40))
def test_streaming_equals_batch_bit_for_bit(case: IndicatorCase, bars: OHLCV, period: int):
    conformance.check_streaming_equals_batch(case, case.columns(bars), case.at_period(period))


@pytest.mark.parametrize("case", CASES, ids=IDS)
@settings(max_examples=50, deadline=None)
@given(bars=ohlcv_arrays(min_size=50), period=st.integers(2, 40))
def test_batch_matches_talib_on_random_data(case: IndicatorCase, bars: OHLCV, period: int):
    conformance.check_batch_matches_oracle(case, case.columns(bars), case.at_period(period))


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("period", [5, 14, 50])
def test_batch_matches_talib_on_real_data(case: IndicatorCase, spx_ohlcv: OHLCV, period: int):
    conformance.check_batch_matches_oracle(case, case.columns(spx_ohlcv), case.at_period(period))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_output_kind_follows_input_kind(case: IndicatorCase):
    conformance.check_output_kind(case, case.columns(make_ohlcv(60, seed=3)), case.at_period(10))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_leading_nan_is_skipped_and_later_nan_refused(case: IndicatorCase):
    inputs = case.columns(make_ohlcv(80, seed=4))
    broken = [name for name in case.inputs if name in {"high", "close"}]
    conformance.check_leading_nan_is_skipped(case, inputs, case.at_period(10))
    conformance.check_later_nan_is_refused(case, inputs, case.at_period(10), row=17, broken=broken)
    conformance.check_streaming_refuses_non_finite(
        case, inputs, case.at_period(2), broken=broken, value=np.inf, after=2
    )


@pytest.mark.parametrize("case", MULTI_INPUT, ids=conformance.ids(MULTI_INPUT))
def test_unequal_lengths_are_refused(case: IndicatorCase):
    inputs = case.columns(make_ohlcv(30, seed=5))
    conformance.check_unequal_lengths(case, inputs, case.at_period(5), {"high": 1, "close": 2})


@pytest.mark.parametrize("case", PERIODIC, ids=conformance.ids(PERIODIC))
@pytest.mark.parametrize("period", [1, 0, -3, 2.5, True])
def test_bad_period_is_a_config_error(case: IndicatorCase, period):
    conformance.check_bad_parameter(case, [np.ones(9)] * len(case.inputs), {}, "period", period)


@pytest.mark.parametrize(
    ("acceleration", "maximum", "name"),
    [(-0.1, 0.2, "acceleration"), (0.02, -1.0, "maximum"), (float("nan"), 0.2, "acceleration")],
)
def test_bad_sar_factors_are_config_errors(acceleration, maximum, name):
    with pytest.raises(ConfigError, match=name):
        sar(np.ones(5), np.ones(5), acceleration, maximum)
    with pytest.raises(ConfigError, match=name):
        ParabolicStopAndReverse(acceleration, maximum)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_declared_lookback_is_the_first_valid_index(case: IndicatorCase):
    inputs = case.columns(make_ohlcv(300, seed=6))
    conformance.check_declared_lookback_is_first_valid(case, inputs, aligned=case.name != "dmi")


@pytest.mark.parametrize(
    ("name", "parameters"),
    [
        ("adx", {"period": 14}),
        ("plus_di", {"period": 9}),
        ("minus_di", {"period": 9}),
        ("aroon", {"period": 14}),
        ("aroonosc", {"period": 25}),
        ("cci", {"period": 20}),
        ("sar", {}),
        ("linearreg_slope", {"period": 14}),
    ],
)
def test_lookback_equals_talib(name, parameters):
    case = BY_CASE[name]
    conformance.check_lookback_equals_oracle(
        case, case.columns(make_ohlcv(100, seed=7)), parameters
    )


@pytest.mark.parametrize("name", ["adx", "plus_di", "dmi"])
def test_warmup_makes_the_start_irrelevant(name):
    case = BY_CASE[name]
    bars = make_ohlcv(3000, seed=9)
    conformance.check_warmup_makes_the_start_irrelevant(
        case, case.columns(bars), {"period": 14}, cut=500
    )


@settings(max_examples=50, deadline=None)
@given(
    highs=st.lists(st.integers(0, 4), min_size=3, max_size=80),
    period=st.integers(2, 10),
)
def test_aroon_ties_favour_the_most_recent_extreme(highs: list[int], period: int):
    high = np.array(highs, dtype=np.float64)
    low = high - np.array([(index * 7) % 3 for index in range(len(high))], dtype=np.float64)
    down, up = aroon(high, low, period)
    conformance.assert_outputs((down, up), talib.AROON(high, low, period))
    conformance.assert_outputs(stream_values(Aroon(period), high, low), (down, up))
    for index in range(period, len(high)):
        window = high[index - period : index + 1]
        latest = index - period + int(np.flatnonzero(window == window.max())[-1])
        assert up[index] == 100.0 / period * (period - (index - latest))


@pytest.mark.parametrize("period", [2, 3, 7, 14])
def test_streaming_equals_batch_across_many_rebuilds(spx_ohlcv: OHLCV, period: int):
    # 5000 real bars pass the every-32-windows rebuild of the sliding sums dozens of times.
    close = spx_ohlcv.close
    assert_same_numbers(
        stream_values(LinearRegressionSlope(period), close), linearreg_slope(close, period)
    )


def test_linearreg_slope_matches_least_squares():
    bars = make_ohlcv(400, seed=14)
    period = 20
    ours = linearreg_slope(bars.close, period)
    x = np.arange(period, dtype=np.float64)
    for index in range(period - 1, len(bars.close)):
        fitted = np.polyfit(x, bars.close[index - period + 1 : index + 1], 1)[0]
        assert ours[index] == pytest.approx(fitted, rel=1e-7, abs=1e-10)


def test_cci_of_a_flat_window_is_zero():
    price = np.full(30, 123.456)
    assert (cci(price, price, price, 10)[9:] == 0.0).all()
    assert stream_values(CommodityChannelIndex(10), price, price, price)[-1] == 0.0


def test_sar_starts_short_after_a_down_move_and_long_otherwise():
    high = np.array([10.0, 9.5, 9.0, 8.8])
    low = np.array([9.0, 8.0, 7.5, 7.4])
    assert sar(high, low)[1] == high[0]
    rising_high = np.array([10.0, 11.0, 12.0, 13.0])
    rising_low = np.array([9.0, 10.0, 11.0, 12.0])
    assert sar(rising_high, rising_low)[1] == rising_low[0]


def test_streaming_ready_flips_at_the_lookback():
    bars = make_ohlcv(60, seed=15)
    system = DirectionalMovementIndex(5)
    results = [system.update(*row) for row in zip(bars.high, bars.low, bars.close, strict=True)]
    assert np.isnan(results[4].plus_di)
    assert not np.isnan(results[5].plus_di)
    assert np.isnan(results[8].adx)
    assert not np.isnan(results[9].adx)
    assert system.ready
    assert system.value == results[-1]
