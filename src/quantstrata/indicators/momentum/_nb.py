"""Compiled kernels for momentum oscillators: NumPy arrays in, filled output arrays out.

Each kernel follows TA-Lib's arithmetic step for step (same operations in the same order), so
results match TA-Lib and equal the streaming classes bit for bit. Inputs start at index ``start``
(the first finite value); everything before the first valid output is NaN. Outputs are
allocated by the caller with NumPy, as in :mod:`quantstrata.indicators.moving_average._nb`.
"""

import numba
import numpy as np

from quantstrata.indicators.moving_average._nb import nan_before_nb, sma_nb

RANGE_EPSILON = 1e-14
"""TA-Lib's ``TA_EPSILON``: a high-low range this small relative to its ends counts as flat."""


@numba.njit(cache=True)
def first_gain_loss_nb(values: np.ndarray, period: int, start: int) -> tuple[float, float]:
    """Return the sums of the gains and of the losses over the first ``period`` changes."""
    gain = 0.0
    loss = 0.0
    previous = values[start]
    for index in range(start + 1, start + period + 1):
        change = values[index] - previous
        previous = values[index]
        if change < 0.0:
            loss -= change
        else:
            gain += change
    return gain, loss


@numba.njit(cache=True)
def rsi_nb(values: np.ndarray, period: int, start: int, out: np.ndarray) -> np.ndarray:
    """Return Wilder's RSI ``100 * (gain / (gain + loss))``, 0 where nothing changed.

    Average gain and loss start as the means of the first ``period`` changes and are then
    ``(previous * (period - 1) + change) * (1 / period)``. TA-Lib 0.8 multiplies by the
    reciprocal (seed included), where its CMO divides; both are followed exactly.
    """
    size = values.shape[0]
    first = start + period
    if nan_before_nb(out, first):
        return out
    inverse = 1.0 / period
    keep = period - 1
    gain, loss = first_gain_loss_nb(values, period, start)
    loss *= inverse
    gain *= inverse
    out[first] = strength_nb(gain, loss)
    previous = values[first]
    for index in range(first + 1, size):
        change = values[index] - previous
        previous = values[index]
        loss *= keep
        gain *= keep
        if change < 0.0:
            loss -= change
        else:
            gain += change
        loss *= inverse
        gain *= inverse
        out[index] = strength_nb(gain, loss)
    return out


@numba.njit(cache=True)
def strength_nb(gain: float, loss: float) -> float:
    """Return ``100 * (gain / (gain + loss))``, or 0 when both are 0."""
    total = gain + loss
    if total > 0.0:
        return 100.0 * (gain / total)
    return 0.0


@numba.njit(cache=True)
def cmo_nb(values: np.ndarray, period: int, start: int, out: np.ndarray) -> np.ndarray:
    """Return Chande's oscillator ``100 * ((gain - loss) / (gain + loss))`` with Wilder smoothing.

    Same averages as :func:`rsi_nb` but divided by ``period`` (TA-Lib's CMO divides).
    """
    size = values.shape[0]
    first = start + period
    if nan_before_nb(out, first):
        return out
    keep = period - 1
    gain, loss = first_gain_loss_nb(values, period, start)
    loss /= period
    gain /= period
    out[first] = balance_nb(gain, loss)
    previous = values[first]
    for index in range(first + 1, size):
        change = values[index] - previous
        previous = values[index]
        loss *= keep
        gain *= keep
        if change < 0.0:
            loss -= change
        else:
            gain += change
        loss /= period
        gain /= period
        out[index] = balance_nb(gain, loss)
    return out


@numba.njit(cache=True)
def balance_nb(gain: float, loss: float) -> float:
    """Return ``100 * ((gain - loss) / (gain + loss))``, or 0 when both are 0."""
    total = gain + loss
    if total > 0.0:
        return 100.0 * ((gain - loss) / total)
    return 0.0


@numba.njit(cache=True)
def macd_nb(  # noqa: PLR0917 - kernels take positional arrays only
    values: np.ndarray,
    fast: int,
    slow: int,
    signal: int,
    start: int,
    line: np.ndarray,
    signal_out: np.ndarray,
    histogram: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return MACD line, signal and histogram with TA-Lib's seeding and alignment.

    Both EMAs produce their first value at the slow EMA's first index: the slow one seeded with
    the mean of the first ``slow`` values, the fast one with the mean of the ``fast`` values
    ending there. The signal EMA of the line is seeded with the mean of its first ``signal``
    values; all three outputs start where the signal does.
    """
    size = values.shape[0]
    seed = start + slow - 1
    first = seed + signal - 1
    nan_before_nb(signal_out, first)
    nan_before_nb(histogram, first)
    if nan_before_nb(line, first):
        return line, signal_out, histogram
    fast_smoothing = 2.0 / (fast + 1)
    slow_smoothing = 2.0 / (slow + 1)
    signal_smoothing = 2.0 / (signal + 1)
    slow_total = 0.0
    for index in range(start, seed + 1):
        slow_total += values[index]
    fast_total = 0.0
    for index in range(seed - fast + 1, seed + 1):
        fast_total += values[index]
    slow_value = slow_total / slow
    fast_value = fast_total / fast
    signal_total = fast_value - slow_value
    for index in range(seed + 1, first + 1):
        value = values[index]
        fast_value = ((value - fast_value) * fast_smoothing) + fast_value
        slow_value = ((value - slow_value) * slow_smoothing) + slow_value
        signal_total += fast_value - slow_value
    signal_value = signal_total / signal
    difference = fast_value - slow_value
    line[first] = difference
    signal_out[first] = signal_value
    histogram[first] = difference - signal_value
    for index in range(first + 1, size):
        value = values[index]
        fast_value = ((value - fast_value) * fast_smoothing) + fast_value
        slow_value = ((value - slow_value) * slow_smoothing) + slow_value
        difference = fast_value - slow_value
        signal_value = ((difference - signal_value) * signal_smoothing) + signal_value
        line[index] = difference
        signal_out[index] = signal_value
        histogram[index] = difference - signal_value
    return line, signal_out, histogram


@numba.njit(cache=True)
def momentum_nb(values: np.ndarray, period: int, start: int, out: np.ndarray) -> np.ndarray:
    """Fill ``out`` with ``x[t] - x[t - period]``."""
    size = values.shape[0]
    nan_before_nb(out, start + period)
    for index in range(start + period, size):
        out[index] = values[index] - values[index - period]
    return out


@numba.njit(cache=True)
def rate_of_change_nb(values: np.ndarray, period: int, start: int, out: np.ndarray) -> np.ndarray:
    """Fill ``out`` with ``((x[t] / x[t - period]) - 1) * 100``, 0 where ``x[t - period]`` is 0."""
    size = values.shape[0]
    nan_before_nb(out, start + period)
    for index in range(start + period, size):
        previous = values[index - period]
        if previous != 0.0:
            out[index] = ((values[index] / previous) - 1.0) * 100.0
        else:
            out[index] = 0.0
    return out


@numba.njit(cache=True)
def is_flat_nb(highest: float, lowest: float) -> bool:
    """Return whether a high-low range is zero relative to its ends (TA-Lib's scaled test)."""
    return abs(highest - lowest) <= RANGE_EPSILON * (abs(highest) + abs(lowest))


@numba.njit(cache=True)
def fast_k_value_nb(close: float, highest: float, lowest: float) -> float:
    """Return ``(close - lowest) / (highest - lowest) * 100`` in [0, 100], 0 on a flat range."""
    if is_flat_nb(highest, lowest):
        return 0.0
    value = ((close - lowest) / (highest - lowest)) * 100.0
    if value < 0.0:
        return 0.0
    if value > 100.0:
        return 100.0
    return value


@numba.njit(cache=True)
def williams_r_value_nb(close: float, highest: float, lowest: float) -> float:
    """Return ``(highest - close) / (highest - lowest) * -100`` in [-100, 0], 0 when flat."""
    if is_flat_nb(highest, lowest):
        return 0.0
    value = ((highest - close) / (highest - lowest)) * (-100.0)
    if value > 0.0:
        return 0.0
    if value < -100.0:
        return -100.0
    return value


@numba.njit(cache=True)
def rolling_extremes_nb(
    high: np.ndarray, low: np.ndarray, period: int, start: int
) -> tuple[np.ndarray, np.ndarray]:
    """Return the highest high and lowest low of each ``period`` window (monotonic deques).

    Each deque is a ring of ``period`` indices whose values decrease (highs) or increase (lows)
    from front to back, so every index enters and leaves once: O(1) amortised per value.
    """
    size = high.shape[0]
    highest = np.full(size, np.nan)
    lowest = np.full(size, np.nan)
    high_ring = np.empty(period, dtype=np.int64)
    low_ring = np.empty(period, dtype=np.int64)
    high_head = high_count = low_head = low_count = 0
    for index in range(start, size):
        while high_count and high[high_ring[(high_head + high_count - 1) % period]] <= high[index]:
            high_count -= 1
        if high_count and high_ring[high_head] <= index - period:
            high_head = (high_head + 1) % period
            high_count -= 1
        high_ring[(high_head + high_count) % period] = index
        high_count += 1
        while low_count and low[low_ring[(low_head + low_count - 1) % period]] >= low[index]:
            low_count -= 1
        if low_count and low_ring[low_head] <= index - period:
            low_head = (low_head + 1) % period
            low_count -= 1
        low_ring[(low_head + low_count) % period] = index
        low_count += 1
        if index >= start + period - 1:
            highest[index] = high[high_ring[high_head]]
            lowest[index] = low[low_ring[low_head]]
    return highest, lowest


@numba.njit(cache=True)
def fast_k_nb(  # noqa: PLR0917 - kernels take positional arrays only
    high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int, start: int, out: np.ndarray
) -> np.ndarray:
    """Fill ``out`` with the raw stochastic %K over ``period`` bars (TA-Lib's fast-K)."""
    highest, lowest = rolling_extremes_nb(high, low, period, start)
    nan_before_nb(out, start + period - 1)
    for index in range(start + period - 1, close.shape[0]):
        out[index] = fast_k_value_nb(close[index], highest[index], lowest[index])
    return out


@numba.njit(cache=True)
def smoothed_pair_nb(  # noqa: PLR0917 - kernels take positional arrays only
    raw: np.ndarray,
    raw_start: int,
    first_period: int,
    second_period: int,
    first: np.ndarray,
    second: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Fill ``SMA(raw)`` and ``SMA(SMA(raw))``, the first hidden until the second is valid."""
    sma_nb(raw, first_period, raw_start, first)
    sma_nb(first, second_period, raw_start + first_period - 1, second)
    nan_before_nb(first, raw_start + first_period + second_period - 2)
    return first, second


@numba.njit(cache=True)
def williams_r_nb(  # noqa: PLR0917 - kernels take positional arrays only
    high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int, start: int, out: np.ndarray
) -> np.ndarray:
    """Fill ``out`` with Williams' %R over ``period`` bars, in [-100, 0]."""
    highest, lowest = rolling_extremes_nb(high, low, period, start)
    nan_before_nb(out, start + period - 1)
    for index in range(start + period - 1, close.shape[0]):
        out[index] = williams_r_value_nb(close[index], highest[index], lowest[index])
    return out
