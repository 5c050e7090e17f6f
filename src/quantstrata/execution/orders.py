"""What the fill model works on and returns: working orders, brackets, fills.

These are frozen values: matching an order against a bar returns the order's new state (the
quantity left, a triggered stop, a trailing stop's extreme) instead of changing it in place,
so the backtester, the paper broker and the simulated venue keep their own books.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol

from quantstrata.execution import _nb
from quantstrata.model.orders._checks import (
    PRICE_FIELDS,
    InvalidOrderError,
    finite_number,
    order_shape,
    positive_number,
)
from quantstrata.model.orders.enums import OrderSide, OrderType
from quantstrata.model.orders.fill import Liquidity
from quantstrata.model.orders.request import OrderRequest

__all__ = [
    "BracketLeg",
    "BracketStep",
    "FillResult",
    "OrderStep",
    "PriceBar",
    "WorkingBracket",
    "WorkingOrder",
]


_WORKING = "working order"
_BRACKET = "working bracket"


class PriceBar(Protocol):
    """Any bar with prices and volume, e.g. :class:`quantstrata.model.bar.Bar` (validated)."""

    @property
    def open(self) -> float:
        """The first price of the bar."""
        ...

    @property
    def high(self) -> float:
        """The highest price of the bar."""
        ...

    @property
    def low(self) -> float:
        """The lowest price of the bar."""
        ...

    @property
    def close(self) -> float:
        """The last price of the bar."""
        ...

    @property
    def volume(self) -> float:
        """The volume traded in the bar."""
        ...


class BracketLeg(IntEnum):
    """The exit of a bracket that filled; values are the kernels' leg codes."""

    STOP_LOSS = _nb.LEG_STOP_LOSS
    TAKE_PROFIT = _nb.LEG_TAKE_PROFIT


@dataclass(frozen=True, slots=True)
class WorkingOrder:
    """An order as the fill model sees it: what is left to fill and the state between bars.

    ``quantity`` is the quantity still to fill (positive; ``side`` gives the direction).
    ``limit_price`` is needed by limit and stop-limit orders, ``stop_price`` by stop and
    stop-limit orders; a trailing stop needs exactly one of ``trail_amount`` (price units) and
    ``trail_percent`` (a fraction: ``0.05`` = 5 %), and starts trailing from ``trail_extreme``
    (``None``: from the open of its first bar). ``triggered`` records a stop that has
    triggered; ``arrived`` that the order has met at least one bar. ``filled_quantity`` and
    ``fee_basis`` carry the order's fills so far for per-order commission.
    """

    side: OrderSide
    quantity: float
    order_type: OrderType = OrderType.MARKET
    limit_price: float | None = None
    stop_price: float | None = None
    trail_amount: float | None = None
    trail_percent: float | None = None
    trail_extreme: float | None = None
    triggered: bool = False
    arrived: bool = False
    filled_quantity: float = 0.0
    fee_basis: float = 0.0

    def __post_init__(self) -> None:
        """Refuse orders the fill rules cannot read, by the one order-shape rule.

        The shape (quantity, the prices the type needs and no others) is checked by
        :func:`~quantstrata.model.orders._checks.order_shape`, as for an
        :class:`~quantstrata.model.orders.request.OrderRequest`: the same bad shape raises the
        same :class:`InvalidOrderError` with the same message through either door.
        """
        object.__setattr__(self, "side", OrderSide(self.side))
        kind = OrderType(self.order_type)
        object.__setattr__(self, "order_type", kind)
        given = {name: getattr(self, name) for name in PRICE_FIELDS}
        quantity, prices = order_shape(kind, self.quantity, given)
        object.__setattr__(self, "quantity", quantity)
        for name, value in prices.items():
            object.__setattr__(self, name, value)
        if self.trail_extreme is not None:
            positive_number(_WORKING, "trail_extreme", self.trail_extreme)
        for name in ("filled_quantity", "fee_basis"):
            if finite_number(_WORKING, name, getattr(self, name)) < 0:
                raise InvalidOrderError(
                    f"invalid {_WORKING}: {name} must be >= 0, got {getattr(self, name)!r}",
                    field=name,
                    value=getattr(self, name),
                )

    @classmethod
    def from_request(cls, request: OrderRequest) -> WorkingOrder:
        """Start working ``request`` (already checked by its constructor): nothing filled yet."""
        return cls(
            side=request.side,
            quantity=request.quantity,
            order_type=request.order_type,
            limit_price=request.limit_price,
            stop_price=request.stop_price,
            trail_amount=request.trail_amount,
            trail_percent=request.trail_percent,
        )

    @property
    def trailing_stop(self) -> float | None:
        """The current level of a trailing stop (``None`` before its first bar or otherwise)."""
        if self.order_type is not OrderType.TRAILING_STOP or self.trail_extreme is None:
            return None
        return float(
            _nb.trailing_stop_price_nb(
                int(self.side),
                self.trail_extreme,
                _number(self.trail_amount),
                _number(self.trail_percent),
            )
        )


@dataclass(frozen=True, slots=True)
class WorkingBracket:
    """The two exits of a position, one cancelling the other.

    ``side`` is the side of the exit: ``SELL`` closes a long position (stop-loss below the
    take-profit), ``BUY`` closes a short (stop-loss above). Either leg may be absent.
    """

    side: OrderSide
    quantity: float
    stop_loss: float | None = None
    take_profit: float | None = None
    arrived: bool = False

    def __post_init__(self) -> None:
        """Refuse brackets without a leg or with the legs on the wrong sides of each other."""
        object.__setattr__(self, "side", OrderSide(self.side))
        object.__setattr__(self, "quantity", positive_number(_BRACKET, "quantity", self.quantity))
        if self.stop_loss is None and self.take_profit is None:
            raise InvalidOrderError(
                f"invalid {_BRACKET}: give a stop_loss, a take_profit or both, got neither",
                field="stop_loss",
                value=None,
            )
        for name in ("stop_loss", "take_profit"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, positive_number(_BRACKET, name, value))
        if self.stop_loss is not None and self.take_profit is not None:
            below = self.stop_loss < self.take_profit
            if below != (self.side is OrderSide.SELL):
                where = "below" if self.side is OrderSide.SELL else "above"
                raise InvalidOrderError(
                    f"invalid {_BRACKET}: a {self.side.name} bracket needs its stop_loss {where} "
                    f"its take_profit, got stop_loss={self.stop_loss} "
                    f"take_profit={self.take_profit}",
                    field="stop_loss",
                    value=self.stop_loss,
                )


@dataclass(frozen=True, slots=True)
class FillResult:
    """One fill: how much, at what price, at what cost, and what is left of the order.

    ``bar_price`` is the price the fill rules give, always inside the bar's range; ``price``
    is the execution price after slippage. ``remainder`` is the order still working after this
    fill, ``None`` when the order is complete.
    """

    side: OrderSide
    quantity: float
    price: float
    bar_price: float
    commission: float
    liquidity: Liquidity
    remainder: WorkingOrder | None

    @property
    def slippage(self) -> float:
        """The cost of slippage in quote currency (never negative)."""
        return abs(self.price - self.bar_price) * self.quantity

    @property
    def value(self) -> float:
        """The traded value at the execution price."""
        return self.price * self.quantity

    @property
    def complete(self) -> bool:
        """Whether this fill completed the order."""
        return self.remainder is None


@dataclass(frozen=True, slots=True)
class OrderStep:
    """An order after one bar: its new state (``None`` once complete) and the fill, if any."""

    order: WorkingOrder | None
    fill: FillResult | None


@dataclass(frozen=True, slots=True)
class BracketStep:
    """A bracket after one bar.

    While neither leg is reached, ``bracket`` is its new state and the rest is ``None``. When a
    leg is reached the bracket resolves: ``bracket`` is ``None``, ``leg`` names the exit,
    ``fill`` is what filled on this bar and ``order`` is what of that leg keeps working (``None``
    once complete; a stop-loss reached on a bar that could fill nothing keeps working as a
    triggered stop).
    """

    bracket: WorkingBracket | None
    leg: BracketLeg | None = None
    order: WorkingOrder | None = None
    fill: FillResult | None = None


def _number(value: float | None) -> float:
    return math.nan if value is None else float(value)
