"""The paper broker: the backtest's fill model behind the live :class:`Broker` interface.

:class:`PaperBroker` keeps orders, fills, cash and positions in process. The runtime feeds it
every closed bar (``await paper.on_bar(bar)``); working orders of that bar's symbol are matched
by :class:`~quantstrata.execution.FillModel` with the same rules as the backtester. With the
default policy ``next_open`` an order accepted after bar *t* closed first meets bar *t + 1*: a
market order fills at its open, limit and stop orders are tested on the whole bar. With
``this_close`` an order is matched at once against the close of the last bar seen
(optimistic, as in the backtest). Fills are stamped with the fill bar's ``ts``.

Updates (fills, cancellations) are pushed through :meth:`PaperBroker.updates`; a submit answers
directly (the acknowledgement is the return value). ``DAY`` orders are treated as ``GTC`` (a
paper broker has no session calendar); the unfilled rest of an ``IOC`` order is cancelled
after its first bar. :attr:`PaperBroker.received` records every submit that reached it.

A paper broker lives in this process, so a run restarted on its journal rebuilds it from the
journal's state (:meth:`PaperBroker.resume`): cash, positions and working orders, with trade and
venue order numbers continuing after the journal's.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from quantstrata.core.clock import Clock
from quantstrata.core.errors import ConfigError
from quantstrata.execution import FillModel, FillPolicy, WorkingOrder
from quantstrata.execution.orders import FillResult
from quantstrata.live.broker import AccountSnapshot, OrderRejectedError, VenueOrder
from quantstrata.model.bar import Bar
from quantstrata.model.identifiers import ClientOrderId, Symbol, TradeId, VenueOrderId
from quantstrata.model.orders import (
    Cancelled,
    Fill,
    FillEvent,
    OrderEvent,
    OrderRequest,
    OrderStatus,
    TimeInForce,
)

if TYPE_CHECKING:
    from quantstrata.live.state import LiveState

__all__ = ["PaperBroker"]


@dataclass(slots=True)
class _PaperOrder:
    """The paper venue's book entry for one order."""

    order_id: ClientOrderId
    venue_order_id: VenueOrderId
    request: OrderRequest
    status: OrderStatus
    working: WorkingOrder | None
    after: datetime | None
    updated_at: datetime
    filled: float = 0.0
    notional: float = 0.0

    def report(self) -> VenueOrder:
        return VenueOrder(
            order_id=self.order_id,
            venue_order_id=self.venue_order_id,
            symbol=self.request.symbol,
            request=self.request,
            status=self.status,
            filled_quantity=self.filled,
            average_fill_price=self.notional / self.filled if self.filled else None,
            updated_at=self.updated_at,
        )


class PaperBroker:
    """An in-process venue that fills orders on the bars it is fed, by the shared fill model."""

    def __init__(
        self,
        *,
        clock: Clock,
        fill_model: FillModel | None = None,
        cash: float = 0.0,
        name: str = "paper",
    ) -> None:
        """Start with ``cash``, no positions and no orders."""
        self.clock = clock
        self.fill_model = fill_model if fill_model is not None else FillModel()
        self._name = name
        self._cash = float(cash)
        self._positions: dict[Symbol, float] = {}
        self._orders: dict[ClientOrderId, _PaperOrder] = {}
        self._fills: list[Fill] = []
        self._last_bars: dict[Symbol, Bar] = {}
        self._queue: asyncio.Queue[OrderEvent | None] = asyncio.Queue()
        self.received: list[tuple[ClientOrderId, OrderRequest]] = []
        self._closed = False
        self._numbered_orders = 0
        self._numbered_trades = 0

    @classmethod
    def resume(
        cls,
        state: LiveState,
        *,
        clock: Clock,
        fill_model: FillModel | None = None,
        name: str = "paper",
    ) -> PaperBroker:
        """Return a paper broker holding the account a journal's ``state`` describes.

        Cash and positions are the journal's; its working orders are working again (what is
        left of them, first meeting the bar after ``state.last_bar``); new trade and venue order
        numbers continue after the journal's, so no fill is taken for one already booked.
        """
        broker = cls(clock=clock, fill_model=fill_model, cash=state.cash, name=name)
        broker._positions = {
            symbol: position.quantity
            for symbol, position in state.positions.items()
            if not position.is_flat
        }
        broker._numbered_orders = len(state.orders)
        broker._numbered_trades = len(state.known_trade_ids())
        for order in state.open_orders():
            left = order.request.quantity - order.filled_quantity
            if order.venue_order_id is None or left <= 0:
                continue  # never reached the venue: reconciliation settles it
            working = dataclasses.replace(
                WorkingOrder.from_request(order.request),
                quantity=left,
                filled_quantity=order.filled_quantity,
            )
            broker._orders[order.order_id] = _PaperOrder(
                order_id=order.order_id,
                venue_order_id=order.venue_order_id,
                request=order.request,
                status=OrderStatus.PARTIAL if order.filled_quantity else OrderStatus.PENDING,
                working=working,
                after=state.last_bar,
                updated_at=order.updated_at,
                filled=order.filled_quantity,
                notional=order.filled_quantity * order.average_fill_price,
            )
        return broker

    def __repr__(self) -> str:
        """Show the name, the cash and the number of orders."""
        return f"PaperBroker(name={self._name!r}, cash={self._cash!r}, orders={len(self._orders)})"

    @property
    def name(self) -> str:
        """The broker's name in logs and the journal."""
        return self._name

    async def connect(self) -> None:
        """Nothing to connect: the venue is in process."""
        self._closed = False

    async def close(self) -> None:
        """End the update stream; safe to call twice."""
        if not self._closed:
            self._closed = True
            self._queue.put_nowait(None)

    # ------------------------------------------------------------------ orders

    async def submit(self, order_id: ClientOrderId, request: OrderRequest) -> VenueOrderId:
        """Accept the order (idempotent by client order id) and return its venue id."""
        self.received.append((order_id, request))
        known = self._orders.get(order_id)
        if known is not None:
            return known.venue_order_id
        held = self._positions.get(request.symbol, 0.0)
        if request.reduce_only and (held == 0 or (held > 0) == (request.signed_quantity > 0)):
            raise OrderRejectedError(
                f"order {order_id}: reduce_only {request.side.name} with position {held!r}",
                "reduce_only order would not reduce the position",
            )
        last = self._last_bars.get(request.symbol)
        entry = _PaperOrder(
            order_id=order_id,
            venue_order_id=VenueOrderId(f"paper-{self._numbered_orders + len(self._orders) + 1}"),
            request=request,
            status=OrderStatus.PENDING,
            working=WorkingOrder.from_request(request),
            after=None if last is None else last.ts,
            updated_at=self.clock.now(),
        )
        self._orders[order_id] = entry
        if self.fill_model.config.policy is FillPolicy.THIS_CLOSE and last is not None:
            self._match(entry, last)
        return entry.venue_order_id

    async def cancel(self, order_id: ClientOrderId) -> None:
        """Cancel a working order at once (pushed as ``Cancelled``); refuse others."""
        entry = self._orders.get(order_id)
        if entry is None:
            raise OrderRejectedError(f"cancel {order_id}: unknown order", "unknown order")
        if entry.status.is_terminal:
            raise OrderRejectedError(
                f"cancel {order_id}: order is {entry.status}", f"order is {entry.status}"
            )
        self._finish(entry, OrderStatus.CANCELLED, "cancelled on request")

    async def query_order(self, order_id: ClientOrderId) -> VenueOrder | None:
        """Return the book entry of ``order_id``, or ``None`` if never received."""
        entry = self._orders.get(order_id)
        return None if entry is None else entry.report()

    async def open_orders(self) -> list[VenueOrder]:
        """Return every working order."""
        return [entry.report() for entry in self._orders.values() if not entry.status.is_terminal]

    async def fills(self, since: datetime | None = None) -> list[Fill]:
        """Return fills at or after ``since`` (all when ``None``), oldest first."""
        return [fill for fill in self._fills if since is None or fill.ts >= since]

    async def account(self) -> AccountSnapshot:
        """Return cash and non-zero positions."""
        positions = {str(symbol): q for symbol, q in self._positions.items() if q != 0}
        return AccountSnapshot(self._cash, positions, self.clock.now())

    async def updates(self) -> AsyncIterator[OrderEvent]:
        """Yield fills and cancellations as they happen, until :meth:`close`."""
        while True:
            event = await self._queue.get()
            if event is None:
                return
            yield event

    # ------------------------------------------------------------------ bars

    async def on_bar(self, bar: Bar) -> list[Fill]:
        """Match the working orders of ``bar.symbol`` against ``bar``; return the fills."""
        if not isinstance(bar, Bar):
            raise ConfigError(f"PaperBroker.on_bar takes a Bar, got {bar!r}")
        previous = self._last_bars.get(bar.symbol)
        if previous is not None and bar.ts <= previous.ts:
            raise ConfigError(
                f"bar for {bar.symbol} at {bar.ts} is not after the last one ({previous.ts})"
            )
        self._last_bars[bar.symbol] = bar
        before = len(self._fills)
        for entry in list(self._orders.values()):
            if entry.status.is_terminal or entry.request.symbol != bar.symbol:
                continue
            if entry.after is not None and bar.ts <= entry.after:
                continue
            self._match(entry, bar)
        return self._fills[before:]

    def _match(self, entry: _PaperOrder, bar: Bar) -> None:
        working = entry.working
        if working is None:
            return
        step = self.fill_model.step(working, bar)
        entry.working = step.order
        if step.fill is not None:
            self._book(entry, step.fill, bar)
        if entry.status.is_terminal:
            return
        if entry.request.time_in_force is TimeInForce.IOC:
            self._finish(entry, OrderStatus.CANCELLED, "IOC remainder cancelled")

    def _book(self, entry: _PaperOrder, result: FillResult, bar: Bar) -> None:
        fill = Fill(
            order_id=entry.order_id,
            trade_id=TradeId(f"paper-{self._numbered_trades + len(self._fills) + 1}"),
            symbol=entry.request.symbol,
            side=entry.request.side,
            quantity=result.quantity,
            price=result.price,
            commission=result.commission,
            ts=bar.ts,
            liquidity=result.liquidity,
            venue_order_id=entry.venue_order_id,
        )
        self._fills.append(fill)
        entry.filled += fill.quantity
        entry.notional += fill.value
        entry.updated_at = max(entry.updated_at, bar.ts)
        symbol = entry.request.symbol
        self._positions[symbol] = self._positions.get(symbol, 0.0) + fill.signed_quantity
        self._cash -= fill.signed_quantity * fill.price + fill.commission
        if result.complete:
            entry.status = OrderStatus.FILLED
            entry.filled = entry.request.quantity
            entry.working = None
        else:
            entry.status = OrderStatus.PARTIAL
        self._queue.put_nowait(FillEvent(fill))

    def _finish(self, entry: _PaperOrder, status: OrderStatus, reason: str) -> None:
        entry.status = status
        entry.working = None
        entry.updated_at = max(entry.updated_at, self.clock.now())
        self._queue.put_nowait(Cancelled(entry.order_id, entry.updated_at, reason))
