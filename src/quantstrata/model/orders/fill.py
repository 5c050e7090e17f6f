"""One execution of an order: a :class:`Fill`.

Fills are facts: money and instruments changed hands. Orders and positions change only by
applying them, and they are de-duplicated by their venue :class:`TradeId` (venues resend
executions after reconnects), so applying the same fill twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from quantstrata.model.identifiers import ClientOrderId, Symbol, TradeId, VenueOrderId
from quantstrata.model.orders._checks import (
    InvalidOrderError,
    aware_time,
    choice,
    finite_number,
    identifier,
    positive_number,
)
from quantstrata.model.orders.enums import OrderSide

__all__ = ["Fill", "Liquidity"]

_FILL = "fill"


class Liquidity(StrEnum):
    """Whether a fill added liquidity to the book (maker) or took it (taker).

    The fill model (``quantstrata.execution``) reports it and picks the commission rate by it.
    """

    MAKER = "maker"
    TAKER = "taker"


@dataclass(frozen=True, slots=True)
class Fill:
    """``quantity`` of ``symbol`` traded on ``side`` at ``price`` for order ``order_id``.

    ``quantity`` and ``price`` are positive (``side`` gives the direction); ``commission`` is the
    fee charged, ``>= 0``, in the instrument's quote currency. ``ts`` is when the venue executed
    the trade (timezone-aware). ``liquidity`` says whether the fill made or took liquidity.
    ``venue_order_id`` is given when the venue reports it with the execution.
    """

    order_id: ClientOrderId
    trade_id: TradeId
    symbol: Symbol
    side: OrderSide
    quantity: float
    price: float
    commission: float
    ts: datetime
    liquidity: Liquidity
    venue_order_id: VenueOrderId | None = None

    def __post_init__(self) -> None:
        """Refuse fills with bad ids, a non-positive quantity or price, or a naive time."""
        set_field = object.__setattr__
        set_field(self, "order_id", identifier(ClientOrderId, _FILL, "order_id", self.order_id))
        set_field(self, "trade_id", identifier(TradeId, _FILL, "trade_id", self.trade_id))
        set_field(self, "symbol", identifier(Symbol, _FILL, "symbol", self.symbol))
        if self.venue_order_id is not None:
            venue_id = identifier(VenueOrderId, _FILL, "venue_order_id", self.venue_order_id)
            set_field(self, "venue_order_id", venue_id)
        set_field(self, "side", choice(OrderSide, _FILL, "side", self.side))
        set_field(self, "quantity", positive_number(_FILL, "quantity", self.quantity))
        set_field(self, "price", positive_number(_FILL, "price", self.price))
        commission = finite_number(_FILL, "commission", self.commission)
        if commission < 0:
            raise InvalidOrderError(
                f"invalid fill: commission must be >= 0, got {self.commission!r}",
                field="commission",
                value=self.commission,
            )
        set_field(self, "commission", commission)
        aware_time(_FILL, "ts", self.ts)
        if self.liquidity not in ("maker", "taker"):
            raise InvalidOrderError(
                f"invalid fill: liquidity must be 'maker' or 'taker', got {self.liquidity!r}",
                field="liquidity",
                value=self.liquidity,
            )
        set_field(self, "liquidity", Liquidity(self.liquidity))

    @property
    def signed_quantity(self) -> float:
        """The quantity with the side's sign: positive for a buy, negative for a sell."""
        return float(self.side) * self.quantity

    @property
    def value(self) -> float:
        """The traded value, ``quantity * price``, in quote currency."""
        return self.quantity * self.price
