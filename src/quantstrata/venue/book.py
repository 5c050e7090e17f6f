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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from quantstrata.exchange import (
    LIQUIDATION_TAG,
    ExchangeConfig,
    FundingRates,
    Prices,
    SimulatedExchange,
)
from quantstrata.exchange._funding import charge_symbol_funding
from quantstrata.exchange.engine import WorkingEntry
from quantstrata.execution.margin import position_value
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
    orders: dict[ClientOrderId, None] = field(default_factory=dict)
    """The orders changed, in the order they changed (a restart keeps the order they were sent)."""
    fills: list[Fill] = field(default_factory=list)
    links: bool = False


class VenueBook:
    """The venue's one account: the simulated exchange, its ids, latest bars and changes."""

    def __init__(
        self,
        config: VenueConfig,
        symbols: Iterable[str],
        bar_length: timedelta = timedelta(0),
        funding: FundingRates | None = None,
    ) -> None:
        """Start flat with the configured cash; only ``symbols`` can be traded.

        ``funding``: perpetual swaps' funding rates, paid when a symbol's bar at or after a
        funding time is matched, as paper trading pays them (:attr:`funding_paid`).

        ``bar_length`` is the replayed bars' interval: a DAY order works until the first
        session close of ``config.calendar`` (the UTC day without one) after the close of the
        bar that decided it (its open time plus ``bar_length``), as in the backtest.
        """
        self.config = config
        self.symbols = frozenset(Symbol(symbol) for symbol in symbols)
        settings = ExchangeConfig(
            **config.trading_rules(), calendar=config.calendar, bar_length=bar_length
        )
        self.exchange = SimulatedExchange(settings, sorted(self.symbols))
        self.exchange.venue_ids = self._venue_id
        self.exchange.trade_ids = self._trade_id
        self.exchange.listener = self._heard
        self.latest: dict[Symbol, Bar] = {}
        self.next_number = 0
        self.changes = _Changes()
        self._traded: dict[Symbol, None] = {}
        self.funding = funding
        self.funding_paid: list[tuple[object, ...]] = []
        """Funding payments made: ``(ts, symbol, quantity, mark, funding_rate, payment)``."""
        """The symbols traded, in the order of their first fill."""

    # -- reads ---------------------------------------------------------------------------------

    @property
    def orders(self) -> Mapping[ClientOrderId, Order]:
        """Every order the venue received, by client order id."""
        return self.exchange.orders

    @property
    def fills(self) -> list[Fill]:
        """Every fill, oldest first, under the venue's trade ids (``T1`` …)."""
        return self.exchange.fills

    @property
    def cash(self) -> float:
        """The account's cash."""
        return self.exchange.cash

    @property
    def positions(self) -> dict[Symbol, Position]:
        """The position of every symbol traded."""
        return {symbol: self.exchange.position(symbol) for symbol in self._traded}

    def position(self, symbol: str) -> Position:
        """Return the position in ``symbol`` (flat when never traded)."""
        if symbol not in self._traded:
            return Position.flat(symbol)
        return self.exchange.position(symbol)

    def open_orders(self) -> list[Order]:
        """Return the orders still working, oldest first."""
        return self.exchange.open_orders()

    def equity(self) -> float:
        """Return cash plus every position marked at its symbol's latest close."""
        value = self.cash
        for symbol, position in self.positions.items():
            bar = self.latest.get(symbol)
            mark = bar.close if bar is not None else position.average_price
            value += position_value(self.config.instruments.get(symbol), position.quantity, mark)
        return value

    def fills_of(self, order_id: ClientOrderId) -> list[Fill]:
        """Return the fills of one order, oldest first."""
        return [fill for fill in self.fills if fill.order_id == order_id]

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
            events = exchange.refuse(order_id, now, reject, request)
        else:
            events = exchange.submit(order_id, request, now, sized=True)
            bar = self.latest.get(request.symbol)
            if self.config.fill.policy.bar_offset == 0 and bar is not None and bar.ts == now:
                events += exchange.step_order(order_id, now, Prices.of(bar))
        return SubmitOutcome(self.orders[order_id], created=True, events=_published(events))

    def cancel(
        self, order_id: ClientOrderId, now: datetime, *, race: bool = False
    ) -> CancelOutcome:
        """Cancel a working order; a finished one gets a cancel rejection.

        With ``race`` the cancel arrives too late: the order first fills its rest at its
        symbol's latest close (through the fill model, as a market order), then the cancel is
        rejected.
        """
        exchange = self.exchange
        events: list[OrderEvent] = []
        bar = self.latest.get(self.orders[order_id].symbol)
        if race and bar is not None and exchange.is_working(order_id):
            events += exchange.step_order(order_id, bar.ts, Prices.of(bar), at_close=True)
        if exchange.is_working(order_id):
            events += exchange.cancel(order_id, now)
            return CancelOutcome(self.orders[order_id], cancelled=True, events=_published(events))
        status = self.orders[order_id].status.value
        reason = f"order {order_id} is {status}: nothing left to cancel"
        events += exchange.refuse(order_id, now, reason)
        order = self.orders[order_id]
        return CancelOutcome(order, cancelled=False, events=_published(events), reason=reason)

    def link(self, first: ClientOrderId, second: ClientOrderId, *, bracket: bool = False) -> bool:
        """Make two working orders one-cancels-other: a fill of either cancels the other.

        ``bracket``: they are a bracket's exits, the stop-loss first (the exchange's
        :meth:`~quantstrata.exchange.SimulatedExchange.link`).
        """
        linked = self.exchange.link(first, second, bracket=bracket)
        if linked:
            self.changes.orders.update(dict.fromkeys((first, second)))
            self.changes.links = True
        return linked

    @property
    def links(self) -> list[tuple[ClientOrderId, ClientOrderId, bool]]:
        """The linked working pairs: (first, second, whether a bracket's exits)."""
        return self.exchange.links()

    # -- matching ------------------------------------------------------------------------------

    def on_bars(self, bars: Mapping[Symbol, Bar]) -> list[OrderEvent]:
        """Match the working orders of every symbol in ``bars``, then remember the bars.

        A new bar time first gets the margin check at the last one's closes (as the backtest
        makes it at each bar's close): a call's liquidation orders meet these bars.
        """
        events: list[OrderEvent] = []
        last = max((bar.ts for bar in self.latest.values()), default=None)
        if last is not None and any(bar.ts > last for bar in bars.values()):
            events += self.exchange.check_margin(last)
        for symbol in sorted(bars):
            bar = bars[symbol]
            self._pay_funding(symbol, bar)
            events += self.exchange.on_bar(symbol, bar.ts, Prices.of(bar))
            self.exchange.account.marks[self.exchange.symbols.index(symbol)] = bar.close
            self.latest[symbol] = bar
        return list(_published(events))

    def _pay_funding(self, symbol: Symbol, bar: Bar) -> None:
        previous = self.latest.get(symbol)
        if self.funding is None or previous is None:
            return
        exchange = self.exchange
        column = exchange.symbols.index(symbol)
        self.funding_paid += charge_symbol_funding(
            exchange.account, self.funding, symbol, column, previous.ts, bar.ts
        )

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
        balances: dict[str, float] | None = None,
    ) -> None:
        """Hold the book a state file saved (nothing is published or marked changed).

        ``cash`` is the base currency's, ``balances`` the cash in every currency.
        """
        self.next_number = next_number
        held = list(positions)
        self._traded.update(dict.fromkeys(position.symbol for position in held))
        self.exchange.listener = None
        self.exchange.restore(cash, held, orders, working, fills, balances=balances)
        for first, second, bracket in links:
            self.exchange.link(first, second, bracket=bracket)
        self.exchange.listener = self._heard

    def _venue_id(self, _order_id: ClientOrderId) -> VenueOrderId:
        self.next_number += 1
        return VenueOrderId(f"V{self.next_number}")

    def _trade_id(self, _order_id: ClientOrderId, _number: int) -> TradeId:
        return TradeId(f"T{len(self.fills) + 1}")

    def _heard(self, order: Order, event: OrderEvent) -> None:
        """Remember what changed since the state file was written."""
        self.changes.orders[order.order_id] = None
        if isinstance(event, FillEvent):
            self.changes.fills.append(event.fill)
            self._traded.setdefault(event.fill.symbol)


def _published(events: Iterable[OrderEvent]) -> tuple[OrderEvent, ...]:
    """Return the events to publish (a submit or cancel answers the others directly).

    The venue's own orders (a margin call's liquidations) are announced: their ``submitted``.
    """
    return tuple(
        event
        for event in events
        if not isinstance(event, _UNPUBLISHED)
        or (isinstance(event, Submitted) and event.request.tag == LIQUIDATION_TAG)
    )
