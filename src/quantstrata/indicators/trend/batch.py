"""Trend indicators over whole arrays: ADX/DMI, Aroon, CCI, Parabolic SAR, regression slope.

Each function accepts NumPy arrays, pandas Series or Polars Series and returns the kind of its
first input (a :class:`~typing.NamedTuple` of them for multi-output indicators). Values before
TA-Lib's lookback are NaN (null for Polars); leading NaN input is skipped (see
:mod:`quantstrata.indicators._inputs`). Every function reproduces TA-Lib 0.8's arithmetic step
for step.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from quantstrata.core.errors import ConfigError
from quantstrata.indicators._inputs import FloatArray, check_period, prepare
from quantstrata.indicators.trend import _nb
from quantstrata.indicators.volatility.batch import check_number, common_start, output_array

__all__ = [
    "AroonResult",
    "DirectionalMovementResult",
    "adx",
    "aroon",
    "aroonosc",
    "cci",
    "check_acceleration",
    "dmi",
    "linearreg_slope",
    "minus_di",
    "plus_di",
    "sar",
]

_PRICES = ("high", "low", "close")


class DirectionalMovementResult(NamedTuple):
    """Wilder's directional movement system: ADX, +DI and -DI."""

    adx: Any
    plus_di: Any
    minus_di: Any


class AroonResult(NamedTuple):
    """Aroon down and up, in TA-Lib's order."""

    down: Any
    up: Any


def dmi(high: Any, low: Any, close: Any, period: int = 14) -> DirectionalMovementResult:
    """Return ADX, +DI and -DI in one pass (Wilder's directional movement system).

    As TA-Lib: +DM/-DM is the larger move outside yesterday's range (the other is 0; both 0 on a
    tie); the DM and true-range sums start as sums of ``period - 1`` one-bar values and are then
    smoothed by ``sum - sum/period + new``. ``DI = 100 · DM_sum / TR_sum`` (0 when the TR sum is
    0) is valid from index ``period``. ``DX = 100·|+DI - -DI| / (+DI + -DI)``; the ADX starts
    as the mean of the first ``period`` DX values (index ``2·period - 1``) and is smoothed by
    ``(adx·(period-1) + dx) / period``; a bar with a zero TR or DI sum leaves it unchanged.
    ``period`` must be ≥ 2 (TA-Lib's one-bar DI is an unsmoothed fraction, not a percentage,
    and is not offered).
    """
    period = check_period(period, minimum=2)
    (high_, low_, close_), kind = prepare(high, low, close, names=_PRICES)
    start = common_start(high_, low_, close_)
    average, plus, minus = (output_array(close_.shape[0]) for _ in range(3))
    _nb.dmi_nb(high_, low_, close_, period, start, average, plus, minus)
    return DirectionalMovementResult(
        kind.wrap(average, name="adx"),
        kind.wrap(plus, name="plus_di"),
        kind.wrap(minus, name="minus_di"),
    )


def adx(high: Any, low: Any, close: Any, period: int = 14) -> Any:
    """Return the average directional index (see :func:`dmi`); first value at ``2·period - 1``."""
    return dmi(high, low, close, period).adx


def plus_di(high: Any, low: Any, close: Any, period: int = 14) -> Any:
    """Return the plus directional indicator +DI (see :func:`dmi`); first value at ``period``."""
    return dmi(high, low, close, period).plus_di


def minus_di(high: Any, low: Any, close: Any, period: int = 14) -> Any:
    """Return the minus directional indicator -DI (see :func:`dmi`); first value at ``period``."""
    return dmi(high, low, close, period).minus_di


def aroon(high: Any, low: Any, period: int = 14) -> AroonResult:
    """Return Aroon down and up: how recent the lowest low and highest high are, in percent.

    Over the last ``period + 1`` bars, ``up = 100 · (period - bars since the highest high) /
    period`` (likewise ``down`` with the lowest low). When the extreme occurs more than once in
    the window, the most recent occurrence counts (TA-Lib's rule). First value at ``period``.
    """
    period = check_period(period, minimum=2)
    (high_, low_), kind = prepare(high, low, names=("high", "low"))
    down, up, _ = _aroon(high_, low_, period)
    return AroonResult(kind.wrap(down, name="down"), kind.wrap(up, name="up"))


def _aroon(high: FloatArray, low: FloatArray, period: int) -> tuple[FloatArray, ...]:
    down, up, oscillator = (output_array(high.shape[0]) for _ in range(3))
    suffix, positions = (np.empty(high.shape[0], dtype=np.int64) for _ in range(2))
    start = common_start(high, low)
    _nb.aroon_nb(high, low, period, start, suffix, positions, down, up, oscillator)
    return down, up, oscillator


def aroonosc(high: Any, low: Any, period: int = 14) -> Any:
    """Return the Aroon oscillator ``up - down`` (computed as ``100·(i_high - i_low)/period``)."""
    period = check_period(period, minimum=2)
    (high_, low_), kind = prepare(high, low, names=("high", "low"))
    return kind.wrap(_aroon(high_, low_, period)[2])


def cci(high: Any, low: Any, close: Any, period: int = 14) -> Any:
    """Return the commodity channel index over the typical price ``(high + low + close) / 3``.

    ``CCI = (typical - mean) / (0.015 · mean absolute deviation)`` over the last ``period``
    bars; 0 when the distance or the deviation is within 1e-14 of the mean price level (a flat
    window), as TA-Lib 0.8. The mean absolute deviation has no running form, so each bar costs
    O(period).
    """
    period = check_period(period, minimum=2)
    (high_, low_, close_), kind = prepare(high, low, close, names=_PRICES)
    out = output_array(close_.shape[0])
    _nb.cci_nb(high_, low_, close_, period, common_start(high_, low_, close_), out)
    return kind.wrap(out)


def check_acceleration(acceleration: float, maximum: float) -> tuple[float, float]:
    """Return the SAR factors as floats, refusing negative or non-finite ones with ConfigError."""
    acceleration = check_number(acceleration, "acceleration")
    maximum = check_number(maximum, "maximum")
    for name, value in (("acceleration", acceleration), ("maximum", maximum)):
        if value < 0.0:
            raise ConfigError(f"{name} must be >= 0, got {value}")
    return acceleration, maximum


def sar(high: Any, low: Any, acceleration: float = 0.02, maximum: float = 0.2) -> Any:
    """Return Wilder's Parabolic SAR with TA-Lib's start-up rules.

    The first bar is consumed: if the first-to-second bar move is a -DM (the low fell further
    than the high rose, and fell), the trade starts short with SAR = first high and the extreme
    point = second low; otherwise (ties included) long with SAR = first low, extreme = second
    high. The acceleration factor starts at ``acceleration``, grows by it at each new extreme
    up to ``maximum`` (an ``acceleration`` above ``maximum`` is lowered to it), and the SAR never
    enters the current or previous bar's range; a bar touching the SAR reverses the trade and
    outputs the previous extreme point.
    """
    acceleration, maximum = check_acceleration(acceleration, maximum)
    (high_, low_), kind = prepare(high, low, names=("high", "low"))
    out = output_array(high_.shape[0])
    _nb.sar_nb(high_, low_, acceleration, maximum, common_start(high_, low_), out)
    return kind.wrap(out)


def linearreg_slope(close: Any, period: int = 14) -> Any:
    """Return the slope of the least-squares line through the last ``period`` values.

    In price units per bar. Computed, as TA-Lib 0.8, from sliding sums updated in O(1) and
    rebuilt from the window every 32 windows.
    """
    period = check_period(period, minimum=2)
    (values,), kind = prepare(close, names=("close",))
    out = output_array(values.shape[0])
    _nb.linearreg_slope_nb(values, period, common_start(values), out)
    return kind.wrap(out)
