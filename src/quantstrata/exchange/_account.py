"""The account of the simulated exchange: cash and one position per symbol.

Positions change only through :meth:`~quantstrata.model.position.Position.apply`. Cash and the
signed quantities are also kept in numpy arrays (:attr:`Account.values`,
:attr:`Account.quantities`) because the leverage cap and the backtest's compiled target step
read and write them in place; a quantity is always copied from the position ``apply`` returned.
"""

from __future__ import annotations

import numpy as np

from quantstrata.model.identifiers import Symbol
from quantstrata.model.orders import Fill
from quantstrata.model.position import Position

__all__ = ["Account"]


class Account:
    """Cash, positions and the latest marks of the symbols an exchange lists."""

    def __init__(self, cash: float, symbols: tuple[Symbol, ...]) -> None:
        """Start flat in every symbol with ``cash``."""
        count = len(symbols)
        self.values = np.full(1 + count, np.nan)
        """``values[0]`` is the cash; ``values[1:]`` are free for the caller (the backtest
        keeps each symbol's target there, next to the cash its compiled step changes)."""
        self.values[0] = cash
        self.quantities = np.zeros(count)
        """Each symbol's signed quantity (a copy of its position's)."""
        self.marks = np.full(count, np.nan)
        """Each symbol's latest price as the leverage cap values it (``NaN``: none yet); the
        caller keeps them current."""
        self.positions = [Position.flat(symbol) for symbol in symbols]

    @property
    def cash(self) -> float:
        """The cash after every fill and charge so far."""
        return float(self.values[0])

    def book(self, column: int, fill: Fill) -> None:
        """Apply ``fill`` of symbol ``column``: its position, then the cash it moved."""
        self.absorb(column, fill)
        self.quantities[column] = self.positions[column].quantity
        self.values[0] -= fill.signed_quantity * fill.price + fill.commission

    def absorb(self, column: int, fill: Fill) -> None:
        """Apply ``fill`` to the position only: compiled code already moved the arrays."""
        self.positions[column] = self.positions[column].apply(fill)

    def list_symbol(self, symbol: Symbol) -> None:
        """Add a flat position in ``symbol`` (new arrays: not for compiled code holding them)."""
        self.values = np.append(self.values, np.nan)
        self.quantities = np.append(self.quantities, 0.0)
        self.marks = np.append(self.marks, np.nan)
        self.positions.append(Position.flat(symbol))
