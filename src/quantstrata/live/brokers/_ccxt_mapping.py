"""ccxt's unified structures read into quantstrata's order model: plain logic, no sockets.

ccxt returns orders, trades and balances as dicts in its unified shape (``status`` is
``open``/``closed``/``canceled``/``expired``/``rejected``, amounts are floats, times epoch
milliseconds). These functions turn them into :class:`~quantstrata.live.broker.VenueOrder`,
:class:`~quantstrata.model.orders.Fill` and :class:`~quantstrata.live.broker.AccountSnapshot`
values, and an :class:`~quantstrata.model.orders.OrderRequest` into ``create_order`` arguments.
A structure that cannot be read raises :class:`MalformedMessageError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from quantstrata.core.errors import ConfigError
from quantstrata.live.broker import AccountSnapshot, OrderRejectedError, VenueOrder
from quantstrata.live.brokers._venue_messages import MalformedMessageError
from quantstrata.model.identifiers import ClientOrderId, Symbol, TradeId, VenueOrderId
from quantstrata.model.orders import (
    QUANTITY_TOLERANCE,
    Fill,
    InvalidOrderError,
    Liquidity,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
)

__all__ = [
    "CreateArguments",
    "account_from_balance",
    "client_order_id",
    "create_arguments",
    "fill_from_trade",
    "venue_order_from_ccxt",
]

_TIME_IN_FORCE = {TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC"}


@dataclass(frozen=True, slots=True)
class CreateArguments:
    """The positional arguments of ccxt's ``create_order`` and its ``params``."""

    symbol: str
    type: str
    side: str
    amount: float
    price: float | None
    params: dict[str, Any]


def create_arguments(
    order_id: ClientOrderId, request: OrderRequest, client_id_param: str
) -> CreateArguments:
    """Return ``create_order`` arguments for ``request``, or raise :class:`OrderRejectedError`.

    Market and limit orders are sent; the other types, ``DAY`` time in force and
    ``reduce_only`` (a spot account has no such flag) are refused before anything is sent.
    """
    if request.order_type not in (OrderType.MARKET, OrderType.LIMIT):
        reason = f"order type {request.order_type.name} is not supported by the ccxt broker"
        raise OrderRejectedError(f"order {order_id} not sent: {reason}", reason)
    if request.time_in_force not in _TIME_IN_FORCE:
        reason = f"time in force {request.time_in_force.name} is not supported by the ccxt broker"
        raise OrderRejectedError(f"order {order_id} not sent: {reason}", reason)
    if request.reduce_only:
        reason = "reduce_only orders are not supported on a spot account"
        raise OrderRejectedError(f"order {order_id} not sent: {reason}", reason)
    params: dict[str, Any] = {client_id_param: str(order_id)}
    if request.order_type is OrderType.LIMIT:
        params["timeInForce"] = _TIME_IN_FORCE[request.time_in_force]
    return CreateArguments(
        symbol=str(request.symbol),
        type="limit" if request.order_type is OrderType.LIMIT else "market",
        side="buy" if request.side is OrderSide.BUY else "sell",
        amount=request.quantity,
        price=request.limit_price,
        params=params,
    )


def client_order_id(order: Mapping[str, Any]) -> ClientOrderId:
    """Return the order's client id; orders placed elsewhere get ``venue-<id>``."""
    text = order.get("clientOrderId")
    if isinstance(text, str) and text:
        try:
            return ClientOrderId(text)
        except ConfigError:
            pass
    return ClientOrderId(f"venue-{order.get('id')}"[:36])


def _status(order: Mapping[str, Any]) -> OrderStatus:
    status = order.get("status")
    filled = float(order.get("filled") or 0.0)
    if status == "open":
        return OrderStatus.PARTIAL if filled > 0 else OrderStatus.PENDING
    if status == "closed":
        return OrderStatus.FILLED
    if status == "canceled":
        return OrderStatus.CANCELLED
    if status == "expired":
        return OrderStatus.EXPIRED
    if status == "rejected":
        return OrderStatus.REJECTED
    raise MalformedMessageError(f"unknown ccxt order status {status!r}")


def _time(milliseconds: object) -> datetime:
    if not isinstance(milliseconds, int | float):
        raise MalformedMessageError(f"a ccxt time must be epoch milliseconds, got {milliseconds!r}")
    return datetime.fromtimestamp(milliseconds / 1000, UTC)


def venue_order_from_ccxt(order: Mapping[str, Any]) -> VenueOrder:
    """Return what the venue reports about one order (a ccxt unified order)."""
    try:
        order_type = OrderType.LIMIT if order.get("type") == "limit" else OrderType.MARKET
        side = OrderSide.BUY if order["side"] == "buy" else OrderSide.SELL
        price = order.get("price") if order_type is OrderType.LIMIT else None
        request = OrderRequest(
            Symbol(order["symbol"]),
            side,
            float(order["amount"]),
            order_type,
            limit_price=None if price is None else float(price),
            time_in_force=TimeInForce.IOC if order.get("timeInForce") == "IOC" else TimeInForce.GTC,
        )
        average = order.get("average")
        updated = order.get("lastUpdateTimestamp") or order.get("timestamp")
        return VenueOrder(
            order_id=client_order_id(order),
            venue_order_id=VenueOrderId(str(order["id"])),
            symbol=Symbol(order["symbol"]),
            request=request,
            status=_status(order),
            filled_quantity=float(order.get("filled") or 0.0),
            average_fill_price=None if not average else float(average),
            updated_at=_time(updated),
        )
    except (KeyError, TypeError, ValueError, ConfigError, InvalidOrderError) as error:
        raise MalformedMessageError(f"unreadable ccxt order: {error}") from None


def fill_from_trade(trade: Mapping[str, Any], order_id: ClientOrderId, quote_currency: str) -> Fill:
    """Return the fill of one ccxt trade of ``order_id``.

    The commission is kept in the quote currency: a fee charged in the base asset is valued at
    the trade's price; a fee in a third asset (an exchange token) cannot be valued here and
    counts as 0. The trade id is prefixed with the symbol, since venues number trades per
    symbol.
    """
    try:
        symbol = Symbol(trade["symbol"])
        price = float(trade["price"])
        fee = trade.get("fee") or {}
        cost = float(fee.get("cost") or 0.0)
        currency = fee.get("currency")
        base = str(symbol).split("/")[0]
        if currency == base:
            cost *= price
        elif currency not in (None, quote_currency):
            cost = 0.0
        venue_id = trade.get("order")
        return Fill(
            order_id=order_id,
            trade_id=TradeId(f"{str(symbol).replace('/', '')}-{trade['id']}"),
            symbol=symbol,
            side=OrderSide.BUY if trade["side"] == "buy" else OrderSide.SELL,
            quantity=float(trade["amount"]),
            price=price,
            commission=abs(cost),
            ts=_time(trade["timestamp"]),
            liquidity=Liquidity.MAKER if trade.get("takerOrMaker") == "maker" else Liquidity.TAKER,
            venue_order_id=None if venue_id is None else VenueOrderId(str(venue_id)),
        )
    except (KeyError, TypeError, ValueError, ConfigError, InvalidOrderError) as error:
        raise MalformedMessageError(f"unreadable ccxt trade: {error}") from None


def account_from_balance(
    balance: Mapping[str, Any], symbols: Sequence[str], quote_currency: str, as_of: datetime
) -> AccountSnapshot:
    """Return cash (the quote currency's total) and spot positions (each base asset's total)."""
    totals = balance.get("total") or {}
    if not isinstance(totals, Mapping):
        raise MalformedMessageError(f"unreadable ccxt balance: total is {totals!r:.100}")
    try:
        cash = float(totals.get(quote_currency) or 0.0)
        positions: dict[str, float] = {}
        for symbol in symbols:
            held = float(totals.get(symbol.split("/")[0]) or 0.0)
            if abs(held) > QUANTITY_TOLERANCE:
                positions[symbol] = held
    except (TypeError, ValueError) as error:
        raise MalformedMessageError(f"unreadable ccxt balance: {error}") from None
    return AccountSnapshot(cash, positions, as_of)
