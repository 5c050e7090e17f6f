"""A :class:`Position` in one symbol: an immutable value that changes only by applying fills.

``position.apply(fill)`` opens, adds to, partly closes, closes or flips the position and
returns its next value. Accounting, with ``q`` the signed quantity and ``a`` the average entry
price:

- opening or adding moves ``a`` to the quantity-weighted mean of the entry prices;
- reducing realizes ``closed * (price - a)`` for a long (``(a - price)`` for a short) and keeps
  ``a``; closing completely leaves ``q == 0`` and ``a == 0.0``;
- a fill larger than the position flips it: the old quantity is closed as above, the rest
  opens a new position at the fill price.

``realized_pnl`` is net of commissions (each fill's commission is subtracted when applied), so
at any mark price ``realized_pnl + unrealized_pnl(mark)`` equals the cash-flow account
``-sum(signed quantity * price) - sum(commission) + q * mark``.

Fills are not de-duplicated here: the order de-duplicates them by trade id
(:meth:`quantstrata.model.orders.order.Order.apply`), and only fills it applied reach the
position.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from quantstrata.core.errors import QuantstrataError
from quantstrata.model.identifiers import Symbol
from quantstrata.model.orders.fill import Fill

__all__ = ["POSITION_TOLERANCE", "Position", "PositionError"]

POSITION_TOLERANCE = 1e-9
"""Relative tolerance within which a reducing fill closes the position exactly."""


class PositionError(QuantstrataError, ValueError):
    """A position value breaks its rules, or a fill cannot be applied to it."""


@dataclass(frozen=True, slots=True)
class Position:
    """What is held in ``symbol`` and what it has earned.

    ``quantity`` is signed (positive long, negative short, ``0.0`` flat). ``average_price`` is
    the average entry price of the open quantity, ``0.0`` when flat: a flat position has no
    entry price, and a float keeps the field usable in arrays and frames (check
    :attr:`is_flat`, not the price). ``realized_pnl`` is net of ``total_commission``, the sum of
    the commissions of every fill applied (negative when rebates exceed fees).
    """

    symbol: Symbol
    quantity: float = 0.0
    average_price: float = 0.0
    realized_pnl: float = 0.0
    total_commission: float = 0.0

    def __post_init__(self) -> None:
        """Refuse non-finite numbers and an entry price that does not match the quantity."""
        try:
            object.__setattr__(self, "symbol", Symbol(self.symbol))
        except QuantstrataError as error:
            raise PositionError(f"invalid position: {error}") from error
        for name in ("quantity", "average_price", "realized_pnl", "total_commission"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise PositionError(f"invalid position: {name} must be a number, got {value!r}")
            if not math.isfinite(value):
                raise PositionError(f"invalid position: {name} must be finite, got {value!r}")
            object.__setattr__(self, name, float(value))
        if self.quantity == 0 and self.average_price != 0:
            raise PositionError(
                f"invalid position: a flat position has average_price 0.0, "
                f"got {self.average_price!r}"
            )
        if self.quantity != 0 and self.average_price <= 0:
            raise PositionError(
                f"invalid position: an open position needs average_price > 0, "
                f"got {self.average_price!r}"
            )

    @classmethod
    def flat(cls, symbol: str) -> Position:
        """Return an empty position in ``symbol``: nothing held, nothing earned."""
        return cls(Symbol(symbol))

    @property
    def is_flat(self) -> bool:
        """Whether nothing is held."""
        return self.quantity == 0

    @property
    def is_long(self) -> bool:
        """Whether the position is long."""
        return self.quantity > 0

    @property
    def is_short(self) -> bool:
        """Whether the position is short."""
        return self.quantity < 0

    @property
    def gross_realized_pnl(self) -> float:
        """The realized PnL before commissions."""
        return self.realized_pnl + self.total_commission

    def market_value(self, mark: float) -> float:
        """Return the signed value of the open quantity at ``mark``."""
        return self.quantity * mark

    def unrealized_pnl(self, mark: float) -> float:
        """Return what closing the open quantity at ``mark`` would realize (before fees)."""
        if self.quantity == 0:
            return 0.0
        return self.quantity * (mark - self.average_price)

    def total_pnl(self, mark: float) -> float:
        """Return realized (net of commissions) plus unrealized PnL at ``mark``."""
        return self.realized_pnl + self.unrealized_pnl(mark)

    def apply(self, fill: Fill) -> Position:
        """Return the position after ``fill``: opened, added to, reduced, closed or flipped."""
        if not isinstance(fill, Fill):
            raise PositionError(f"a position applies Fills, got {fill!r}")
        if fill.symbol != self.symbol:
            raise PositionError(
                f"fill {fill.trade_id} is for {fill.symbol!r}, not this position's {self.symbol!r}"
            )
        held, traded, price = self.quantity, fill.signed_quantity, fill.price
        realized = self.realized_pnl - fill.commission
        commission = self.total_commission + fill.commission
        if held == 0 or (held > 0) == (traded > 0):
            size = abs(held) + abs(traded)
            average = (abs(held) * self.average_price + abs(traded) * price) / size
            return Position(self.symbol, held + traded, average, realized, commission)
        direction = 1.0 if held > 0 else -1.0
        if math.isclose(abs(traded), abs(held), rel_tol=POSITION_TOLERANCE, abs_tol=0.0):
            realized += abs(held) * (price - self.average_price) * direction
            return Position(self.symbol, 0.0, 0.0, realized, commission)
        closed = min(abs(traded), abs(held))
        realized += closed * (price - self.average_price) * direction
        if abs(traded) < abs(held):
            return Position(self.symbol, held + traded, self.average_price, realized, commission)
        return Position(self.symbol, held + traded, price, realized, commission)
