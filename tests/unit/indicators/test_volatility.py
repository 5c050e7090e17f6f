"""Volatility indicators: batch equals streaming, both match TA-Lib (or a plain oracle).

Batch and streaming are compared bit for bit: both run the same operations in the same order.
Against TA-Lib the tolerance is 1e-9 relative: TA, VAR, STDDEV and BBANDS agree bit for bit in
practice, while TA-Lib's x86-64 build fuses the ATR's Wilder step (and EMA's) into an FMA
instruction, which moves the last bit. Donchian and Keltner channels are not in TA-Lib: the
oracles are pandas rolling max/min and a composition of ``talib.EMA`` and ``talib.ATR``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st

from quantstrata.core.errors import ConfigError, DataError
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
from tests.kit.indicator_data import (
    OHLCV,
    assert_same_numbers,
    each_output,
    first_valid,
    make_ohlcv,
    ohlcv_arrays,
    stream_values,
)

KELTNER_ATR_PERIOD = 7


@dataclass(frozen=True)
class Spec:
    """How to run one indicator in batch, streaming and oracle form for a given period."""

    name: str
    batch: Callable[[OHLCV, int], Any]
    stream: Callable[[OHLCV, int], Any]
    oracle: Callable[[OHLCV, int], Any]
    minimum_period: int = 1


def _hlc(bars: OHLCV) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return bars.high, bars.low, bars.close


def _donchian_oracle(bars: OHLCV, period: int) -> tuple[np.ndarray, ...]:
    upper = pd.Series(bars.high).rolling(period).max().to_numpy()
    lower = pd.Series(bars.low).rolling(period).min().to_numpy()
    return upper, (upper + lower) / 2.0, lower


def _keltner_oracle(bars: OHLCV, period: int) -> tuple[np.ndarray, ...]:
    middle = talib.EMA(bars.close, period)
    width = talib.ATR(*_hlc(bars), KELTNER_ATR_PERIOD)
    middle = np.where(np.isnan(width), np.nan, middle)
    return middle + 2.0 * width, middle, middle - 2.0 * width


SPECS = [
    Spec(
        "trange",
        lambda bars, period: trange(*_hlc(bars)),
        lambda bars, period: stream_values(TrueRange(), *_hlc(bars)),
        lambda bars, period: talib.TRANGE(*_hlc(bars)),
    ),
    Spec(
        "atr",
        lambda bars, period: atr(*_hlc(bars), period),
        lambda bars, period: stream_values(AverageTrueRange(period), *_hlc(bars)),
        lambda bars, period: talib.ATR(*_hlc(bars), period),
    ),
    Spec(
        "natr",
        lambda bars, period: natr(*_hlc(bars), period),
        lambda bars, period: stream_values(NormalizedAverageTrueRange(period), *_hlc(bars)),
        lambda bars, period: talib.NATR(*_hlc(bars), period),
        minimum_period=2,
    ),
    Spec(
        "var",
        lambda bars, period: var(bars.close, period),
        lambda bars, period: stream_values(Variance(period), bars.close),
        lambda bars, period: talib.VAR(bars.close, period),
    ),
    Spec(
        "stddev",
        lambda bars, period: stddev(bars.close, period, 1.5),
        lambda bars, period: stream_values(StandardDeviation(period, 1.5), bars.close),
        lambda bars, period: talib.STDDEV(bars.close, period, 1.5),
        minimum_period=2,
    ),
    Spec(
        "bbands",
        lambda bars, period: bbands(bars.close, period, 2.0, 1.5),
        lambda bars, period: stream_values(BollingerBands(period, 2.0, 1.5), bars.close),
        lambda bars, period: talib.BBANDS(bars.close, period, 2.0, 1.5, 0),
        minimum_period=2,
    ),
    Spec(
        "donchian",
        lambda bars, period: donchian(bars.high, bars.low, period),
        lambda bars, period: stream_values(DonchianChannels(period), bars.high, bars.low),
        _donchian_oracle,
    ),
    Spec(
        "keltner",
        lambda bars, period: keltner(*_hlc(bars), period, atr_period=KELTNER_ATR_PERIOD),
        lambda bars, period: stream_values(
            KeltnerChannels(period, KELTNER_ATR_PERIOD), *_hlc(bars)
        ),
        _keltner_oracle,
    ),
]
IDS = [spec.name for spec in SPECS]


def assert_outputs(ours: Any, theirs: Any, **tolerance: Any) -> None:
    """Compare every output of a (possibly multi-output) result."""
    left, right = each_output(ours), each_output(theirs)
    assert len(left) == len(right)
    for mine, other in zip(left, right, strict=True):
        assert_same_numbers(mine, other, **tolerance)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@settings(max_examples=50, deadline=None)
@given(bars=ohlcv_arrays(), period=st.integers(1, 40))
def test_streaming_equals_batch_bit_for_bit(spec: Spec, bars: OHLCV, period: int):
    period = max(period, spec.minimum_period)
    assert_outputs(spec.stream(bars, period), spec.batch(bars, period))


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@settings(max_examples=50, deadline=None)
@given(bars=ohlcv_arrays(min_size=50), period=st.integers(1, 40))
def test_batch_matches_oracle_on_random_data(spec: Spec, bars: OHLCV, period: int):
    period = max(period, spec.minimum_period)
    assert_outputs(spec.batch(bars, period), spec.oracle(bars, period), relative=1e-9)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@pytest.mark.parametrize("period", [5, 14, 50])
def test_batch_matches_oracle_on_real_data(spec: Spec, spx_ohlcv: OHLCV, period: int):
    assert_outputs(spec.batch(spx_ohlcv, period), spec.oracle(spx_ohlcv, period), relative=1e-9)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_output_kind_follows_input_kind(spec: Spec):
    bars = make_ohlcv(60, seed=3)
    expected = each_output(spec.batch(bars, 10))
    as_pandas = OHLCV(
        *(pd.Series(column, index=pd.RangeIndex(100, 160)) for column in _columns(bars))
    )
    for output, reference in zip(each_output_raw(spec.batch(as_pandas, 10)), expected, strict=True):
        assert isinstance(output, pd.Series)
        assert list(output.index) == list(range(100, 160))
        assert_same_numbers(output.to_numpy(), reference)
    as_polars = OHLCV(*(pl.Series(column) for column in _columns(bars)))
    for output, reference in zip(each_output_raw(spec.batch(as_polars, 10)), expected, strict=True):
        assert isinstance(output, pl.Series)
        assert output.null_count() == int(np.isnan(reference).sum())
        assert_same_numbers(output.fill_null(np.nan).to_numpy(), reference)


def _columns(bars: OHLCV) -> tuple[np.ndarray, ...]:
    return bars.open, bars.high, bars.low, bars.close, bars.volume


def each_output_raw(result: Any) -> list[Any]:
    """Return the outputs without converting them (to check their container kind)."""
    return list(result) if isinstance(result, tuple) else [result]


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_leading_nan_is_skipped_and_later_nan_refused(spec: Spec):
    bars = make_ohlcv(60, seed=4)
    padded = OHLCV(*(np.concatenate([[np.nan] * 5, column]) for column in _columns(bars)))
    for shifted, plain in zip(
        each_output(spec.batch(padded, 10)), each_output(spec.batch(bars, 10)), strict=True
    ):
        assert np.isnan(shifted[:5]).all()
        assert_same_numbers(shifted[5:], plain)
    broken = OHLCV(*(column.copy() for column in _columns(bars)))
    broken.close[17] = np.nan
    broken.high[17] = np.nan
    with pytest.raises(DataError, match="non-finite") as caught:
        spec.batch(broken, 10)
    assert caught.value.issues[0].row == 17
    infinite = OHLCV(*(column[:3].copy() for column in _columns(bars)))
    infinite.close[2] = infinite.high[2] = np.inf
    with pytest.raises(DataError, match="non-finite"):
        spec.stream(infinite, 2)


MULTI_INPUT = [spec for spec in SPECS if spec.name not in {"var", "stddev", "bbands"}]


@pytest.mark.parametrize("spec", MULTI_INPUT, ids=[spec.name for spec in MULTI_INPUT])
def test_unequal_lengths_are_refused(spec: Spec):
    bars = make_ohlcv(30, seed=5)
    short = OHLCV(bars.open, bars.high[:-1], bars.low, bars.close[:-2], bars.volume)
    with pytest.raises(DataError, match="equal lengths"):
        spec.batch(short, 5)


BATCH_PERIODS: list[tuple[str, Callable[..., Any], Callable[..., Any], int]] = [
    ("atr", lambda p: atr(np.ones(9), np.ones(9), np.ones(9), p), AverageTrueRange, 1),
    ("natr", lambda p: natr(np.ones(9), np.ones(9), np.ones(9), p), NormalizedAverageTrueRange, 1),
    ("var", lambda p: var(np.ones(9), p), Variance, 1),
    ("stddev", lambda p: stddev(np.ones(9), p), StandardDeviation, 2),
    ("bbands", lambda p: bbands(np.ones(9), p), BollingerBands, 2),
    ("donchian", lambda p: donchian(np.ones(9), np.ones(9), p), DonchianChannels, 1),
    ("keltner", lambda p: keltner(np.ones(9), np.ones(9), np.ones(9), p), KeltnerChannels, 1),
]


@pytest.mark.parametrize(("name", "batch", "streaming", "minimum"), BATCH_PERIODS)
@pytest.mark.parametrize("period", [0, -3, 2.5, True, "5"])
def test_bad_period_is_a_config_error(name, batch, streaming, minimum, period):
    with pytest.raises(ConfigError, match="period"):
        batch(period)
    with pytest.raises(ConfigError, match="period"):
        streaming(period)
    if minimum > 1:
        with pytest.raises(ConfigError, match="period"):
            batch(minimum - 1)


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


@pytest.mark.parametrize("definition", DEFINITIONS, ids=[item.name for item in DEFINITIONS])
def test_declared_lookback_is_the_first_valid_index(definition):
    bars = make_ohlcv(300, seed=6)
    columns = {"high": bars.high, "low": bars.low, "close": bars.close}
    parameters = definition.parameters()
    result = definition.batch(*(columns[name] for name in definition.inputs), **parameters)
    outputs = each_output(result)
    assert len(outputs) == len(definition.outputs)
    lookback = definition.lookback(**parameters)
    assert all(first_valid(output) == lookback for output in outputs)
    streamed = stream_values(
        definition.streaming(**parameters), *(columns[name] for name in definition.inputs)
    )
    assert_outputs(streamed, result)


@pytest.mark.parametrize(
    ("name", "talib_function", "parameters"),
    [
        ("trange", talib.TRANGE, {}),
        ("atr", talib.ATR, {"period": 14}),
        ("natr", talib.NATR, {"period": 9}),
        ("var", talib.VAR, {"period": 5}),
        ("stddev", talib.STDDEV, {"period": 7}),
        ("bbands", talib.BBANDS, {"period": 20}),
    ],
)
def test_lookback_equals_talib(name, talib_function, parameters):
    definition = {item.name: item for item in DEFINITIONS}[name]
    bars = make_ohlcv(100, seed=7)
    inputs = [getattr(bars, column) for column in definition.inputs]
    period = parameters.get("period")
    theirs = talib_function(*inputs, period) if period else talib_function(*inputs)
    assert definition.lookback(**definition.parameters(**parameters)) == first_valid(
        each_output(theirs)[0]
    )


@pytest.mark.parametrize(
    ("name", "parameters"), [("atr", {"period": 14}), ("keltner", {"period": 20})]
)
def test_warmup_makes_the_start_irrelevant(name, parameters):
    definition = {item.name: item for item in DEFINITIONS}[name]
    warmup = definition.warmup(**parameters)
    assert warmup > definition.lookback(**definition.parameters(**parameters))
    bars = make_ohlcv(3000, seed=9)
    late = OHLCV(*(column[500:] for column in _columns(bars)))
    function = definition.batch
    columns = ("high", "low", "close")
    full = each_output(function(*(getattr(bars, c) for c in columns), **parameters))
    partial = each_output(function(*(getattr(late, c) for c in columns), **parameters))
    for whole, started_late in zip(full, partial, strict=True):
        np.testing.assert_allclose(started_late[warmup:], whole[500:][warmup:], rtol=1e-5)


def test_streaming_ready_flips_at_the_first_value():
    bars = make_ohlcv(30, seed=10)
    indicator = AverageTrueRange(5)
    states = [indicator.update(*row) for row in zip(*_hlc(bars), strict=True)]
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
    assert_outputs(stream_values(BollingerBands(period), close), bbands(close, period))


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
        upper, middle, lower = keltner(*_hlc(bars), period, atr_period=atr_period)
        first = max(period - 1, atr_period)
        for line in (upper, middle, lower):
            assert first_valid(line) == first
        np.testing.assert_allclose(upper - middle, middle - lower, rtol=1e-12)


@pytest.fixture(scope="module")
def spx_ohlcv(spx_bars: pd.DataFrame) -> OHLCV:
    """Return the real S&P 500 daily bars as OHLCV arrays."""

    def column(name: str) -> np.ndarray:
        return spx_bars[name].to_numpy(dtype=np.float64)

    return OHLCV(column("Open"), column("High"), column("Low"), column("Close"), column("Volume"))
