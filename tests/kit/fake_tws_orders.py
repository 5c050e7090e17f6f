"""The fake TWS's orders and executions, and their messages (see :mod:`tests.kit.fake_tws`)."""

from __future__ import annotations

from dataclasses import dataclass

from quantstrata.model.identifiers import ClientOrderId, Symbol
from quantstrata.model.orders import Fill, OrderRequest, OrderSide, OrderType, TimeInForce
from tests.kit.tws_protocol import Contract, In, OrderView, PlaceOrder, ib_time

__all__ = ["ACCOUNT", "Execution", "TwsOrder", "order_request"]

ACCOUNT = "DU1234567"
_TIF = {"DAY": TimeInForce.DAY, "GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC}


@dataclass(slots=True)
class TwsOrder:
    """One order as TWS keeps it: who placed it, what was sent, where it stands."""

    perm_id: int
    client_id: int
    place: PlaceOrder
    contract: Contract
    status: str  # TWS's order status: PendingSubmit, PreSubmitted, Submitted, Filled, ...
    filled: float = 0.0
    average_price: float = 0.0
    last_price: float = 0.0
    muted: object = None  # a connection never told of this order (the stall fault)

    @property
    def key(self) -> ClientOrderId:
        """The order's id in the venue's book (its permanent id)."""
        return ClientOrderId(str(self.perm_id))

    def view(self) -> OrderView:
        """The order as ``OPEN_ORDER`` reports it."""
        place = self.place
        return OrderView(
            place.order_id,
            self.contract,
            place.action,
            place.quantity,
            place.order_type,
            place.limit_price,
            place.aux_price,
            place.tif,
            place.oca_group,
            ACCOUNT,
            place.order_ref,
            self.client_id,
            self.perm_id,
            place.parent_id,
            place.oca_type,
            place.trail_stop_price,
            place.trailing_percent,
            self.status,
        )

    def status_message(self) -> list[object]:
        """The ``ORDER_STATUS`` message (no version field at server version 176)."""
        place = self.place
        remaining = max(place.quantity - self.filled, 0.0)
        if self.status in ("Cancelled", "ApiCancelled", "Inactive"):
            remaining = 0.0
        return [
            In.ORDER_STATUS,
            place.order_id,
            self.status,
            self.filled,
            remaining,
            self.average_price,
            self.perm_id,
            place.parent_id,
            self.last_price,
            self.client_id,
            "",
            0.0,
        ]


@dataclass(frozen=True, slots=True)
class Execution:
    """One execution: the fill, its order, its id and the order's totals after it."""

    exec_id: str
    order: TwsOrder
    fill: Fill
    cumulative: float
    average_price: float

    def message(self, request_id: int) -> list[object]:
        """The ``EXECUTION_DATA`` message (``request_id`` -1 for a live execution)."""
        fill, place = self.fill, self.order.place
        side = "BOT" if fill.side is OrderSide.BUY else "SLD"
        return [
            In.EXECUTION_DATA,
            request_id,
            place.order_id,
            *self.order.contract.short(),
            self.exec_id,
            ib_time(fill.ts),
            ACCOUNT,
            "ISLAND",
            side,
            fill.quantity,
            fill.price,
            self.order.perm_id,
            self.order.client_id,
            0,
            self.cumulative,
            self.average_price,
            place.order_ref,
            "",
            "",
            "",
            2 if fill.liquidity.value == "taker" else 1,
        ]

    def commission_message(self) -> list[object]:
        """The ``COMMISSION_REPORT`` message for this execution."""
        return [In.COMMISSION_REPORT, 1, self.exec_id, self.fill.commission, "USD", "", "", ""]


def order_request(order: TwsOrder) -> OrderRequest:
    """Map IB's order fields onto the fill model's request (raises ``InvalidOrderError``)."""
    place = order.place
    side = OrderSide.BUY if place.action == "BUY" else OrderSide.SELL
    tif = _TIF.get(place.tif, TimeInForce.DAY)
    symbol = Symbol(order.contract.symbol)
    kind = place.order_type
    if kind == "MKT":
        return OrderRequest(symbol, side, place.quantity, OrderType.MARKET, time_in_force=tif)
    if kind == "LMT":
        return OrderRequest(
            symbol,
            side,
            place.quantity,
            OrderType.LIMIT,
            limit_price=place.limit_price,
            time_in_force=tif,
        )
    if kind == "STP":
        return OrderRequest(
            symbol,
            side,
            place.quantity,
            OrderType.STOP,
            stop_price=place.aux_price,
            time_in_force=tif,
        )
    if kind == "STP LMT":
        return OrderRequest(
            symbol,
            side,
            place.quantity,
            OrderType.STOP_LIMIT,
            limit_price=place.limit_price,
            stop_price=place.aux_price,
            time_in_force=tif,
        )
    percent = place.trailing_percent
    return OrderRequest(
        symbol,
        side,
        place.quantity,
        OrderType.TRAILING_STOP,
        trail_amount=None if percent else place.aux_price,
        trail_percent=percent / 100.0 if percent else None,
        time_in_force=tif,
    )
