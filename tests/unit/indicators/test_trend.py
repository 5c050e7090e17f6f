"""Trend indicators: batch equals streaming bit for bit, both match TA-Lib.

Batch and streaming run the same operations in the same order, so they are compared bit for
bit. Against TA-Lib the tolerance is 1e-9 relative: ADX/DI, Aroon, CCI and the regression slope
agree bit for bit in practice, while TA-Lib's x86-64 build fuses SAR's ``sar + af·(ep - sar)``
into an FMA instruction, which moves the last bit.
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
from tests.kit.indicator_data import (
    OHLCV,
    assert_same_numbers,
    each_output,
    first_valid,
    make_ohlcv,
    ohlcv_arrays,
    stream_values,
)


@dataclass(frozen=True)
class Spec:
    """How to run one indicator in batch, streaming and TA-Lib form for a given period."""

    name: str
    batch: Callable[[OHLCV, int], Any]
    stream: Callable[[OHLCV, int], Any]
    oracle: Callable[[OHLCV, int], Any]


def _hlc(bars: OHLCV) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return bars.high, bars.low, bars.close


def _sar_parameters(period: int) -> tuple[float, float]:
    """Map the drawn period onto SAR factors, including acceleration > maximum."""
    drawn = min(period, 40)
    return drawn / 200.0, (41 - drawn) / 100.0


SPECS = [
    Spec(
        "adx",
        lambda bars, period: adx(*_hlc(bars), period),
        lambda bars, period: stream_values(AverageDirectionalIndex(period), *_hlc(bars)),
        lambda bars, period: talib.ADX(*_hlc(bars), period),
    ),
    Spec(
        "plus_di",
        lambda bars, period: plus_di(*_hlc(bars), period),
        lambda bars, period: stream_values(PlusDirectionalIndicator(period), *_hlc(bars)),
        lambda bars, period: talib.PLUS_DI(*_hlc(bars), period),
    ),
    Spec(
        "minus_di",
        lambda bars, period: minus_di(*_hlc(bars), period),
        lambda bars, period: stream_values(MinusDirectionalIndicator(period), *_hlc(bars)),
        lambda bars, period: talib.MINUS_DI(*_hlc(bars), period),
    ),
    Spec(
        "dmi",
        lambda bars, period: dmi(*_hlc(bars), period),
        lambda bars, period: stream_values(DirectionalMovementIndex(period), *_hlc(bars)),
        lambda bars, period: (
            talib.ADX(*_hlc(bars), period),
            talib.PLUS_DI(*_hlc(bars), period),
            talib.MINUS_DI(*_hlc(bars), period),
        ),
    ),
    Spec(
        "aroon",
        lambda bars, period: aroon(bars.high, bars.low, period),
        lambda bars, period: stream_values(Aroon(period), bars.high, bars.low),
        lambda bars, period: talib.AROON(bars.high, bars.low, period),
    ),
    Spec(
        "aroonosc",
        lambda bars, period: aroonosc(bars.high, bars.low, period),
        lambda bars, period: stream_values(AroonOscillator(period), bars.high, bars.low),
        lambda bars, period: talib.AROONOSC(bars.high, bars.low, period),
    ),
    Spec(
        "cci",
        lambda bars, period: cci(*_hlc(bars), period),
        lambda bars, period: stream_values(CommodityChannelIndex(period), *_hlc(bars)),
        lambda bars, period: talib.CCI(*_hlc(bars), period),
    ),
    Spec(
        "sar",
        lambda bars, period: sar(bars.high, bars.low, *_sar_parameters(period)),
        lambda bars, period: stream_values(
            ParabolicStopAndReverse(*_sar_parameters(period)), bars.high, bars.low
        ),
        lambda bars, period: talib.SAR(bars.high, bars.low, *_sar_parameters(period)),
    ),
    Spec(
        "linearreg_slope",
        lambda bars, period: linearreg_slope(bars.close, period),
        lambda bars, period: stream_values(LinearRegressionSlope(period), bars.close),
        lambda bars, period: talib.LINEARREG_SLOPE(bars.close, period),
    ),
]
IDS = [spec.name for spec in SPECS]


def assert_outputs(ours: Any, theirs: Any, **tolerance: Any) -> None:
    """Compare every output of a (possibly multi-output) result."""
    left, right = each_output(ours), each_output(theirs)
    assert len(left) == len(right)
    for mine, other in zip(left, right, strict=True):
        assert_same_numbers(mine, other, **tolerance)


def _columns(bars: OHLCV) -> tuple[Any, ...]:
    return bars.open, bars.high, bars.low, bars.close, bars.volume


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@settings(max_examples=50, deadline=None)
@given(bars=ohlcv_arrays(), period=st.integers(2, 40))
def test_streaming_equals_batch_bit_for_bit(spec: Spec, bars: OHLCV, period: int):
    assert_outputs(spec.stream(bars, period), spec.batch(bars, period))


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@settings(max_examples=50, deadline=None)
@given(bars=ohlcv_arrays(min_size=50), period=st.integers(2, 40))
def test_batch_matches_talib_on_random_data(spec: Spec, bars: OHLCV, period: int):
    assert_outputs(spec.batch(bars, period), spec.oracle(bars, period), relative=1e-9)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@pytest.mark.parametrize("period", [5, 14, 50])
def test_batch_matches_talib_on_real_data(spec: Spec, spx_ohlcv: OHLCV, period: int):
    assert_outputs(spec.batch(spx_ohlcv, period), spec.oracle(spx_ohlcv, period), relative=1e-9)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_output_kind_follows_input_kind(spec: Spec):
    bars = make_ohlcv(60, seed=3)
    expected = each_output(spec.batch(bars, 10))
    as_pandas = OHLCV(
        *(pd.Series(column, index=pd.RangeIndex(100, 160)) for column in _columns(bars))
    )
    for output, reference in zip(_raw(spec.batch(as_pandas, 10)), expected, strict=True):
        assert isinstance(output, pd.Series)
        assert list(output.index) == list(range(100, 160))
        assert_same_numbers(output.to_numpy(), reference)
    as_polars = OHLCV(*(pl.Series(column) for column in _columns(bars)))
    for output, reference in zip(_raw(spec.batch(as_polars, 10)), expected, strict=True):
        assert isinstance(output, pl.Series)
        assert output.null_count() == int(np.isnan(reference).sum())
        assert_same_numbers(output.fill_null(np.nan).to_numpy(), reference)


def _raw(result: Any) -> list[Any]:
    return list(result) if isinstance(result, tuple) else [result]


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_leading_nan_is_skipped_and_later_nan_refused(spec: Spec):
    bars = make_ohlcv(80, seed=4)
    padded = OHLCV(*(np.concatenate([[np.nan] * 5, column]) for column in _columns(bars)))
    for shifted, plain in zip(
        each_output(spec.batch(padded, 10)), each_output(spec.batch(bars, 10)), strict=True
    ):
        assert np.isnan(shifted[:5]).all()
        assert_same_numbers(shifted[5:], plain)
    broken = OHLCV(*(column.copy() for column in _columns(bars)))
    broken.close[17] = broken.high[17] = np.nan
    with pytest.raises(DataError, match="non-finite") as caught:
        spec.batch(broken, 10)
    assert caught.value.issues[0].row == 17
    infinite = OHLCV(*(column[:3].copy() for column in _columns(bars)))
    infinite.close[2] = infinite.high[2] = np.inf
    with pytest.raises(DataError, match="non-finite"):
        spec.stream(infinite, 2)


MULTI_INPUT = [spec for spec in SPECS if spec.name != "linearreg_slope"]


@pytest.mark.parametrize("spec", MULTI_INPUT, ids=[spec.name for spec in MULTI_INPUT])
def test_unequal_lengths_are_refused(spec: Spec):
    bars = make_ohlcv(30, seed=5)
    short = OHLCV(bars.open, bars.high[:-1], bars.low, bars.close[:-2], bars.volume)
    with pytest.raises(DataError, match="equal lengths"):
        spec.batch(short, 5)


PERIODIC: list[tuple[Callable[[Any], Any], Callable[[Any], Any]]] = [
    (lambda p: adx(np.ones(9), np.ones(9), np.ones(9), p), AverageDirectionalIndex),
    (lambda p: plus_di(np.ones(9), np.ones(9), np.ones(9), p), PlusDirectionalIndicator),
    (lambda p: minus_di(np.ones(9), np.ones(9), np.ones(9), p), MinusDirectionalIndicator),
    (lambda p: dmi(np.ones(9), np.ones(9), np.ones(9), p), DirectionalMovementIndex),
    (lambda p: aroon(np.ones(9), np.ones(9), p), Aroon),
    (lambda p: aroonosc(np.ones(9), np.ones(9), p), AroonOscillator),
    (lambda p: cci(np.ones(9), np.ones(9), np.ones(9), p), CommodityChannelIndex),
    (lambda p: linearreg_slope(np.ones(9), p), LinearRegressionSlope),
]


@pytest.mark.parametrize(("batch", "streaming"), PERIODIC)
@pytest.mark.parametrize("period", [1, 0, -3, 2.5, True])
def test_bad_period_is_a_config_error(batch, streaming, period):
    with pytest.raises(ConfigError, match="period"):
        batch(period)
    with pytest.raises(ConfigError, match="period"):
        streaming(period)


@pytest.mark.parametrize(
    ("acceleration", "maximum", "name"),
    [(-0.1, 0.2, "acceleration"), (0.02, -1.0, "maximum"), (float("nan"), 0.2, "acceleration")],
)
def test_bad_sar_factors_are_config_errors(acceleration, maximum, name):
    with pytest.raises(ConfigError, match=name):
        sar(np.ones(5), np.ones(5), acceleration, maximum)
    with pytest.raises(ConfigError, match=name):
        ParabolicStopAndReverse(acceleration, maximum)


@pytest.mark.parametrize("definition", DEFINITIONS, ids=[item.name for item in DEFINITIONS])
def test_declared_lookback_is_the_first_valid_index(definition):
    bars = make_ohlcv(300, seed=6)
    columns = {"high": bars.high, "low": bars.low, "close": bars.close}
    parameters = definition.parameters()
    result = definition.batch(*(columns[name] for name in definition.inputs), **parameters)
    outputs = each_output(result)
    assert len(outputs) == len(definition.outputs)
    lookback = definition.lookback(**parameters)
    assert first_valid(outputs[0]) == lookback
    assert all(first_valid(output) <= lookback for output in outputs)
    streamed = stream_values(
        definition.streaming(**parameters), *(columns[name] for name in definition.inputs)
    )
    assert_outputs(streamed, result)


@pytest.mark.parametrize(
    ("name", "talib_function", "parameters"),
    [
        ("adx", talib.ADX, {"period": 14}),
        ("plus_di", talib.PLUS_DI, {"period": 9}),
        ("minus_di", talib.MINUS_DI, {"period": 9}),
        ("aroon", talib.AROON, {"period": 14}),
        ("aroonosc", talib.AROONOSC, {"period": 25}),
        ("cci", talib.CCI, {"period": 20}),
        ("sar", talib.SAR, {}),
        ("linearreg_slope", talib.LINEARREG_SLOPE, {"period": 14}),
    ],
)
def test_lookback_equals_talib(name, talib_function, parameters):
    definition = {item.name: item for item in DEFINITIONS}[name]
    bars = make_ohlcv(100, seed=7)
    inputs = [getattr(bars, column) for column in definition.inputs]
    theirs = talib_function(*inputs, *parameters.values())
    assert definition.lookback(**definition.parameters(**parameters)) == first_valid(
        each_output(theirs)[0]
    )


@pytest.mark.parametrize("name", ["adx", "plus_di", "dmi"])
def test_warmup_makes_the_start_irrelevant(name):
    definition = {item.name: item for item in DEFINITIONS}[name]
    warmup = definition.warmup(period=14)
    assert warmup > definition.lookback(period=14)
    bars = make_ohlcv(3000, seed=9)
    full = each_output(definition.batch(*_hlc(bars), 14))
    late = each_output(definition.batch(*(column[500:] for column in _hlc(bars)), 14))
    for whole, started_late in zip(full, late, strict=True):
        np.testing.assert_allclose(started_late[warmup:], whole[500:][warmup:], rtol=1e-5)


@settings(max_examples=50, deadline=None)
@given(
    highs=st.lists(st.integers(0, 4), min_size=3, max_size=80),
    period=st.integers(2, 10),
)
def test_aroon_ties_favour_the_most_recent_extreme(highs: list[int], period: int):
    high = np.array(highs, dtype=np.float64)
    low = high - np.array([(index * 7) % 3 for index in range(len(high))], dtype=np.float64)
    down, up = aroon(high, low, period)
    assert_outputs((down, up), talib.AROON(high, low, period))
    assert_outputs(stream_values(Aroon(period), high, low), (down, up))
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
    results = [system.update(*row) for row in zip(*_hlc(bars), strict=True)]
    assert np.isnan(results[4].plus_di)
    assert not np.isnan(results[5].plus_di)
    assert np.isnan(results[8].adx)
    assert not np.isnan(results[9].adx)
    assert system.ready
    assert system.value == results[-1]


@pytest.fixture(scope="module")
def spx_ohlcv(spx_bars: pd.DataFrame) -> OHLCV:
    """Return the real S&P 500 daily bars as OHLCV arrays."""

    def column(name: str) -> np.ndarray:
        return spx_bars[name].to_numpy(dtype=np.float64)

    return OHLCV(column("Open"), column("High"), column("Low"), column("Close"), column("Volume"))
