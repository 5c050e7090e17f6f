"""Compiled kernels of the fill model: one bar, one order, plain numbers in and out.

Every kernel takes NumPy scalars (floats, ints, bools) and the integer codes of
:mod:`quantstrata.model.orders.enums`; they are ``numba.njit(cache=True)`` without fastmath, so
they run the same from Python and from other compiled functions (the backtester's signal loop)
and give bit-identical results everywhere. Prices are ``NaN`` where there is no fill or no
level (a missing limit, stop or bracket leg). The rules they implement are described in
:mod:`quantstrata.execution` and are the only fill rules of the project. The kernels that size
a target live in :mod:`quantstrata.execution._sizing_nb` and are re-exported here.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from quantstrata.execution._sizing_nb import (
    cap_leverage_nb,
    equity_nb,
    execution_order_nb,
    exposure_nb,
    reduces_nb,
    round_fill_nb,
    round_lots_nb,
    size_targets_nb,
    target_position_nb,
    unit_cost_nb,
)
from quantstrata.model.orders.enums import OrderSide, OrderType

__all__ = [
    "BUY",
    "INTRABAR_ADVERSE_FIRST",
    "INTRABAR_FAVOURABLE_FIRST",
    "LEG_NONE",
    "LEG_STOP_LOSS",
    "LEG_TAKE_PROFIT",
    "LIMIT",
    "MARKET",
    "SELL",
    "STOP",
    "STOP_LIMIT",
    "TRAILING_STOP",
    "cap_leverage_nb",
    "capped_quantity_nb",
    "carry_cost_nb",
    "carry_costs_nb",
    "commission_nb",
    "equity_nb",
    "execution_order_nb",
    "exposure_nb",
    "fill_order_nb",
    "is_maker_nb",
    "limit_fill_price_nb",
    "match_bracket_nb",
    "match_order_nb",
    "reduces_nb",
    "round_fill_nb",
    "round_lots_nb",
    "size_targets_nb",
    "slippage_nb",
    "stop_fill_price_nb",
    "stop_limit_fill_price_nb",
    "target_position_nb",
    "trailing_stop_price_nb",
    "unit_cost_nb",
]

BUY = int(OrderSide.BUY)
SELL = int(OrderSide.SELL)
MARKET = int(OrderType.MARKET)
LIMIT = int(OrderType.LIMIT)
STOP = int(OrderType.STOP)
STOP_LIMIT = int(OrderType.STOP_LIMIT)
TRAILING_STOP = int(OrderType.TRAILING_STOP)

INTRABAR_ADVERSE_FIRST = 0
INTRABAR_FAVOURABLE_FIRST = 1

LEG_NONE = 0
LEG_STOP_LOSS = 1
LEG_TAKE_PROFIT = 2

_BASIS_POINT = 1e-4


@numba.njit(cache=True)
def capped_quantity_nb(quantity: float, bar_volume: float, volume_cap: float) -> float:
    """Return how much of ``quantity`` one bar can fill: all of it, or ``volume_cap × volume``.

    ``volume_cap`` is ``NaN`` for no cap. Under a cap a bar with zero or missing volume fills
    nothing.
    """
    if quantity <= 0.0:
        return 0.0
    if math.isnan(volume_cap):
        return quantity
    if not (bar_volume > 0.0):
        return 0.0
    return min(quantity, volume_cap * bar_volume)


@numba.njit(cache=True)
def limit_fill_price_nb(
    side: int, limit_price: float, bar_open: float, bar_high: float, bar_low: float
) -> float:
    """Return a limit order's fill price on a bar, ``NaN`` if the bar does not reach the limit.

    A buy fills when ``low <= limit`` at ``min(open, limit)``: a bar that opens below the limit
    fills at the open, better than the limit. A sell fills when ``high >= limit`` at
    ``max(open, limit)``.
    """
    if side == BUY:
        if bar_low <= limit_price:
            return min(bar_open, limit_price)
        return np.nan
    if bar_high >= limit_price:
        return max(bar_open, limit_price)
    return np.nan


@numba.njit(cache=True)
def stop_fill_price_nb(
    side: int, stop_price: float, bar_open: float, bar_high: float, bar_low: float
) -> float:
    """Return a stop order's fill price on a bar, ``NaN`` if the bar does not reach the stop.

    A buy stop triggers when ``high >= stop`` and fills at ``max(open, stop)``: a gap up through
    the stop fills at the open, worse than the stop. A sell stop triggers when ``low <= stop``
    and fills at ``min(open, stop)``. A stop never fills better than its stop price.
    """
    if side == BUY:
        if bar_high >= stop_price:
            return max(bar_open, stop_price)
        return np.nan
    if bar_low <= stop_price:
        return min(bar_open, stop_price)
    return np.nan


@numba.njit(cache=True)
def stop_limit_fill_price_nb(  # noqa: PLR0917
    side: int,
    stop_price: float,
    limit_price: float,
    bar_open: float,
    bar_high: float,
    bar_low: float,
) -> tuple[float, bool]:
    """Return ``(fill_price, triggered)`` of a stop-limit order not yet triggered.

    The stop triggers as a stop order does; the limit is tested only on the part of the bar
    after the trigger. A bar that opens beyond the stop triggers at the open, so the whole bar
    follows the trigger and the limit is tested as a limit order (reference price: the open).
    A trigger inside the bar happens at the stop price, and the path after it is unknown: the
    order fills at the stop price when that price already satisfies the limit, and otherwise
    not on this bar (it rests as a limit order from the next bar on).
    """
    if side == BUY:
        if bar_open >= stop_price:
            return limit_fill_price_nb(side, limit_price, bar_open, bar_high, bar_low), True
        if bar_high >= stop_price:
            return (stop_price if stop_price <= limit_price else np.nan), True
        return np.nan, False
    if bar_open <= stop_price:
        return limit_fill_price_nb(side, limit_price, bar_open, bar_high, bar_low), True
    if bar_low <= stop_price:
        return (stop_price if stop_price >= limit_price else np.nan), True
    return np.nan, False


@numba.njit(cache=True)
def trailing_stop_price_nb(
    side: int, trail_extreme: float, trail_amount: float, trail_percent: float
) -> float:
    """Return a trailing stop's level from the best price seen since placement.

    A sell stop trails below the highest price, a buy stop above the lowest; the distance is
    ``trail_amount`` in price units when it is positive, else ``trail_percent`` as a fraction
    (``0.05`` = 5 %) of the extreme.
    """
    distance = trail_amount if trail_amount > 0.0 else trail_extreme * trail_percent
    if side == SELL:
        return trail_extreme - distance
    return trail_extreme + distance


@numba.njit(cache=True)
def _trailing_fill_price_nb(  # noqa: PLR0917
    side: int,
    trail_amount: float,
    trail_percent: float,
    trail_extreme: float,
    bar_open: float,
    bar_high: float,
    bar_low: float,
) -> tuple[float, float]:
    """Test the current trailing stop, then move the extreme with this bar; return both."""
    extreme = bar_open if math.isnan(trail_extreme) else trail_extreme
    stop_price = trailing_stop_price_nb(side, extreme, trail_amount, trail_percent)
    price = stop_fill_price_nb(side, stop_price, bar_open, bar_high, bar_low)
    if math.isnan(price):
        extreme = max(extreme, bar_high) if side == SELL else min(extreme, bar_low)
    return price, extreme


@numba.njit(cache=True)
def match_order_nb(  # noqa: PLR0917
    order_type: int,
    side: int,
    quantity: float,
    limit_price: float,
    stop_price: float,
    trail_amount: float,
    trail_percent: float,
    trail_extreme: float,
    triggered: bool,
    bar_open: float,
    bar_high: float,
    bar_low: float,
    bar_close: float,
    bar_volume: float,
    volume_cap: float,
    at_close: bool,
) -> tuple[float, float, bool, float]:
    """Match one working order against one bar.

    Return ``(fill_quantity, fill_price, triggered, trail_extreme)``: the quantity filled (0.0
    for none), its price before slippage (``NaN`` for none), whether a stop has triggered (a
    triggered stop or trailing stop then works as a market order, a triggered stop-limit as a
    limit order) and the trailing stop's new extreme. ``quantity`` is what is left to fill.
    ``at_close`` means the order meets this bar only at its close (fill policies
    ``next_close`` and ``this_close``): the bar is reduced to its closing price.
    """
    if at_close:
        bar_open = bar_close
        bar_high = bar_close
        bar_low = bar_close
    price = np.nan
    if order_type == MARKET or (triggered and (order_type in (STOP, TRAILING_STOP))):
        price = bar_open
    elif order_type == LIMIT or (triggered and order_type == STOP_LIMIT):
        price = limit_fill_price_nb(side, limit_price, bar_open, bar_high, bar_low)
    elif order_type == STOP:
        price = stop_fill_price_nb(side, stop_price, bar_open, bar_high, bar_low)
        triggered = not math.isnan(price)
    elif order_type == STOP_LIMIT:
        price, triggered = stop_limit_fill_price_nb(
            side, stop_price, limit_price, bar_open, bar_high, bar_low
        )
    elif order_type == TRAILING_STOP:
        price, trail_extreme = _trailing_fill_price_nb(
            side, trail_amount, trail_percent, trail_extreme, bar_open, bar_high, bar_low
        )
        triggered = not math.isnan(price)
    if math.isnan(price):
        return 0.0, np.nan, triggered, trail_extreme
    filled = capped_quantity_nb(quantity, bar_volume, volume_cap)
    if filled <= 0.0:
        return 0.0, np.nan, triggered, trail_extreme
    return filled, price, triggered, trail_extreme


@numba.njit(cache=True)
def match_bracket_nb(  # noqa: PLR0917
    side: int,
    quantity: float,
    stop_loss: float,
    take_profit: float,
    bar_open: float,
    bar_high: float,
    bar_low: float,
    bar_close: float,
    bar_volume: float,
    volume_cap: float,
    intrabar: int,
    at_close: bool,
) -> tuple[float, float, int]:
    """Match the two exit legs of a position (one cancels the other) against one bar.

    ``side`` is the side of the exit (``SELL`` closes a long: stop-loss below, take-profit
    above). Return ``(fill_quantity, fill_price, leg)`` with ``leg`` one of ``LEG_NONE``,
    ``LEG_STOP_LOSS``, ``LEG_TAKE_PROFIT``. A bar opening beyond a level fills that leg at the
    open. Otherwise, when the bar touches both levels, ``intrabar`` decides:
    ``INTRABAR_ADVERSE_FIRST`` fills the stop-loss at its price, ``INTRABAR_FAVOURABLE_FIRST``
    the take-profit at its price. A ``NaN`` level is an absent leg.
    """
    if at_close:
        bar_open = bar_close
        bar_high = bar_close
        bar_low = bar_close
    has_stop = not math.isnan(stop_loss)
    has_take = not math.isnan(take_profit)
    stop_hit = has_stop and (bar_low <= stop_loss if side == SELL else bar_high >= stop_loss)
    take_hit = has_take and (bar_high >= take_profit if side == SELL else bar_low <= take_profit)
    leg = LEG_NONE
    price = np.nan
    if has_stop and (bar_open <= stop_loss if side == SELL else bar_open >= stop_loss):
        leg, price = LEG_STOP_LOSS, bar_open
    elif has_take and (bar_open >= take_profit if side == SELL else bar_open <= take_profit):
        leg, price = LEG_TAKE_PROFIT, bar_open
    elif stop_hit and take_hit:
        if intrabar == INTRABAR_FAVOURABLE_FIRST:
            leg, price = LEG_TAKE_PROFIT, take_profit
        else:
            leg, price = LEG_STOP_LOSS, stop_loss
    elif stop_hit:
        leg, price = LEG_STOP_LOSS, stop_loss
    elif take_hit:
        leg, price = LEG_TAKE_PROFIT, take_profit
    if leg == LEG_NONE:
        return 0.0, np.nan, LEG_NONE
    filled = capped_quantity_nb(quantity, bar_volume, volume_cap)
    if filled <= 0.0:
        return 0.0, np.nan, leg
    return filled, price, leg


@numba.njit(cache=True)
def carry_cost_nb(
    cash: float,
    positions: np.ndarray,
    marks: np.ndarray,
    borrow_factor: float,
    financing_factor: float,
) -> float:
    """Return the cost of carrying a book over one interval: short borrow plus financing.

    ``borrow_factor`` and ``financing_factor`` are the annual rates times the interval in years
    (:func:`quantstrata.execution.costs.carry_factors`). The cost is ``borrow_factor × Σ
    |position × mark|`` over short positions plus ``financing_factor × max(-cash, 0)``; long
    positions and positive cash cost nothing. Both backtest engines call this one function.
    """
    if borrow_factor == 0.0 and financing_factor == 0.0:
        return 0.0
    short_value = 0.0
    for index in range(positions.shape[0]):
        if positions[index] < 0.0:
            short_value -= positions[index] * marks[index]
    return borrow_factor * short_value + financing_factor * max(-cash, 0.0)


@numba.njit(cache=True)
def carry_costs_nb(
    cash: np.ndarray, positions: np.ndarray, marks: np.ndarray, factors: np.ndarray
) -> np.ndarray:
    """Return the carry cost charged at each bar from the book after the bar before.

    ``cash`` (bars), ``positions`` and ``marks`` (bars × symbols) are the book after each bar;
    ``factors`` (bars × 2) the borrow and financing factors of each bar's interval. The first
    bar is charged nothing.
    """
    costs = np.zeros(cash.shape[0])
    for bar in range(1, cash.shape[0]):
        costs[bar] = carry_cost_nb(
            cash[bar - 1], positions[bar - 1], marks[bar - 1], factors[bar, 0], factors[bar, 1]
        )
    return costs


@numba.njit(cache=True)
def is_maker_nb(order_type: int) -> bool:
    """Return whether fills of this order type add liquidity (limit and stop-limit orders)."""
    return order_type in (LIMIT, STOP_LIMIT)


@numba.njit(cache=True)
def commission_nb(  # noqa: PLR0917
    quantity: float,
    price: float,
    is_maker: bool,
    first_fill: bool,
    fee_basis: float,
    rate: float,
    maker_rate: float,
    per_unit: float,
    per_order: float,
    minimum: float,
) -> tuple[float, float]:
    """Return ``(commission, new_fee_basis)`` of one fill of an order.

    The fee basis is the order's fee before the minimum: ``rate`` (``maker_rate`` for maker
    fills) times the traded value plus ``per_unit`` times the quantity of every fill, plus
    ``per_order`` once, on the first fill. The order is charged ``max(basis, minimum)`` in
    total, so partial fills of one order pay the fixed fee and the minimum only once;
    ``fee_basis`` carries the basis of the earlier fills (0.0 before the first).
    """
    size = abs(quantity)
    variable = (maker_rate if is_maker else rate) * size * abs(price) + per_unit * size
    charged_before = 0.0 if first_fill else max(fee_basis, minimum)
    basis = fee_basis + variable + (per_order if first_fill else 0.0)
    return max(max(basis, minimum) - charged_before, 0.0), basis


@numba.njit(cache=True)
def slippage_nb(  # noqa: PLR0917
    side: int,
    price: float,
    quantity: float,
    bar_volume: float,
    fixed_basis_points: float,
    spread_basis_points: float,
    spread: float,
    volume_impact: float,
) -> float:
    """Return the execution price after slippage, always against the trader.

    The price moves by the sum of a fixed ``fixed_basis_points`` of the price, half the spread
    (``spread`` in price units, or ``spread_basis_points`` of the price) and a volume-share
    impact ``volume_impact × quantity / bar_volume`` of the price (skipped when the bar has no
    volume, as quote data often has none). Buys pay more, sells receive less (never below 0).
    """
    relative = fixed_basis_points * _BASIS_POINT + 0.5 * spread_basis_points * _BASIS_POINT
    if volume_impact > 0.0 and bar_volume > 0.0:
        relative += volume_impact * abs(quantity) / bar_volume
    move = abs(price) * relative + 0.5 * spread
    if side == BUY:
        return price + move
    return max(price - move, 0.0)


@numba.njit(cache=True)
def fill_order_nb(  # noqa: PLR0917
    order_type: int,
    side: int,
    quantity: float,
    limit_price: float,
    stop_price: float,
    trail_amount: float,
    trail_percent: float,
    trail_extreme: float,
    triggered: bool,
    first_fill: bool,
    fee_basis: float,
    bar_open: float,
    bar_high: float,
    bar_low: float,
    bar_close: float,
    bar_volume: float,
    at_close: bool,
    volume_cap: float,
    rate: float,
    maker_rate: float,
    per_unit: float,
    per_order: float,
    minimum: float,
    fixed_basis_points: float,
    spread_basis_points: float,
    spread: float,
    volume_impact: float,
) -> tuple[float, float, float, float, float, bool, float]:
    """Match, slip and charge one order on one bar: the whole fill model in one call.

    Return ``(fill_quantity, bar_price, price, commission, fee_basis, triggered,
    trail_extreme)``: ``bar_price`` is the price inside the bar's range, ``price`` the
    execution price after slippage (taker fills only: limit and stop-limit fills are maker
    fills at their price). With no fill the quantity and commission are 0.0 and both prices
    ``NaN``.
    """
    filled, bar_price, triggered, trail_extreme = match_order_nb(
        order_type,
        side,
        quantity,
        limit_price,
        stop_price,
        trail_amount,
        trail_percent,
        trail_extreme,
        triggered,
        bar_open,
        bar_high,
        bar_low,
        bar_close,
        bar_volume,
        volume_cap,
        at_close,
    )
    if filled <= 0.0:
        return 0.0, np.nan, np.nan, 0.0, fee_basis, triggered, trail_extreme
    maker = is_maker_nb(order_type)
    price = bar_price
    if not maker:
        price = slippage_nb(
            side,
            bar_price,
            filled,
            bar_volume,
            fixed_basis_points,
            spread_basis_points,
            spread,
            volume_impact,
        )
    commission, fee_basis = commission_nb(
        filled, price, maker, first_fill, fee_basis, rate, maker_rate, per_unit, per_order, minimum
    )
    return filled, bar_price, price, commission, fee_basis, triggered, trail_extreme
