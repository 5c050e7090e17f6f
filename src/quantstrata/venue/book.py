"""The venue's account and order book as plain logic: no sockets, no files, no clock.

:class:`VenueBook` accepts orders, cancels them and matches the working ones against each new
bar with the shared :class:`~quantstrata.execution.FillModel`, the way the backtester's event
loop does (symbols in sorted order, orders oldest first; ``DAY`` orders work through the UTC
day in which their deciding bar closes, ``IOC`` rests are cancelled, ``reduce_only`` and the
no-short rule cap the quantity and cancel the rest). Orders change only by applying events and
positions only by applying fills; every change is returned as the venue's
:data:`~quantstrata.model.orders.OrderEvent` for the stream, and remembered as changed for the
state file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from quantstrata.execution import FillConfig, FillModel, FillResult, WorkingOrder
from quantstrata.model.bar import Bar
from quantstrata.model.identifiers import ClientOrderId, Symbol, TradeId, VenueOrderId
from quantstrata.model.orders import (
    Accepted,
    Cancelled,
    CancelRejected,
    CancelRequested,
    Expired,
    Fill,
    FillEvent,
    Order,
    OrderEvent,
    OrderRequest,
    OrderSide,
    OrderType,
    Rejected,
    Submitted,
    TimeInForce,
)
from quantstrata.model.position import Position
from quantstrata.venue.config import VenueConfig

__all__ = ["CancelOutcome", "SubmitOutcome", "VenueBook", "WorkingEntry"]

_EPSILON = 1e-12


@dataclass(slots=True)
class WorkingEntry:
    """An order still working: the fill model's state and the session it was placed in."""

    order_id: ClientOrderId
    state: WorkingOrder
    session: date


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


class VenueBook:
    """Cash, positions, orders, fills and working orders of the venue's one account."""

    def __init__(
        self, config: VenueConfig, symbols: Iterable[str], bar_length: timedelta = timedelta(0)
    ) -> None:
        """Start flat with the configured cash; only ``symbols`` can be traded.

        ``bar_length`` is the replayed bars' interval: a DAY order works through the UTC day in
        which the bar that decided it closes (its open time plus ``bar_length``), as in the
        backtest without a calendar.
        """
        self.config = config
        self.bar_length = bar_length
        self.symbols = frozenset(Symbol(symbol) for symbol in symbols)
        self.cash = config.cash
        self.positions: dict[Symbol, Position] = {}
        self.orders: dict[ClientOrderId, Order] = {}
        self.by_venue_id: dict[VenueOrderId, ClientOrderId] = {}
        self.fills: list[Fill] = []
        self.fills_by_order: dict[ClientOrderId, list[Fill]] = {}
        self.working: list[WorkingEntry] = []
        self.latest: dict[Symbol, Bar] = {}
        self.next_number = 0
        self.volume_cap: float | None = None
        self.changes = _Changes()
        self._models: dict[float | None, FillModel] = {}

    # -- reads ---------------------------------------------------------------------------------

    def position(self, symbol: str) -> Position:
        """Return the position in ``symbol`` (flat when never traded)."""
        return self.positions.get(Symbol(symbol), Position.flat(symbol))

    def open_orders(self) -> list[Order]:
        """Return the orders still working, oldest first."""
        return [self.orders[entry.order_id] for entry in self.working]

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
        self.orders[order_id] = Order.submit(Submitted(order_id, now, request))
        if not reject and request.symbol not in self.symbols:
            reject = f"unknown symbol {request.symbol!r}; the venue trades {sorted(self.symbols)}"
        if reject:
            event: OrderEvent = Rejected(order_id, now, reject)
            return SubmitOutcome(self._apply(event), created=True, events=(event,))
        self.next_number += 1
        venue_id = VenueOrderId(f"V{self.next_number}")
        self.by_venue_id[venue_id] = order_id
        accepted = Accepted(order_id, now, venue_id)
        order = self._apply(accepted)
        state = WorkingOrder.from_request(request)
        entry = WorkingEntry(order_id, state, (now + self.bar_length).date())
        self.working.append(entry)
        events: list[OrderEvent] = [accepted]
        bar = self.latest.get(request.symbol)
        if self.config.fill.policy.bar_offset == 0 and bar is not None and bar.ts == now:
            events.extend(self._step(entry, bar))
            order = self.orders[order_id]
        return SubmitOutcome(order, created=True, events=tuple(events))

    def cancel(
        self, order_id: ClientOrderId, now: datetime, *, race: bool = False
    ) -> CancelOutcome:
        """Cancel a working order; a finished one gets a cancel rejection.

        With ``race`` the cancel arrives too late: the order first fills its rest at its
        symbol's latest close (through the fill model, as a market order), then the cancel is
        rejected.
        """
        order = self.orders[order_id]
        entry = next((item for item in self.working if item.order_id == order_id), None)
        events: list[OrderEvent] = []
        if entry is not None and race and order.symbol in self.latest:
            events.extend(self._fill_at_close(entry, self.latest[order.symbol]))
            order = self.orders[order_id]
        if order.is_terminal or entry is None:
            reason = f"order {order_id} is {order.status.value}: nothing left to cancel"
            event = CancelRejected(order_id, now, reason)
            events.append(event)
            order = self._apply(event)
            return CancelOutcome(order, cancelled=False, events=tuple(events), reason=reason)
        self.working.remove(entry)
        self._apply(CancelRequested(order_id, now))
        cancelled = Cancelled(order_id, now, "cancelled on request")
        events.append(cancelled)
        return CancelOutcome(self._apply(cancelled), cancelled=True, events=tuple(events))

    # -- matching ------------------------------------------------------------------------------

    def on_bars(self, bars: Mapping[Symbol, Bar]) -> list[OrderEvent]:
        """Match the working orders of every symbol in ``bars``, then remember the bars."""
        events: list[OrderEvent] = []
        for symbol in sorted(bars):
            bar = bars[symbol]
            for entry in [item for item in self.working if self._symbol(item) == symbol]:
                if entry in self.working:
                    events.extend(self._step(entry, bar))
            self.latest[symbol] = bar
        return events

    def _symbol(self, entry: WorkingEntry) -> Symbol:
        return self.orders[entry.order_id].symbol

    def _step(self, entry: WorkingEntry, bar: Bar) -> list[OrderEvent]:
        order = self.orders[entry.order_id]
        if order.request.time_in_force is TimeInForce.DAY and bar.ts.date() != entry.session:
            self.working.remove(entry)
            expired = Expired(entry.order_id, bar.ts)
            self._apply(expired)
            return [expired]
        state = entry.state
        allowed = self._allowed(order.request, state.quantity)
        if allowed <= _EPSILON * state.quantity:
            self.working.remove(entry)
            return [self._cancel_rest(entry, bar.ts, "nothing to reduce or no shorting")]
        capped = allowed < state.quantity
        if capped:
            state = replace(state, quantity=allowed)
        step = self._model().step(state, bar)
        entry.state = step.order if step.order is not None else state
        self.changes.orders.add(entry.order_id)
        events: list[OrderEvent] = []
        if step.fill is not None:
            events.append(self._book(entry.order_id, step.fill, bar.ts))
        immediate = order.request.time_in_force is TimeInForce.IOC
        if step.order is None and not capped:
            self.working.remove(entry)
        elif capped or immediate:
            self.working.remove(entry)
            events.append(self._cancel_rest(entry, bar.ts, "rest cancelled"))
        return events

    def _fill_at_close(self, entry: WorkingEntry, bar: Bar) -> list[OrderEvent]:
        at_close = Bar(bar.ts, bar.symbol, bar.close, bar.close, bar.close, bar.close, bar.volume)
        market = replace(
            entry.state,
            order_type=OrderType.MARKET,
            limit_price=None,
            stop_price=None,
            trail_amount=None,
            trail_percent=None,
            trail_extreme=None,
            arrived=True,
        )
        entry.state = market
        return self._step(entry, at_close)

    def _cancel_rest(self, entry: WorkingEntry, now: datetime, reason: str) -> OrderEvent:
        event = Cancelled(entry.order_id, now, reason)
        if not self.orders[entry.order_id].is_terminal:
            self._apply(event)
        return event

    def _allowed(self, request: OrderRequest, quantity: float) -> float:
        held = self.position(request.symbol).quantity
        reducing = held * float(request.side) < 0.0
        if request.reduce_only:
            return min(quantity, abs(held)) if reducing else 0.0
        if not self.config.allow_short and request.side is OrderSide.SELL:
            return min(quantity, max(held, 0.0))
        return quantity

    def _model(self) -> FillModel:
        cap = self.config.fill.volume_cap
        if self.volume_cap is not None:
            cap = self.volume_cap if cap is None else min(cap, self.volume_cap)
        model = self._models.get(cap)
        if model is None:
            fill = FillConfig.build(**{**self.config.fill.model_dump(), "volume_cap": cap})
            model = FillModel(fill, self.config.commission, self.config.slippage)
            self._models[cap] = model
        return model

    def _book(self, order_id: ClientOrderId, result: FillResult, now: datetime) -> OrderEvent:
        order = self.orders[order_id]
        fill = Fill(
            order_id,
            TradeId(f"T{len(self.fills) + 1}"),
            order.symbol,
            result.side,
            result.quantity,
            result.price,
            result.commission,
            now,
            result.liquidity,
            order.venue_order_id,
        )
        self.record_fill(fill)
        position = self.position(fill.symbol).apply(fill)
        self.positions[fill.symbol] = position
        self.cash -= fill.signed_quantity * fill.price + fill.commission
        self.changes.fills.append(fill)
        event = FillEvent(fill)
        self._apply(event)
        return event

    def record_fill(self, fill: Fill) -> None:
        """Keep ``fill`` in the venue's list and by order (restoring or booking)."""
        self.fills.append(fill)
        self.fills_by_order.setdefault(fill.order_id, []).append(fill)

    def _apply(self, event: OrderEvent) -> Order:
        order = self.orders[event.order_id].apply(event)
        self.orders[event.order_id] = order
        self.changes.orders.add(event.order_id)
        return order
