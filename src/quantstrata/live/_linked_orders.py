"""Linked orders in live trading: one-cancels-other pairs and brackets, as the backtest runs them.

A venue may support neither, so the runtime keeps the links itself, with the backtest's rules
(a broker that links a pair itself, :class:`~quantstrata.live.broker.LinksOrders` such as the
paper broker's simulated exchange, keeps the pair there, by the exchange's one rule):
an OCO pair works both orders and cancels the other as soon as one fills (even partly); a
bracket sends its entry, and once the entry is done with a fill, sends the stop-loss and
take-profit exits sized to the filled quantity as an OCO pair (an entry done without a fill
drops its exits; a broker that links orders keeps them as the backtest's one bracket
state). Every order still goes through the risk checks and the journal; when the
checks refuse one order of a pair, the other works alone (the refusal is alerted).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

from quantstrata.live.broker import LinksOrders
from quantstrata.live.orders import OrderManager
from quantstrata.model.identifiers import ClientOrderId
from quantstrata.model.orders import Bracket, OneCancelsOther, OrderRequest

__all__ = ["LinkedOrders"]

Send = Callable[[OrderRequest, ClientOrderId | None], Awaitable[bool]]


class LinkedOrders:
    """Keep OCO pairs and pending bracket exits, and act when their orders change."""

    def __init__(self, manager: OrderManager, send: Send) -> None:
        """Watch orders in ``manager``; send new orders through ``send`` (risk-checked)."""
        self._manager = manager
        self._send = send
        self._partners: dict[ClientOrderId, ClientOrderId] = {}
        self._brackets: dict[ClientOrderId, Bracket] = {}

    async def submit(self, order_id: ClientOrderId, group: OneCancelsOther | Bracket) -> None:
        """Send a group whose first order has the id ``order_id`` the strategy was given."""
        if isinstance(group, Bracket):
            if await self._send(group.entry, order_id):
                self._brackets[order_id] = group
            return
        await self._pair(order_id, group.first, group.second)

    async def update(self) -> None:
        """Cancel the partner of every filled OCO order; send the exits of done entries."""
        orders = self._manager.orders
        for order_id, partner in list(self._partners.items()):
            order = orders.get(order_id)
            if order is None or order.filled_quantity <= 0.0:
                continue
            self._partners.pop(order_id, None)
            self._partners.pop(partner, None)
            other = orders.get(partner)
            if other is not None and not other.is_terminal:
                await self._manager.cancel(partner)
        for order_id, bracket in list(self._brackets.items()):
            entry = orders.get(order_id)
            if entry is None or not entry.is_terminal:
                continue
            del self._brackets[order_id]
            if entry.filled_quantity > 0.0:
                await self._exits(bracket, entry.filled_quantity)

    async def _exits(self, bracket: Bracket, filled: float) -> None:
        exits = [
            replace(request, quantity=filled)
            for request in (bracket.stop_loss_request, bracket.take_profit_request)
            if request is not None
        ]
        if len(exits) == 1:
            await self._send(exits[0], None)
        elif exits:
            await self._pair(self._manager.new_order_id(), exits[0], exits[1], bracket=True)

    async def _pair(
        self,
        first_id: ClientOrderId,
        first: OrderRequest,
        second: OrderRequest,
        *,
        bracket: bool = False,
    ) -> None:
        second_id = self._manager.new_order_id()
        sent_first = await self._send(first, first_id)
        sent_second = await self._send(second, second_id)
        if not (sent_first and sent_second):
            return
        broker = self._manager.broker
        if isinstance(broker, LinksOrders) and await broker.link(
            first_id, second_id, bracket=bracket
        ):
            return  # the broker's exchange keeps the link by the backtest's rules
        self._partners[first_id] = second_id
        self._partners[second_id] = first_id
