"""Compiled kernels for trend indicators: NumPy arrays in, results written to arrays out.

Each kernel reproduces TA-Lib 0.8's arithmetic step for step (same operations in the same
order), so results match TA-Lib and the streaming classes bit for bit (TA-Lib's x86-64 build
fuses some multiply-adds in SAR into FMA instructions; Numba, without fastmath, does not, so SAR
agrees with TA-Lib to rounding). Inputs start at index ``start`` (the first index where every
input is finite). As in :mod:`quantstrata.indicators.volatility._nb`, kernels write every
entry of output arrays the caller allocates, NaN before the first valid output.
"""

import numba
import numpy as np

from quantstrata.indicators.volatility._nb import (
    extreme_positions_nb,
    fill_nan_nb,
    true_range_value,
)

EPSILON = 1e-14
"""TA-Lib's ``TA_EPSILON``: the DI sum, or a CCI deviation within this share of the average
price, counts as zero (TA-Lib's ``TA_IS_ZERO`` and ``TA_IS_ZERO_SCALED``)."""
CCI_SCALE = 0.015
"""Lambert's constant: about 70-80 % of CCI values fall within ±100."""


@numba.njit(cache=True)
def directional_movement(
    high: float, low: float, previous_high: float, previous_low: float
) -> tuple:  # type: ignore[type-arg]
    """Return (+DM1, -DM1): the larger move outside yesterday's range, the other 0."""
    up = high - previous_high
    down = previous_low - low
    minus = down if (down - up > 0.0 and down > 0.0) else 0.0
    plus = up if (up - down > 0.0 and up > 0.0) else 0.0
    return plus, minus


@numba.njit(cache=True)
def dmi_nb(  # noqa: PLR0917
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    period: int,
    start: int,
    adx: np.ndarray,
    plus_di: np.ndarray,
    minus_di: np.ndarray,
) -> None:
    """Write (adx, plus_di, minus_di) with TA-Lib's Wilder sums.

    The DM and TR sums start as plain sums of ``period - 1`` one-bar values and are then
    smoothed by ``x - x / period + new``; the DIs are valid from ``start + period``. The ADX
    starts as the mean of the first ``period`` DX values (valid from ``start + 2·period - 1``)
    and is smoothed by ``(adx·(period - 1) + dx) / period``; a bar whose TR sum or DI sum
    is zero leaves it unchanged, as in TA-Lib.
    """
    size = close.shape[0]
    fill_nan_nb(plus_di, start + period)
    fill_nan_nb(minus_di, start + period)
    fill_nan_nb(adx, start + 2 * period - 1)
    if start + period >= size:
        return
    plus_total = minus_total = range_total = 0.0
    for index in range(start + 1, start + period):
        plus, minus = directional_movement(high[index], low[index], high[index - 1], low[index - 1])
        plus_total += plus
        minus_total += minus
        range_total += true_range_value(high[index], low[index], close[index - 1])
    total_dx = 0.0
    average = np.nan
    for index in range(start + period, size):
        plus, minus = directional_movement(high[index], low[index], high[index - 1], low[index - 1])
        minus_total -= minus_total / period
        plus_total -= plus_total / period
        minus_total += minus
        plus_total += plus
        true_range = true_range_value(high[index], low[index], close[index - 1])
        range_total = range_total - range_total / period + true_range
        seeding = index < start + 2 * period - 1
        plus_di[index] = 0.0
        minus_di[index] = 0.0
        if range_total > 0.0:
            minus_value = 100.0 * (minus_total / range_total)
            plus_value = 100.0 * (plus_total / range_total)
            plus_di[index] = plus_value
            minus_di[index] = minus_value
            both = minus_value + plus_value
            if both >= EPSILON:
                dx = 100.0 * (abs(minus_value - plus_value) / both)
                if seeding or index == start + 2 * period - 1:
                    total_dx += dx
                else:
                    average = (average * (period - 1) + dx) / period
        if index == start + 2 * period - 1:
            average = total_dx / period
        if not seeding:
            adx[index] = average


@numba.njit(cache=True)
def aroon_nb(  # noqa: PLR0917
    high: np.ndarray,
    low: np.ndarray,
    period: int,
    start: int,
    suffix: np.ndarray,
    positions: np.ndarray,
    down: np.ndarray,
    up: np.ndarray,
    oscillator: np.ndarray,
) -> None:
    """Write (down, up, oscillator) from the bars since the lowest low and highest high.

    The window holds ``period + 1`` bars; among equal extremes the most recent one counts.
    ``suffix`` and ``positions`` are int64 scratch arrays as long as the inputs;
    ``oscillator`` holds the highest high's index (exact as a float) until the second pass.
    """
    size = high.shape[0]
    first = start + period
    for line in (down, up, oscillator):
        fill_nan_nb(line, first)
    factor = 100.0 / period
    extreme_positions_nb(high, period + 1, start, True, suffix, positions)  # noqa: FBT003
    for index in range(first, size):
        highest = positions[index]
        up[index] = factor * (period - (index - highest))
        oscillator[index] = highest
    extreme_positions_nb(low, period + 1, start, False, suffix, positions)  # noqa: FBT003
    for index in range(first, size):
        lowest = positions[index]
        down[index] = factor * (period - (index - lowest))
        oscillator[index] = factor * (oscillator[index] - lowest)


@numba.njit(cache=True)
def cci_nb(  # noqa: PLR0917
    high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int, start: int, out: np.ndarray
) -> None:
    """Write the CCI: (typical price - its mean) / (0.015 × mean absolute deviation).

    The mean and the mean absolute deviation are summed over a ring buffer in buffer order,
    exactly as TA-Lib does, so each bar costs O(period).
    """
    size = close.shape[0]
    fill_nan_nb(out, start + period - 1)
    ring = np.zeros(period)
    position = 0
    for index in range(start, size):
        typical = (high[index] + low[index] + close[index]) / 3
        ring[position] = typical
        position = (position + 1) % period
        if index >= start + period - 1:
            out[index] = cci_value(ring, typical)


@numba.njit(cache=True)
def cci_value(ring: np.ndarray, typical: float) -> float:
    """Return the CCI of the newest typical price over a full ring buffer."""
    period = ring.shape[0]
    average = 0.0
    for position in range(period):
        average += ring[position]
    average /= period
    deviation = 0.0
    for position in range(period):
        deviation += abs(ring[position] - average)
    deviation /= period
    distance = typical - average
    level = EPSILON * abs(average)
    if abs(distance) <= level or abs(deviation) <= level:
        return 0.0
    return float(distance / (CCI_SCALE * deviation))


@numba.njit(cache=True)
def at_least(value: float, first: float, second: float) -> float:
    """Raise ``value`` to ``first`` and then to ``second`` where it is below (TA-Lib's order)."""
    value = first if value < first else value
    return second if value < second else value


@numba.njit(cache=True)
def at_most(value: float, first: float, second: float) -> float:
    """Lower ``value`` to ``first`` and then to ``second`` where it is above (TA-Lib's order)."""
    value = first if value > first else value
    return second if value > second else value


@numba.njit(cache=True)
def capped(value: float, maximum: float) -> float:
    """Return ``value``, or ``maximum`` where ``value`` exceeds it."""
    return maximum if value > maximum else value


@numba.njit(cache=True)
def sar_nb(  # noqa: PLR0917
    high: np.ndarray,
    low: np.ndarray,
    acceleration: float,
    maximum: float,
    start: int,
    out: np.ndarray,
) -> None:
    """Write Wilder's Parabolic SAR with TA-Lib's start-up (see ``trend.batch.sar``)."""
    first = start + 1
    if fill_nan_nb(out, first):
        return
    size = high.shape[0]
    acceleration = capped(acceleration, maximum)
    factor = acceleration
    _, minus = directional_movement(high[first], low[first], high[start], low[start])
    is_long = not minus > 0.0
    if is_long:
        extreme = high[first]
        sar = low[start]
    else:
        extreme = low[first]
        sar = high[start]
    new_low = low[first]
    new_high = high[first]
    for index in range(first, size):
        previous_low = new_low
        previous_high = new_high
        new_low = low[index]
        new_high = high[index]
        if is_long:
            if new_low <= sar:
                is_long = False
                sar = at_least(extreme, previous_high, new_high)
                out[index] = sar
                factor = acceleration
                extreme = new_low
                sar = at_least(sar + factor * (extreme - sar), previous_high, new_high)
            else:
                out[index] = sar
                if new_high > extreme:
                    extreme = new_high
                    factor = capped(factor + acceleration, maximum)
                sar = at_most(sar + factor * (extreme - sar), previous_low, new_low)
        elif new_high >= sar:
            is_long = True
            sar = at_most(extreme, previous_low, new_low)
            out[index] = sar
            factor = acceleration
            extreme = new_high
            sar = at_most(sar + factor * (extreme - sar), previous_low, new_low)
        else:
            out[index] = sar
            if new_low < extreme:
                extreme = new_low
                factor = capped(factor + acceleration, maximum)
            sar = at_least(sar + factor * (extreme - sar), previous_high, new_high)


RESEED_WINDOWS = 32
"""Rebuild the regression sums from the window at least once every this many windows."""


@numba.njit(cache=True)
def regression_sums(values: np.ndarray, last: int, period: int) -> tuple:  # type: ignore[type-arg]
    """Return (sum_y, sum_xy) of the window ending at ``last``, x counting bars back."""
    sum_xy = 0.0
    sum_y = 0.0
    for back in range(period - 1, -1, -1):
        value = values[last - back]
        sum_y += value
        sum_xy += float(back) * value
    return sum_y, sum_xy


@numba.njit(cache=True)
def regression_constants(period: int) -> tuple:  # type: ignore[type-arg]
    """Return (sum_x, divisor), TA-Lib's period-only constants of the slope formula."""
    sum_x = period * (period - 1) * 0.5
    sum_x_squared = float(period * (period - 1) * (2 * period - 1) // 6)
    return sum_x, sum_x * sum_x - period * sum_x_squared


@numba.njit(cache=True)
def linearreg_slope_nb(values: np.ndarray, period: int, start: int, out: np.ndarray) -> None:
    """Write the least-squares slope per bar with TA-Lib's sliding, periodically rebuilt sums.

    ``x`` counts bars back from the newest (TA-Lib's orientation), so the divisor is negative
    and the sign comes out right. Each new bar raises the weight of the retained values by one
    (add the sum) and drops the departing value at full weight; every 32 windows the sums are
    rebuilt from the window (an O(period) pass), so rounding drift stays bounded and the cost
    amortised O(1).
    """
    size = values.shape[0]
    first = start + period - 1
    if fill_nan_nb(out, first):
        return
    sum_x, divisor = regression_constants(period)
    sum_y, sum_xy = regression_sums(values, first, period)
    out[first] = (period * sum_xy - sum_x * sum_y) / divisor
    countdown = RESEED_WINDOWS * period
    for index in range(first + 1, size):
        countdown -= 1
        if countdown <= 0:
            countdown = RESEED_WINDOWS * period
            sum_y, sum_xy = regression_sums(values, index, period)
        else:
            trailing = values[index - period]
            sum_xy = sum_xy + sum_y - float(period) * trailing
            sum_y = sum_y - trailing + values[index]
        out[index] = (period * sum_xy - sum_x * sum_y) / divisor
