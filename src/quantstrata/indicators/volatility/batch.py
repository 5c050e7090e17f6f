"""Volatility indicators over whole arrays: true range, ATR, bands, channels, dispersion.

Each function accepts NumPy arrays, pandas Series or Polars Series and returns the kind of its
first input (a :class:`~typing.NamedTuple` of them for the banded indicators). Values before the
first full window are NaN (null for Polars); leading NaN input is skipped (see
:mod:`quantstrata.indicators._inputs`). The TA-Lib indicators reproduce TA-Lib 0.8's arithmetic
step for step; Donchian and Keltner channels, which TA-Lib lacks, are defined in their docstrings.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from quantstrata.core.errors import ConfigError
from quantstrata.indicators._inputs import FloatArray, check_period, prepare
from quantstrata.indicators.volatility import _nb

__all__ = [
    "BollingerBandsResult",
    "DonchianResult",
    "KeltnerResult",
    "atr",
    "bbands",
    "check_number",
    "common_start",
    "donchian",
    "keltner",
    "natr",
    "output_array",
    "stddev",
    "trange",
    "var",
]

_PRICES = ("high", "low", "close")


class BollingerBandsResult(NamedTuple):
    """Bollinger Bands: the moving average and the bands a multiple of σ above and below."""

    upper: Any
    middle: Any
    lower: Any


class DonchianResult(NamedTuple):
    """Donchian channels: highest high, midpoint, lowest low."""

    upper: Any
    middle: Any
    lower: Any


class KeltnerResult(NamedTuple):
    """Keltner channels: the EMA and the bands a multiple of the ATR above and below."""

    upper: Any
    middle: Any
    lower: Any


def check_number(value: float, name: str) -> float:
    """Return ``value`` as a float if it is a finite real number; otherwise raise ConfigError."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{name} must be a real number, got {value!r}")
    if not math.isfinite(value):
        raise ConfigError(f"{name} must be finite, got {value!r}")
    return float(value)


def common_start(*arrays: FloatArray) -> int:
    """Return the first index where every input is finite (leading NaN in any input skipped)."""
    return max(_nb.leading_nan_nb(array) for array in arrays)


def output_array(size: int) -> FloatArray:
    """Return an uninitialised float64 array for a kernel to fill (NaN before the first value)."""
    return np.empty(size, dtype=np.float64)


def trange(high: Any, low: Any, close: Any) -> Any:
    """Return the true range: the greatest of high-low, |prev close-high|, |prev close-low|.

    The first bar has no previous close, so its value is NaN (TA-Lib's lookback 1).
    """
    (high_, low_, close_), kind = prepare(high, low, close, names=_PRICES)
    out = output_array(close_.shape[0])
    _nb.trange_nb(high_, low_, close_, common_start(high_, low_, close_), out)
    return kind.wrap(out)


def atr(high: Any, low: Any, close: Any, period: int = 14) -> Any:
    """Return Wilder's average true range.

    As in TA-Lib, the first value (index ``period``) is the mean of the first ``period`` true
    ranges; after that ``atr = (1 - 1/period)·atr + (1/period)·true_range``, with the weights
    computed as ``beta = (period-1)/period`` and ``alpha = 1 - beta`` like TA-Lib 0.8. The seed
    then decays by ``1 - 1/period`` per bar.
    """
    period = check_period(period)
    (high_, low_, close_), kind = prepare(high, low, close, names=_PRICES)
    out = output_array(close_.shape[0])
    _nb.atr_nb(high_, low_, close_, period, common_start(high_, low_, close_), out)
    return kind.wrap(out)


def natr(high: Any, low: Any, close: Any, period: int = 14) -> Any:
    """Return the ATR as a percentage of the close: ``atr / close * 100`` (0 where close is 0).

    For ``period == 1`` TA-Lib returns the *raw* true range, un-normalised; this function
    normalises every period alike (``true_range / close * 100``).
    """
    period = check_period(period)
    (high_, low_, close_), kind = prepare(high, low, close, names=_PRICES)
    out = output_array(close_.shape[0])
    _nb.natr_nb(high_, low_, close_, period, common_start(high_, low_, close_), out)
    return kind.wrap(out)


def var(close: Any, period: int = 5) -> Any:
    """Return the rolling population variance (divides by ``period``), as TA-Lib's VAR.

    TA-Lib 0.8 accumulates deviations from a shift near the window and re-anchors the shift
    when cancellation threatens (and at least every 32 windows), so the variance stays accurate
    at high price levels and is exactly 0 on a flat window; this function does the same. TA-Lib's
    ``nbdev`` argument of VAR has no effect there and is not offered here.
    """
    period = check_period(period)
    (values,), kind = prepare(close, names=("close",))
    out = output_array(values.shape[0])
    _nb.var_nb(values, period, common_start(values), out)
    return kind.wrap(out)


def stddev(close: Any, period: int = 5, deviations: float = 1.0) -> Any:
    """Return ``deviations`` × the rolling population standard deviation (TA-Lib's STDDEV)."""
    period = check_period(period, minimum=2)
    deviations = check_number(deviations, "deviations")
    (values,), kind = prepare(close, names=("close",))
    out = output_array(values.shape[0])
    _nb.stddev_nb(values, period, common_start(values), deviations, out)
    return kind.wrap(out)


def bbands(
    close: Any, period: int = 20, deviations_up: float = 2.0, deviations_down: float = 2.0
) -> BollingerBandsResult:
    """Return Bollinger Bands: SMA(period) ± deviations × population σ over the same window.

    Matches TA-Lib's BBANDS with its default moving-average type (SMA); σ is TA-Lib's shifted,
    re-anchored population standard deviation (see :func:`var`). The default period follows the
    installed TA-Lib (20).
    """
    period = check_period(period, minimum=2)
    up = check_number(deviations_up, "deviations_up")
    down = check_number(deviations_down, "deviations_down")
    (values,), kind = prepare(close, names=("close",))
    upper, middle, lower = (output_array(values.shape[0]) for _ in range(3))
    _nb.bbands_nb(values, period, common_start(values), up, down, upper, middle, lower)
    return BollingerBandsResult(
        kind.wrap(upper, name="upper"),
        kind.wrap(middle, name="middle"),
        kind.wrap(lower, name="lower"),
    )


def donchian(high: Any, low: Any, period: int = 20) -> DonchianResult:
    """Return Donchian channels over the last ``period`` bars, *including the current bar*.

    ``upper`` is the highest high and ``lower`` the lowest low of bars ``t-period+1 … t``;
    ``middle`` is their midpoint. Including bar ``t`` is the usual charting definition (the
    channel then always contains the bar's range, and the value is known at the bar's close);
    for a breakout rule compare the close with the *previous* bar's channel (``upper[t-1]``),
    since ``high[t] > upper[t]`` can never hold. TA-Lib has no Donchian channel; the test oracle
    is pandas' ``rolling(period).max()/min()``.
    """
    period = check_period(period)
    (high_, low_), kind = prepare(high, low, names=("high", "low"))
    upper, middle, lower = (output_array(high_.shape[0]) for _ in range(3))
    suffix, positions = (np.empty(high_.shape[0], dtype=np.int64) for _ in range(2))
    start = common_start(high_, low_)
    _nb.donchian_nb(high_, low_, period, start, suffix, positions, upper, middle, lower)
    return DonchianResult(
        kind.wrap(upper, name="upper"),
        kind.wrap(middle, name="middle"),
        kind.wrap(lower, name="lower"),
    )


def keltner(
    high: Any,
    low: Any,
    close: Any,
    period: int = 20,
    *,
    atr_period: int = 10,
    multiplier: float = 2.0,
) -> KeltnerResult:
    """Return Keltner channels: ``EMA(close, period) ± multiplier × ATR(atr_period)``.

    This is the modern (Raschke) definition: the middle line is TA-Lib's EMA (seeded with the
    mean of the first ``period`` closes, then ``((close - ema) · k) + ema`` with
    ``k = 2 / (period + 1)``) and the width is :func:`atr` (Wilder's ATR with TA-Lib's
    seeding). All three lines start where both parts are valid, at index
    ``max(period - 1, atr_period)``. TA-Lib has no Keltner channel; the test oracle composes
    ``talib.EMA`` and ``talib.ATR``.
    """
    period = check_period(period)
    atr_period = check_period(atr_period, "atr_period")
    multiplier = check_number(multiplier, "multiplier")
    (high_, low_, close_), kind = prepare(high, low, close, names=_PRICES)
    start = common_start(high_, low_, close_)
    upper, middle, lower = (output_array(close_.shape[0]) for _ in range(3))
    _nb.keltner_nb(high_, low_, close_, period, atr_period, multiplier, start, upper, middle, lower)
    return KeltnerResult(
        kind.wrap(upper, name="upper"),
        kind.wrap(middle, name="middle"),
        kind.wrap(lower, name="lower"),
    )
