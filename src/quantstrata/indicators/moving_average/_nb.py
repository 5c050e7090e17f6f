"""Compiled kernels for moving averages: NumPy arrays in, filled output arrays out.

Each kernel reproduces TA-Lib's arithmetic step for step (same operations in the same order), so
results match TA-Lib and the streaming classes bit for bit. Inputs start at index ``start`` (the
first finite value); everything before the first valid output is NaN.

Kernels write into an ``out`` array the caller allocates with NumPy (``np.empty_like``) and
return it: NumPy's allocator backs large arrays with huge pages, while an allocation inside
compiled code page-faults on every 4 KiB page and costs as much as the computation itself.
"""

import numba
import numpy as np


@numba.njit(cache=True)
def nan_before_nb(out: np.ndarray, first: int) -> bool:
    """Set ``out`` to NaN before index ``first``; return whether nothing is left to compute."""
    end = min(first, out.shape[0])
    out[:end] = np.nan
    return bool(first >= out.shape[0])


@numba.njit(cache=True)
def sma_nb(values: np.ndarray, period: int, start: int, out: np.ndarray) -> np.ndarray:
    """Fill ``out`` with the simple moving average, a running total as TA-Lib computes it."""
    first = start + period - 1
    if nan_before_nb(out, first):
        return out
    total = 0.0
    for index in range(start, first):
        total += values[index]
    trailing = start
    for index in range(first, values.shape[0]):
        total += values[index]
        out[index] = total / period
        total -= values[trailing]
        trailing += 1
    return out


@numba.njit(cache=True)
def ema_nb(
    values: np.ndarray, period: int, start: int, smoothing: float, out: np.ndarray
) -> np.ndarray:
    """Fill ``out`` with the EMA seeded with the mean of the first ``period`` values (TA-Lib)."""
    first = start + period - 1
    if nan_before_nb(out, first):
        return out
    total = 0.0
    for index in range(start, first + 1):
        total += values[index]
    previous = total / period
    out[first] = previous
    for index in range(first + 1, values.shape[0]):
        previous = ((values[index] - previous) * smoothing) + previous
        out[index] = previous
    return out


@numba.njit(cache=True)
def copy_from_nb(values: np.ndarray, start: int, out: np.ndarray) -> np.ndarray:
    """Fill ``out`` with ``values`` from ``start`` on: TA-Lib's output for a period of 1."""
    nan_before_nb(out, start)
    for index in range(start, values.shape[0]):
        out[index] = values[index]
    return out


@numba.njit(cache=True)
def wma_nb(values: np.ndarray, period: int, start: int, out: np.ndarray) -> np.ndarray:
    """Fill ``out`` with the linearly weighted average, from TA-Lib's running sums."""
    if period == 1:
        return copy_from_nb(values, start, out)
    first = start + period - 1
    if nan_before_nb(out, first):
        return out
    divider = (period * (period + 1)) // 2
    plain_sum = 0.0
    weighted_sum = 0.0
    weight = 1
    for index in range(start, first):
        value = values[index]
        plain_sum += value
        weighted_sum += value * weight
        weight += 1
    trailing_value = 0.0
    trailing = start
    for index in range(first, values.shape[0]):
        value = values[index]
        plain_sum += value
        plain_sum -= trailing_value
        weighted_sum += value * period
        trailing_value = values[trailing]
        trailing += 1
        out[index] = weighted_sum / divider
        weighted_sum -= plain_sum
    return out


@numba.njit(cache=True)
def dema_nb(
    values: np.ndarray, period: int, start: int, smoothing: float, out: np.ndarray
) -> np.ndarray:
    """Fill ``out`` with ``2 * EMA - EMA(EMA)``, each EMA seeded with its first window's mean."""
    if period == 1:
        return copy_from_nb(values, start, out)
    size = values.shape[0]
    first_ema = ema_nb(values, period, start, smoothing, np.empty(size))
    second_ema = ema_nb(first_ema, period, start + period - 1, smoothing, np.empty(size))
    first = start + 2 * (period - 1)
    if nan_before_nb(out, first):
        return out
    for index in range(first, size):
        out[index] = (2.0 * first_ema[index]) - second_ema[index]
    return out


@numba.njit(cache=True)
def tema_nb(
    values: np.ndarray, period: int, start: int, smoothing: float, out: np.ndarray
) -> np.ndarray:
    """Fill ``out`` with ``3 * EMA - 3 * EMA(EMA) + EMA(EMA(EMA))`` summed in TA-Lib's order."""
    if period == 1:
        return copy_from_nb(values, start, out)
    size = values.shape[0]
    first_ema = ema_nb(values, period, start, smoothing, np.empty(size))
    second_ema = ema_nb(first_ema, period, start + period - 1, smoothing, np.empty(size))
    third_ema = ema_nb(second_ema, period, start + 2 * (period - 1), smoothing, np.empty(size))
    first = start + 3 * (period - 1)
    if nan_before_nb(out, first):
        return out
    for index in range(first, size):
        out[index] = third_ema[index] + ((3.0 * first_ema[index]) - (3.0 * second_ema[index]))
    return out


KAMA_FASTEST = 2.0 / (2.0 + 1.0)
KAMA_SLOWEST = 2.0 / (30.0 + 1.0)


@numba.njit(cache=True)
def kama_factor_nb(change: float, volatility: float) -> float:
    """Return KAMA's squared smoothing constant from the efficiency ratio (TA-Lib's clamps)."""
    ratio = 1.0 if volatility <= 0.0 or volatility <= change else abs(change / volatility)
    factor = (ratio * (KAMA_FASTEST - KAMA_SLOWEST)) + KAMA_SLOWEST
    return factor * factor


@numba.njit(cache=True)
def kama_nb(values: np.ndarray, period: int, start: int, out: np.ndarray) -> np.ndarray:
    """Fill ``out`` with Kaufman's adaptive moving average exactly as TA-Lib computes it.

    The volatility (sum of absolute one-bar changes over ``period`` changes) is a running sum;
    a run of ``period`` unchanged values resets it to exactly zero, as TA-Lib does.
    """
    if period == 1:
        return copy_from_nb(values, start, out)
    first = start + period
    if nan_before_nb(out, first):
        return out
    volatility = 0.0
    flat_run = 0
    for index in range(start, first):
        step = values[index] - values[index + 1]
        volatility += abs(step)
        flat_run = flat_run + 1 if step == 0.0 else 0
    previous = values[first - 1]
    trailing_value = values[start]
    factor = kama_factor_nb(values[first] - trailing_value, volatility)
    previous = ((values[first] - previous) * factor) + previous
    out[first] = previous
    for index in range(first + 1, values.shape[0]):
        value = values[index]
        old = values[index - period]
        volatility -= abs(trailing_value - old)
        step = value - values[index - 1]
        volatility += abs(step)
        flat_run = flat_run + 1 if step == 0.0 else 0
        if flat_run >= period:
            flat_run = period
            volatility = 0.0
        trailing_value = old
        previous = ((value - previous) * kama_factor_nb(value - old, volatility)) + previous
        out[index] = previous
    return out
