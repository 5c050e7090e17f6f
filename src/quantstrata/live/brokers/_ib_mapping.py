"""Interactive Brokers' words in ours: order fields, statuses, executions, account values.

Pure functions over plain values and ``ib_async``'s objects (read by attribute, typed ``Any``,
so this module never imports ``ib_async``). :class:`~quantstrata.live.brokers.ib.IBBroker`
calls them; the rules live here once:

- :func:`order_fields` turns an :class:`~quantstrata.model.orders.OrderRequest` into the fields
  of an ``ib_async.Order`` (``MKT``, ``LMT``, ``STP``, ``STP LMT``, ``TRAIL``; ``DAY``, ``GTC``,
  ``IOC``), our client order id in ``orderRef``; :func:`group_fields` does a bracket (the
  parent and its children, only the last one transmitting) or an OCA pair.
- :func:`status_of` maps TWS's order statuses; :func:`fill_of` an execution and its commission
  onto a :class:`~quantstrata.model.orders.Fill`; :func:`cash_by_currency` reads the account
  values.
- :func:`classify_error` sorts IB's message codes: connectivity lost (1100), restored
  (1101 data lost, 1102 data kept), a data farm down or up (2103-2108, 2157, 2158), order
  rejections.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from quantstrata.live.broker import OrderRejectedError
from quantstrata.model.identifiers import ClientOrderId, Symbol, TradeId, VenueOrderId
from quantstrata.model.orders import (
    Bracket,
    Fill,
    Liquidity,
    OneCancelsOther,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
)

__all__ = [
    "IBMessage",
    "bracket_leg_ids",
    "cash_by_currency",
    "classify_error",
    "fill_of",
    "group_fields",
    "oca_leg_ids",
    "order_fields",
    "positions_of",
    "request_of",
    "status_of",
]

_TYPES = {
    OrderType.MARKET: "MKT",
    OrderType.LIMIT: "LMT",
    OrderType.STOP: "STP",
    OrderType.STOP_LIMIT: "STP LMT",
    OrderType.TRAILING_STOP: "TRAIL",
}
_TIF = {TimeInForce.DAY: "DAY", TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC"}
_WORKING = {"PendingSubmit", "ApiPending", "PreSubmitted", "Submitted", "PendingCancel"}
_CANCELLED = {"Cancelled", "ApiCancelled"}
_UNSET = 1.7976931348623157e308
_FARM_DOWN = {2103, 2105, 2157}
_FARM_UP = {2104, 2106, 2107, 2108, 2158}


class IBMessage(StrEnum):
    """What one of IB's message codes means for the connection."""

    LINK_LOST = "link lost"  # 1100
    LINK_RESTORED_DATA_LOST = "link restored, data lost"  # 1101
    LINK_RESTORED = "link restored"  # 1102
    FARM_DOWN = "data farm down"
    FARM_UP = "data farm up"
    OTHER = "other"


def classify_error(code: int) -> IBMessage:
    """Return what IB's message ``code`` means for the connection."""
    if code == 1100:
        return IBMessage.LINK_LOST
    if code == 1101:
        return IBMessage.LINK_RESTORED_DATA_LOST
    if code == 1102:
        return IBMessage.LINK_RESTORED
    if code in _FARM_DOWN:
        return IBMessage.FARM_DOWN
    if code in _FARM_UP:
        return IBMessage.FARM_UP
    return IBMessage.OTHER


def order_fields(order_id: ClientOrderId, request: OrderRequest) -> dict[str, Any]:
    """Return the ``ib_async.Order`` fields of ``request``, ``orderRef`` = ``order_id``.

    A trailing stop trails by ``auxPrice`` (an amount) or ``trailingPercent`` (IB takes
    percent, we keep a fraction); ``reduce_only`` has no IB field and is refused.
    """
    if request.reduce_only:
        raise OrderRejectedError(
            f"order {order_id}: IB has no reduce-only flag for stocks", "unsupported"
        )
    if request.time_in_force not in _TIF:
        raise OrderRejectedError(
            f"order {order_id}: IB takes DAY, GTC or IOC, not {request.time_in_force.name}",
            "unsupported",
        )
    fields: dict[str, Any] = {
        "action": "BUY" if request.side is OrderSide.BUY else "SELL",
        "totalQuantity": float(request.quantity),
        "orderType": _TYPES[request.order_type],
        "tif": _TIF[request.time_in_force],
        "orderRef": str(order_id),
        "transmit": True,
    }
    if request.limit_price is not None:
        fields["lmtPrice"] = float(request.limit_price)
    if request.stop_price is not None:
        fields["auxPrice"] = float(request.stop_price)
    if request.trail_amount is not None:
        fields["auxPrice"] = float(request.trail_amount)
    if request.trail_percent is not None:
        fields["trailingPercent"] = float(request.trail_percent) * 100.0
    return fields


def bracket_leg_ids(order_id: ClientOrderId) -> tuple[ClientOrderId, ClientOrderId]:
    """Return the client ids of a bracket's take-profit and stop-loss children."""
    return ClientOrderId(f"{order_id}-tp"), ClientOrderId(f"{order_id}-sl")


def oca_leg_ids(order_id: ClientOrderId) -> tuple[ClientOrderId, ClientOrderId]:
    """Return the client ids of an OCA pair's two orders."""
    return ClientOrderId(f"{order_id}-a"), ClientOrderId(f"{order_id}-b")


def group_fields(
    order_id: ClientOrderId, group: Bracket | OneCancelsOther
) -> list[tuple[ClientOrderId, OrderRequest, dict[str, Any]]]:
    """Return the orders of a bracket or an OCA pair, in sending order, with their fields.

    A bracket is the entry (``order_id``) and its exits as children (``parentId`` is set when
    the parent's IB id is known); every order but the last has ``transmit`` off, so IB works
    none before it holds all. An OCA pair shares the group ``order_id`` with ``ocaType`` 1
    (cancel the other on a fill).
    """
    if isinstance(group, OneCancelsOther):
        first, second = group.orders
        out = []
        for leg_id, request in zip(oca_leg_ids(order_id), (first, second), strict=True):
            fields = order_fields(leg_id, request)
            fields.update(ocaGroup=str(order_id), ocaType=1)
            out.append((leg_id, request, fields))
        return out
    entry = group.entry
    exit_side = OrderSide.SELL if entry.side is OrderSide.BUY else OrderSide.BUY
    legs: list[tuple[ClientOrderId, OrderRequest, dict[str, Any]]] = [
        (order_id, entry, order_fields(order_id, entry))
    ]
    take_id, stop_id = bracket_leg_ids(order_id)
    exits = (
        (take_id, group.take_profit, OrderType.LIMIT),
        (stop_id, group.stop_loss, OrderType.STOP),
    )
    for leg_id, price, kind in exits:
        if price is None:
            continue
        limit = price if kind is OrderType.LIMIT else None
        stop = price if kind is OrderType.STOP else None
        leg = OrderRequest(
            entry.symbol,
            exit_side,
            entry.quantity,
            kind,
            limit_price=limit,
            stop_price=stop,
            time_in_force=TimeInForce.GTC,
        )
        legs.append((leg_id, leg, order_fields(leg_id, leg)))
    for _, _, fields in legs[:-1]:
        fields["transmit"] = False
    return legs


def status_of(ib_status: str, filled: float) -> OrderStatus:
    """Map TWS's order status (and the filled quantity) onto ours."""
    if ib_status == "Filled":
        return OrderStatus.FILLED
    if ib_status in _CANCELLED:
        return OrderStatus.CANCELLED
    if ib_status == "Inactive":
        return OrderStatus.REJECTED
    if ib_status == "PendingCancel":
        return OrderStatus.PENDING_CANCEL
    return OrderStatus.PARTIAL if filled > 0 else OrderStatus.PENDING


def _price(value: Any) -> float | None:
    if value is None or value == "":
        return None
    number = float(value)
    return None if number >= _UNSET or math.isnan(number) or number == 0.0 else number


def request_of(symbol: str, order: Any) -> OrderRequest:
    """Rebuild our request from an ``ib_async.Order`` (orders found at IB, not sent by us)."""
    kind = {name: kind for kind, name in _TYPES.items()}.get(str(order.orderType), OrderType.MARKET)
    side = OrderSide.BUY if str(order.action) == "BUY" else OrderSide.SELL
    tif = {name: tif for tif, name in _TIF.items()}.get(str(order.tif), TimeInForce.DAY)
    limit, aux = _price(order.lmtPrice), _price(order.auxPrice)
    percent = _price(getattr(order, "trailingPercent", None))
    quantity = float(order.totalQuantity)
    if kind is OrderType.TRAILING_STOP:
        if percent is not None:
            return OrderRequest(
                Symbol(symbol),
                side,
                quantity,
                kind,
                trail_percent=percent / 100.0,
                time_in_force=tif,
            )
        return OrderRequest(
            Symbol(symbol), side, quantity, kind, trail_amount=aux, time_in_force=tif
        )
    return OrderRequest(
        Symbol(symbol),
        side,
        quantity,
        kind,
        limit_price=limit if kind in (OrderType.LIMIT, OrderType.STOP_LIMIT) else None,
        stop_price=aux if kind in (OrderType.STOP, OrderType.STOP_LIMIT) else None,
        time_in_force=tif,
    )


def fill_of(contract: Any, execution: Any, commission: float) -> Fill | None:
    """Return our fill of an IB execution, or ``None`` when it carries no ``orderRef`` of ours.

    The execution id is the trade id (what de-duplicates a fill seen twice); the order's
    permanent id is the venue order id.
    """
    reference = str(execution.orderRef or "")
    if not reference:
        return None
    moment = execution.time
    if isinstance(moment, datetime):
        moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    else:
        moment = datetime.now(UTC)
    side = OrderSide.BUY if str(execution.side) in ("BOT", "BUY") else OrderSide.SELL
    liquidity = Liquidity.MAKER if int(execution.lastLiquidity or 0) == 1 else Liquidity.TAKER
    return Fill(
        order_id=ClientOrderId(reference),
        trade_id=TradeId(str(execution.execId)),
        symbol=Symbol(str(contract.symbol)),
        side=side,
        quantity=float(execution.shares),
        price=float(execution.price),
        commission=float(commission),
        ts=moment,
        liquidity=liquidity,
        venue_order_id=VenueOrderId(str(execution.permId)),
    )


def cash_by_currency(values: Iterable[Any], account: str = "") -> dict[str, float]:
    """Return the ``CashBalance`` of each currency (``BASE`` included) from account values."""
    cash: dict[str, float] = {}
    for value in values:
        if account and value.account != account:
            continue
        if value.tag == "CashBalance" and value.currency:
            try:
                cash[str(value.currency)] = float(value.value)
            except ValueError:
                continue
    return cash


def account_value(
    values: Iterable[Any], tag: str, currency: str, account: str = ""
) -> float | None:
    """Return the account value ``tag`` (``NetLiquidation``, ``MaintMarginReq``) in ``currency``.

    ``None`` when IB did not report it (or reported no number).
    """
    for value in values:
        if (account and value.account != account) or value.tag != tag:
            continue
        if value.currency == currency:
            try:
                return float(value.value)
            except ValueError:
                return None
    return None


def positions_of(positions: Iterable[Any], account: str = "") -> Mapping[str, float]:
    """Return signed position quantities by symbol (flat ones left out)."""
    out: dict[str, float] = {}
    for position in positions:
        if account and position.account != account:
            continue
        if float(position.position) != 0.0:
            symbol = str(position.contract.symbol)
            out[symbol] = out.get(symbol, 0.0) + float(position.position)
    return out
