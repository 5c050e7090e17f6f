"""The venue's account and order book: the simulated exchange plus what a venue adds.

:class:`VenueBook` is a thin shell around :class:`~quantstrata.exchange.SimulatedExchange`, the
order book the backtest runs on, so the venue meets the backtest's rules by construction
(symbols in sorted order, orders oldest first; ``DAY`` orders end at the session close of the
configured calendar, ``IOC`` rests are cancelled, reduce-only and no-short cuts, positions
through ``Position.apply``, status through the transition table). What the venue adds: its own
order ids (``V1``, ``V2`` …) and trade ids (``T1`` …), the latest bar of each symbol, the
changes since the last write of the state file, injected rejections, and the ``race`` cancel
fault. Every change is returned as the venue's
:data:`~quantstrata.model.orders.OrderEvent` for the stream.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from quantstrata.exchange import ExchangeConfig, Prices, SimulatedExchange
from quantstrata.execution import WorkingOrder
from quantstrata.model.bar import Bar
from quantstrata.model.identifiers import ClientOrderId, Symbol, TradeId, VenueOrderId
from quantstrata.model.orders import (
    CancelRequested,
    Fill,
    FillEvent,
    Order,
    OrderEvent,
    OrderRequest,
    Submitted,
)
from quantstrata.model.position import Position
from quantstrata.venue.config import VenueConfig

__all__ = ["CancelOutcome", "SubmitOutcome", "VenueBook", "WorkingEntry"]

_UNPUBLISHED = (Submitted, CancelRequested)
"""Exchange events the venue does not publish (a submit or cancel answers them directly)."""


@dataclass(frozen=True, slots=True)
class WorkingEntry:
    """An order still working: the fill model's state and when a DAY order expires."""

    order_id: ClientOrderId
    state: WorkingOrder
    expires: datetime | None


@dataclass(frozen=True, slots=True)
class SubmitOutcome:
    """The order after a submit, whether it is new, and the events to publish."""

    order: Order
    created: bool
    events: tuple[OrderEvent, ...] = ()


@dataclass(frozen=True, slots=True)
class CancelOutcome:
    """The order after a cancel, whether it succeeded (else why not), and the events to publish."""

    order: Order
    cancelled: bool
    events: tuple[OrderEvent, ...] = ()
    reason: str = ""


@dataclass(slots=True)
class _Changes:
    orders: set[ClientOrderId] = field(default_factory=set)
    fills: list[Fill] = field(default_factory=list)
    links: bool = False


class VenueBook:
    """Cash, positions, orders, fills and working orders of the venue's one account."""

    def __init__(
        self, config: VenueConfig, symbols: Iterable[str], bar_length: timedelta = timedelta(0)
    ) -> None:
        """Start flat with the configured cash; only ``symbols`` can be traded.

        ``bar_length`` is the replayed bars' interval: a DAY order works until the first
        session close of ``config.calendar`` (the UTC day without one) after the close of the
        bar that decided it (its open time plus ``bar_length``), as in the backtest.
        """
        self.config = config
        self.symbols = frozenset(Symbol(symbol) for symbol in symbols)
        settings = ExchangeConfig(
            cash=config.cash,
            fill=config.fill,
            commission=config.commission,
            slippage=config.slippage,
            allow_short=config.allow_short,
            calendar=config.calendar,
            bar_length=bar_length,
        )
        self.exchange = SimulatedExchange(settings, sorted(self.symbols))
        self.exchange.venue_ids = self._venue_id
        self.exchange.listener = self._heard
        self.positions: dict[Symbol, Position] = {}
        """The position of every symbol traded."""
        self.by_venue_id: dict[VenueOrderId, ClientOrderId] = {}
        self.fills: list[Fill] = []
        self.fills_by_order: dict[ClientOrderId, list[Fill]] = {}
        self.latest: dict[Symbol, Bar] = {}
        self.next_number = 0
        self.changes = _Changes()
        self._volume_cap: float | None = None
        self._named: dict[TradeId, Fill] = {}

    # -- reads ---------------------------------------------------------------------------------

    @property
    def orders(self) -> Mapping[ClientOrderId, Order]:
        """Every order the venue received, by client order id."""
        return self.exchange.orders

    @property
    def cash(self) -> float:
        """The account's cash."""
        return self.exchange.cash

    @property
    def working(self) -> list[WorkingEntry]:
        """The working orders with their fill-model state, oldest first (for the state file)."""
        return [WorkingEntry(*entry) for entry in self.exchange.working_entries()]

    @property
    def volume_cap(self) -> float | None:
        """The injected volume cap (``None``: only the fill model's own)."""
        return self._volume_cap

    @volume_cap.setter
    def volume_cap(self, cap: float | None) -> None:
        self._volume_cap = cap
        self.exchange.set_volume_cap(cap)

    def position(self, symbol: str) -> Position:
        """Return the position in ``symbol`` (flat when never traded)."""
        return self.positions.get(Symbol(symbol), Position.flat(symbol))

    def open_orders(self) -> list[Order]:
        """Return the orders still working, oldest first."""
        return self.exchange.open_orders()

    def equity(self) -> float:
        """Return cash plus every position marked at its symbol's latest close."""
        value = self.cash
        for symbol, position in self.positions.items():
            bar = self.latest.get(symbol)
            mark = bar.close if bar is not None else position.average_price
            value += position.market_value(mark)
        return value

    def fills_of(self, order_id: ClientOrderId) -> list[Fill]:
        """Return the fills of one order, oldest first."""
        return list(self.fills_by_order.get(order_id, ()))

    # -- orders --------------------------------------------------------------------------------

    def submit(
        self, order_id: ClientOrderId, request: OrderRequest, now: datetime, *, reject: str = ""
    ) -> SubmitOutcome:
        """Accept (or reject, with ``reject`` as the reason) a new order; repeat ids are no-ops."""
        known = self.orders.get(order_id)
        if known is not None:
            return SubmitOutcome(known, created=False)
        exchange = self.exchange
        if reject:
            events = exchange.reject(order_id, request, now, reject)
        else:
            events = exchange.submit(order_id, request, now, sized=True)
            bar = self.latest.get(request.symbol)
            at_once = self.config.fill.policy.bar_offset == 0
            if at_once and bar is not None and bar.ts == now and exchange.is_working(order_id):
                events += exchange.step_order(order_id, now, _prices(bar))
        return SubmitOutcome(self.orders[order_id], created=True, events=self._published(events))

    def cancel(
        self, order_id: ClientOrderId, now: datetime, *, race: bool = False
    ) -> CancelOutcome:
        """Cancel a working order; a finished one gets a cancel rejection.

        With ``race`` the cancel arrives too late: the order first fills its rest at its
        symbol's latest close (through the fill model, as a market order), then the cancel is
        rejected.
        """
        exchange = self.exchange
        order = self.orders[order_id]
        events: list[OrderEvent] = []
        bar = self.latest.get(order.symbol)
        if race and bar is not None and exchange.is_working(order_id):
            events += exchange.fill_at_close(order_id, bar.ts, _prices(bar))
        if not exchange.is_working(order_id):
            status = self.orders[order_id].status.value
            reason = f"order {order_id} is {status}: nothing left to cancel"
            events += exchange.refuse_cancel(order_id, now, reason)
            return CancelOutcome(
                self.orders[order_id],
                cancelled=False,
                events=self._published(events),
                reason=reason,
            )
        events += exchange.cancel(order_id, now)
        return CancelOutcome(self.orders[order_id], cancelled=True, events=self._published(events))

    def link(self, first: ClientOrderId, second: ClientOrderId, *, bracket: bool = False) -> bool:
        """Make two working orders one-cancels-other: a fill of either cancels the other.

        ``bracket``: they are a bracket's exits, the stop-loss first (the exchange's
        :meth:`~quantstrata.exchange.SimulatedExchange.link`).
        """
        linked = self.exchange.link(first, second, bracket=bracket)
        if linked:
            self.changes.orders.update((first, second))
            self.changes.links = True
        return linked

    @property
    def links(self) -> list[tuple[ClientOrderId, ClientOrderId, bool]]:
        """The linked working pairs: (first, second, whether a bracket's exits)."""
        return self.exchange.links()

    # -- matching ------------------------------------------------------------------------------

    def on_bars(self, bars: Mapping[Symbol, Bar]) -> list[OrderEvent]:
        """Match the working orders of every symbol in ``bars``, then remember the bars."""
        events: list[OrderEvent] = []
        exchange = self.exchange
        for symbol in sorted(bars):
            bar = bars[symbol]
            events += exchange.on_bar(symbol, bar.ts, _prices(bar))
            self.latest[symbol] = bar
        return list(self._published(events))

    # -- the state file ------------------------------------------------------------------------

    def restore(  # noqa: PLR0917 - the parts of the state file
        self,
        cash: float,
        next_number: int,
        orders: Iterable[Order],
        fills: Iterable[Fill],
        positions: Iterable[Position],
        working: Iterable[WorkingEntry],
        links: Iterable[tuple[ClientOrderId, ClientOrderId, bool]] = (),
    ) -> None:
        """Hold the book a state file saved (nothing is published or marked changed)."""
        self.next_number = next_number
        for fill in fills:
            self.record_fill(fill)
        orders = list(orders)
        for order in orders:
            if order.venue_order_id is not None:
                self.by_venue_id[order.venue_order_id] = order.order_id
        held = list(positions)
        self.positions.update({position.symbol: position for position in held})
        entries = [(entry.order_id, entry.state, entry.expires) for entry in working]
        self.exchange.listener = None
        self.exchange.restore(cash, held, orders, entries)
        for first, second, bracket in links:
            self.exchange.link(first, second, bracket=bracket)
        self.exchange.listener = self._heard

    def record_fill(self, fill: Fill) -> None:
        """Keep ``fill`` in the venue's list and by order (restoring or booking)."""
        self.fills.append(fill)
        self.fills_by_order.setdefault(fill.order_id, []).append(fill)

    def _published(self, events: Iterable[OrderEvent]) -> tuple[OrderEvent, ...]:
        """Return the events to publish, fills under the venue's ids."""
        return tuple(
            FillEvent(self._named.pop(event.fill.trade_id))
            if isinstance(event, FillEvent)
            else event
            for event in events
            if not isinstance(event, _UNPUBLISHED)
        )

    def _venue_id(self, _order_id: ClientOrderId) -> VenueOrderId:
        self.next_number += 1
        venue_id = VenueOrderId(f"V{self.next_number}")
        self.by_venue_id[venue_id] = _order_id
        return venue_id

    def _heard(self, order: Order, event: OrderEvent) -> None:
        """Remember what changed; book a fill under the venue's trade and order ids."""
        self.changes.orders.add(order.order_id)
        if not isinstance(event, FillEvent):
            return
        fill = dataclasses.replace(
            event.fill,
            trade_id=TradeId(f"T{len(self.fills) + 1}"),
            venue_order_id=order.venue_order_id,
        )
        self._named[event.fill.trade_id] = fill
        self.record_fill(fill)
        self.changes.fills.append(fill)
        self.positions[fill.symbol] = self.exchange.position(fill.symbol)


def _prices(bar: Bar) -> Prices:
    return Prices(bar.open, bar.high, bar.low, bar.close, bar.volume)
