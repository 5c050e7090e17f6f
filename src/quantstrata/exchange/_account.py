"""The account of the simulated exchange: cash and one position per symbol.

Positions change only through :meth:`~quantstrata.model.position.Position.apply`. Cash and the
signed quantities are also kept in numpy arrays (:attr:`Account.values`,
:attr:`Account.quantities`) because the leverage cap and the backtest's compiled target step
read and write them in place; a quantity the exchange books is copied from the position
``apply`` returned. A fill compiled code already booked in the arrays is kept as a row and
applied to its position when that position is next read or booked (:meth:`Account.absorb`),
so the backtest's compiled target step pays nothing for positions no one reads.

Contracts: a fill moves cash by its notional ``quantity × (price × multiplier)`` plus its
commission (:func:`~quantstrata.execution.margin.position_value`), so equity (cash plus Σ
positions at their marks with multipliers) is the futures account's at every mark.
"""

from __future__ import annotations

import numpy as np

from quantstrata.core.clock import datetime_from_ns
from quantstrata.model.identifiers import ClientOrderId, Symbol, TradeId
from quantstrata.model.orders import Fill, Liquidity, OrderSide
from quantstrata.model.position import Position

_Row = tuple[str, int, float, float, float]
"""A fill compiled code booked: order id, time (ns), signed quantity, price, commission."""

__all__ = ["Account"]


class Account:
    """Cash, positions and the latest marks of the symbols an exchange lists."""

    def __init__(
        self,
        cash: float,
        symbols: tuple[Symbol, ...],
        multipliers: tuple[float, ...] | None = None,
    ) -> None:
        """Start flat in every symbol with ``cash``; ``multipliers``: contract sizes (1 each)."""
        count = len(symbols)
        self.multipliers = np.ones(count) if multipliers is None else np.array(multipliers)
        """Each symbol's contract multiplier (its instrument's, 1 without one)."""
        self.values = np.full(1 + count, np.nan)
        """``values[0]`` is the cash; ``values[1:]`` are free for the caller (the backtest
        keeps each symbol's target there, next to the cash its compiled step changes)."""
        self.values[0] = cash
        self.quantities = np.zeros(count)
        """Each symbol's signed quantity (a copy of its position's)."""
        self.marks = np.full(count, np.nan)
        """Each symbol's latest price as the leverage cap values it (``NaN``: none yet); the
        caller keeps them current."""
        self._symbols = symbols
        self._positions = [Position.flat(symbol) for symbol in symbols]
        self._rows: list[list[_Row]] = [[] for _ in symbols]

    @property
    def cash(self) -> float:
        """The cash after every fill and charge so far."""
        return float(self.values[0])

    def position(self, column: int) -> Position:
        """Return the position of symbol ``column``."""
        if self._rows[column]:
            self._apply_rows(column)
        return self._positions[column]

    def book(self, column: int, fill: Fill) -> None:
        """Apply ``fill`` of symbol ``column``: its position, then the cash it moved."""
        position = self.position(column).apply(fill)
        self._positions[column] = position
        self.quantities[column] = position.quantity
        multiplier = float(self.multipliers[column])
        self.values[0] -= fill.signed_quantity * (fill.price * multiplier) + fill.commission

    def absorb(self, column: int, row: _Row) -> None:
        """Keep a fill compiled code booked in the arrays, for the position of ``column``."""
        self._rows[column].append(row)

    def _apply_rows(self, column: int) -> None:
        rows, self._rows[column] = self._rows[column], []
        position = self._positions[column]
        for order_id, ts, signed, price, commission in rows:
            fill = Fill(
                ClientOrderId(order_id),
                TradeId(f"{order_id}-1"),
                self._symbols[column],
                OrderSide.BUY if signed > 0.0 else OrderSide.SELL,
                abs(signed),
                price,
                commission,
                datetime_from_ns(ts),
                Liquidity.TAKER,
            )
            position = position.apply(fill)
        self._positions[column] = position

    def list_symbol(self, symbol: Symbol, multiplier: float = 1.0) -> None:
        """Add a flat position in ``symbol`` (new arrays: not for compiled code holding them)."""
        self.multipliers = np.append(self.multipliers, multiplier)
        self.values = np.append(self.values, np.nan)
        self.quantities = np.append(self.quantities, 0.0)
        self.marks = np.append(self.marks, np.nan)
        self._symbols = (*self._symbols, symbol)
        self._positions.append(Position.flat(symbol))
        self._rows.append([])

    def hold(self, column: int, position: Position) -> None:
        """Hold ``position`` in symbol ``column`` as it was saved (restoring a book)."""
        self._rows[column] = []
        self._positions[column] = position
        self.quantities[column] = position.quantity
