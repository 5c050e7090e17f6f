"""The order manager: journal first, then act; state is the fold of the journal.

:class:`OrderManager` turns order requests into orders at one broker. Every change goes the
same way: build the entry, append it to the journal (durable before anything else happens),
fold it into :class:`~quantstrata.live.state.LiveState`, then act (call the broker). So:

- a request first passes the risk engine; a :class:`~quantstrata.execution.risk.RiskViolation`
  is journaled as a :class:`~quantstrata.live.journal.RiskRejection` and nothing reaches the
  broker;
- client order ids are ``<run_id>-<n>``, ``n`` counting up inside blocks of
  :data:`ORDER_ID_BLOCK` numbers reserved by a flushed :data:`ORDER_IDS` checkpoint before the
  first is used; a restart continues after the last reserved block, so an id is never handed
  out twice, even when a power loss took the journal's unflushed tail;
- ``Submitted`` is journaled before ``broker.submit``; a submit that times out
  (:class:`~quantstrata.live.broker.SubmitOutcomeUnknownError`) makes the order ``UNKNOWN``
  (``TimedOut``) and a query by client order id resolves it (``Resolved``); it is never sent
  again blindly: only :meth:`OrderManager.place`, for an order whose decision still stands,
  sends it again under the same client order id, after the venue said it never received it;
- venue updates go through the order transition table: duplicates and late messages are
  ignored (and not journaled), fills are de-duplicated by trade id, out-of-order updates are
  accepted; an update the table forbids is journaled as an :class:`~quantstrata.live.journal.Alarm`
  and halts the symbol;
- a cancel for an order the venue has not acknowledged is journaled as a
  :class:`~quantstrata.live.journal.CancelIntent` and sent once the acknowledgement arrives;
- :meth:`OrderManager.start` replays the journal and resolves every non-terminal order with the
  venue (orders caught ``SENDING`` by a crash are timed out, then resolved; an order the broker
  held unsent, see :class:`~quantstrata.live.broker.HoldsOrders`, is handed back to it).

Journal calls are synchronous on purpose: between an append and the state change there is no
``await``, so concurrent tasks (the update consumer, the strategy's submits) never see a state
that differs from the journal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from quantstrata.core.clock import Clock
from quantstrata.core.errors import ConfigError
from quantstrata.core.logging import get_logger
from quantstrata.exchange import LIQUIDATION_TAG
from quantstrata.execution.risk import (
    RiskAccount,
    RiskEngine,
    RiskViolation,
    TradingState,
    risk_day,
)
from quantstrata.live._notebook import order_book_html, plot_order_book
from quantstrata.live.broker import (
    Broker,
    BrokerUnavailableError,
    HoldsOrders,
    OrderRejectedError,
    SubmitOutcomeUnknownError,
    VenueOrder,
)
from quantstrata.live.journal import (
    Alarm,
    CancelIntent,
    CashSet,
    Checkpoint,
    Journal,
    JournalEntry,
    JournalRecord,
    RiskRejection,
    TradingStateChange,
)
from quantstrata.live.journal.entries import CheckpointValue
from quantstrata.live.state import ACKNOWLEDGED, LiveState
from quantstrata.model.identifiers import ClientOrderId, Symbol
from quantstrata.model.orders import (
    Accepted,
    Cancelled,
    CancelRejected,
    CancelRequested,
    EventOutcome,
    Expired,
    Fill,
    FillEvent,
    InvalidOrderError,
    Order,
    OrderEvent,
    OrderRequest,
    OrderStateError,
    OrderStatus,
    Rejected,
    Resolved,
    Submitted,
    TimedOut,
)
from quantstrata.model.position import Position

__all__ = ["DAY_START", "MAX_RUN_ID_LENGTH", "ORDER_IDS", "ORDER_ID_BLOCK", "OrderManager"]

MAX_RUN_ID_LENGTH = 24
"""Longest run id: ``<run_id>-<n>`` must fit a client order id (36 characters)."""

DAY_START = "day_start"
"""Checkpoint label holding the equity at the first risk check of a UTC day."""

ORDER_IDS = "order_ids"
"""Checkpoint label reserving client order numbers up to its ``up_to`` (flushed on append)."""

ORDER_ID_BLOCK = 1000
"""How many client order numbers one :data:`ORDER_IDS` checkpoint reserves."""


class OrderManager:
    """Send orders to ``broker``, journaling every intent and event in ``journal`` first.

    ``run_id`` prefixes client order ids (1 to 24 characters of ``[A-Za-z0-9_-]``); reuse it
    with the same journal to continue a run. ``risk`` is the pre-trade risk engine (no checks
    when ``None``); ``clock`` stamps every entry. Callables in :attr:`fill_listeners` hear of
    every fill as it is booked (the dashboard shows them as they happen).
    """

    def __init__(
        self,
        broker: Broker,
        journal: Journal,
        *,
        run_id: str,
        clock: Clock,
        risk: RiskEngine | None = None,
        logger: logging.Logger | None = None,
        multipliers: Mapping[str, float] | None = None,
    ) -> None:
        """Keep the collaborators and rebuild the state from the journal (no broker calls).

        ``multipliers``: contract multipliers of symbols with one (fills move cash by
        quantity × price × multiplier).
        """
        if not isinstance(run_id, str) or not 0 < len(run_id) <= MAX_RUN_ID_LENGTH:
            raise ConfigError(f"run_id must be 1 to {MAX_RUN_ID_LENGTH} characters, got {run_id!r}")
        try:
            ClientOrderId(f"{run_id}-1")
        except ConfigError as error:
            raise ConfigError(
                f"run_id {run_id!r} is not usable in client order ids: {error}"
            ) from None
        self.broker = broker
        self.journal = journal
        self.run_id = run_id
        self.clock = clock
        self.risk = risk
        self.log = logger if logger is not None else get_logger("quantstrata.live.orders")
        self.state = LiveState.fold(journal.replay(), multipliers)
        self._issued = self._reserved = max(self._highest_number(), self._reservation())
        self.booked_fills: list[Fill] = []
        self.changed_orders: list[ClientOrderId] = []
        self.fill_listeners: list[Callable[[Fill], None]] = []
        self._push_trading_states()

    def __repr__(self) -> str:
        """Show the run, the broker and the size of the state."""
        return (
            f"OrderManager(run_id={self.run_id!r}, broker={self.broker.name!r}, "
            f"orders={len(self.state.orders)}, last_sequence={self.state.last_sequence})"
        )

    def _repr_html_(self) -> str:
        """Show the order book in a notebook: cash, open orders and positions."""
        return order_book_html(self.state, f"OrderManager {self.run_id} on {self.broker.name}")

    def plot(self) -> Any:
        """Return a Plotly bar chart of each symbol's position and its open orders' quantity."""
        return plot_order_book(self.state)

    # ------------------------------------------------------------------ reading the state

    @property
    def orders(self) -> Mapping[ClientOrderId, Order]:
        """Every order by client order id."""
        return self.state.orders

    @property
    def positions(self) -> Mapping[Symbol, Position]:
        """Positions built from the fills booked."""
        return self.state.positions

    def order(self, order_id: str) -> Order:
        """Return the order ``order_id``; raise :class:`OrderStateError` when unknown."""
        order = self.state.orders.get(ClientOrderId(order_id))
        if order is None:
            raise OrderStateError(f"no order {order_id!r} in this run")
        return order

    # ------------------------------------------------------------------ journal first

    def record(self, entry: JournalEntry) -> JournalRecord:
        """Append ``entry`` to the journal, then fold it into the state; return the record.

        Fills booked and orders changed are also queued in :attr:`booked_fills` and
        :attr:`changed_orders` for the runtime to report to the strategy (it empties them).
        """
        record = self.journal.append(entry)
        booked = self.state.apply(record)
        self.booked_fills.extend(booked)
        changed = getattr(entry, "order_id", None)
        if changed is not None and changed in self.state.orders:
            self.changed_orders.append(changed)
        for fill in booked:
            for listener in self.fill_listeners:
                listener(fill)
            self.log.info(
                "booked fill %s: %s %s %s @ %s",
                fill.trade_id,
                fill.side.name,
                fill.quantity,
                fill.symbol,
                fill.price,
            )
        return record

    def alarm(
        self, kind: str, message: str, *, order_id: str | None = None, symbol: str | None = None
    ) -> None:
        """Journal an alarm and log it as an error."""
        self.record(
            Alarm(
                self.clock.now(),
                kind,
                message,
                None if order_id is None else ClientOrderId(order_id),
                None if symbol is None else Symbol(symbol),
            )
        )
        self.log.error("alarm %s: %s", kind, message)

    def set_trading_state(self, symbol: str | None, state: TradingState, reason: str) -> None:
        """Journal and apply a trading state for ``symbol`` (global when ``None``)."""
        target = None if symbol is None else Symbol(symbol)
        if self.state.trading.get(target) is TradingState(state):
            return
        self.record(TradingStateChange(self.clock.now(), target, TradingState(state), reason))
        if self.risk is not None:
            self.risk.set_trading_state(symbol, state)
        self.log.warning("trading in %s is now %s: %s", symbol or "all symbols", state, reason)

    def kill(self, reason: str) -> None:
        """Pull the kill switch: halt all trading (journaled)."""
        self.set_trading_state(None, TradingState.HALTED, reason)

    def set_cash(self, cash: float, reason: str) -> None:
        """Journal the account's cash (at start-up from the venue, or after a transfer)."""
        self.record(CashSet(self.clock.now(), cash, reason))

    def checkpoint(self, label: str, **data: CheckpointValue) -> None:
        """Journal a checkpoint named ``label`` with flat ``data``."""
        self.record(Checkpoint(self.clock.now(), label, data))

    # ------------------------------------------------------------------ orders

    async def submit(
        self,
        request: OrderRequest,
        *,
        last_price: float | None = None,
        marks: Mapping[str, float] | None = None,
        order_id: ClientOrderId | None = None,
    ) -> Order:
        """Risk-check ``request``, journal it, send it; return the order as it then stands.

        ``last_price`` is the latest price of the request's symbol (risk valuation and price
        band); ``marks`` the latest prices of other symbols. Raise
        :class:`~quantstrata.execution.risk.RiskViolation` (journaled) when the checks fail.
        """
        if not isinstance(request, OrderRequest):
            raise InvalidOrderError(
                f"submit takes an OrderRequest, got {request!r}", field="request", value=request
            )
        now = self.clock.now()
        if self.risk is not None:
            account = self.risk_account(
                {**(marks or {}), **({} if last_price is None else {request.symbol: last_price})},
                now,
            )
            try:
                self.risk.check(request, account, last_price, now)
            except RiskViolation as violation:
                self.record(RiskRejection(now, request, violation.failures))
                self.log.warning("%s", violation)
                raise
        order_id = self.new_order_id() if order_id is None else order_id
        if order_id in self.state.orders:
            raise OrderStateError(f"client order id {order_id} was already submitted")
        self.record(Submitted(order_id, now, request))
        await self._send_order(order_id, request)
        return self.state.orders[order_id]

    async def _send_order(self, order_id: ClientOrderId, request: OrderRequest) -> None:
        """Send a journaled order and apply the answer (no answer: unknown, then resolved)."""
        try:
            venue_id = await self.broker.submit(order_id, request)
        except OrderRejectedError as error:
            await self.apply_update(Rejected(order_id, self.clock.now(), error.reason or "-"))
        except (SubmitOutcomeUnknownError, BrokerUnavailableError) as error:
            await self.apply_update(
                TimedOut(order_id, self.clock.now(), f"{type(error).__name__}: {error}")
            )
            await self.resolve(order_id)
        else:
            await self.apply_update(Accepted(order_id, self.clock.now(), venue_id))

    async def place(self, order_id: str) -> Order:
        """Make sure an order in doubt (``UNKNOWN``) reaches the venue; return it as it then stands.

        For an order just decided, whose submit got no answer because the venue could not be
        reached: the venue is asked first; an order it holds is settled from its record, one it
        never received is sent again under the same client order id (a venue holds at most one
        order per client order id, so it cannot be placed twice). A venue still out of reach
        leaves the order ``UNKNOWN``. An order whose decision no longer stands (a restart, a
        late bar) is :meth:`resolve`-d instead: there, "not found" means rejected.
        """
        order = self.order(order_id)
        if order.status is not OrderStatus.UNKNOWN:
            return order
        answer = await self._ask_venue(order, "place")
        if answer is None:
            return order
        venue, fills = answer
        if venue is not None:
            await self.settle(venue, fills)
        else:
            self.log.warning("order %s never reached the venue: sending it again", order.order_id)
            await self._send_order(order.order_id, order.request)
        return self.state.orders[order.order_id]

    def new_order_id(self) -> ClientOrderId:
        """Return a client order id no order of this run ever had (stable across restarts).

        Numbers count up inside a reserved block; when the block is used up, the next one is
        reserved (one flushed journal entry per :data:`ORDER_ID_BLOCK` ids). A process that
        starts again skips what is left of the last block: a number handed out before a crash
        may have reached the venue even if the journal lost its ``Submitted``.
        """
        if self._issued >= self._reserved:
            self.checkpoint(ORDER_IDS, up_to=self._reserved + ORDER_ID_BLOCK)
            self._reserved += ORDER_ID_BLOCK
        self._issued += 1
        return ClientOrderId(f"{self.run_id}-{self._issued}")

    def issued(self, order_id: str) -> bool:
        """Whether ``order_id`` has the form of this run's ids and a number already handed out.

        Such an id missing from the journal belongs to an order sent before a power loss took
        the journal's unflushed tail (reconciliation adopts it).
        """
        number = self._number(order_id)
        return number is not None and number <= self._reserved

    def _reservation(self) -> int:
        reserved = self.state.checkpoints.get(ORDER_IDS)
        return 0 if reserved is None else int(reserved.data.get("up_to") or 0)

    def _highest_number(self) -> int:
        numbers = (self._number(order_id) for order_id in self.state.orders)
        return max((number for number in numbers if number is not None), default=0)

    def _number(self, order_id: str) -> int | None:
        """Return ``n`` of an id of this run's form ``<run_id>-<n>``, else ``None``."""
        prefix = f"{self.run_id}-"
        rest = order_id[len(prefix) :]
        return int(rest) if order_id.startswith(prefix) and rest.isdigit() else None

    async def cancel(self, order_id: str) -> Order:
        """Cancel ``order_id``: now if the venue acknowledged it, else once it does."""
        order = self.order(order_id)
        if order.is_terminal or order.status is OrderStatus.PENDING_CANCEL:
            return order
        if order.status in ACKNOWLEDGED:
            await self._send_cancel(order.order_id)
        elif order.order_id not in self.state.deferred_cancels:
            self.record(CancelIntent(order.order_id, self.clock.now()))
        return self.state.orders[order.order_id]

    async def _send_cancel(self, order_id: ClientOrderId) -> None:
        if self.state.orders[order_id].status is not OrderStatus.PENDING_CANCEL:
            self.record(CancelRequested(order_id, self.clock.now()))
        try:
            await self.broker.cancel(order_id)
        except OrderRejectedError as error:
            await self.apply_update(CancelRejected(order_id, self.clock.now(), error.reason or "-"))
        except BrokerUnavailableError as error:
            self.log.warning("cancel of %s not confirmed (%s); retried on resolve", order_id, error)

    async def apply_update(self, event: OrderEvent) -> EventOutcome | None:
        """Apply a venue update (or our own event): journal it if it changes the order.

        Return the outcome, or ``None`` when the event was refused (unknown order, or a
        transition the table forbids: journaled as an alarm, and the symbol halted).
        """
        order = self.state.orders.get(event.order_id)
        if order is None and _brokers_own(event):
            self.record(event)  # the broker's own order: a margin call's liquidation
            self.log.warning("margin call: the broker liquidates with %r", event)
            return EventOutcome.APPLIED
        if order is None:
            self.alarm("unknown_order", f"venue update for unknown order: {event!r}", order_id=None)
            return None
        try:
            update = order.apply_with_outcome(event)
        except (OrderStateError, InvalidOrderError) as error:
            self.alarm("illegal_update", str(error), order_id=order.order_id, symbol=order.symbol)
            self.set_trading_state(order.symbol, TradingState.HALTED, f"illegal update: {error}")
            return None
        if update.outcome is EventOutcome.APPLIED:
            self.record(event)
            await self._after_event(order.order_id)
        else:
            self.log.debug("%s update for %s: %r", update.outcome, order.order_id, event)
        return update.outcome

    async def _after_event(self, order_id: ClientOrderId) -> None:
        order = self.state.orders[order_id]
        if order_id in self.state.deferred_cancels and order.status in ACKNOWLEDGED:
            await self._send_cancel(order_id)

    async def consume_updates(self) -> None:
        """Apply every update the broker pushes, until its stream ends."""
        async for event in self.broker.updates():
            await self.apply_update(event)

    # ------------------------------------------------------------------ resolution

    async def start(self) -> None:
        """Bring the replayed state up to date with the venue: resolve every open order."""
        for order in list(self.state.open_orders()):
            if order.status is OrderStatus.SENDING:
                await self.apply_update(
                    TimedOut(order.order_id, self.clock.now(), "restarted while sending")
                )
        await self.resolve_open()

    async def resolve_open(self) -> None:
        """Query the venue about every non-terminal order and apply what it says."""
        for order in list(self.state.open_orders()):
            await self.resolve(order.order_id)

    async def resolve(self, order_id: str) -> Order:
        """Ask the venue about ``order_id`` and apply its answer; a failed query changes nothing."""
        order = self.order(order_id)
        held = self._held_by_broker(order)
        answer = await self._ask_venue(order, "resolve")
        if answer is None:
            return order
        venue, fills = answer
        now = self.clock.now()
        if venue is None and held:
            await self._hold_again(order)
            return self.state.orders[order.order_id]
        if venue is None:
            if order.status in (OrderStatus.UNKNOWN, OrderStatus.SENDING):
                if order.status is OrderStatus.SENDING:
                    await self.apply_update(TimedOut(order.order_id, now, "no answer"))
                await self.apply_update(Resolved.not_found(order.order_id, now))
            elif not order.is_terminal:
                self.alarm(
                    "missing_at_venue",
                    f"order {order.order_id} is {order.status} here, unknown at the venue",
                    order_id=order.order_id,
                    symbol=order.symbol,
                )
            return self.state.orders[order.order_id]
        await self.settle(venue, fills)
        return self.state.orders[order.order_id]

    def _held_by_broker(self, order: Order) -> bool:
        """Whether ``order`` was accepted held by the broker; if so, tell the broker so."""
        broker = self.broker
        if not isinstance(broker, HoldsOrders) or order.venue_order_id is None:
            return False
        if order.status not in (OrderStatus.PENDING, OrderStatus.PENDING_CANCEL):
            return False
        if not broker.held_locally(order.venue_order_id):
            return False
        broker.keep_held_id(order.order_id)
        return True

    async def _hold_again(self, order: Order) -> None:
        """Give an order held before a restart back to the broker, as the backtest fills it.

        The order was decided and accepted; the backtest fills it at the next open. So it is
        submitted again under its client order id: the broker holds it again (still closed) or
        sends it (the venue keeps one order per client order id, so it cannot be placed twice).
        One whose cancel was asked is cancelled: it never reached the venue.
        """
        now = self.clock.now()
        if order.status is OrderStatus.PENDING_CANCEL:
            await self.apply_update(Cancelled(order.order_id, now, "cancelled before it was sent"))
            return
        self.log.info("order %s was held, unsent, before the restart: held again", order.order_id)
        try:
            await self.broker.submit(order.order_id, order.request)
        except OrderRejectedError as error:
            await self.apply_update(Rejected(order.order_id, now, error.reason or "-"))
        except (SubmitOutcomeUnknownError, BrokerUnavailableError) as error:
            # still PENDING: the next resolve asks the venue by client order id again
            self.log.warning("held order %s not handed back now: %s", order.order_id, error)

    async def settle(self, venue: VenueOrder, fills: Sequence[Fill]) -> None:
        """Apply the venue's record of an order we hold, and its fills, to our order."""
        order = self.state.orders[venue.order_id]
        now = self.clock.now()
        if order.status is OrderStatus.SENDING:
            await self.apply_update(TimedOut(order.order_id, now, "no answer"))
            order = self.state.orders[venue.order_id]
        if order.status is OrderStatus.UNKNOWN:
            try:
                resolution = Resolved(
                    order.order_id, now, venue.status, venue.venue_order_id, tuple(fills)
                )
                order.apply(resolution)
            except (OrderStateError, InvalidOrderError):
                # The venue's fills disagree with its status (it lags), or it reported a status it
                # cannot hold: acknowledge, then book the fills and settle the status one by one.
                resolution = Resolved(
                    order.order_id, now, OrderStatus.PENDING, venue.venue_order_id
                )
            else:
                await self.apply_update(resolution)
                return
            await self.apply_update(resolution)
        elif order.venue_order_id is None:
            await self.apply_update(Accepted(order.order_id, now, venue.venue_order_id))
        for fill in fills:
            await self.apply_update(FillEvent(fill))
        await self._settle_status(venue)

    async def _settle_status(self, venue: VenueOrder) -> None:
        order = self.state.orders[venue.order_id]
        now = self.clock.now()
        found = "at venue (found by query)"
        if venue.status is OrderStatus.CANCELLED:
            await self.apply_update(Cancelled(order.order_id, now, f"cancelled {found}"))
        elif venue.status is OrderStatus.EXPIRED:
            await self.apply_update(Expired(order.order_id, now))
        elif venue.status is OrderStatus.REJECTED:
            await self.apply_update(Rejected(order.order_id, now, f"rejected {found}"))
        elif (
            order.status is OrderStatus.PENDING_CANCEL
            and not venue.status.is_terminal
            and venue.status is not OrderStatus.PENDING_CANCEL
        ):
            await self._send_cancel(order.order_id)

    async def _ask_venue(
        self, order: Order, verb: str
    ) -> tuple[VenueOrder | None, list[Fill]] | None:
        """Return the venue's record of ``order`` and its fills (``None``: venue out of reach)."""
        try:
            venue = await self.broker.query_order(order.order_id)
            if venue is None:
                return None, []
            return venue, [f for f in await self.broker.fills() if f.order_id == order.order_id]
        except BrokerUnavailableError as error:
            self.log.warning("cannot %s %s now: %s", verb, order.order_id, error)
            return None

    async def adopt(self, venue: VenueOrder, fills: Sequence[Fill]) -> Order:
        """Take over an order the venue holds and we never sent (journaled, and alarmed).

        It is journaled as submitted, unknown, then resolved by the venue's record, so the
        same transition table builds it; its fills are booked.
        """
        now = self.clock.now()
        whose = (
            "is this run's but missing from the journal (its tail was lost)"
            if self.issued(venue.order_id)
            else "was not ours"
        )
        self.alarm(
            "adopted_order",
            f"venue order {venue.venue_order_id} ({venue.order_id}) {whose}; adopted",
            order_id=venue.order_id,
            symbol=venue.symbol,
        )
        self.record(Submitted(venue.order_id, now, venue.request))
        await self.apply_update(TimedOut(venue.order_id, now, "adopted from the venue"))
        await self.settle(venue, fills)
        return self.state.orders[venue.order_id]

    # ------------------------------------------------------------------ risk inputs

    def risk_account(self, marks: Mapping[str, float], now: datetime) -> RiskAccount:
        """Return the account as the risk checks see it, valuing positions at ``marks``.

        The day's loss is measured from the equity journaled at the first check of the UTC
        day (checkpoint :data:`DAY_START`), which this call writes when the day is new.
        """
        held = [(str(s), p) for s, p in self.state.positions.items() if not p.is_flat]
        positions = {symbol: position.quantity for symbol, position in held}
        prices = {s: float(marks.get(s, position.average_price)) for s, position in held}
        equity = self.state.equity(marks)
        today = risk_day(now)
        start = self.state.checkpoints.get(DAY_START)
        if start is None or start.data.get("date") != today:
            self.record(Checkpoint(now, DAY_START, {"date": today, "equity": equity}))
            start = self.state.checkpoints[DAY_START]
        start_equity = start.data.get("equity")
        daily = equity - float(start_equity) if isinstance(start_equity, int | float) else 0.0
        return RiskAccount(self.state.cash, positions, {**prices, **marks}, daily)

    def _push_trading_states(self) -> None:
        if self.risk is None:
            return
        for symbol, state in self.state.trading.items():
            self.risk.set_trading_state(symbol, state)


def _brokers_own(event: OrderEvent) -> bool:
    """Whether ``event`` announces an order the broker placed itself (a margin liquidation)."""
    return isinstance(event, Submitted) and event.request.tag == LIQUIDATION_TAG
