"""Compiled kernels of the backtester: the signal-style simulation loop.

The loop calls the shared fill model's kernel (:func:`quantstrata.execution._nb.fill_order_nb`)
so a signal strategy is simulated end to end in compiled code, with the same fill rules the
event loop reaches through :class:`~quantstrata.execution.FillModel`. The sizing kernels live
in :mod:`quantstrata.execution._nb` (re-exported here for both loops) and are shared with the
live runtime's :func:`~quantstrata.execution.targets.orders_for_targets`, so every environment
turns a target into the same order.

Arrays are shaped ``(bars, symbols)`` on the union of bar times; ``has_bar`` marks where a
symbol has a bar (elsewhere prices are ``NaN`` and the symbol neither trades nor revalues).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from quantstrata.execution._nb import (
    BUY,
    MARKET,
    SELL,
    cap_leverage_nb,
    capped_quantity_nb,
    carry_cost_nb,
    equity_nb,
    execution_order_nb,
    fill_order_nb,
    round_fill_nb,
    round_lots_nb,
    target_position_nb,
)

__all__ = [
    "all_prices_valid_nb",
    "cap_leverage_nb",
    "equity_nb",
    "execution_order_nb",
    "round_lots_nb",
    "simulate_targets_nb",
    "target_position_nb",
]

_EPSILON = 1e-12


@numba.njit(cache=True)
def all_prices_valid_nb(
    opens: np.ndarray, highs: np.ndarray, lows: np.ndarray, closes: np.ndarray
) -> bool:
    """Return whether every price is finite and positive (branch-free, so it vectorises)."""
    valid = True
    for prices in (opens, highs, lows, closes):
        for row in range(prices.shape[0]):
            value = prices[row]
            valid &= (value > 0.0) & (value < math.inf)
    return valid


@numba.njit(cache=True, inline="always")
def _execute_nb(  # noqa: PLR0917
    bar: int,
    symbol: int,
    prices: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    state: tuple[np.ndarray, np.ndarray, np.ndarray],
    settings: np.ndarray,
    costs: np.ndarray,
    order: np.ndarray,
) -> bool:
    """Size, cap, round and fill the pending target of ``symbol`` on ``bar``; fill ``order``.

    The position is sized at the execution price (the open, or the close when ``at_close``)
    from the equity marked there. Return whether the target was reached (nothing to do, or
    filled in full); a volume cap's unfilled rest is dropped and the target retried later.
    Under ``round_lots`` (``settings[5]``) a capped fill is rounded down to whole lots first, as
    the fill model rounds every fill (a cap below one lot or the minimum fills nothing), and is
    slipped and charged on that size. ``order`` receives ``asked, capped, quantity, filled,
    bar_price, price, commission`` (signed quantities; ``capped`` after the leverage cap,
    ``quantity`` after lot rounding).
    """
    opens, highs, lows, closes, volumes = prices
    positions, marks, account = state
    units, allow_short, max_leverage, at_close, volume_cap = (
        settings[0] > 0.0,
        settings[1] > 0.0,
        settings[2],
        settings[3] > 0.0,
        settings[4],
    )
    price = closes[bar, symbol] if at_close else opens[bar, symbol]
    marks[symbol] = price
    equity, gross = equity_nb(account[0], positions, marks)
    current = positions[symbol]
    desired = target_position_nb(account[1 + symbol], units, equity, price, allow_short)
    asked = desired - current
    capped = cap_leverage_nb(
        current, desired, price, gross - abs(current * price), equity, max_leverage
    )
    lots = 9 + 3 * symbol
    delta = round_lots_nb(capped - current, costs[lots], costs[lots + 1])
    order[0] = asked
    order[1] = capped - current
    order[2] = delta
    if abs(delta) <= _EPSILON * max(abs(current), 1.0):
        order[2] = 0.0  # a rounding-error remainder is no order (the event loop sends none)
        return True
    side = BUY if delta > 0.0 else SELL
    size = abs(delta)
    if settings[5] > 0.0:  # round_lots: a volume-capped fill is rounded down to lots
        room = capped_quantity_nb(size, volumes[bar, symbol], volume_cap)
        if room < size:
            size = round_fill_nb(room, costs[lots], costs[lots + 1], costs[lots + 2])
    triggered, first_fill = False, True
    filled, bar_price, fill_price, commission, _, _, _ = fill_order_nb(
        MARKET, side, size, np.nan, np.nan, np.nan, np.nan, np.nan, triggered,
        first_fill, 0.0,
        opens[bar, symbol], highs[bar, symbol], lows[bar, symbol], closes[bar, symbol],
        volumes[bar, symbol], at_close, volume_cap, costs[0], costs[1], costs[2], costs[3],
        costs[4], costs[5], costs[6], costs[7], costs[8],
    )  # fmt: skip
    order[3] = filled * side
    order[4] = bar_price
    order[5] = fill_price
    order[6] = commission
    if filled > 0.0:
        positions[symbol] = current + filled * side
        account[0] -= filled * side * fill_price + commission
    return filled >= abs(delta)


@numba.njit(cache=True, inline="always")
def _execute_pending_nb(  # noqa: PLR0917
    bar: int,
    has_bar: np.ndarray,
    pending_from: np.ndarray,
    prices: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    state: tuple[np.ndarray, np.ndarray, np.ndarray],
    settings: np.ndarray,
    costs: np.ndarray,
    orders_index: np.ndarray,
    orders_values: np.ndarray,
    count: int,
) -> int:
    """Execute the pending targets of symbols with a bar at ``bar``; return the order count."""
    waiting, last = 0, -1
    for symbol in range(pending_from.shape[0]):
        if pending_from[symbol] >= 0 and has_bar[bar, symbol]:
            waiting, last = waiting + 1, symbol
    if waiting == 1:  # nothing to put in order
        return _record_nb(
            bar, last, pending_from, prices, state, settings, costs, orders_index,
            orders_values, count,
        )  # fmt: skip
    if waiting == 0:
        return count
    opens, _, _, closes, _ = prices
    positions, marks, account = state
    pending = (pending_from >= 0) & has_bar[bar]
    execution_prices = closes[bar] if settings[3] > 0.0 else opens[bar]
    order = execution_order_nb(
        pending, account[1:], positions, marks, execution_prices, account[0],
        settings[0] > 0.0, settings[1] > 0.0,
    )  # fmt: skip
    for symbol in order:
        count = _record_nb(
            bar, symbol, pending_from, prices, state, settings, costs, orders_index,
            orders_values, count,
        )  # fmt: skip
    return count


@numba.njit(cache=True, inline="always")
def _record_nb(  # noqa: PLR0917
    bar: int,
    symbol: int,
    pending_from: np.ndarray,
    prices: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    state: tuple[np.ndarray, np.ndarray, np.ndarray],
    settings: np.ndarray,
    costs: np.ndarray,
    orders_index: np.ndarray,
    orders_values: np.ndarray,
    count: int,
) -> int:
    """Execute ``symbol``'s pending target, record the order if it trades; return the count."""
    source = pending_from[symbol]
    if _execute_nb(bar, symbol, prices, state, settings, costs, orders_values[count]):
        pending_from[symbol] = -1
    if orders_values[count, 2] != 0.0:
        orders_index[count, 0] = source
        orders_index[count, 1] = bar
        orders_index[count, 2] = symbol
        count += 1
    return count


@numba.njit(cache=True)
def simulate_targets_nb(  # noqa: PLR0917
    opens: np.ndarray,
    highs: np.ndarray,
    lows: np.ndarray,
    closes: np.ndarray,
    volumes: np.ndarray,
    has_bar: np.ndarray,
    targets: np.ndarray,
    cash: float,
    settings: np.ndarray,
    costs: np.ndarray,
    offset: int,
    cash_out: np.ndarray,
    positions_out: np.ndarray,
    orders_index: np.ndarray,
    orders_values: np.ndarray,
    carry: np.ndarray,
) -> int:
    """Simulate target positions bar by bar; return the number of orders written.

    ``targets[t, s]`` is decided at bar ``t``'s close (``NaN``: no decision); a new value is
    pending until executed at the symbol's next bar (``offset`` 1) or this bar's close
    (``offset`` 0) by :func:`_execute_nb`. ``settings``: ``units, allow_short, max_leverage,
    at_close, volume_cap, round_lots``; ``costs``: commission (5) and slippage (4) settings,
    then ``lot_size, min_quantity, lot scale`` per symbol. Outputs: cash and positions after
    each bar, and per order ``decision bar, execution bar, symbol`` and the seven values of
    :func:`_execute_nb`.
    ``carry`` (bars × 2): borrow and financing factors, charged at each bar's start; with no
    rows nothing is charged (both rates zero: the loop then skips reading 16 bytes a bar).
    """
    bars, symbols = closes.shape
    positions = np.zeros(symbols)
    marks = np.full(symbols, np.nan)
    account = np.empty(1 + symbols)
    account[0] = cash
    pending_from = np.full(symbols, -1, dtype=np.int64)
    current = np.full(symbols, np.nan)
    prices = (opens, highs, lows, closes, volumes)
    state = (positions, marks, account)
    count = 0
    waiting = 0  # symbols with a pending target
    charges_carry = carry.shape[0] > 0
    for bar in range(bars):
        if charges_carry:  # short borrow and financing: the event loop's compiled charge
            account[0] -= carry_cost_nb(account[0], positions, marks, carry[bar, 0], carry[bar, 1])
        if offset == 1 and waiting:
            count = _execute_pending_nb(
                bar, has_bar, pending_from, prices, state, settings, costs, orders_index,
                orders_values, count,
            )  # fmt: skip
            waiting = _count_pending_nb(pending_from)
        for symbol in range(symbols):
            if has_bar[bar, symbol]:
                marks[symbol] = closes[bar, symbol]
                value = targets[bar, symbol]
                if not np.isnan(value) and value != current[symbol]:
                    current[symbol] = value
                    account[1 + symbol] = value
                    waiting += pending_from[symbol] < 0
                    pending_from[symbol] = bar
        if offset == 0 and waiting:
            count = _execute_pending_nb(
                bar, has_bar, pending_from, prices, state, settings, costs, orders_index,
                orders_values, count,
            )  # fmt: skip
            waiting = _count_pending_nb(pending_from)
        cash_out[bar] = account[0]
        for symbol in range(symbols):
            positions_out[bar, symbol] = positions[symbol]
    return count


@numba.njit(cache=True)
def _count_pending_nb(pending_from: np.ndarray) -> int:
    """Return how many symbols have a pending target."""
    waiting = 0
    for symbol in range(pending_from.shape[0]):
        waiting += pending_from[symbol] >= 0
    return waiting
