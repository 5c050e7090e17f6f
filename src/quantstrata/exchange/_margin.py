"""Margin calls: when equity falls below the maintenance margin, which positions to close.

The one rule, used by the simulated exchange (so the backtest, the paper broker and the venue
all make the same call) and by the backtest to know whether a compiled run met a call:

- **Equity** is the cash plus every open position at its mark
  (:func:`~quantstrata.execution.margin.position_value`: ``quantity × mark × multiplier``, as
  the account books cash).
- **Maintenance** is the sum over open positions in instruments with a margin of
  :func:`~quantstrata.execution.margin.maintenance_margin` at the mark (a symbol without a
  margin is a cash position: it is never called, so it adds nothing here).
- When equity < maintenance the account gets a :class:`MarginCall`: with
  ``liquidate_largest_loser`` the position with the largest unrealized loss is closed first,
  then the next, until the equity covers the maintenance of the positions left (closing at the
  mark leaves equity unchanged, and drops that position's maintenance); with ``liquidate_all``
  every position is closed. The exchange sends the closing orders as reduce-only market orders
  that meet the market at the next fill opportunity (the symbol's next bar), through the normal
  fill model and its costs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from quantstrata.execution.margin import maintenance_margin, position_value
from quantstrata.model.identifiers import Symbol
from quantstrata.model.instrument import Instrument
from quantstrata.model.margin import MarginBasis
from quantstrata.model.orders import OrderEvent, OrderRequest
from quantstrata.model.position import Position

if TYPE_CHECKING:
    from quantstrata.exchange.engine import SimulatedExchange

__all__ = [
    "LIQUIDATION_TAG",
    "MarginCall",
    "MarginCallPolicy",
    "MarginRates",
    "account_margin",
    "call_margin",
    "maintenance_breached",
    "margin_call",
    "margin_rates",
    "margin_state",
]

LIQUIDATION_TAG = "margin call liquidation"
"""The ``tag`` of every order a margin call sends."""


class MarginCallPolicy(StrEnum):
    """What the exchange does when equity falls below the maintenance margin."""

    LIQUIDATE_LARGEST_LOSER = "liquidate_largest_loser"
    """Close the position with the largest unrealized loss first, until equity covers the
    maintenance of the positions left."""
    LIQUIDATE_ALL = "liquidate_all"
    """Close every open position."""
    NONE = "none"
    """Make no call (positions run on, however far equity falls)."""


@dataclass(frozen=True, slots=True)
class MarginCall:
    """A margin call: at ``ts`` ``equity`` was below ``maintenance``; ``symbols`` get closed.

    ``symbols`` are in the order they are closed (the largest loser first).
    """

    ts: datetime
    equity: float
    maintenance: float
    policy: MarginCallPolicy
    symbols: tuple[Symbol, ...]


def _maintenance(instrument: Instrument | None, quantity: float, mark: float) -> float:
    if instrument is None or instrument.margin is None:
        return 0.0
    return maintenance_margin(instrument, quantity, mark)


def _held(positions: Sequence[Position], marks: Sequence[float]) -> list[tuple[Position, float]]:
    """Return the open positions with a usable mark (others can be neither valued nor closed)."""
    return [
        (position, mark)
        for position, mark in zip(positions, marks, strict=True)
        if position.quantity != 0.0 and math.isfinite(mark)
    ]


def margin_state(
    cash: float,
    positions: Sequence[Position],
    marks: Sequence[float],
    instruments: Mapping[str, Instrument],
) -> tuple[float, float]:
    """Return the equity and the maintenance margin of ``positions`` at ``marks``."""
    held = _held(positions, marks)
    maintenance = math.fsum(
        _maintenance(instruments.get(position.symbol), position.quantity, mark)
        for position, mark in held
    )
    equity = cash + math.fsum(
        position_value(instruments.get(position.symbol), position.quantity, mark)
        for position, mark in held
    )
    return equity, maintenance


def account_margin(exchange: SimulatedExchange) -> tuple[float, float]:
    """Return the equity and the maintenance margin of ``exchange``'s account at its marks."""
    account = exchange.account
    positions = [account.position(column) for column in range(len(exchange.symbols))]
    return margin_state(
        account.cash, positions, account.marks.tolist(), exchange.config.instruments
    )


def margin_call(
    ts: datetime,
    cash: float,
    positions: Sequence[Position],
    marks: Sequence[float],
    instruments: Mapping[str, Instrument],
    *,
    policy: MarginCallPolicy,
) -> MarginCall | None:
    """Return the call ``positions`` at ``marks`` get with ``cash`` (``None``: no call).

    A position without a usable mark is skipped (it cannot be valued, nor closed on a price).
    """
    if policy is MarginCallPolicy.NONE:
        return None
    equity, maintenance = margin_state(cash, positions, marks, instruments)
    if maintenance == 0.0 or equity >= maintenance:
        return None
    held = _held(positions, marks)
    if policy is MarginCallPolicy.LIQUIDATE_ALL:
        symbols = tuple(sorted(position.symbol for position, _ in held))
        return MarginCall(ts, equity, maintenance, policy, symbols)
    closed: list[Symbol] = []
    left = maintenance
    for position, mark in sorted(
        held, key=lambda pair: (pair[0].unrealized_pnl(pair[1]), pair[0].symbol)
    ):
        if equity >= left:
            break
        closed.append(position.symbol)
        left -= _maintenance(instruments.get(position.symbol), position.quantity, mark)
    return MarginCall(ts, equity, maintenance, policy, tuple(closed))


MarginRates = tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]
"""Per symbol: maintenance per unit of price, per contract, and the multiplier."""


def margin_rates(symbols: Sequence[str], instruments: Mapping[str, Instrument]) -> MarginRates:
    """Return each symbol's maintenance per unit of price and per contract, and multiplier.

    Zero maintenance: no margin (a cash position). :func:`maintenance_breached` takes these.
    """
    count = len(symbols)
    per_price, per_contract, multipliers = np.zeros(count), np.zeros(count), np.ones(count)
    for column, symbol in enumerate(symbols):
        instrument = instruments.get(symbol)
        if instrument is None:
            continue
        multipliers[column] = instrument.multiplier
        margin = instrument.margin
        if margin is None:
            continue
        if margin.basis is MarginBasis.PER_CONTRACT:
            per_contract[column] = margin.maintenance
        else:
            per_price[column] = margin.maintenance * instrument.multiplier
    return per_price, per_contract, multipliers


def maintenance_breached(
    cash: npt.NDArray[np.float64],
    positions: npt.NDArray[np.float64],
    marks: npt.NDArray[np.float64],
    rates: MarginRates,
) -> bool:
    """Return whether, at any bar, equity fell below the maintenance margin.

    ``cash`` (bars), ``positions`` and ``marks`` (bars × symbols) are a run's book after each
    bar; ``rates`` are :func:`margin_rates`. The same sums as :func:`margin_state`'s, for a
    whole run at once: a run without a breach made no call, so it is what the exchange would
    give. A held position without a finite mark is skipped, as :func:`margin_call` skips it.
    """
    per_price, per_contract, multipliers = rates
    if not (per_price.any() or per_contract.any()):
        return False
    held = positions != 0.0
    usable = held & np.isfinite(np.where(held, marks, 0.0))
    price = np.where(usable, marks, 0.0)
    size = np.where(usable, np.abs(positions), 0.0)
    value = np.where(usable, positions * (price * multipliers), 0.0)
    maintenance = (size * np.abs(price) * per_price + size * per_contract).sum(1)
    equity = cash + value.sum(1)
    # Sums in another order than margin_call's may differ in the last bits: a run this close to
    # a call counts as breached (the exchange's path then decides exactly).
    return bool(np.any((maintenance > 0.0) & (equity < maintenance * (1.0 + 1e-9))))


_CANCELLED = "margin call: the symbol's working orders cancelled before its liquidation"


def call_margin(exchange: SimulatedExchange, now: datetime) -> list[OrderEvent]:
    """Make ``exchange``'s margin call at its ``account.marks``, if one is due; return events.

    The call is appended to ``exchange.margin_calls``; each symbol it closes has its working
    orders cancelled and gets a reduce-only market order for the whole position (``tag``
    :data:`LIQUIDATION_TAG`), which meets the market on the symbol's next bar. A symbol whose
    liquidation is still working is not sent another one (nor is a call recorded again while
    every symbol it would close is being liquidated).
    """
    account, config = exchange.account, exchange.config
    positions = [account.position(column) for column in range(len(exchange.symbols))]
    call = margin_call(
        now, account.cash, positions, account.marks.tolist(), config.instruments,
        policy=config.margin_call,
    )  # fmt: skip
    if call is None:
        return []
    pending = {
        order.symbol for order in exchange.open_orders() if order.request.tag == LIQUIDATION_TAG
    }
    if pending.issuperset(call.symbols):
        return []  # the call already made is still being executed
    exchange.margin_calls.append(call)
    events: list[OrderEvent] = []
    for symbol in call.symbols:
        if symbol in pending:
            continue
        for order in exchange.open_orders(symbol):
            events += exchange.cancel(order.order_id, now, _CANCELLED)
        held = exchange.position(symbol).quantity
        request = OrderRequest.market(symbol, -held, reduce_only=True, tag=LIQUIDATION_TAG)
        events += exchange.submit(exchange.new_order_id(), request, now)
    return events
