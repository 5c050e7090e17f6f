"""Compiled kernels for volume indicators: NumPy arrays in, new arrays out.

OBV, A/D, the Chaikin oscillator and MFI reproduce TA-Lib's C code step for step (same
operations in the same order), so results match TA-Lib and the streaming classes bit for bit.
Inputs start at index ``start`` (the first index where every input is finite); everything before
the first valid output is NaN.
"""

import math

import numba
import numpy as np

TA_EPSILON = 1e-14
"""TA-Lib's ``TA_EPSILON``: the relative dead-zone MFI uses to call two typical prices equal."""


@numba.njit(cache=True)
def obv_nb(close: np.ndarray, volume: np.ndarray, start: int) -> np.ndarray:
    """Return on-balance volume; the first value is the first bar's volume, as in TA-Lib."""
    size = close.shape[0]
    out = np.full(size, np.nan)
    if start >= size:
        return out
    running = volume[start]
    previous = close[start]
    for index in range(start, size):
        current = close[index]
        if current > previous:
            running += volume[index]
        elif current < previous:
            running -= volume[index]
        out[index] = running
        previous = current
    return out


@numba.njit(cache=True)
def money_flow_volume_nb(high: float, low: float, close: float, volume: float) -> float:
    """Return one bar's A/D contribution: the close location value times volume (0 if H == L)."""
    spread = high - low
    if spread > 0.0:
        return (close - low - (high - close)) / spread * volume
    return 0.0


@numba.njit(cache=True)
def ad_nb(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray, start: int
) -> np.ndarray:
    """Return the Chaikin accumulation/distribution line, summed from ``start`` as in TA-Lib."""
    size = close.shape[0]
    out = np.full(size, np.nan)
    total = 0.0
    for index in range(start, size):
        total += money_flow_volume_nb(high[index], low[index], close[index], volume[index])
        out[index] = total
    return out


@numba.njit(cache=True)
def adosc_nb(  # noqa: PLR0917 - kernels take their arrays positionally
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
    start: int,
    fast_period: int,
    slow_period: int,
) -> np.ndarray:
    """Return EMA(fast) - EMA(slow) of the A/D line, both EMAs seeded with its first value.

    TA-Lib writes the EMA step as ``k * ad + (1 - k) * ema`` here (not the ``(x - ema) * k + ema``
    of its EMA function); the first output is at ``start + max(fast, slow) - 1``.
    """
    size = close.shape[0]
    out = np.full(size, np.nan)
    first = start + max(fast_period, slow_period) - 1
    if first >= size:
        return out
    fast_k = 2.0 / (fast_period + 1.0)
    one_minus_fast_k = 1.0 - fast_k
    slow_k = 2.0 / (slow_period + 1.0)
    one_minus_slow_k = 1.0 - slow_k
    total = 0.0
    total += money_flow_volume_nb(high[start], low[start], close[start], volume[start])
    fast = total
    slow = total
    for index in range(start + 1, size):
        total += money_flow_volume_nb(high[index], low[index], close[index], volume[index])
        fast = fast_k * total + one_minus_fast_k * fast
        slow = slow_k * total + one_minus_slow_k * slow
        if index >= first:
            out[index] = fast - slow
    return out


@numba.njit(cache=True)
def typical_price_nb(high: float, low: float, close: float) -> float:
    """Return the typical price ``(high + low + close) / 3``."""
    return (high + low + close) / 3.0


@numba.njit(cache=True)
def mfi_ratio_nb(positive: float, negative: float) -> float:
    """Return ``100 * positive / (positive + negative)`` with TA-Lib's clamp and 0/0 → 0."""
    total = positive + negative
    if positive < 0.0:
        clamped = 0.0
    elif positive > total:
        clamped = total
    else:
        clamped = positive
    if total <= 0.0:
        return 0.0
    return 100.0 * (clamped / total)


@numba.njit(cache=True)
def mfi_nb(  # noqa: PLR0917 - kernels take their arrays positionally
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
    start: int,
    period: int,
) -> np.ndarray:
    """Return the money flow index over ``period`` typical-price changes, as TA-Lib.

    A bar's money flow counts as zero when its typical price equals the previous one within
    TA-Lib's scaled dead-zone (``|Δ| <= 1e-14 * (|tp| + |tp_prev|)``); a flow with ``Δ >= 0``
    goes to the positive side. After ``period`` bars in a row without money flow the running
    sums are reset to exactly zero, and an empty window gives 0.
    """
    size = close.shape[0]
    out = np.full(size, np.nan)
    if start + period >= size:
        return out
    positive_ring = np.zeros(period)
    negative_ring = np.zeros(period)
    slot = 0
    positive = 0.0
    negative = 0.0
    null_run = 0
    previous = typical_price_nb(high[start], low[start], close[start])
    for index in range(start + 1, size):
        positive -= positive_ring[slot]
        negative -= negative_ring[slot]
        typical = typical_price_nb(high[index], low[index], close[index])
        change = typical - previous
        scale = math.fabs(typical) + math.fabs(previous)
        previous = typical
        flow = typical * volume[index]
        if math.fabs(change) <= TA_EPSILON * scale:
            flow = 0.0
        positive_flow = 0.0 if change < 0.0 else flow
        negative_flow = flow if change < 0.0 else 0.0
        positive_ring[slot] = positive_flow
        negative_ring[slot] = negative_flow
        positive += positive_flow
        negative += negative_flow
        null_run = null_run + 1 if flow == 0.0 else 0
        if null_run >= period:
            null_run = period
            positive = 0.0
            negative = 0.0
        if index >= start + period:
            out[index] = mfi_ratio_nb(positive, negative)
        slot += 1
        if slot == period:
            slot = 0
    return out


@numba.njit(cache=True)
def vwap_nb(  # noqa: PLR0917 - kernels take their arrays positionally
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
    new_session: np.ndarray,
    start: int,
) -> np.ndarray:
    """Return Σ(typical price × volume) / Σ volume, both sums reset where ``new_session`` is set.

    NaN while the session's cumulative volume is not positive.
    """
    size = close.shape[0]
    out = np.full(size, np.nan)
    weighted = 0.0
    total = 0.0
    for index in range(start, size):
        if new_session[index] or index == start:
            weighted = 0.0
            total = 0.0
        typical = typical_price_nb(high[index], low[index], close[index])
        weighted += typical * volume[index]
        total += volume[index]
        if total > 0.0:
            out[index] = weighted / total
    return out
