"""Turn a strategy's targets into the market orders that reach them, in every environment.

A target (a fraction of equity, or units) is sized exactly as the backtester sizes it — the
arithmetic of the compiled functions of :mod:`quantstrata.execution._nb`, done here by their
bit-identical pure-Python twins (:mod:`quantstrata.execution._scalar`: a handful of symbols per
bar costs less than the kernels' call overhead; a large universe's equity still goes through the
kernel): the position it asks for at the price,
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
from quantstrata.execution import _nb, _scalar
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
_EPSILON = 1e-12
_SCALAR_SYMBOLS = 64
"""Up to this many symbols the equity sum runs in Python; above it, in the kernel."""


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
    """How targets become quantities: units or fractions, shorting, leverage, lots."""

    units: bool = False
    allow_short: bool = True
    max_leverage: float = 1.0
    lots: Mapping[str, tuple[float, float]] | None = None

    def __post_init__(self) -> None:
        """Refuse a non-positive or non-finite leverage cap."""
        if not math.isfinite(self.max_leverage) or self.max_leverage <= 0:
            raise ConfigError(f"max_leverage must be positive, got {self.max_leverage!r}")

    def lot_size(self, symbol: str) -> tuple[float, float]:
        """Return ``(lot_size, min_quantity)`` of ``symbol`` (``(0, 0)``: fractional)."""
        return (self.lots or {}).get(symbol, (0.0, 0.0))


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

    Equity is cash plus the positions held, at ``book.prices``; what a symbol will hold is its
    position plus its working orders, which is what a target is netted against.
    """
    for symbol in targets:
        price = book.prices.get(symbol)
        if price is None or not math.isfinite(price) or price <= 0.0:
            raise UnknownSymbolError(
                f"no usable price for {symbol!r} ({price!r}): a target needs the latest close"
            )
    symbols = sorted(set(book.positions) | set(targets))
    positions = [book.positions.get(symbol, 0.0) for symbol in symbols]
    marks = [book.prices.get(symbol, 0.0) for symbol in symbols]
    if len(symbols) <= _SCALAR_SYMBOLS:
        equity = _scalar.equity(book.cash, positions, marks)
    else:
        equity, _ = _nb.equity_nb(book.cash, np.array(positions), np.array(marks))
    held = {
        symbol: book.positions.get(symbol, 0.0) + book.working_quantity(symbol)
        for symbol in symbols
    }
    gross = sum(abs(held[symbol] * book.prices.get(symbol, 0.0)) for symbol in symbols)
    desired = {
        symbol: _scalar.target_position(
            target, rules.units, equity, book.prices[symbol], rules.allow_short
        )
        for symbol, target in targets.items()
    }
    requests: list[OrderRequest] = []
    for symbol in sorted(targets, key=lambda name: (not _reduces(held[name], desired[name]), name)):
        price, current = book.prices[symbol], held[symbol]
        other = gross - abs(current * price)
        capped = _scalar.cap_leverage(
            current, desired[symbol], price, other, equity, rules.max_leverage
        )
        delta = _scalar.round_lots(capped - current, *rules.lot_size(symbol))
        if abs(delta) <= _EPSILON * max(abs(current), 1.0):
            continue
        tag = leverage_tag(desired[symbol] - current, capped - current)
        requests.append(OrderRequest.market(symbol, delta, tag=tag))
        gross = other + abs((current + delta) * price)
    return requests


def _reduces(current: float, desired: float) -> bool:
    """Whether moving from ``current`` to ``desired`` cuts or closes a position."""
    return current != 0.0 and (desired * current <= 0.0 or abs(desired) < abs(current))
