"""The simulated exchange: working orders matched bar by bar through the shared fill model.

Pure: no I/O, no clock, no asyncio. Time comes in with every call (``now``, a bar's ``ts``).
Orders change only through :meth:`~quantstrata.model.orders.Order.apply` (the transition
table), positions only through :meth:`~quantstrata.model.position.Position.apply`; every
order event is appended to :attr:`SimulatedExchange.events` in order, handed to the
``listener`` and returned by the call that caused it.

A working order is stepped through :class:`~quantstrata.execution.FillModel` on each bar of its
symbol (:meth:`SimulatedExchange.on_bar`, oldest first), after the checks of every order:

- **Time in force**: ``DAY`` orders expire at the first session close after their decision
  bar's close (:mod:`quantstrata.exchange._sessions`); ``IOC`` orders fill what the first bar
  they meet gives and cancel the rest; ``FOK`` orders fill entirely on that bar or are
  cancelled without any fill; ``GTC`` orders work until filled or cancelled.
- **Reduce-only and no-short limits**, then the **leverage cap**
  (:mod:`quantstrata.exchange._rules`): an order cut by them is reduced and its rest cancelled
  (nothing left: cancelled with the reason); a leverage cut is noted in :attr:`notes`.
- **Linked orders** (:mod:`quantstrata.exchange._linked`): one-cancels-other pairs, brackets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime

from quantstrata.exchange._account import Account
from quantstrata.exchange._balances import Balances
from quantstrata.exchange._linked import (
    Working,
    bracket_exits,
    exit_pair,
    linked_pairs,
    saved_entries,
)
from quantstrata.exchange._margin import MarginCall, call_margin
from quantstrata.exchange._rules import EPSILON, allowed, leverage_allowed
from quantstrata.exchange._sessions import SessionCloses
from quantstrata.exchange._values import Prices, WorkingEntry
from quantstrata.exchange.config import ExchangeConfig
from quantstrata.execution import (
    FillConfig,
    FillModel,
    FillResult,
    OrderStep,
    WorkingBracket,
    WorkingOrder,
)
from quantstrata.execution.margin import terms_array
from quantstrata.execution.targets import leverage_note, no_leverage_room
from quantstrata.model.identifiers import ClientOrderId, Symbol, TradeId, VenueOrderId
from quantstrata.model.orders import (
    Accepted,
    Bracket,
    Cancelled,
    CancelRejected,
    CancelRequested,
    Expired,
    Fill,
    FillEvent,
    OneCancelsOther,
    Order,
    OrderEvent,
    OrderRequest,
    OrderType,
    Rejected,
    Submitted,
    TimeInForce,
)
from quantstrata.model.position import Position

__all__ = ["Listener", "Prices", "SimulatedExchange", "WorkingEntry"]

Listener = Callable[[Order, OrderEvent], None]
"""Called with the order after each event (and the event) as it happens."""

_NOT_ENTIRELY = "fill or kill: could not fill entirely on its first bar"


def _trade_id(order_id: ClientOrderId, number: int) -> TradeId:
    return TradeId(f"{order_id}-{number}")


class SimulatedExchange:
    """Working orders, cash and positions of one account at a simulated exchange."""

    def __init__(
        self, config: ExchangeConfig, symbols: Iterable[str], *, id_prefix: str = "E"
    ) -> None:
        """List ``symbols`` and start flat with ``config.cash``.

        Ids the exchange gives (:meth:`new_order_id`, and the second order of a pair or the
        exits of a bracket) are ``id_prefix`` and a counter.
        """
        self.config = config
        self.symbols = tuple(Symbol(symbol) for symbol in symbols)
        currencies = config.currencies_of(self.symbols)
        balances = Balances(config.account_currency(), currencies)
        self._terms = terms_array(self.symbols, config.instruments, config.max_leverage)
        """Each symbol's ``(multiplier, weight, per_contract)`` for valuation and the cap."""
        multipliers = tuple(self._terms[:, 0].tolist())
        self.account = Account(config.cash, self.symbols, multipliers, balances=balances)
        self.orders: dict[ClientOrderId, Order] = {}
        self.notes: dict[ClientOrderId, str] = {}
        """Why the leverage cap cut an order, by order id."""
        self.events: list[OrderEvent] = []
        self.fills: list[Fill] = []
        self.margin_calls: list[MarginCall] = []
        self.listener: Listener | None = None
        self._columns: dict[str, int] = {s: column for column, s in enumerate(self.symbols)}
        self._working: list[Working] = []
        self._fill = config.fill
        self._models = [self._fill_model(symbol) for symbol in self.symbols]
        self._lots = [config.lot_size(symbol) for symbol in self.symbols]
        self._sessions = SessionCloses(config.calendar_of)
        self._sized: set[ClientOrderId] = set()
        ClientOrderId(f"{id_prefix}{10**19}")  # refuse a prefix no 20-digit id fits after
        self._prefix = id_prefix
        self.venue_ids: Callable[[ClientOrderId], VenueOrderId] = VenueOrderId
        """Names an accepted order at the venue (the client id unless a shell names them)."""
        self.trade_ids: Callable[[ClientOrderId, int], TradeId] = _trade_id
        """Names the n-th fill of an order (``<order id>-<n>`` unless a shell names them)."""
        self._next_id = 0
        self._now = datetime.min.replace(tzinfo=UTC)

    # -- reads ---------------------------------------------------------------------------------

    @property
    def cash(self) -> float:
        """The cash after every fill so far."""
        return self.account.cash

    @property
    def balances(self) -> dict[str, float]:
        """The cash held in each currency, in that currency (the base currency first)."""
        return self.account.balances.by_currency(self.account.cash)

    @property
    def has_working(self) -> bool:
        """Whether any order is working."""
        return bool(self._working)

    def position(self, symbol: str) -> Position:
        """Return the position in ``symbol``."""
        return self.account.position(self._column(symbol))

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        """Return the working orders (of ``symbol`` only), oldest first."""
        found = [self.orders[order_id] for item in self._working for order_id in item.ids]
        found.sort(key=lambda order: (order.created_at, order.order_id))
        return [order for order in found if symbol is None or order.symbol == symbol]

    def working_symbols(self) -> set[Symbol]:
        """Return the symbols with a working order."""
        return {self.symbols[item.symbol] for item in self._working}

    def new_order_id(self) -> ClientOrderId:
        """Return the next client order id this exchange gives."""
        self._next_id += 1
        # The prefix was checked and digits are valid: skip the per-id check (compiled loops
        # take an id per order).
        return str.__new__(ClientOrderId, f"{self._prefix}{self._next_id}")

    # -- orders in and out ---------------------------------------------------------------------

    def submit(
        self,
        order_id: ClientOrderId,
        request: OrderRequest | Bracket | OneCancelsOther,
        now: datetime,
        *,
        sized: bool = False,
    ) -> list[OrderEvent]:
        """Open ``request`` (or each order of a group) as working from ``now``; return events.

        An unknown symbol is rejected with a reason naming it. ``sized``: the order was sized
        within the leverage cap when decided (a target order), so its fills are not capped
        again.
        """
        start, self._now = len(self.events), now
        first = request.first if isinstance(request, OneCancelsOther) else request
        entry = first.entry if isinstance(first, Bracket) else first
        if entry.symbol not in self._columns:
            self._create(order_id, entry, now, accept=False)
            listed = ", ".join(self.symbols) or "none"
            reason = f"unknown symbol {entry.symbol!r}: this exchange lists {listed}"
            self._apply(Rejected(order_id, now, reason))
            return self.events[start:]
        if sized:
            self._sized.add(order_id)
        if isinstance(request, OneCancelsOther):
            second_id = self.new_order_id()
            one = self._open(order_id, request.first)
            other = self._open(second_id, request.second)
            one.partner, other.partner = second_id, order_id
        elif isinstance(request, Bracket):
            self._open(order_id, request.entry).bracket = request
        else:
            self._open(order_id, request)
        return self.events[start:]

    def cancel(
        self, order_id: ClientOrderId, now: datetime, reason: str = "cancelled on request"
    ) -> list[OrderEvent]:
        """Cancel the working order ``order_id`` (with its bracket partner); return events.

        An order that is not working (unknown, or already done) is left as it is.
        """
        start, self._now = len(self.events), now
        self._cancel_working(order_id, reason, requested=True)
        return self.events[start:]

    def on_bar(self, symbol: str, ts: datetime, prices: Prices) -> list[OrderEvent]:
        """Step the working orders of ``symbol`` (oldest first) on its bar at ``ts``."""
        start, self._now = len(self.events), ts
        column = self._column(symbol)
        for item in [w for w in self._working if w.symbol == column]:
            if item in self._working:
                self._step(item, prices)
        return self.events[start:]

    def execute(
        self,
        order_id: ClientOrderId,
        request: OrderRequest,
        created: datetime,
        ts: datetime,
        prices: Prices,
        *,
        rest: str,
    ) -> bool:
        """Fill ``request``, created at ``created``, on the bar at ``ts`` at once.

        For orders sized under every rule already (the backtest's target orders): no rule is
        checked again; the rest is cancelled with the reason ``rest``. Return whether it filled
        completely.
        """
        column = self._column(request.symbol)
        step = self._models[column].step(WorkingOrder.from_request(request), prices)
        self._create(order_id, request, created)
        self._now = ts
        if step.fill is not None:
            self._book(order_id, column, step.fill)
        if step.order is None:
            return True
        self._cancel_order(order_id, rest, requested=False)
        return False

    def check_margin(self, now: datetime) -> list[OrderEvent]:
        """Make a margin call if equity at ``account.marks`` is below maintenance; return events.

        The rule and its liquidation orders: :func:`~quantstrata.exchange._margin.call_margin`.
        """
        return call_margin(self, now)

    # -- what the shells add: symbols as they come, a saved book, faults ------------------------

    def list_symbol(self, symbol: str) -> None:
        """List ``symbol`` too (nothing when listed): a paper broker learns symbols as they come.

        Not for the backtest, whose compiled code holds the account's arrays.
        """
        name = Symbol(symbol)
        if name in self._columns:
            return
        self._columns[name] = len(self.symbols)
        self.symbols = (*self.symbols, name)
        self._terms = terms_array(self.symbols, self.config.instruments, self.config.max_leverage)
        currency = self.config.currencies_of([name])[0]
        self.account.list_symbol(name, float(self._terms[-1, 0]), currency)
        self._models.append(self._fill_model(name))
        self._lots.append(self.config.lot_size(name))

    def restore(
        self,
        cash: float,
        positions: Iterable[Position],
        orders: Iterable[Order],
        working: Iterable[WorkingEntry],
        fills: Iterable[Fill] = (),
        *,
        balances: dict[str, float] | None = None,
    ) -> None:
        """Hold a saved book: cash, positions, orders as they were, and the working ones.

        ``cash`` is the base currency's; ``balances`` the cash in the other currencies.

        Each ``working`` entry works again as a plain order. Orders keep their trade ids, so
        new fills continue their numbering. Nothing is emitted.
        """
        self.account.values[0] = cash
        self.account.balances.hold(balances or {})
        for position in positions:
            self.list_symbol(position.symbol)
            self.account.hold(self._columns[position.symbol], position)
        for order in orders:
            self.list_symbol(order.symbol)
            self.orders[order.order_id] = order
        for order_id, state, expires in working:
            column = self._columns[self.orders[order_id].symbol]
            self._working.append(Working(order_id, column, state, expires, ids=(order_id,)))
        self.fills.extend(fills)

    def working_entries(self) -> list[WorkingEntry]:
        """Return the working orders, oldest first, each as a plain order (for :meth:`restore`).

        :meth:`links` says which to link again; a bracket's entry still to fill is left out,
        the exits of a bracket are given as their plain orders, not yet reached.
        """
        return saved_entries(self._working, self.orders)

    def expiry(self, request: OrderRequest, decided: datetime) -> datetime | None:
        """Return when ``request``, decided on the bar at ``decided``, stops working.

        A DAY order's first session close after that bar's close; ``None`` (never) otherwise.
        """
        if request.time_in_force is not TimeInForce.DAY:
            return None
        return self._sessions.expiry(request.symbol, decided + self.config.bar_length)

    def step_order(
        self, order_id: ClientOrderId, ts: datetime, prices: Prices, *, at_close: bool = False
    ) -> list[OrderEvent]:
        """Step only the working order ``order_id`` on the bar at ``ts``.

        The ``this_close`` policy of a broker told of an order after its bar was stepped. With
        ``at_close`` a plain order fills what is left at once as a market order at the close
        (the bar flattened to ``prices.close``): the venue's "cancel lost the race" fault.
        """
        start, self._now = len(self.events), ts
        item = self._item(order_id)
        if item is None:
            return []
        if at_close:
            if not isinstance(item.state, WorkingOrder) or item.ids != (order_id,):
                return []
            item.state = replace(
                item.state,
                order_type=OrderType.MARKET,
                limit_price=None,
                stop_price=None,
                trail_amount=None,
                trail_percent=None,
                trail_extreme=None,
                arrived=True,
            )
            close = prices.close
            prices = Prices(close, close, close, close, prices.volume)
        self._step(item, prices)
        return self.events[start:]

    def link(self, first: ClientOrderId, second: ClientOrderId, *, bracket: bool = False) -> bool:
        """Make two working plain orders one-cancels-other (orders sent one by one, then linked).

        ``bracket``: the pair is a bracket's exits, ``first`` its stop-loss (a stop order) and
        ``second`` its take-profit (a limit order), both on one side for one quantity: they work
        as one :class:`~quantstrata.execution.WorkingBracket`, so the fill model's bracket rule
        decides which exit a bar reaches first, as for a bracket submitted whole. Return whether
        they are linked: both must be working alone (and, for ``bracket``, have that shape).
        """
        alone = {
            w.order_id: w
            for w in self._working
            if w.ids == (w.order_id,) and w.partner is None and w.bracket is None
        }
        if first not in alone or second not in alone or first == second:
            return False
        one, other = alone[first], alone[second]
        if not bracket:
            one.partner, other.partner = second, first
            return True
        pair = exit_pair(one, other, self.orders[first].request, self.orders[second].request)
        if pair is None:
            return False
        self._working[self._working.index(one)] = pair  # in the stop-loss's place
        self._working.remove(other)
        return True

    def links(self) -> list[tuple[ClientOrderId, ClientOrderId, bool]]:
        """Return the linked working pairs: (first, second, whether a bracket's exits).

        What :meth:`link` takes back after :meth:`restore` of :meth:`working_entries`.
        """
        return linked_pairs(self._working)

    def is_working(self, order_id: ClientOrderId) -> bool:
        """Whether ``order_id`` is working (alone or in a group)."""
        return self._item(order_id) is not None

    def refuse(
        self,
        order_id: ClientOrderId,
        now: datetime,
        reason: str,
        request: OrderRequest | None = None,
    ) -> list[OrderEvent]:
        """Refuse ``request``, or without one a cancel of ``order_id``; return the events.

        A request is recorded as submitted and rejected at ``now`` (``reason`` its note); a
        cancel that came too late gets a cancel rejection.
        """
        start = len(self.events)
        if request is None:
            self._apply(CancelRejected(order_id, now, reason))
            return self.events[start:]
        self._now = now
        self._create(order_id, request, now, accept=False)
        self.notes[order_id] = reason
        self._apply(Rejected(order_id, now, reason))
        return self.events[start:]

    def set_volume_cap(self, cap: float | None) -> None:
        """Cap fills at ``cap`` of a bar's volume too (``None``: only the configured cap)."""
        configured = self.config.fill.volume_cap
        chosen = configured if cap is None else min(cap, configured or cap)
        if chosen == self._fill.volume_cap:
            return
        self._fill = FillConfig.build(**{**self.config.fill.model_dump(), "volume_cap": chosen})
        self._models = [self._fill_model(symbol) for symbol in self.symbols]

    def _fill_model(self, symbol: str) -> FillModel:
        config = self.config
        instrument = config.instruments.get(symbol)
        return FillModel(self._fill, config.commission, config.slippage, instrument=instrument)

    # -- bookkeeping ---------------------------------------------------------------------------

    def _column(self, symbol: str) -> int:
        try:
            return self._columns[symbol]
        except KeyError:
            listed = ", ".join(self.symbols) or "none"
            raise KeyError(f"unknown symbol {symbol!r}: this exchange lists {listed}") from None

    def _create(
        self, order_id: ClientOrderId, request: OrderRequest, ts: datetime, *, accept: bool = True
    ) -> None:
        submitted = Submitted(order_id, ts, request)
        order = Order.submit(submitted)
        self.orders[order_id] = order
        self._emit(order, submitted)
        if accept:
            self._apply(Accepted(order_id, ts, self.venue_ids(order_id)))

    def _apply(self, event: OrderEvent) -> Order:
        order = self.orders[event.order_id].apply(event)
        self.orders[event.order_id] = order
        self._emit(order, event)
        return order

    def _emit(self, order: Order, event: OrderEvent) -> None:
        self.events.append(event)
        if self.listener is not None:
            self.listener(order, event)

    def _open(self, order_id: ClientOrderId, request: OrderRequest) -> Working:
        self._create(order_id, request, self._now)
        column = self._columns[request.symbol]
        state = WorkingOrder.from_request(request)
        item = Working(order_id, column, state, self.expiry(request, self._now), ids=(order_id,))
        self._working.append(item)
        return item

    def _cancel_working(self, order_id: ClientOrderId, reason: str, *, requested: bool) -> None:
        """Cancel the working item holding ``order_id`` (every order of it)."""
        item = self._item(order_id)
        if item is not None:
            for member in item.ids:
                self._cancel_order(member, reason, requested=requested)
            self._working.remove(item)

    def _item(self, order_id: ClientOrderId) -> Working | None:
        """Return the working item holding ``order_id`` (``None``: it is not working)."""
        return next((item for item in self._working if order_id in item.ids), None)

    def _cancel_order(self, order_id: ClientOrderId, reason: str, *, requested: bool) -> None:
        """Cancel ``order_id`` unless it is already terminal."""
        if self.orders[order_id].is_terminal:
            return
        if requested:
            self._apply(CancelRequested(order_id, self._now))
        self._apply(Cancelled(order_id, self._now, reason))

    def _drop(self, item: Working, reason: str) -> None:
        self._working.remove(item)
        self._cancel_order(item.order_id, reason, requested=False)

    def _book(self, order_id: ClientOrderId, column: int, result: FillResult) -> None:
        """Record a fill of ``order_id``: position and cash, then the order."""
        order = self.orders[order_id]
        fill = Fill(
            order_id,
            self.trade_ids(order_id, len(order.trade_ids) + 1),
            self.symbols[column],
            result.side,
            result.quantity,
            result.price,
            result.commission,
            self._now,
            result.liquidity,
            order.venue_order_id,
        )
        self.fills.append(fill)
        self.account.book(column, fill)
        self._apply(FillEvent(fill))

    # -- matching ------------------------------------------------------------------------------

    def _step(self, item: Working, prices: Prices) -> None:
        if item.expires is not None and self._now >= item.expires:
            self._working.remove(item)
            self._apply(Expired(item.order_id, item.expires))  # it ended at the session close
            return
        if isinstance(item.state, WorkingBracket):
            self._step_bracket(item, item.state, prices)
            return
        order = self.orders[item.order_id]
        request, state = order.request, item.state
        held = float(self.account.quantities[item.symbol])
        room = allowed(request, state.quantity, held, allow_short=self.config.allow_short)
        if room <= EPSILON * state.quantity:
            self._drop(item, "nothing to reduce or no shorting")
            return
        item.capped = room < state.quantity
        if item.capped:
            state = replace(state, quantity=room)
        step = self._models[item.symbol].step(state, prices)
        if step.fill is not None and not request.reduce_only and item.order_id not in self._sized:
            capped = self._cap_leverage(item, state, step, prices)
            if capped is None:
                self._drop(item, item.reason)
                return
            step = capped
        if request.time_in_force is TimeInForce.FOK and (
            step.fill is None or step.order is not None or item.capped
        ):
            self._drop(item, _NOT_ENTIRELY)
            return
        self._after_step(item, order, state, step)

    def _after_step(
        self, item: Working, order: Order, state: WorkingOrder, step: OrderStep
    ) -> None:
        item.state = step.order if step.order is not None else state
        if step.fill is not None:
            self._book(item.order_id, item.symbol, step.fill)
            if item.partner is not None:
                self._cancel_working(
                    item.partner, "the other order of the group filled", requested=True
                )
        immediate = order.request.time_in_force is TimeInForce.IOC
        if step.order is None and not item.capped:
            self._working.remove(item)
        elif item.capped or immediate:
            self._drop(item, item.reason)
        self._after_entry(item)

    def _cap_leverage(
        self, item: Working, state: WorkingOrder, step: OrderStep, prices: Prices
    ) -> OrderStep | None:
        """Return ``step`` with its fill cut to the leverage cap (``None``: nothing allowed)."""
        fill = step.fill
        if fill is None:
            return step
        account, leverage = self.account, self.config.max_leverage
        cash, marks, balances = account.cash, account.marks, account.balances
        if balances.multiple:  # valued in the base currency at the latest rates
            rates = balances.column_rates()
            cash, marks = balances.in_base(cash), marks * rates
            fill = replace(fill, price=fill.price * float(rates[item.symbol]))
        room = leverage_allowed(
            fill, item.symbol, cash, account.quantities, marks, leverage,
            self._lots[item.symbol], self._terms,
        )  # fmt: skip
        if room is None:
            return step
        if room <= EPSILON * fill.quantity:
            item.reason = no_leverage_room(leverage)
            self.notes[item.order_id] = item.reason
            return None
        side = float(fill.side)
        note = leverage_note(side * fill.quantity, side * room)
        self.notes[item.order_id] = note
        item.capped, item.reason = True, note
        return self._models[item.symbol].step(replace(state, quantity=room), prices)

    def _after_entry(self, item: Working) -> None:
        """Once a bracket's entry is done with a fill, start its exits for what it filled."""
        order = self.orders[item.order_id]
        if item.bracket is None or not order.is_terminal or order.filled_quantity <= 0.0:
            return
        bracket, item.bracket = item.bracket, None
        requests, state = bracket_exits(bracket, order.filled_quantity)
        legs: list[ClientOrderId | None] = []
        for request in requests:
            if request is None:
                legs.append(None)
                continue
            leg_id = self.new_order_id()
            self._create(leg_id, request, self._now)
            legs.append(leg_id)
        ids = tuple(leg for leg in legs if leg is not None)
        expires = self.expiry(bracket.entry, self._now)
        self._working.append(
            Working(ids[0], item.symbol, state, expires, legs=(legs[0], legs[1]), ids=ids)
        )

    def _step_bracket(self, item: Working, state: WorkingBracket, prices: Prices) -> None:
        # Bracket exits are reduce-only: never beyond the position held now.
        request = self.orders[item.ids[0]].request
        held = float(self.account.quantities[item.symbol])
        room = allowed(request, state.quantity, held, allow_short=self.config.allow_short)
        if room <= EPSILON * state.quantity:
            self._cancel_working(item.ids[0], "nothing to reduce", requested=False)
            return
        if room < state.quantity:
            state = replace(state, quantity=room)
        step = self._models[item.symbol].step_bracket(state, prices)
        if step.bracket is not None:
            item.state = step.bracket
            return
        stop_id, take_id = item.legs
        filled_id, other_id = (stop_id, take_id) if step.leg == 1 else (take_id, stop_id)
        self._working.remove(item)
        if other_id is not None:
            self._cancel_order(other_id, "the other exit of the bracket filled", requested=True)
        if filled_id is None:
            return
        if step.fill is not None:
            self._book(filled_id, item.symbol, step.fill)
        if step.order is not None:
            self._working.append(
                Working(filled_id, item.symbol, step.order, item.expires, ids=(filled_id,))
            )
