"""Volatility indicators: batch equals streaming, both match TA-Lib (or a plain oracle).

Batch and streaming are compared bit for bit: both run the same operations in the same order.
Against TA-Lib the tolerance is 1e-9 relative: TA, VAR, STDDEV and BBANDS agree bit for bit in
practice, while TA-Lib's x86-64 build fuses the ATR's Wilder step (and EMA's) into an FMA
instruction, which moves the last bit. Donchian and Keltner channels are not in TA-Lib: the
oracles are pandas rolling max/min and a composition of ``talib.EMA`` and ``talib.ATR``. The
shared contracts run through :mod:`tests.kit.indicator_conformance`.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st

from quantstrata.core.errors import ConfigError
from quantstrata.indicators.volatility import (
    AverageTrueRange,
    BollingerBands,
    DonchianChannels,
    KeltnerChannels,
    NormalizedAverageTrueRange,
    StandardDeviation,
    TrueRange,
    Variance,
    atr,
    bbands,
    donchian,
    keltner,
    natr,
    stddev,
    trange,
    var,
)
from quantstrata.indicators.volatility.definitions import DEFINITIONS
from tests.kit import indicator_conformance as conformance
from tests.kit.indicator_conformance import IndicatorCase
from tests.kit.indicator_data import (
    OHLCV,
    assert_same_numbers,
    first_valid,
    make_ohlcv,
    ohlcv_arrays,
    stream_values,
)

KELTNER_ATR_PERIOD = 7
BY_NAME = {item.name: item for item in DEFINITIONS}
HLC, CLOSE = ("high", "low", "close"), ("close",)
TIMEPERIOD = {"period": "timeperiod"}


def _donchian_oracle(high, low, period):
    upper = pd.Series(high).rolling(period).max().to_numpy()
    lower = pd.Series(low).rolling(period).min().to_numpy()
    return upper, (upper + lower) / 2.0, lower


def _keltner_oracle(high, low, close, period, atr_period):
    middle = talib.EMA(close, period)
    width = talib.ATR(high, low, close, atr_period)
    middle = np.where(np.isnan(width), np.nan, middle)
    return middle + 2.0 * width, middle, middle - 2.0 * width


def _case(name, batch, streaming, inputs, oracle, *, at_period=None) -> IndicatorCase:
    options = {} if at_period is None else {"at_period": at_period}
    return IndicatorCase(
        name, batch, streaming, inputs, oracle=oracle, definition=BY_NAME[name], **options
    )


CASES = [
    _case("trange", trange, TrueRange, HLC, talib.TRANGE, at_period=lambda period: {}),
    _case("atr", atr, AverageTrueRange, HLC, conformance.talib_oracle(talib.ATR, **TIMEPERIOD)),
    _case(
        "natr",
        natr,
        NormalizedAverageTrueRange,
        HLC,
        conformance.talib_oracle(talib.NATR, **TIMEPERIOD),
        at_period=lambda period: {"period": max(period, 2)},
    ),
    _case("var", var, Variance, CLOSE, conformance.talib_oracle(talib.VAR, **TIMEPERIOD)),
    _case(
        "stddev",
        stddev,
        StandardDeviation,
        CLOSE,
        conformance.talib_oracle(talib.STDDEV, deviations="nbdev", **TIMEPERIOD),
        at_period=lambda period: {"period": max(period, 2), "deviations": 1.5},
    ),
    _case(
        "bbands",
        bbands,
        BollingerBands,
        CLOSE,
        conformance.talib_oracle(
            talib.BBANDS, deviations_up="nbdevup", deviations_down="nbdevdn", **TIMEPERIOD
        ),
        at_period=lambda period: {
            "period": max(period, 2),
            "deviations_up": 2.0,
            "deviations_down": 1.5,
        },
    ),
    _case("donchian", donchian, DonchianChannels, ("high", "low"), _donchian_oracle),
    _case(
        "keltner",
        keltner,
        KeltnerChannels,
        HLC,
        _keltner_oracle,
        at_period=lambda period: {"period": period, "atr_period": KELTNER_ATR_PERIOD},
    ),
]
IDS = conformance.ids(CASES)
BY_CASE = dict(zip(IDS, CASES, strict=True))
MULTI_INPUT = [case for case in CASES if case.name not in {"var", "stddev", "bbands"}]
PERIODIC = [case for case in CASES if case.name != "trange"]
MINIMUM_PERIOD = {"stddev": 2, "bbands": 2}


@pytest.mark.parametrize("case", CASES, ids=IDS)
@settings(max_examples=50, deadline=None)
@given(bars=ohlcv_arrays(), period=st.integers(1, 40))
def test_streaming_equals_batch_bit_for_bit(case: IndicatorCase, bars: OHLCV, period: int):
    conformance.check_streaming_equals_batch(case, case.columns(bars), case.at_period(period))


@pytest.mark.parametrize("case", CASES, ids=IDS)
@settings(max_examples=50, deadline=None)
@given(bars=ohlcv_arrays(min_size=50), period=st.integers(1, 40))
def test_batch_matches_oracle_on_random_data(case: IndicatorCase, bars: OHLCV, period: int):
    conformance.check_batch_matches_oracle(case, case.columns(bars), case.at_period(period))


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("period", [5, 14, 50])
def test_batch_matches_oracle_on_real_data(case: IndicatorCase, spx_ohlcv: OHLCV, period: int):
    conformance.check_batch_matches_oracle(case, case.columns(spx_ohlcv), case.at_period(period))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_output_kind_follows_input_kind(case: IndicatorCase):
    conformance.check_output_kind(case, case.columns(make_ohlcv(60, seed=3)), case.at_period(10))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_leading_nan_is_skipped_and_later_nan_refused(case: IndicatorCase):
    inputs = case.columns(make_ohlcv(60, seed=4))
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
@pytest.mark.parametrize("period", [0, -3, 2.5, True, "5"])
def test_bad_period_is_a_config_error(case: IndicatorCase, period):
    ones = [np.ones(9)] * len(case.inputs)
    conformance.check_bad_parameter(case, ones, {}, "period", period)
    if case.name in MINIMUM_PERIOD:
        conformance.check_bad_parameter(case, ones, {}, "period", MINIMUM_PERIOD[case.name] - 1)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "2", None])
def test_bad_multipliers_are_config_errors(value):
    close = np.ones(9)
    with pytest.raises(ConfigError, match="deviations"):
        stddev(close, 5, value)
    with pytest.raises(ConfigError, match="deviations_up"):
        bbands(close, 5, value)
    with pytest.raises(ConfigError, match="deviations_down"):
        BollingerBands(5, 2.0, value)
    with pytest.raises(ConfigError, match="multiplier"):
        keltner(close, close, close, multiplier=value)
    with pytest.raises(ConfigError, match="atr_period"):
        KeltnerChannels(5, atr_period=0)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_declared_lookback_is_the_first_valid_index(case: IndicatorCase):
    conformance.check_declared_lookback_is_first_valid(case, case.columns(make_ohlcv(300, seed=6)))


@pytest.mark.parametrize(
    ("name", "parameters"),
    [
        ("trange", {}),
        ("atr", {"period": 14}),
        ("natr", {"period": 9}),
        ("var", {"period": 5}),
        ("stddev", {"period": 7}),
        ("bbands", {"period": 20}),
    ],
)
def test_lookback_equals_talib(name, parameters):
    case = BY_CASE[name]
    conformance.check_lookback_equals_oracle(
        case, case.columns(make_ohlcv(100, seed=7)), parameters
    )


@pytest.mark.parametrize(
    ("name", "parameters"), [("atr", {"period": 14}), ("keltner", {"period": 20})]
)
def test_warmup_makes_the_start_irrelevant(name, parameters):
    case = BY_CASE[name]
    bars = make_ohlcv(3000, seed=9)
    conformance.check_warmup_makes_the_start_irrelevant(
        case, case.columns(bars), parameters, cut=500
    )


def test_streaming_ready_flips_at_the_first_value():
    bars = make_ohlcv(30, seed=10)
    indicator = AverageTrueRange(5)
    states = [indicator.update(*row) for row in zip(bars.high, bars.low, bars.close, strict=True)]
    assert np.isnan(states[4])
    assert not np.isnan(states[5])
    assert indicator.ready
    assert indicator.value == states[-1]
    channel = DonchianChannels(3)
    channel.update(2.0, 1.0)
    channel.update(3.0, 1.5)
    assert not channel.ready
    assert channel.update(2.5, 0.5) == (3.0, 1.75, 0.5)
    assert channel.ready


def test_natr_normalises_period_one_and_zero_close():
    high = np.array([3.0, 4.0, 3.0, 5.0, 4.0])
    low = np.array([2.0, 2.0, 1.0, 2.0, 1.0])
    close = np.array([2.5, 3.0, 0.0, 4.0, 2.0])
    true_range = talib.TRANGE(high, low, close)
    safe_close = np.where(close == 0.0, 1.0, close)
    expected = np.where(close == 0.0, 0.0, true_range / safe_close * 100.0)
    assert_same_numbers(natr(high, low, close, 1), expected)
    assert_same_numbers(stream_values(NormalizedAverageTrueRange(1), high, low, close), expected)


def test_variance_is_exact_at_high_price_levels_and_zero_when_flat():
    rng = np.random.default_rng(11)
    close = 1e9 + np.round(rng.normal(0.0, 1.0, 400), 3)
    close[100:130] = close[100]
    period = 10
    ours = var(close, period)
    for index in range(period - 1, len(close)):
        window = [Fraction(value) for value in close[index - period + 1 : index + 1]]
        mean = sum(window) / period
        exact = float(sum((value - mean) ** 2 for value in window) / period)
        assert ours[index] == pytest.approx(exact, rel=1e-6, abs=1e-12)
    assert (ours[100 + period - 1 : 130] == 0.0).all()


@pytest.mark.parametrize("period", [2, 3, 7])
def test_streaming_equals_batch_across_many_reseeds(spx_ohlcv: OHLCV, period: int):
    # 5000 real bars pass the every-32-windows re-anchoring of the variance dozens of times.
    close = spx_ohlcv.close
    assert_same_numbers(stream_values(Variance(period), close), var(close, period))
    conformance.assert_outputs(stream_values(BollingerBands(period), close), bbands(close, period))


def test_donchian_includes_the_current_bar():
    bars = make_ohlcv(200, seed=12)
    upper, middle, lower = donchian(bars.high, bars.low, 10)
    valid = slice(9, None)
    assert (upper[valid] >= bars.high[valid]).all()
    assert (lower[valid] <= bars.low[valid]).all()
    assert_same_numbers(middle, (upper + lower) / 2.0)


@settings(max_examples=50, deadline=None)
@given(
    highs=st.lists(st.integers(0, 5), min_size=1, max_size=80),
    period=st.integers(1, 12),
)
def test_donchian_deque_handles_ties_like_a_naive_scan(highs: list[int], period: int):
    high = np.array(highs, dtype=np.float64)
    low = high - 1.0
    upper, _, lower = donchian(high, low, period)
    for index in range(period - 1, len(high)):
        assert upper[index] == high[index - period + 1 : index + 1].max()
        assert lower[index] == low[index - period + 1 : index + 1].min()


def test_keltner_starts_when_both_parts_are_valid():
    bars = make_ohlcv(100, seed=13)
    for period, atr_period in ((20, 10), (5, 30)):
        upper, middle, lower = keltner(
            bars.high, bars.low, bars.close, period, atr_period=atr_period
        )
        first = max(period - 1, atr_period)
        for line in (upper, middle, lower):
            assert first_valid(line) == first
        np.testing.assert_allclose(upper - middle, middle - lower, rtol=1e-12)
