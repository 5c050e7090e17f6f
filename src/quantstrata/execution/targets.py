"""Turn a strategy's targets into the market orders that reach them, in every environment.

A target (a fraction of equity, or units) is sized by one compiled function,
:func:`~quantstrata.execution._nb.size_targets_nb`, which the backtest's compiled decision loop
calls too, so both size a target with the same code: the position it asks for at the price,
capped so gross exposure stays within ``max_leverage`` × equity, rounded to the instrument's
lots — and netted against what is held *and* what open orders of the symbol will still add, so a
target repeated while its order is working never orders twice. Symbols whose order reduces a
position go first, so a rotation's sale funds its purchase.

Live trading decides at a bar's close and cannot know the next open, so the live runtime sizes
targets at the decision price (the close just seen) with :func:`orders_for_targets`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from quantstrata.core.errors import ConfigError, UnknownSymbolError
from quantstrata.execution import _nb
from quantstrata.execution.margin import NO_TERMS
from quantstrata.model.instrument import Instrument
from quantstrata.model.orders import Order, OrderRequest

__all__ = [
    "TARGET_TAG",
    "SizingRules",
    "TargetBook",
    "leverage_note",
    "leverage_tag",
    "lot_rule",
    "no_leverage_room",
    "orders_for_targets",
]

TARGET_TAG = "target"


def leverage_note(asked: float, quantity: float) -> str:
    """Return the note of an order the leverage cap cut from ``asked`` to ``quantity`` (signed).

    The one spelling of the cut in every environment: target orders carry it in their tag
    (:func:`leverage_tag`), the backtest's order desk in the order's tag and reason.
    """
    return f"leverage cap reduced {asked:.10g} to {quantity:.10g}"


def no_leverage_room(max_leverage: float) -> str:
    """Return the reason of an order cancelled because the leverage cap left no room at all."""
    return f"leverage cap: no room at max_leverage {max_leverage:g}"


def leverage_tag(asked: float, quantity: float, tolerance: float = 1e-9) -> str:
    """Return the tag of a target order: ``target``, noting a leverage-cap reduction."""
    if abs(asked - quantity) <= tolerance * max(abs(asked), 1.0):
        return TARGET_TAG
    return f"{TARGET_TAG}; {leverage_note(asked, quantity)}"


def lot_rule(
    symbol: str, *, fractional: bool, round_lots: bool, instruments: Mapping[str, Instrument]
) -> tuple[float, float]:
    """Return the ``(lot_size, min_quantity)`` target orders of ``symbol`` are rounded to.

    The one lot rule of target sizing, for the backtest and the live runtime alike: with
    ``fractional`` trading and no ``round_lots``, any fraction trades (``(0, 0)``); otherwise
    the lots of ``instruments[symbol]``, or whole units for a symbol without an instrument.
    ``round_lots`` (the fill model's setting) rounds targets to lots too, so an order is never
    sized to a quantity its fills would round away.
    """
    if fractional and not round_lots:
        return 0.0, 0.0
    instrument = instruments.get(symbol)
    if instrument is None:
        return 1.0, 0.0
    return instrument.lot_size, instrument.min_quantity


@dataclass(frozen=True, slots=True)
class SizingRules:
    """How targets become quantities: units or fractions, shorting, leverage, lots, contracts.

    ``terms`` are the contract terms of symbols with an instrument
    (:func:`~quantstrata.execution.margin.sizing_terms`: multiplier and margin); others have
    none (multiplier 1, the leverage cap).
    """

    units: bool = False
    allow_short: bool = True
    max_leverage: float = 1.0
    lots: Mapping[str, tuple[float, float]] | None = None
    terms: Mapping[str, tuple[float, float, float]] | None = None

    def __post_init__(self) -> None:
        """Refuse a non-positive or non-finite leverage cap."""
        if not math.isfinite(self.max_leverage) or self.max_leverage <= 0:
            raise ConfigError(f"max_leverage must be positive, got {self.max_leverage!r}")

    def lot_size(self, symbol: str) -> tuple[float, float]:
        """Return ``(lot_size, min_quantity)`` of ``symbol`` (``(0, 0)``: fractional)."""
        return (self.lots or {}).get(symbol, (0.0, 0.0))

    def terms_of(self, symbol: str) -> tuple[float, float, float]:
        """Return ``(multiplier, weight, per_contract)`` of ``symbol`` for the buying-power cap."""
        return (self.terms or {}).get(symbol, NO_TERMS)


@dataclass(frozen=True, slots=True)
class TargetBook:
    """The account as the handler sizes against: cash, positions, open orders, prices."""

    cash: float
    positions: Mapping[str, float]
    open_orders: Sequence[Order]
    prices: Mapping[str, float]

    def working_quantity(self, symbol: str) -> float:
        """Return the signed quantity open orders of ``symbol`` may still fill."""
        return sum(
            float(order.side) * order.remaining_quantity
            for order in self.open_orders
            if order.symbol == symbol
        )


def orders_for_targets(
    targets: Mapping[str, float], book: TargetBook, rules: SizingRules
) -> list[OrderRequest]:
    """Return the market orders that move each symbol from ``book`` to its target.

    Equity is cash plus the positions held, at ``book.prices`` (times each contract's
    multiplier); buying power comes from margin where an instrument has one; what a symbol
    will hold is its position plus its working orders, which is what a target is netted
    against.
    """
    for symbol in targets:
        price = book.prices.get(symbol)
        if price is None or not math.isfinite(price) or price <= 0.0:
            raise UnknownSymbolError(
                f"no usable price for {symbol!r} ({price!r}): a target needs the latest close"
            )
    symbols = sorted(set(book.positions) | set(targets))
    count = len(symbols)
    decided = np.array([symbol in targets for symbol in symbols], dtype=np.bool_)
    wanted = np.array([targets.get(symbol, 0.0) for symbol in symbols], dtype=np.float64)
    positions = np.array([book.positions.get(symbol, 0.0) for symbol in symbols], dtype=np.float64)
    working = [book.working_quantity(symbol) for symbol in symbols]
    held = positions + np.array(working, dtype=np.float64)
    prices = np.array([book.prices.get(symbol, 0.0) for symbol in symbols], dtype=np.float64)
    lots = np.array([rules.lot_size(symbol) for symbol in symbols], dtype=np.float64)
    lots = lots.reshape(count, 2)
    terms = np.array([rules.terms_of(symbol) for symbol in symbols], dtype=np.float64)
    out = np.empty((len(targets), 4))
    written = _nb.size_targets_nb(
        decided, wanted, held, positions, prices, float(book.cash), rules.units, rules.allow_short,
        rules.max_leverage, lots, out, terms.reshape(count, 3),
    )  # fmt: skip
    requests: list[OrderRequest] = []
    for column, asked, capped, delta in out[:written].tolist():
        tag = leverage_tag(asked, capped)
        requests.append(OrderRequest.market(symbols[int(column)], delta, tag=tag))
    return requests
