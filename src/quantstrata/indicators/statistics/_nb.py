"""Compiled kernels for statistical features: NumPy arrays in, new arrays out.

``correl_nb``, ``beta_nb`` and ``zscore_nb`` keep running sums (of deviations from an anchor
value for prices, of returns for BETA) and recompute a window exactly when those sums cancel too
much, so they stay accurate for flat series and prices far from zero. The window statistics
(Hurst exponent, half-life) are functions of one window (``*_window_nb``) that the batch kernels
apply to every trailing window and the streaming classes apply to their ring buffer, so both
forms run the very same compiled code. Inputs start at
index ``start``; everything before the first valid output is NaN.
"""

import math

import numba
import numpy as np

TA_EPSILON = 1e-14
"""TA-Lib's ``TA_EPSILON``: a price closer to zero than this gives a BETA return of 0."""

CANCELLATION_LIMIT = 1e-4
"""Recompute a window exactly when its variance from running sums is below this share of the
mean square: the running sums would have lost too many digits to cancellation."""


@numba.njit(cache=True)
def zscore_nb(values: np.ndarray, period: int, start: int) -> np.ndarray:
    """Return (x - mean) / population std over trailing windows, from running sums.

    The sums are of ``x - anchor`` with ``anchor`` the first value of the window at the last
    re-anchoring (redone every ``period`` outputs), which keeps ``E[d²] - E[d]²`` accurate for
    prices far from zero. A window whose variance is below ``CANCELLATION_LIMIT`` of the largest
    mean square the sums held since re-anchoring (so rounding left behind could matter) is
    recomputed exactly by :func:`zscore_exact_nb`. A constant window gives 0.
    """
    size = values.shape[0]
    out = np.full(size, np.nan)
    first = start + period - 1
    anchor = 0.0
    total = 0.0
    squares = 0.0
    peak = 0.0
    for index in range(first, size):
        low = index - period + 1
        if (index - first) % period == 0:
            anchor = values[low]
            total = 0.0
            squares = 0.0
            for inner in range(low, index + 1):
                deviation = values[inner] - anchor
                total += deviation
                squares += deviation * deviation
            peak = squares
        else:
            trailing = values[index - period] - anchor
            total -= trailing
            squares -= trailing * trailing
            deviation = values[index] - anchor
            total += deviation
            squares += deviation * deviation
            peak = max(peak, squares)
        mean = total / period
        variance = squares / period - mean * mean
        if variance <= CANCELLATION_LIMIT * (peak / period):
            out[index] = zscore_exact_nb(values[low : index + 1])
        else:
            out[index] = ((values[index] - anchor) - mean) / math.sqrt(variance)
    return out


@numba.njit(cache=True)
def zscore_exact_nb(window: np.ndarray) -> float:
    """Return the z-score of the window's last value from centred two-pass sums (0 if constant)."""
    count = window.shape[0]
    mean = 0.0
    for index in range(count):
        mean += window[index] - window[0]
    mean /= count
    squares = 0.0
    for index in range(count):
        centred = (window[index] - window[0]) - mean
        squares += centred * centred
    if squares <= 0.0:
        return 0.0
    return float(((window[count - 1] - window[0]) - mean) / math.sqrt(squares / count))


@numba.njit(cache=True)
def correlation_exact_nb(x: np.ndarray, y: np.ndarray) -> float:
    """Return Pearson's r of one window from centred two-pass sums (0 if a series is constant).

    Deviations are taken from the window's first values, so a constant series gives exactly 0.
    """
    count = x.shape[0]
    mean_x = 0.0
    mean_y = 0.0
    for index in range(count):
        mean_x += x[index] - x[0]
        mean_y += y[index] - y[0]
    mean_x /= count
    mean_y /= count
    variance_x = 0.0
    variance_y = 0.0
    covariance = 0.0
    for index in range(count):
        centred_x = (x[index] - x[0]) - mean_x
        centred_y = (y[index] - y[0]) - mean_y
        variance_x += centred_x * centred_x
        variance_y += centred_y * centred_y
        covariance += centred_x * centred_y
    if variance_x <= 0.0 or variance_y <= 0.0:
        return 0.0
    return clamp_unit_nb(covariance / math.sqrt(variance_x * variance_y))


@numba.njit(cache=True)
def clamp_unit_nb(value: float) -> float:
    """Return ``value`` clamped into [-1, 1] (rounding can step just outside)."""
    if value > 1.0:
        return 1.0
    if value < -1.0:
        return -1.0
    return value


@numba.njit(cache=True)
def correl_nb(x: np.ndarray, y: np.ndarray, period: int, start: int) -> np.ndarray:
    """Return Pearson's correlation of ``x`` and ``y`` over trailing windows.

    Running sums of deviations from an anchor (the first pair of the window at the last
    re-anchoring, redone every ``period`` outputs) give O(1) per bar; a window where a variance
    is below ``CANCELLATION_LIMIT`` of the largest sum of squares held since re-anchoring is
    recomputed exactly by :func:`correlation_exact_nb`, so the result stays accurate for flat
    or far-from-zero series.
    """
    size = x.shape[0]
    out = np.full(size, np.nan)
    first = start + period - 1
    sums = np.zeros(7)
    anchor_x = 0.0
    anchor_y = 0.0
    for index in range(first, size):
        low = index - period + 1
        if (index - first) % period == 0:
            anchor_x = x[low]
            anchor_y = y[low]
            sums[:] = 0.0
            for inner in range(low, index + 1):
                add_pair_nb(sums, x[inner] - anchor_x, y[inner] - anchor_y)
        else:
            remove_pair_nb(sums, x[index - period] - anchor_x, y[index - period] - anchor_y)
            add_pair_nb(sums, x[index] - anchor_x, y[index] - anchor_y)
        out[index] = correlation_value_nb(sums, period, x[low : index + 1], y[low : index + 1])
    return out


@numba.njit(cache=True)
def add_pair_nb(sums: np.ndarray, x: float, y: float) -> None:
    """Add one pair to the sums Σx, Σx², Σxy, Σy, Σy² and raise the peaks of Σx², Σy²."""
    sums[0] += x
    sums[1] += x * x
    sums[2] += x * y
    sums[3] += y
    sums[4] += y * y
    sums[5] = max(sums[5], sums[1])
    sums[6] = max(sums[6], sums[4])


@numba.njit(cache=True)
def remove_pair_nb(sums: np.ndarray, x: float, y: float) -> None:
    """Remove one pair from the sums Σx, Σx², Σxy, Σy, Σy²."""
    sums[0] -= x
    sums[1] -= x * x
    sums[2] -= x * y
    sums[3] -= y
    sums[4] -= y * y


@numba.njit(cache=True)
def correlation_value_nb(sums: np.ndarray, period: int, x: np.ndarray, y: np.ndarray) -> float:
    """Return r from the running sums, or exactly from the window when they cancel too much."""
    variance_x = sums[1] - sums[0] * sums[0] / period
    variance_y = sums[4] - sums[3] * sums[3] / period
    if variance_x <= CANCELLATION_LIMIT * sums[5] or variance_y <= CANCELLATION_LIMIT * sums[6]:
        return correlation_exact_nb(x, y)
    covariance = sums[2] - sums[0] * sums[3] / period
    return clamp_unit_nb(covariance / math.sqrt(variance_x * variance_y))


@numba.njit(cache=True)
def simple_return_nb(current: float, previous: float) -> float:
    """Return ``(current - previous) / previous``, or 0 when ``|previous| < 1e-14`` (TA-Lib)."""
    if -TA_EPSILON < previous < TA_EPSILON:
        return 0.0
    return (current - previous) / previous


@numba.njit(cache=True)
def beta_exact_nb(returns_x: np.ndarray, returns_y: np.ndarray) -> float:
    """Return the slope of ``returns_y`` on ``returns_x`` from centred two-pass sums (0 if flat)."""
    count = returns_x.shape[0]
    mean_x = 0.0
    mean_y = 0.0
    for index in range(count):
        mean_x += returns_x[index]
        mean_y += returns_y[index]
    mean_x /= count
    mean_y /= count
    variance = 0.0
    covariance = 0.0
    for index in range(count):
        centred_x = returns_x[index] - mean_x
        variance += centred_x * centred_x
        covariance += centred_x * (returns_y[index] - mean_y)
    if variance <= 0.0:
        return 0.0
    return covariance / variance


@numba.njit(cache=True)
def window_returns_nb(prices: np.ndarray) -> np.ndarray:
    """Return the simple returns of ``prices`` (one fewer than the prices)."""
    out = np.empty(prices.shape[0] - 1)
    for index in range(1, prices.shape[0]):
        out[index - 1] = simple_return_nb(prices[index], prices[index - 1])
    return out


@numba.njit(cache=True)
def beta_nb(x: np.ndarray, y: np.ndarray, period: int, start: int) -> np.ndarray:
    """Return BETA: the slope of y's simple returns on x's over the last ``period`` returns.

    Running sums of returns as in TA-Lib (add the newest, output, remove the oldest) give O(1)
    per bar; they are rebuilt from the window every ``period`` outputs, and a window where
    ``n·Σrx² - (Σrx)²`` is below ``CANCELLATION_LIMIT`` of the largest ``n·Σrx²`` held since
    then is recomputed exactly by :func:`beta_exact_nb`.
    """
    size = x.shape[0]
    out = np.full(size, np.nan)
    first = start + period
    sums = np.zeros(5)
    for index in range(start + 1, size):
        low = index - period + 1
        if index >= first and (index - first) % period == 0:
            sums[:] = 0.0
            for inner in range(low, index + 1):
                add_returns_nb(sums, x, y, inner)
        else:
            add_returns_nb(sums, x, y, index)
        if index >= first:
            out[index] = beta_value_nb(sums, period, x[low - 1 : index + 1], y[low - 1 : index + 1])
            old_x = simple_return_nb(x[low], x[low - 1])
            old_y = simple_return_nb(y[low], y[low - 1])
            sums[0] -= old_x * old_x
            sums[1] -= old_x * old_y
            sums[2] -= old_x
            sums[3] -= old_y
    return out


@numba.njit(cache=True)
def add_returns_nb(sums: np.ndarray, x: np.ndarray, y: np.ndarray, index: int) -> None:
    """Add the returns at ``index`` to Σrx², Σrx·ry, Σrx, Σry and raise the peak of Σrx²."""
    return_x = simple_return_nb(x[index], x[index - 1])
    return_y = simple_return_nb(y[index], y[index - 1])
    sums[0] += return_x * return_x
    sums[1] += return_x * return_y
    sums[2] += return_x
    sums[3] += return_y
    sums[4] = max(sums[4], sums[0])


@numba.njit(cache=True)
def beta_value_nb(sums: np.ndarray, period: int, x: np.ndarray, y: np.ndarray) -> float:
    """Return beta from the running sums, or exactly from the window when they cancel too much.

    ``x`` and ``y`` are the window's prices preceded by the price before the window.
    """
    count = float(period)
    denominator = count * sums[0] - sums[2] * sums[2]
    if denominator <= CANCELLATION_LIMIT * (count * sums[4]):
        return beta_exact_nb(window_returns_nb(x), window_returns_nb(y))
    return float((count * sums[1] - sums[2] * sums[3]) / denominator)


@numba.njit(cache=True)
def hurst_window_nb(window: np.ndarray, max_lag: int) -> float:
    """Return the Hurst exponent of one window by the variance of lagged differences.

    For each lag τ = 1..``max_lag`` take m(τ) = mean of (x[t+τ] - x[t])² over the window; H is
    half the least-squares slope of log m(τ) on log τ. NaN if some m(τ) is 0 (a flat window).
    """
    size = window.shape[0]
    logs_lag = np.empty(max_lag)
    logs_moment = np.empty(max_lag)
    for lag in range(1, max_lag + 1):
        total = 0.0
        for index in range(lag, size):
            difference = window[index] - window[index - lag]
            total += difference * difference
        moment = total / (size - lag)
        if moment <= 0.0:
            return np.nan
        logs_lag[lag - 1] = math.log(lag)
        logs_moment[lag - 1] = math.log(moment)
    return 0.5 * slope_nb(logs_lag, logs_moment)


@numba.njit(cache=True)
def slope_nb(x: np.ndarray, y: np.ndarray) -> float:
    """Return the least-squares slope of ``y`` on ``x`` (with intercept), from centred sums."""
    count = x.shape[0]
    mean_x = 0.0
    mean_y = 0.0
    for index in range(count):
        mean_x += x[index]
        mean_y += y[index]
    mean_x /= count
    mean_y /= count
    covariance = 0.0
    variance = 0.0
    for index in range(count):
        centred_x = x[index] - mean_x
        covariance += centred_x * (y[index] - mean_y)
        variance += centred_x * centred_x
    if variance == 0.0:
        return np.nan
    return covariance / variance


@numba.njit(cache=True)
def half_life_window_nb(window: np.ndarray) -> float:
    """Return -ln 2 / λ with λ the OLS slope of Δx on lagged x in one window (NaN if λ >= 0)."""
    lagged = window[:-1]
    change = window[1:] - window[:-1]
    rate = slope_nb(lagged, change)
    if not rate < 0.0:
        return np.nan
    return -math.log(2.0) / rate


@numba.njit(cache=True)
def hurst_nb(values: np.ndarray, period: int, max_lag: int, start: int) -> np.ndarray:
    """Return :func:`hurst_window_nb` of every trailing window of ``period`` values."""
    size = values.shape[0]
    out = np.full(size, np.nan)
    for index in range(start + period - 1, size):
        out[index] = hurst_window_nb(values[index - period + 1 : index + 1], max_lag)
    return out


@numba.njit(cache=True)
def half_life_nb(values: np.ndarray, period: int, start: int) -> np.ndarray:
    """Return :func:`half_life_window_nb` of every trailing window of ``period`` values."""
    size = values.shape[0]
    out = np.full(size, np.nan)
    for index in range(start + period - 1, size):
        out[index] = half_life_window_nb(values[index - period + 1 : index + 1])
    return out
