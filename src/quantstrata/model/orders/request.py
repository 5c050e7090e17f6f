"""What a strategy asks for: an :class:`OrderRequest`, or a linked group of them.

A request is an intent, not an order: it has no id and no state. The order manager (or the
backtester) gives it a :class:`~quantstrata.model.identifiers.ClientOrderId` when it turns it
into an :class:`~quantstrata.model.orders.order.Order`. Requests are checked when they are
built, so a malformed one never reaches risk checks or a venue.

Invalid requests raise :class:`InvalidOrderError` rather than
:class:`~quantstrata.core.errors.ConfigError`: a request is produced by strategy code while it
runs, not read from configuration, and the runner needs to tell "this strategy asked for
nonsense" apart from "the setup is wrong". It is a :class:`ValueError` too, so generic handlers
still catch it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from quantstrata.model.identifiers import Symbol
from quantstrata.model.orders._checks import (
    PRICE_FIELDS,
    InvalidOrderError,
    choice,
    finite_number,
    identifier,
    order_shape,
    positive_number,
)
from quantstrata.model.orders.enums import OrderSide, OrderType, TimeInForce

__all__ = ["Bracket", "InvalidOrderError", "OneCancelsOther", "OrderRequest"]

_REQUEST = "order request"


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A request to trade ``quantity`` of ``symbol`` on ``side``, priced per ``order_type``.

    ``quantity`` is positive; ``side`` gives the direction. The price fields an order type
    needs must be given, and the others must be absent (``None``), so a request never carries
    a price that would silently be ignored:

    ==============  ===========================================================
    ``MARKET``      no price
    ``LIMIT``       ``limit_price``
    ``STOP``        ``stop_price`` (becomes a market order when touched)
    ``STOP_LIMIT``  ``stop_price`` and ``limit_price``
    ``TRAILING_STOP``  exactly one of ``trail_amount`` (price units) and
                    ``trail_percent`` (a fraction below 1: ``0.05`` = 5 %)
    ==============  ===========================================================

    ``reduce_only`` asks that the order may only shrink a position, never open or flip one.
    ``tag`` is a free label the strategy may set (``"entry"``, ``"exit"``) to find the order
    in reports; it is never sent to a venue.
    """

    symbol: Symbol
    side: OrderSide
    quantity: float
    order_type: OrderType = OrderType.MARKET
    limit_price: float | None = None
    stop_price: float | None = None
    trail_amount: float | None = None
    trail_percent: float | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    tag: str | None = None

    def __post_init__(self) -> None:
        """Normalise the enums and refuse bad quantities and missing or extra prices."""
        object.__setattr__(self, "symbol", identifier(Symbol, _REQUEST, "symbol", self.symbol))
        object.__setattr__(self, "side", choice(OrderSide, _REQUEST, "side", self.side))
        object.__setattr__(
            self, "order_type", choice(OrderType, _REQUEST, "order_type", self.order_type)
        )
        tif = choice(TimeInForce, _REQUEST, "time_in_force", self.time_in_force)
        object.__setattr__(self, "time_in_force", tif)
        if not isinstance(self.reduce_only, bool):
            raise InvalidOrderError(
                f"invalid order request: reduce_only must be True or False, "
                f"got {self.reduce_only!r}",
                field="reduce_only",
                value=self.reduce_only,
            )
        if self.tag is not None and not (isinstance(self.tag, str) and self.tag.isprintable()):
            raise InvalidOrderError(
                f"invalid order request: tag must be printable text or None, got {self.tag!r}",
                field="tag",
                value=self.tag,
            )
        given = {name: getattr(self, name) for name in PRICE_FIELDS}
        quantity, prices = order_shape(self.order_type, self.quantity, given)
        object.__setattr__(self, "quantity", quantity)
        for name, value in prices.items():
            object.__setattr__(self, name, value)

    @classmethod
    def market(cls, symbol: str, signed_quantity: float, **options: Any) -> OrderRequest:
        """Build a market order: buy ``signed_quantity`` if positive, sell it if negative.

        ``options`` are further fields (``time_in_force``, ``reduce_only``, ``tag``).
        """
        side, quantity = _split(signed_quantity)
        return cls(Symbol(symbol), side, quantity, **options)

    @classmethod
    def limit(
        cls, symbol: str, signed_quantity: float, price: float, **options: Any
    ) -> OrderRequest:
        """Build a limit order at ``price``: buy if ``signed_quantity`` is positive, else sell."""
        side, quantity = _split(signed_quantity)
        return cls(Symbol(symbol), side, quantity, OrderType.LIMIT, limit_price=price, **options)

    @classmethod
    def stop(
        cls, symbol: str, signed_quantity: float, price: float, **options: Any
    ) -> OrderRequest:
        """Build a stop (market) order triggered at ``price``: buy if positive, else sell."""
        side, quantity = _split(signed_quantity)
        return cls(Symbol(symbol), side, quantity, OrderType.STOP, stop_price=price, **options)

    @property
    def signed_quantity(self) -> float:
        """The quantity with the side's sign: positive buys, negative sells."""
        return float(self.side) * self.quantity


@dataclass(frozen=True, slots=True)
class Bracket:
    """An entry order with a protective stop-loss and/or a take-profit exit.

    Once the entry fills, the exits work as a one-cancels-other pair on the opposite side for
    the entry's quantity, both ``reduce_only``: the stop-loss as a ``STOP`` order at
    ``stop_loss``, the take-profit as a ``LIMIT`` order at ``take_profit``. For a ``BUY`` entry
    the stop-loss lies below the take-profit (and below the entry's limit or stop price, when it
    has one, with the take-profit above it); for a ``SELL`` entry everything is mirrored.
    """

    entry: OrderRequest
    stop_loss: float | None = None
    take_profit: float | None = None

    def __post_init__(self) -> None:
        """Refuse brackets without an exit or with exits on the wrong side of the entry."""
        if not isinstance(self.entry, OrderRequest):
            raise InvalidOrderError(
                f"invalid bracket: entry must be an OrderRequest, got {self.entry!r}",
                field="entry",
                value=self.entry,
            )
        if self.stop_loss is None and self.take_profit is None:
            raise InvalidOrderError(
                "invalid bracket: give a stop_loss, a take_profit or both, got neither",
                field="stop_loss",
                value=None,
            )
        for name in ("stop_loss", "take_profit"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, positive_number("bracket", name, value))
        self._check_order_of_prices()

    @property
    def stop_loss_request(self) -> OrderRequest | None:
        """The stop-loss exit as an order request (``None`` without a stop-loss)."""
        if self.stop_loss is None:
            return None
        return self._exit(OrderType.STOP, stop_price=self.stop_loss)

    @property
    def take_profit_request(self) -> OrderRequest | None:
        """The take-profit exit as an order request (``None`` without a take-profit)."""
        if self.take_profit is None:
            return None
        return self._exit(OrderType.LIMIT, limit_price=self.take_profit)

    def _exit(
        self,
        order_type: OrderType,
        *,
        stop_price: float | None = None,
        limit_price: float | None = None,
    ) -> OrderRequest:
        return OrderRequest(
            self.entry.symbol,
            OrderSide(-self.entry.side),
            self.entry.quantity,
            order_type,
            limit_price=limit_price,
            stop_price=stop_price,
            reduce_only=True,
        )

    def _check_order_of_prices(self) -> None:
        entry = self.entry
        reference = entry.limit_price if entry.limit_price is not None else entry.stop_price
        levels = [
            ("stop_loss", self.stop_loss),
            ("entry price", reference),
            ("take_profit", self.take_profit),
        ]
        known = [(name, value) for name, value in levels if value is not None]
        ascending = entry.side is OrderSide.BUY
        for (low_name, low), (high_name, high) in itertools.pairwise(known):
            if (low < high) != ascending or low == high:
                relation = "below" if ascending else "above"
                field = "take_profit" if high_name == "take_profit" else low_name
                raise InvalidOrderError(
                    f"invalid bracket: for a {entry.side.name} entry the {low_name} ({low}) "
                    f"must lie {relation} the {high_name} ({high})",
                    field=field,
                    value=getattr(self, field),
                )


@dataclass(frozen=True, slots=True)
class OneCancelsOther:
    """Two orders for one symbol: when either fills (even in part), the other is cancelled.

    ``first`` names the group: its client order id is the one returned to the strategy.
    """

    first: OrderRequest
    second: OrderRequest

    def __post_init__(self) -> None:
        """Refuse members that are not requests, or that trade different symbols."""
        for name in ("first", "second"):
            value = getattr(self, name)
            if not isinstance(value, OrderRequest):
                raise InvalidOrderError(
                    f"invalid one-cancels-other group: {name} must be an OrderRequest, "
                    f"got {value!r}",
                    field=name,
                    value=value,
                )
        if self.first.symbol != self.second.symbol:
            raise InvalidOrderError(
                "invalid one-cancels-other group: both orders must trade one symbol, got "
                f"{self.first.symbol!r} and {self.second.symbol!r}",
                field="second",
                value=self.second.symbol,
            )

    @property
    def orders(self) -> tuple[OrderRequest, OrderRequest]:
        """Both requests, ``first`` first."""
        return (self.first, self.second)


def _split(signed_quantity: object) -> tuple[OrderSide, float]:
    quantity = finite_number(_REQUEST, "signed_quantity", signed_quantity)
    if quantity == 0:
        raise InvalidOrderError(
            "invalid order request: signed_quantity must not be 0 (its sign is the side)",
            field="signed_quantity",
            value=signed_quantity,
        )
    return (OrderSide.BUY if quantity > 0 else OrderSide.SELL), abs(quantity)
