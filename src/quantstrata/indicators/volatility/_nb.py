"""Compiled kernels for volatility indicators: NumPy arrays in, results written to arrays out.

The TA-Lib indicators reproduce TA-Lib 0.8's arithmetic step for step (same operations in the
same order), so the streaming classes give the same bits and TA-Lib agrees to rounding (TA-Lib's
x86-64 build fuses some multiply-adds into FMA instructions; Numba, without fastmath, does not).
Inputs start at index ``start`` (the first index where every input is finite). Kernels write
every entry of output arrays the caller allocates (``numpy.empty``), NaN before the first valid
output: NumPy backs large arrays with transparent huge pages, while arrays allocated inside
Numba fault in 4 KiB pages, which at 10M values costs more than the computation itself.
"""

import numba
import numpy as np

RESEED_TRIGGER = 1e-6
"""Re-anchor the variance shift when the variance falls below this share of the mean square."""
RESEED_FLOOR = 1e-12
"""After a re-anchor, a variance below this share of the mean square is rounding noise: 0."""
OUTLIER_RATIO = 1e6
"""Re-anchor when a departing squared deviation exceeds the remaining sum by this factor."""
RESEED_WINDOWS = 32
"""Re-anchor at least once every this many windows, bounding slow drift."""


@numba.njit(cache=True)
def leading_nan_nb(values: np.ndarray) -> int:
    """Return the index of the first finite value (the length if there is none)."""
    size: int = values.shape[0]
    for index in range(size):
        if np.isfinite(values[index]):
            return index
    return size


@numba.njit(cache=True)
def fill_nan_nb(out: np.ndarray, stop: int) -> bool:
    """Set ``out[:stop]`` to NaN; return whether that covers the whole array (nothing valid)."""
    size: int = out.shape[0]
    for index in range(min(stop, size)):
        out[index] = np.nan
    return stop >= size


@numba.njit(cache=True)
def true_range_value(high: float, low: float, previous_close: float) -> float:
    """Return the greatest of high-low, |prev close-high|, |prev close-low| (TA-Lib's order)."""
    greatest = high - low
    above = abs(previous_close - high)
    greatest = above if above > greatest else greatest
    below = abs(previous_close - low)
    return below if below > greatest else greatest


@numba.njit(cache=True)
def trange_nb(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, start: int, out: np.ndarray
) -> None:
    """Write the true range; the first bar has no previous close, so it is NaN."""
    fill_nan_nb(out, start + 1)
    for index in range(start + 1, close.shape[0]):
        out[index] = true_range_value(high[index], low[index], close[index - 1])


@numba.njit(cache=True)
def atr_nb(  # noqa: PLR0917
    high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int, start: int, out: np.ndarray
) -> None:
    """Write Wilder's ATR seeded with the mean of the first ``period`` true ranges (TA-Lib)."""
    first = start + period
    if fill_nan_nb(out, first):
        return
    size = close.shape[0]
    beta = (period - 1) / period
    alpha = 1.0 - beta
    total = 0.0
    for index in range(start + 1, first + 1):
        total += true_range_value(high[index], low[index], close[index - 1])
    previous = total / period
    out[first] = previous
    for index in range(first + 1, size):
        value = true_range_value(high[index], low[index], close[index - 1])
        previous = alpha * value + beta * previous
        out[index] = previous


@numba.njit(cache=True)
def natr_nb(  # noqa: PLR0917
    high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int, start: int, out: np.ndarray
) -> None:
    """Write the ATR as a percentage of the close (0 where the close is 0, as TA-Lib)."""
    atr_nb(high, low, close, period, start, out)
    for index in range(start + period, close.shape[0]):
        out[index] = natr_value(out[index], close[index])


@numba.njit(cache=True)
def natr_value(average: float, close: float) -> float:
    """Return ``average / close * 100`` (0 for a zero close)."""
    if close == 0.0:
        return 0.0
    return (average / close) * 100.0


@numba.njit(cache=True)
def reseed_nb(values: np.ndarray, first: int, last: int, inverse: float) -> tuple:  # type: ignore[type-arg]
    """Re-anchor the variance shift at the mean of ``values[first..last]`` (a fresh two-pass).

    Return ``(shift, total, total_squares, variance)`` with the first value already removed from
    the totals, ready for the next window, as TA-Lib's ``var.c`` does.
    """
    total = 0.0
    for index in range(first, last + 1):
        total += values[index]
    shift = total * inverse
    total = 0.0
    squares = 0.0
    for index in range(first, last + 1):
        deviation = values[index] - shift
        total += deviation
        squares += deviation * deviation
    mean = total * inverse
    variance = squares * inverse - mean * mean
    if variance < RESEED_FLOOR * (squares * inverse):
        variance = 0.0
    deviation = values[first] - shift
    total -= deviation
    squares -= deviation * deviation
    return shift, total, squares, variance


@numba.njit(cache=True)
def var_nb(values: np.ndarray, period: int, start: int, out: np.ndarray) -> None:
    """Write the population variance with TA-Lib's shifted, re-anchored running sums.

    Sums of deviations from a shift near the window keep ``E[d²] - E[d]²`` free of the
    cancellation that ``E[x²] - E[x]²`` suffers at high price levels; the shift is re-anchored
    (an O(period) two-pass) when cancellation threatens and at least every 32 windows, which
    keeps the cost amortised O(1) per bar on market data.
    """
    size = values.shape[0]
    first = start + period - 1
    if fill_nan_nb(out, first):
        return
    inverse = 1.0 / period
    shift = values[start]
    total = 0.0
    squares = 0.0
    for index in range(start, first):
        deviation = values[index] - shift
        total += deviation
        squares += deviation * deviation
    trailing = start
    countdown = RESEED_WINDOWS * period
    for index in range(first, size):
        deviation = values[index] - shift
        total += deviation
        squares += deviation * deviation
        mean = total * inverse
        variance = squares * inverse - mean * mean
        deviation = values[trailing] - shift
        total -= deviation
        departing = deviation * deviation
        squares -= departing
        trailing += 1
        countdown -= 1
        if (
            variance < RESEED_TRIGGER * (squares * inverse)
            or departing > OUTLIER_RATIO * squares
            or countdown <= 0
        ):
            countdown = RESEED_WINDOWS * period
            shift, total, squares, variance = reseed_nb(values, index - period + 1, index, inverse)
        out[index] = variance


@numba.njit(cache=True)
def stddev_nb(
    values: np.ndarray, period: int, start: int, deviations: float, out: np.ndarray
) -> None:
    """Write ``sqrt(variance) * deviations`` (TA-Lib STDDEV)."""
    var_nb(values, period, start, out)
    for index in range(start + period - 1, values.shape[0]):
        out[index] = np.sqrt(out[index]) * deviations


@numba.njit(cache=True)
def bbands_nb(  # noqa: PLR0917
    values: np.ndarray,
    period: int,
    start: int,
    deviations_up: float,
    deviations_down: float,
    upper: np.ndarray,
    middle: np.ndarray,
    lower: np.ndarray,
) -> None:
    """Write (upper, middle, lower): SMA ± deviations × population standard deviation.

    The variance is computed into ``middle`` first and read back bar by bar before the average
    overwrites it.
    """
    size = values.shape[0]
    first = start + period - 1
    fill_nan_nb(upper, first)
    fill_nan_nb(lower, first)
    var_nb(values, period, start, middle)
    if first >= size:
        return
    total = 0.0
    for index in range(start, first):
        total += values[index]
    trailing = start
    for index in range(first, size):
        total += values[index]
        average = total / period
        total -= values[trailing]
        trailing += 1
        spread = middle[index]
        deviation = np.sqrt(spread) if spread != 0.0 else 0.0
        middle[index] = average
        upper[index] = average + deviation * deviations_up
        lower[index] = average - deviation * deviations_down


@numba.njit(cache=True)
def extreme_positions_nb(  # noqa: PLR0917
    values: np.ndarray,
    window: int,
    start: int,
    keep_greater: bool,
    suffix: np.ndarray,
    positions: np.ndarray,
) -> None:
    """Write, for each bar from ``start + window - 1``, the index of the last window's extreme.

    Van Herk / Gil-Werman: cut the series into blocks of ``window`` bars; a window then spans
    the tail of one block (``suffix``: extreme of ``[j, block end]``, a backward pass) and the
    head of the next (the running extreme of ``[block start, i]``, a forward pass), so every bar
    costs three comparisons whatever the data. Ties go to the most recent bar (TA-Lib's rule),
    exactly as the streaming forms' monotonic deques do. ``keep_greater`` selects the maximum;
    the minimum compares negated values (negation is exact). ``suffix`` is int64 scratch.
    """
    size = values.shape[0]
    sign = 1.0 if keep_greater else -1.0
    for block in range(start, size, window):
        later = min(block + window, size) - 1
        later_value = sign * values[later]
        for index in range(later, block - 1, -1):
            value = sign * values[index]
            if value > later_value:
                later = index
                later_value = value
            suffix[index] = later
    for block in range(start, size, window):
        best = block
        best_value = sign * values[block]
        for index in range(block, min(block + window, size)):
            value = sign * values[index]
            if value >= best_value:
                best = index
                best_value = value
            oldest = index - window + 1
            if oldest >= start:
                other = suffix[oldest]
                positions[index] = best if best_value >= sign * values[other] else other


@numba.njit(cache=True)
def donchian_nb(  # noqa: PLR0917
    high: np.ndarray,
    low: np.ndarray,
    period: int,
    start: int,
    suffix: np.ndarray,
    positions: np.ndarray,
    upper: np.ndarray,
    middle: np.ndarray,
    lower: np.ndarray,
) -> None:
    """Write (upper, middle, lower): highest high, midpoint, lowest low of the last bars.

    ``suffix`` and ``positions`` are int64 scratch arrays as long as the inputs.
    """
    first = start + period - 1
    size = high.shape[0]
    for line in (upper, middle, lower):
        fill_nan_nb(line, first)
    extreme_positions_nb(high, period, start, True, suffix, positions)  # noqa: FBT003
    for index in range(first, size):
        upper[index] = high[positions[index]]
    extreme_positions_nb(low, period, start, False, suffix, positions)  # noqa: FBT003
    for index in range(first, size):
        bottom = low[positions[index]]
        lower[index] = bottom
        middle[index] = (upper[index] + bottom) / 2.0


@numba.njit(cache=True)
def keltner_nb(  # noqa: PLR0917
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    period: int,
    atr_period: int,
    multiplier: float,
    start: int,
    upper: np.ndarray,
    middle: np.ndarray,
    lower: np.ndarray,
) -> None:
    """Write (upper, middle, lower): EMA(close) ± multiplier × ATR, from where both are valid.

    The EMA is TA-Lib's (seeded with the mean of the first ``period`` closes, then
    ``((close - ema) · k) + ema`` with ``k = 2 / (period + 1)``). The ATR is computed into
    ``upper`` first and read back bar by bar.
    """
    size = close.shape[0]
    atr_nb(high, low, close, atr_period, start, upper)
    first = start + max(period - 1, atr_period)
    fill_nan_nb(middle, first)
    fill_nan_nb(lower, first)
    for index in range(start + atr_period, min(first, size)):
        upper[index] = np.nan
    seeded = start + period - 1
    if first >= size:
        return
    smoothing = 2.0 / (period + 1)
    average = 0.0
    for index in range(start, seeded + 1):
        average += close[index]
    average /= period
    for index in range(seeded, size):
        if index > seeded:
            average = ((close[index] - average) * smoothing) + average
        if index >= first:
            offset = multiplier * upper[index]
            middle[index] = average
            upper[index] = average + offset
            lower[index] = average - offset
