"""Compiled kernels that size a target: equity, the position asked for, the leverage cap, lots.

Shared by every environment: the live runtime's
:func:`~quantstrata.execution.targets.orders_for_targets` and the backtest's compiled loops call
:func:`size_targets_nb` (or its parts), so a target becomes the same order everywhere. Plain
``numba.njit(cache=True)`` without fastmath, as :mod:`quantstrata.execution._nb`.
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = [
    "cap_leverage_nb",
    "equity_nb",
    "execution_order_nb",
    "exposure_nb",
    "reduces_nb",
    "round_fill_nb",
    "round_lots_nb",
    "size_targets_nb",
    "target_position_nb",
    "unit_cost_nb",
]

_EPSILON = 1e-12
"""Order sizes at or below this fraction of the position are rounding error, not orders."""


@numba.njit(cache=True)
def round_lots_nb(quantity: float, lot_size: float, min_quantity: float) -> float:
    """Round a signed ``quantity`` toward zero to whole lots (``lot_size`` 0: no rounding).

    A rounded size below ``min_quantity`` is 0. A relative nudge of 1e-9 keeps a quantity that
    is a whole number of lots up to rounding error (``0.3 / 0.1``) at that number.
    """
    if lot_size <= 0.0:
        return quantity
    lots = math.floor(abs(quantity) / lot_size * (1.0 + 1e-9))
    size = lots * lot_size
    if size < min_quantity:
        return 0.0
    return size if quantity > 0.0 else -size


@numba.njit(cache=True)
def round_fill_nb(quantity: float, lot_size: float, min_quantity: float, scale: float) -> float:
    """Round a fill ``quantity`` (not negative) down to whole lots, as the fill model does.

    The fill model rounds with :meth:`~quantstrata.model.instrument.Instrument.round_quantity`
    (decimal arithmetic on the shortest decimal forms); this gives the same result in floats.
    The lot is ``units / scale`` with ``scale`` the power of ten of the lot's decimals
    (:func:`quantstrata.execution.costs.lot_scale`): the count of lots is corrected by one
    against the exact multiples ``n × units / scale``, so a quantity equal to a multiple up to
    its last bit keeps it (``0.3`` is three lots of ``0.1``) and one below it does not. A
    rounded size below ``min_quantity`` is 0; ``lot_size`` 0 does not round.
    """
    if lot_size <= 0.0:
        return quantity
    units = float(round(lot_size * scale))
    lots = float(math.floor(quantity / lot_size))
    if (lots + 1.0) * units / scale <= quantity:
        lots += 1.0
    elif lots * units / scale > quantity:
        lots -= 1.0
    size = lots * units / scale
    if size < min_quantity:
        return 0.0
    return size


@numba.njit(cache=True)
def equity_nb(cash: float, positions: np.ndarray, marks: np.ndarray) -> tuple[float, float]:
    """Return ``(equity, gross)``: cash plus Σ position × mark, and Σ |position × mark|."""
    equity = cash
    gross = 0.0
    for index in range(positions.shape[0]):
        if positions[index] != 0.0:
            value = positions[index] * marks[index]
            equity += value
            gross += abs(value)
    return equity, gross


@numba.njit(cache=True)
def exposure_nb(
    cash: float, positions: np.ndarray, marks: np.ndarray, terms: np.ndarray
) -> tuple[float, float]:
    """Return ``(equity, used)`` of an account whose symbols have contract ``terms``.

    ``terms`` is ``(symbols, 3)``: each symbol's ``multiplier, weight, per_contract``
    (:func:`quantstrata.execution.margin.sizing_terms`). Equity is cash plus Σ position ×
    (mark × multiplier); ``used`` is Σ weight × |value| + per_contract × |position|, what the
    buying-power cap (:func:`cap_leverage_nb`) holds within ``max_leverage × equity``. With
    terms ``(1, 1, 0)`` both equal :func:`equity_nb`'s to the last bit.
    """
    equity = cash
    used = 0.0
    for index in range(positions.shape[0]):
        if positions[index] != 0.0:
            value = positions[index] * (marks[index] * terms[index, 0])
            equity += value
            used += terms[index, 1] * abs(value) + terms[index, 2] * abs(positions[index])
    return equity, used


@numba.njit(cache=True, inline="always")
def unit_cost_nb(price: float, terms: np.ndarray) -> float:
    """Return what one contract at ``price`` uses of the cap (a row of ``exposure_nb``'s terms)."""
    cost: float = terms[1] * (price * terms[0]) + terms[2]
    return cost


@numba.njit(cache=True)
def target_position_nb(
    target: float, units: bool, equity: float, price: float, allow_short: bool
) -> float:
    """Return the signed position a target asks for at ``price``.

    ``units`` targets are the position itself; fraction targets are ``target × equity /
    price`` (nothing while equity is not positive). Without ``allow_short`` a short is flat.
    """
    desired = target
    if not units:
        desired = target * equity / price if equity > 0.0 else 0.0
    if not allow_short and desired < 0.0:
        desired = 0.0
    return desired


@numba.njit(cache=True)
def cap_leverage_nb(  # noqa: PLR0917
    current: float,
    desired: float,
    price: float,
    other_gross: float,
    equity: float,
    max_leverage: float,
) -> float:
    """Return ``desired`` reduced so gross exposure stays within ``max_leverage × equity``.

    ``other_gross`` is the gross value of the other symbols. Only the part of an order that
    adds exposure is capped: a reduction toward flat is never enlarged, a position already
    beyond the cap is kept (not forced down), and a flip is capped on its new side.
    """
    room = max(max_leverage * max(equity, 0.0) - other_gross, 0.0) / price
    same_side = current * desired > 0.0
    if abs(desired) <= room or (same_side and abs(desired) <= abs(current)):
        return desired
    limit = max(room, abs(current)) if same_side else room
    return limit if desired > 0.0 else -limit


@numba.njit(cache=True)
def reduces_nb(current: float, desired: float) -> bool:
    """Return whether moving from ``current`` to ``desired`` cuts, closes or flips a position."""
    return current != 0.0 and (desired * current <= 0.0 or abs(desired) < abs(current))


@numba.njit(cache=True)
def size_targets_nb(  # noqa: PLR0917
    decided: np.ndarray,
    targets: np.ndarray,
    held: np.ndarray,
    positions: np.ndarray,
    prices: np.ndarray,
    cash: float,
    units: bool,
    allow_short: bool,
    max_leverage: float,
    lots: np.ndarray,
    out: np.ndarray,
    terms: np.ndarray,
) -> int:
    """Size the market orders that move each ``decided`` symbol to its target; return the count.

    The one sizing of targets at a decision, for the live runtime
    (:func:`~quantstrata.execution.targets.orders_for_targets`) and the backtest's compiled
    decision loop alike. Per symbol (sorted): ``targets``, ``held`` (position plus what working
    orders will still add), ``positions`` and ``prices`` (``0.0`` where unknown); ``lots`` is
    ``(lot_size, min_quantity)`` per symbol, ``terms`` the contract terms of
    :func:`exposure_nb`. Equity is cash plus the positions at ``prices`` (with multipliers);
    the exposure used is Σ weight × |held value| + per_contract × |held| (the gross notional
    without margin). Symbols whose order reduces a position go first (then
    the others, each group in symbol order), and each order's exposure counts for the next
    one's leverage cap. A remainder at or below 1e-12 of the position is no order. ``out``
    receives one row per order: ``column, asked, capped, delta`` (signed changes: what the
    target asked, after the leverage cap, after lot rounding).
    """
    count = positions.shape[0]
    equity, _ = exposure_nb(cash, positions, prices, terms)
    gross = 0.0
    for column in range(count):
        gross += abs(held[column] * unit_cost_nb(prices[column], terms[column]))
    desired = np.zeros(count)
    for column in range(count):
        if decided[column]:
            desired[column] = target_position_nb(
                targets[column], units, equity, prices[column] * terms[column, 0], allow_short
            )
    written = 0
    for first in (True, False):
        for column in range(count):
            if not decided[column] or reduces_nb(held[column], desired[column]) != first:
                continue
            price, current = unit_cost_nb(prices[column], terms[column]), held[column]
            other = gross - abs(current * price)
            capped = cap_leverage_nb(current, desired[column], price, other, equity, max_leverage)
            delta = round_lots_nb(capped - current, lots[column, 0], lots[column, 1])
            if abs(delta) <= _EPSILON * max(abs(current), 1.0):
                continue
            out[written, 0] = column
            out[written, 1] = desired[column] - current
            out[written, 2] = capped - current
            out[written, 3] = delta
            written += 1
            gross = other + abs((current + delta) * price)
    return written


@numba.njit(cache=True)
def execution_order_nb(  # noqa: PLR0917
    pending: np.ndarray,
    targets: np.ndarray,
    positions: np.ndarray,
    marks: np.ndarray,
    prices: np.ndarray,
    cash: float,
    units: bool,
    allow_short: bool,
    terms: np.ndarray,
) -> np.ndarray:
    """Return the symbols whose pending target executes now, those reducing a position first.

    Selling before buying frees the cash a rotation needs, so a switch from one symbol to
    another is not cut by the leverage cap merely because of the symbols' sort order. Within
    each group symbols keep their sorted order. ``prices`` are the execution prices,
    ``terms`` the contract terms of :func:`exposure_nb`.
    """
    equity = cash
    for symbol in range(positions.shape[0]):
        if positions[symbol] != 0.0:
            mark = prices[symbol] if pending[symbol] else marks[symbol]
            equity += positions[symbol] * (mark * terms[symbol, 0])
    reducing = np.zeros(positions.shape[0], dtype=np.bool_)
    count = 0
    for column in range(positions.shape[0]):
        if pending[column]:
            count += 1
            current = positions[column]
            desired = target_position_nb(
                targets[column], units, equity, prices[column] * terms[column, 0], allow_short
            )
            reducing[column] = reduces_nb(current, desired)
    order = np.empty(count, dtype=np.int64)
    filled = 0
    for first in (True, False):
        for column in range(positions.shape[0]):
            if pending[column] and reducing[column] == first:
                order[filled] = column
                filled += 1
    return order
