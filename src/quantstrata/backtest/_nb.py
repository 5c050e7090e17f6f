"""Compiled kernels of the backtester: the signal-style simulation loop.

Two loops: :func:`simulate_targets_nb` sizes targets at the fill (``size_at="fill"``),
:func:`simulate_decided_nb` at the decision (the default), with the live runtime's own sizing
kernel. Both call the shared fill model's kernel (:func:`quantstrata.execution._nb.fill_order_nb`)
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
    exposure_nb,
    fill_order_nb,
    round_fill_nb,
    round_lots_nb,
    size_targets_nb,
    target_position_nb,
    unit_cost_nb,
)
from quantstrata.model.position import POSITION_TOLERANCE

__all__ = [
    "DecidedState",
    "all_prices_valid_nb",
    "booked_nb",
    "cap_leverage_nb",
    "decided_state_nb",
    "equity_nb",
    "execution_order_nb",
    "exposure_nb",
    "fill_whole_nb",
    "resume_decided_nb",
    "round_lots_nb",
    "simulate_decided_nb",
    "simulate_targets_nb",
    "target_position_nb",
    "unit_cost_nb",
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
    terms = settings[6:].reshape((positions.shape[0], 3))
    multiplier = terms[symbol, 0]
    equity, gross = exposure_nb(account[0], positions, marks, terms)
    current = positions[symbol]
    desired = target_position_nb(
        account[1 + symbol], units, equity, price * multiplier, allow_short
    )
    asked = desired - current
    cost = unit_cost_nb(price, terms[symbol])
    capped = cap_leverage_nb(
        current, desired, cost, gross - abs(current * cost), equity, max_leverage
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
        volumes[bar, symbol], at_close, volume_cap, costs[0] * multiplier,
        costs[1] * multiplier, costs[2], costs[3], costs[4], costs[5], costs[6], costs[7],
        costs[8],
    )  # fmt: skip
    order[3] = filled * side
    order[4] = bar_price
    order[5] = fill_price
    order[6] = commission
    if filled > 0.0:
        positions[symbol] = current + filled * side
        account[0] -= filled * side * (fill_price * multiplier) + commission
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
        settings[0] > 0.0, settings[1] > 0.0, settings[6:].reshape((positions.shape[0], 3)),
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
    at_close, volume_cap, round_lots``, then each symbol's contract terms ``multiplier, weight,
    per_contract`` (:func:`~quantstrata.execution.margin.sizing_terms`: values are ``quantity
    × price × multiplier``, the cap holds Σ used exposure within ``max_leverage × equity``);
    ``costs``: commission (5) and slippage (4) settings, then ``lot_size, min_quantity, lot
    scale`` per symbol. Outputs: cash and positions after
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


@numba.njit(cache=True)
def simulate_decided_nb(  # noqa: PLR0917
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
    """Simulate targets sized at their deciding close; return the orders written, -1 to give up.

    What the event loop does with a signal strategy's targets (``size_at="decision"``), in
    compiled code: at each bar, carry is charged, the market orders working fill by the fill
    policy (symbols in order), and a target differing from the symbol's last one is sized at
    this bar's closes by :func:`~quantstrata.execution._nb.size_targets_nb` (the sizing of
    :func:`~quantstrata.execution.targets.orders_for_targets`) into a market order that fills at
    the symbol's next bar (``offset`` 1) or this bar's close (``offset`` 0). Arguments are those
    of :func:`simulate_targets_nb`. Per order, ``orders_index`` gets ``decision bar, symbol,
    fill bar`` (``-1``: still working at the end) and ``orders_values`` ``asked, capped,
    quantity, filled, price, commission`` (signed quantities).

    The loop reproduces the event loop only while every order fills completely on the first bar
    it meets; when one would not (a volume cap, lot rounding of the fill, a sell beyond the
    position with shorting off), it stops and returns -1: the caller then runs the event loop.
    """
    state = decided_state_nb(closes.shape[1], cash)
    return resume_decided_nb(
        opens, highs, lows, closes, volumes, has_bar, targets, settings, costs, offset,
        cash_out, positions_out, orders_index, orders_values, carry, state,
    )  # fmt: skip


DecidedState = tuple[
    np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray
]
"""What :func:`resume_decided_nb` carries from one stretch of bars to the next:
``account`` (cash), ``positions``, ``marks``, ``prices`` (latest closes, 0.0 before any),
``current`` (last target, NaN before any), ``wanted``, ``working`` (order row per symbol, -1:
none) and ``counters`` (orders written, orders working)."""


@numba.njit(cache=True)
def decided_state_nb(symbols: int, cash: float) -> DecidedState:
    """Return the state of :func:`resume_decided_nb` before the first bar, ``cash`` in hand."""
    account = np.full(1, cash)
    counters = np.zeros(2, dtype=np.int64)
    return (
        account, np.zeros(symbols), np.full(symbols, np.nan), np.zeros(symbols),
        np.full(symbols, np.nan), np.zeros(symbols), np.full(symbols, -1, dtype=np.int64),
        counters,
    )  # fmt: skip


@numba.njit(cache=True)
def resume_decided_nb(  # noqa: PLR0917
    opens: np.ndarray,
    highs: np.ndarray,
    lows: np.ndarray,
    closes: np.ndarray,
    volumes: np.ndarray,
    has_bar: np.ndarray,
    targets: np.ndarray,
    settings: np.ndarray,
    costs: np.ndarray,
    offset: int,
    cash_out: np.ndarray,
    positions_out: np.ndarray,
    orders_index: np.ndarray,
    orders_values: np.ndarray,
    carry: np.ndarray,
    state: DecidedState,
) -> int:
    """Run :func:`simulate_decided_nb`'s loop from ``state``, updating it; return its count.

    A streamed run calls this once per stretch of bars with the state the previous stretch
    left (working orders' rows moved to the top of ``orders_index``/``orders_values`` and
    ``working``/``counters`` set to match), so stretches run back to back give the one-pass
    run bit for bit. ``-1``: an order would not fill completely (the state is then spoilt).
    """
    account, positions, marks, prices, current, wanted, working, counters = state
    cash = account[0]
    bars, symbols = closes.shape
    units, allow_short, max_leverage = settings[0] > 0.0, settings[1] > 0.0, settings[2]
    decided = np.zeros(symbols, dtype=np.bool_)
    held = np.zeros(symbols)
    lots = np.empty((symbols, 2))
    for symbol in range(symbols):
        lots[symbol, 0], lots[symbol, 1] = costs[9 + 3 * symbol], costs[10 + 3 * symbol]
    sized = np.empty((symbols, 4))
    terms = settings[6:].reshape((symbols, 3))
    book = (positions, working, orders_index, orders_values)
    market = (opens, highs, lows, closes, volumes, has_bar)
    count, waiting = counters[0], counters[1]
    charges_carry = carry.shape[0] > 0
    for bar in range(bars):
        if charges_carry:
            cash -= carry_cost_nb(cash, positions, marks, carry[bar, 0], carry[bar, 1])
        if offset == 1 and waiting:
            cash, waiting = _fill_working_nb(bar, market, book, cash, waiting, settings, costs)
            if waiting < 0:
                return -1
        chosen = False
        for symbol in range(symbols):
            if has_bar[bar, symbol]:
                marks[symbol] = closes[bar, symbol]
                prices[symbol] = closes[bar, symbol]
            value = targets[bar, symbol]
            decided[symbol] = not np.isnan(value) and value != current[symbol]
            if decided[symbol]:
                current[symbol] = value
                wanted[symbol] = value
                chosen = True
        if chosen:
            for symbol in range(symbols):
                row = working[symbol]
                held[symbol] = positions[symbol] + (orders_values[row, 2] if row >= 0 else 0.0)
            written = size_targets_nb(
                decided, wanted, held, positions, prices, cash, units, allow_short,
                max_leverage, lots, sized, terms,
            )  # fmt: skip
            for order in range(written):
                symbol = int(sized[order, 0])
                if working[symbol] >= 0:
                    return -1  # two working orders of a symbol: the event loop's to net
                orders_index[count, 0], orders_index[count, 1] = bar, symbol
                orders_index[count, 2] = -1
                orders_values[count, 0:3] = sized[order, 1:4]
                working[symbol] = count
                count += 1
                waiting += 1
        if offset == 0 and waiting:
            cash, waiting = _fill_working_nb(bar, market, book, cash, waiting, settings, costs)
            if waiting < 0:
                return -1
        cash_out[bar] = cash
        for symbol in range(symbols):
            positions_out[bar, symbol] = positions[symbol]
    account[0] = cash
    counters[0], counters[1] = count, waiting
    return int(count)


@numba.njit(cache=True, inline="always")
def _fill_working_nb(  # noqa: PLR0917
    bar: int,
    market: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    book: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    cash: float,
    waiting: int,
    settings: np.ndarray,
    costs: np.ndarray,
) -> tuple[float, int]:
    """Fill the working market orders of the symbols with a bar (in order).

    Return the cash and the number of orders still working; ``-1`` when an order would not fill
    completely, which only the event loop reproduces.
    """
    has_bar = market[5]
    positions, working, orders_index, orders_values = book
    for symbol in range(positions.shape[0]):
        row = working[symbol]
        if row < 0 or not has_bar[bar, symbol]:
            continue
        held = positions[symbol]
        whole, traded, price, commission = fill_whole_nb(
            bar, symbol, market, orders_values[row, 2], held, settings, costs
        )
        if not whole:
            return cash, -1
        positions[symbol] = booked_nb(held, traded)
        cash -= traded * (price * settings[6 + 3 * symbol]) + commission
        orders_index[row, 2] = bar
        orders_values[row, 3] = traded
        orders_values[row, 4] = price
        orders_values[row, 5] = commission
        working[symbol] = -1
        waiting -= 1
    return cash, waiting


@numba.njit(cache=True, inline="always")
def fill_whole_nb(  # noqa: PLR0917
    bar: int,
    symbol: int,
    market: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    delta: float,
    held: float,
    settings: np.ndarray,
    costs: np.ndarray,
) -> tuple[bool, float, float, float]:
    """Fill a market order of signed ``delta`` of ``symbol`` on ``bar``, holding ``held``.

    Return ``whole, traded, price, commission`` (``traded`` signed, ``price`` per unit: the
    cash moved is ``traded × price × multiplier + commission``); ``whole`` is ``False``
    (and nothing else meaningful) when the simulated exchange would not fill the order
    completely on this bar: a sell beyond the position with shorting off (the exchange cuts
    it), lot rounding of the fill under ``round_lots``, or a volume cap.
    """
    opens, highs, lows, closes, volumes, _ = market
    side = BUY if delta > 0.0 else SELL
    size = abs(delta)
    if settings[1] <= 0.0 and side == SELL and size > max(held, 0.0):
        return False, 0.0, 0.0, 0.0  # the exchange would cut it to the position
    lot = 9 + 3 * symbol
    whole = round_fill_nb(size, costs[lot], costs[lot + 1], costs[lot + 2])
    if settings[5] > 0.0 and whole != size:
        return False, 0.0, 0.0, 0.0  # the fill model would round the fill below the order
    triggered, first_fill = False, True
    multiplier = settings[6 + 3 * symbol]  # rates charge the notional (price × multiplier)
    filled, _, price, commission, _, _, _ = fill_order_nb(
        MARKET, side, size, np.nan, np.nan, np.nan, np.nan, np.nan, triggered, first_fill, 0.0,
        opens[bar, symbol], highs[bar, symbol], lows[bar, symbol], closes[bar, symbol],
        volumes[bar, symbol], settings[3] > 0.0, settings[4], costs[0] * multiplier,
        costs[1] * multiplier, costs[2], costs[3], costs[4], costs[5], costs[6], costs[7],
        costs[8],
    )  # fmt: skip
    if filled < size:
        return False, 0.0, 0.0, 0.0  # a volume cap: the rest would keep working
    return True, filled * side, price, commission


@numba.njit(cache=True, inline="always")
def booked_nb(held: float, traded: float) -> float:
    """Return the position after trading ``traded``, as :meth:`Position.apply` books it.

    A trade against the position that matches it within ``POSITION_TOLERANCE`` closes it
    exactly (``math.isclose``), so rounding error leaves no dust position.
    """
    if held == 0.0 or (held > 0.0) == (traded > 0.0):
        return held + traded
    if abs(abs(traded) - abs(held)) <= POSITION_TOLERANCE * max(abs(traded), abs(held)):
        return 0.0
    return held + traded
