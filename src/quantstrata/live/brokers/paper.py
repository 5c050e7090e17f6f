"""The paper broker: the simulated exchange behind the live :class:`Broker` interface.

:class:`PaperBroker` is a thin async shell around
:class:`~quantstrata.exchange.SimulatedExchange`, the order book the backtest runs on, so paper
trading meets the backtest's rules by construction: matching by the shared fill model, ``DAY``
orders ending at the session close of the instrument's calendar (``calendar``), ``IOC`` rests
cancelled, reduce-only and no-short cuts, positions through ``Position.apply`` and order status
through the transition table. The runtime feeds it every closed bar (``await
paper.on_bar(bar)``); with the default policy ``next_open`` an order accepted after bar *t*
closed first meets bar *t + 1*. With ``this_close`` an order is matched at once against the
close of the last bar seen (optimistic, as in the backtest). Fills are stamped with the fill
bar's ``ts``; the exchange's time is the bar time, so a DAY order decided on bar *t* works until
the first session close after *t* plus ``bar_length``.

Updates (fills, cancellations, expiries) are pushed through :meth:`PaperBroker.updates`; a
submit answers directly (the acknowledgement is the return value). Orders are not capped by a
leverage limit here: the runtime's risk checks and target sizing bound them before they come.
:attr:`PaperBroker.received` records every submit that reached it.

With ``instruments`` that carry a margin, the exchange checks the account against the
maintenance margin once per bar time, at the closes of the last one, before the next bar trades
(:meth:`~quantstrata.exchange.SimulatedExchange.check_margin`, as the backtest does at each
bar's close); a margin call's liquidation orders are the broker's own, pushed to the runtime as
``Submitted`` and ``Accepted`` before their fills, tagged ``"margin call liquidation"``.

A paper broker lives in this process, so a run restarted on its journal rebuilds it from the
journal's state (:meth:`PaperBroker.resume`): cash, positions and working orders.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from quantstrata.core.clock import Clock
from quantstrata.core.errors import ConfigError
from quantstrata.exchange import (
    LIQUIDATION_TAG,
    ExchangeConfig,
    FundingRates,
    Prices,
    SimulatedExchange,
)
from quantstrata.exchange._funding import charge_symbol_funding
from quantstrata.exchange._margin import account_margin
from quantstrata.exchange.engine import WorkingEntry
from quantstrata.execution import FillModel, WorkingOrder
from quantstrata.live.broker import AccountSnapshot, OrderRejectedError, VenueOrder, queued_events
from quantstrata.model.bar import Bar
from quantstrata.model.identifiers import ClientOrderId, Symbol, VenueOrderId
from quantstrata.model.instrument import Instrument
from quantstrata.model.orders import (
    Accepted,
    Cancelled,
    Expired,
    Fill,
    FillEvent,
    Order,
    OrderEvent,
    OrderRequest,
    Submitted,
)

if TYPE_CHECKING:
    import polars as pl

    from quantstrata.live.state import LiveState

__all__ = ["PaperBroker"]

_PUSHED = (FillEvent, Cancelled, Expired)
"""The exchange's events the runtime hears of (a submit's answer is its return value)."""


class PaperBroker:
    """An in-process venue: the simulated exchange, fed the bars the runtime handles."""

    def __init__(
        self,
        *,
        clock: Clock,
        fill_model: FillModel | None = None,
        cash: float = 0.0,
        name: str = "paper",
        calendar: str | None = None,
        bar_length: timedelta = timedelta(0),
        allow_short: bool = True,
        instruments: Mapping[str, Instrument] | None = None,
        base_currency: str | None = None,
        funding: pl.DataFrame | None = None,
    ) -> None:
        """Start with ``cash``, no positions and no orders.

        ``funding``: perpetual swaps' funding rates (``ts, symbol, funding_rate[,
        mark_price]``), paid when a symbol's bar at or after a funding time arrives, on the
        position held before it, as the backtest pays them; :attr:`funding_paid` records them.

        ``calendar`` (an exchange-calendars code) ends DAY orders at its session close
        (``None``: at the end of the UTC day); ``bar_length`` is the fed bars' interval;
        ``instruments`` the contract terms (multiplier, margin: margin calls) of symbols that
        have them and the currency each settles in: fills settle there, and :meth:`account`
        reports the cash per currency (``cash`` is ``base_currency``'s).
        """
        self.clock = clock
        self.fill_model = fill_model if fill_model is not None else FillModel()
        model = self.fill_model
        starting = {"cash": float(cash)} if cash > 0 else {}  # an account may start empty
        config = ExchangeConfig(
            **starting,
            fill=model.config,
            commission=model.commission,
            slippage=model.slippage,
            allow_short=allow_short,
            calendar=calendar,
            bar_length=bar_length,
            instruments=dict(instruments or {}),
            base_currency=base_currency,
        )
        self.exchange = SimulatedExchange(config, (), id_prefix="paper-")
        if cash <= 0:
            self.exchange.restore(float(cash), (), (), ())
        self.exchange.listener = self._heard
        self._name = name
        self._last_bars: dict[Symbol, Bar] = {}
        self._last_ts: datetime | None = None
        self._queue: asyncio.Queue[OrderEvent | None] = asyncio.Queue()
        self.received: list[tuple[ClientOrderId, OrderRequest]] = []
        self._closed = False
        self.funding = None if funding is None else FundingRates.from_frame(funding)
        self.funding_paid: list[tuple[object, ...]] = []
        """Funding payments made: ``(ts, symbol, quantity, mark, funding_rate, payment)``."""

    @classmethod
    def resume(
        cls,
        state: LiveState,
        *,
        clock: Clock,
        fill_model: FillModel | None = None,
        name: str = "paper",
        calendar: str | None = None,
        bar_length: timedelta = timedelta(0),
        instruments: Mapping[str, Instrument] | None = None,
    ) -> PaperBroker:
        """Return a paper broker holding the account a journal's ``state`` describes.

        Cash and positions are the journal's; its working orders are working again (what is
        left of them, first meeting the bar after ``state.last_bar``, a DAY order until the
        session close after that bar); their trade numbers continue after the journal's.
        """
        broker = cls(
            clock=clock,
            fill_model=fill_model,
            cash=state.cash,
            name=name,
            calendar=calendar,
            bar_length=bar_length,
            instruments=instruments,
        )
        exchange = broker.exchange
        orders = [order for order in state.orders.values() if order.venue_order_id is not None]
        decided = state.last_bar if state.last_bar is not None else clock.now()
        working = []
        for order in state.open_orders():
            left = order.request.quantity - order.filled_quantity
            if order.venue_order_id is None or left <= 0:
                continue  # never reached the venue: reconciliation settles it
            exchange.list_symbol(order.symbol)
            state_of = dataclasses.replace(
                WorkingOrder.from_request(order.request),
                quantity=left,
                filled_quantity=order.filled_quantity,
            )
            expires = exchange.expiry(order.request, decided)
            working.append(WorkingEntry(order.order_id, state_of, expires))
        positions = [p for p in state.positions.values() if not p.is_flat]
        exchange.restore(state.cash, positions, orders, working)
        broker._last_ts = state.last_bar
        return broker

    def __repr__(self) -> str:
        """Show the name, the cash and the number of orders."""
        return (
            f"PaperBroker(name={self._name!r}, cash={self.exchange.cash!r}, "
            f"orders={len(self.exchange.orders)})"
        )

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
        exchange = self.exchange
        known = exchange.orders.get(order_id)
        if known is None:
            exchange.list_symbol(request.symbol)
            exchange.submit(order_id, request, self._now(), sized=True)
            known = exchange.orders[order_id]
            last = self._last_bars.get(request.symbol)
            if self.fill_model.config.policy.bar_offset == 0 and last is not None:
                exchange.step_order(order_id, last.ts, Prices.of(last))
        if known.venue_order_id is None:  # pragma: no cover - the exchange accepts every order
            raise OrderRejectedError(f"order {order_id}: not accepted", "not accepted")
        return known.venue_order_id

    async def cancel(self, order_id: ClientOrderId) -> None:
        """Cancel a working order at once (pushed as ``Cancelled``); refuse others."""
        order = self.exchange.orders.get(order_id)
        if order is None:
            raise OrderRejectedError(f"cancel {order_id}: unknown order", "unknown order")
        if not self.exchange.is_working(order_id):
            raise OrderRejectedError(
                f"cancel {order_id}: order is {order.status}", f"order is {order.status}"
            )
        self.exchange.cancel(order_id, self._now())

    async def link(
        self, first: ClientOrderId, second: ClientOrderId, *, bracket: bool = False
    ) -> bool:
        """Link two working orders one-cancels-other in the exchange (its one rule for pairs)."""
        return self.exchange.link(first, second, bracket=bracket)

    async def query_order(self, order_id: ClientOrderId) -> VenueOrder | None:
        """Return the book entry of ``order_id``, or ``None`` if never received."""
        order = self.exchange.orders.get(order_id)
        return None if order is None else _report(order)

    async def open_orders(self) -> list[VenueOrder]:
        """Return every working order."""
        return [_report(order) for order in self.exchange.open_orders()]

    async def fills(self, since: datetime | None = None) -> list[Fill]:
        """Return fills at or after ``since`` (all when ``None``), oldest first."""
        return [fill for fill in self.exchange.fills if since is None or fill.ts >= since]

    async def account(self) -> AccountSnapshot:
        """Return cash, non-zero positions, cash per currency, equity and maintenance margin."""
        exchange = self.exchange
        held = (exchange.position(symbol) for symbol in exchange.symbols)
        positions = {str(p.symbol): p.quantity for p in held if not p.is_flat}
        equity, maintenance = account_margin(exchange)
        return AccountSnapshot(
            exchange.cash,
            positions,
            self.clock.now(),
            exchange.balances,
            equity=equity,
            maintenance_margin=maintenance,
        )

    def updates(self) -> AsyncIterator[OrderEvent]:
        """Yield fills, cancellations and expiries as they happen, until :meth:`close`."""
        return queued_events(self._queue)

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
        exchange = self.exchange
        if self._last_ts is not None and bar.ts > self._last_ts:
            exchange.check_margin(self._last_ts)  # at the last bar time's closes
        self._last_bars[bar.symbol] = bar
        self._last_ts = bar.ts if self._last_ts is None else max(self._last_ts, bar.ts)
        exchange.list_symbol(bar.symbol)
        if self.funding is not None and previous is not None:
            column = exchange.symbols.index(bar.symbol)
            paid = charge_symbol_funding(
                exchange.account, self.funding, bar.symbol, column, previous.ts, bar.ts
            )
            self.funding_paid.extend(paid)
        before = len(exchange.fills)
        exchange.on_bar(bar.symbol, bar.ts, Prices.of(bar))
        exchange.account.marks[exchange.symbols.index(bar.symbol)] = bar.close
        return exchange.fills[before:]

    def _now(self) -> datetime:
        """Return the exchange's time: the last bar time seen (the clock's before any bar)."""
        return self._last_ts if self._last_ts is not None else self.clock.now()

    def _heard(self, order: Order, event: OrderEvent) -> None:
        if isinstance(event, _PUSHED) or (
            isinstance(event, Submitted | Accepted) and order.request.tag == LIQUIDATION_TAG
        ):
            self._queue.put_nowait(event)  # the broker's own orders are announced


def _report(order: Order) -> VenueOrder:
    venue_id = order.venue_order_id
    return VenueOrder(
        order_id=order.order_id,
        venue_order_id=venue_id if venue_id is not None else VenueOrderId(order.order_id),
        symbol=order.symbol,
        request=order.request,
        status=order.status,
        filled_quantity=order.filled_quantity,
        average_fill_price=order.average_fill_price if order.filled_quantity else None,
        updated_at=order.updated_at,
    )
