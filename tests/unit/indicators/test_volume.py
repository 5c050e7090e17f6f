"""Volume indicators: batch equals streaming, both equal TA-Lib (or pandas for VWAP), bad input
is refused.

OBV, A/D and MFI match TA-Lib bit for bit. The installed TA-Lib build contracts the Chaikin
oscillator's EMA step ``k * ad + (1 - k) * ema`` into a fused multiply-add, which plain Python
cannot express, so ADOSC is compared with a tolerance relative to the A/D line's magnitude (the
oscillator is a small difference of two large EMAs). The shared contracts run through
:mod:`tests.kit.indicator_conformance`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import polars as pl
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st

from quantstrata.core.errors import ConfigError, DataError, TimezoneError
from quantstrata.indicators.volume import (
    AccumulationDistribution,
    ChaikinOscillator,
    MoneyFlowIndex,
    OnBalanceVolume,
    VolumeWeightedAveragePrice,
    ad,
    adosc,
    mfi,
    obv,
    vwap,
)
from quantstrata.indicators.volume.definitions import DEFINITIONS
from tests.kit import indicator_conformance as conformance
from tests.kit.indicator_conformance import IndicatorCase
from tests.kit.indicator_data import (
    OHLCV,
    assert_same_numbers,
    make_ohlcv,
    ohlcv_arrays,
)

BY_NAME = {item.name: item for item in DEFINITIONS}
OHLCV_NAMES = ("high", "low", "close", "volume")
_NEW_YORK = ZoneInfo("America/New_York")
TALIB_NAMES = {"period": "timeperiod", "fast_period": "fastperiod", "slow_period": "slowperiod"}


def _ad_scale(inputs: Sequence[np.ndarray]) -> float:
    return max(1.0, float(np.nanmax(np.abs(talib.AD(*inputs)))))


CASES = [
    IndicatorCase(
        name,
        batch,
        streaming,
        inputs,
        example=example,
        oracle=conformance.talib_oracle(oracle, **TALIB_NAMES),
        tolerance=conformance.Tolerance(1e-9, 1e-12, scale=_ad_scale)
        if name == "adosc"
        else conformance.EXACT,
        definition=BY_NAME[name],
        # Hypothesis draws one period; the n-th parameter gets period + n.
        at_period=lambda period, names=tuple(example): {
            name: period + offset for offset, name in enumerate(names)
        },
    )
    for name, batch, streaming, oracle, inputs, example in [
        ("obv", obv, OnBalanceVolume, talib.OBV, ("close", "volume"), {}),
        ("ad", ad, AccumulationDistribution, talib.AD, OHLCV_NAMES, {}),
        ("mfi", mfi, MoneyFlowIndex, talib.MFI, OHLCV_NAMES, {"period": 7}),
        (
            "adosc",
            adosc,
            ChaikinOscillator,
            talib.ADOSC,
            OHLCV_NAMES,
            {"fast_period": 4, "slow_period": 9},
        ),
    ]
]
IDS = conformance.ids(CASES)
BY_CASE = dict(zip(IDS, CASES, strict=True))


@pytest.mark.parametrize("case", CASES, ids=IDS)
@settings(max_examples=50, deadline=None)
@given(bars=ohlcv_arrays())
def test_streaming_equals_batch_bit_for_bit(case: IndicatorCase, bars: OHLCV):
    conformance.check_streaming_equals_batch(case, case.columns(bars), case.example)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@settings(max_examples=50, deadline=None)
@given(bars=ohlcv_arrays(min_size=30), period=st.integers(2, 25))
def test_batch_matches_talib_on_random_data(case: IndicatorCase, bars: OHLCV, period: int):
    conformance.check_batch_matches_oracle(case, case.columns(bars), case.at_period(period))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_batch_matches_talib_on_real_data(case: IndicatorCase, spx_ohlcv: OHLCV):
    conformance.check_batch_matches_oracle(case, case.columns(spx_ohlcv), {})
    conformance.check_batch_matches_oracle(case, case.columns(spx_ohlcv), case.example)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_output_kind_follows_input_kind(case: IndicatorCase):
    conformance.check_output_kind(case, case.columns(make_ohlcv(60, seed=3)), {})


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_leading_nan_is_skipped_and_later_nan_refused(case: IndicatorCase):
    inputs = case.columns(make_ohlcv(40, seed=4))
    last = case.inputs[-1]
    conformance.check_leading_nan_is_skipped(case, inputs, {})
    conformance.check_later_nan_is_refused(case, inputs, {}, row=17, broken=[last], column=last)
    conformance.check_streaming_refuses_non_finite(case, inputs, {}, broken=[last])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_unequal_lengths_are_refused(case: IndicatorCase):
    inputs = case.columns(make_ohlcv(30, seed=5))
    conformance.check_unequal_lengths(case, inputs, {}, {case.inputs[0]: 1})


@pytest.mark.parametrize(("name", "parameter"), [("mfi", "period"), ("adosc", "fast_period")])
@pytest.mark.parametrize("value", [1, 0, -3, 2.5, True])
def test_bad_period_is_a_config_error(name, parameter, value):
    case = BY_CASE[name]
    conformance.check_bad_parameter(case, case.columns(make_ohlcv(20)), {}, parameter, value)


def test_obv_starts_at_the_first_volume_and_ignores_equal_closes():
    close = np.array([10.0, 11.0, 11.0, 9.0, 12.0])
    volume = np.array([5.0, 2.0, 7.0, 3.0, 1.0])
    # Independent reading of the definition: start at v0, add on up-closes, subtract on down.
    expected = [5.0, 5.0 + 2.0, 7.0, 7.0 - 3.0, 4.0 + 1.0]
    assert_same_numbers(obv(close, volume), np.array(expected))


def test_mfi_of_a_window_without_money_flow_is_zero_like_talib():
    bars = make_ohlcv(40, seed=6, flat_fraction=1.0)
    values = mfi(bars.high, bars.low, bars.close, bars.volume, period=5)
    assert np.all(values[5:] == 0.0)
    assert_same_numbers(values, talib.MFI(bars.high, bars.low, bars.close, bars.volume, 5))


@pytest.mark.parametrize(
    ("name", "parameters"),
    [("obv", {}), ("ad", {}), ("mfi", {"period": 9}), ("adosc", {"slow_period": 12})],
)
def test_lookback_matches_talib(name, parameters):
    case = BY_CASE[name]
    conformance.check_lookback_equals_oracle(case, [np.ones(100)] * len(case.inputs), parameters)


def test_adosc_warmup_makes_the_start_irrelevant():
    # After the warm-up, oscillators started at different bars agree to the seed tolerance.
    bars = make_ohlcv(1500, seed=9)
    scale = float(np.max(np.abs(ad(bars.high, bars.low, bars.close, bars.volume))))
    conformance.check_warmup_makes_the_start_irrelevant(
        BY_CASE["adosc"],
        BY_CASE["adosc"].columns(bars),
        {},
        cut=400,
        relative=0.0,
        absolute=1e-5 * scale,
    )


# ------------------------------------------------------------------------------------ VWAP


def pandas_vwap(bars: OHLCV, session: np.ndarray) -> np.ndarray:
    """Return session VWAP by a pandas groupby-cumsum, NaN where the session has no volume yet."""
    frame = pd.DataFrame(
        {
            "weighted": (bars.high + bars.low + bars.close) / 3.0 * bars.volume,
            "volume": bars.volume,
            "session": session,
        }
    )
    grouped = frame.groupby("session")
    weighted = grouped["weighted"].cumsum()
    volume = grouped["volume"].cumsum()
    return (weighted / volume).where(volume > 0.0).to_numpy(dtype=np.float64)


@st.composite
def sessions(draw: st.DrawFn, size: int) -> np.ndarray:
    """Draw contiguous session conformance.ids: sorted random break points."""
    breaks = draw(st.lists(st.integers(1, max(1, size - 1)), max_size=8, unique=True))
    labels = np.zeros(size, dtype=np.int64)
    for point in breaks:
        labels[point:] += 1
    return labels


@settings(max_examples=50, deadline=None)
@given(data=st.data(), bars=ohlcv_arrays(min_size=2))
def test_vwap_matches_a_pandas_groupby_oracle_and_streaming(data, bars):
    session = data.draw(sessions(len(bars)))
    ours = vwap(bars.high, bars.low, bars.close, bars.volume, session)
    # pandas' groupby cumsum is compensated (Kahan) summation, hence the relative tolerance.
    assert_same_numbers(ours, pandas_vwap(bars, session), relative=1e-12)
    streamed = VolumeWeightedAveragePrice()
    values = [
        streamed.update(bars.high[i], bars.low[i], bars.close[i], bars.volume[i], int(session[i]))
        for i in range(len(bars))
    ]
    assert_same_numbers(np.array(values), ours)


def test_vwap_is_nan_until_the_session_has_volume_then_resets():
    high = np.array([11.0, 12.0, 13.0, 14.0, 15.0])
    low = np.array([9.0, 10.0, 11.0, 12.0, 13.0])
    close = np.array([10.0, 11.0, 12.0, 13.0, 14.0])
    volume = np.array([0.0, 2.0, 1.0, 0.0, 3.0])
    values = vwap(high, low, close, volume, np.array([1, 1, 1, 2, 2]))
    assert np.isnan(values[0])
    assert values[1] == 11.0
    assert values[2] == (11.0 * 2.0 + 12.0 * 1.0) / 3.0
    assert np.isnan(values[3])
    assert values[4] == 14.0


def test_vwap_sessions_from_timestamps_use_the_calendar_date_in_the_timezone():
    start = datetime(2024, 3, 4, 20, 0, tzinfo=UTC)
    stamps = [start + timedelta(hours=2 * i) for i in range(6)]
    bars = make_ohlcv(6, seed=7)
    bars.volume[:] = 1.0
    utc_ids = np.array([moment.date().toordinal() for moment in stamps])
    as_numpy = np.array([moment.replace(tzinfo=None) for moment in stamps], dtype="datetime64[ns]")
    ours = vwap(bars.high, bars.low, bars.close, bars.volume, as_numpy)
    assert_same_numbers(ours, pandas_vwap(bars, utc_ids), relative=1e-12)
    as_polars = pl.Series("ts", stamps).dt.convert_time_zone("UTC")
    new_york = vwap(
        bars.high, bars.low, bars.close, bars.volume, as_polars, timezone="America/New_York"
    )
    new_york_ids = np.array([moment.astimezone(_NEW_YORK).date().toordinal() for moment in stamps])
    assert_same_numbers(new_york, pandas_vwap(bars, new_york_ids), relative=1e-12)
    streamed = VolumeWeightedAveragePrice("America/New_York")
    values = [
        streamed.update(bars.high[i], bars.low[i], bars.close[i], 1.0, stamps[i]) for i in range(6)
    ]
    assert_same_numbers(np.array(values), new_york)


def test_vwap_refuses_naive_timestamps_missing_sessions_and_unknown_zones():
    bars = make_ohlcv(3)
    ohlcv = (bars.high, bars.low, bars.close, bars.volume)
    naive = pl.Series("ts", [datetime(2024, 1, 1), datetime(2024, 1, 2), datetime(2024, 1, 3)])
    with pytest.raises(TimezoneError):
        vwap(*ohlcv, naive)
    with pytest.raises(TimezoneError):
        VolumeWeightedAveragePrice().update(1.0, 1.0, 1.0, 1.0, datetime(2024, 1, 1))
    with pytest.raises(DataError, match="missing") as caught:
        vwap(*ohlcv, np.array([1.0, np.nan, 2.0]))
    assert caught.value.issues[0].row == 1
    with pytest.raises(DataError, match="rows"):
        vwap(*ohlcv, np.array([1, 2]))
    with pytest.raises(ConfigError, match="timezone"):
        vwap(*ohlcv, np.array([1, 1, 1]), timezone="Mars/Olympus")
