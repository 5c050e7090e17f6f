"""The event loop's account and order desk: cash, positions, orders and the working-order book.

Orders change only through :meth:`~quantstrata.model.orders.Order.apply`; a position's quantity
follows the rule of :meth:`~quantstrata.model.position.Position.apply` (:func:`position_after`).
The ledger keeps order and fill *rows*: a target order that fills completely, for a strategy
without ``on_order``/``on_fill`` callbacks, is written straight to rows with the same values the
order objects would give (see ``EventBook``), since no one could observe the objects. A working
order is stepped through
the shared :class:`~quantstrata.execution.FillModel` on each bar of its symbol, after three
checks the engine applies to every order a strategy submits:

- **DAY orders** expire at the first session close after the close of the bar that decided
  them (:mod:`quantstrata.backtest._sessions`): an order decided on an intraday bar works until
  that day's close, one decided on a daily close works through the next session; a bar
  opening at or after that close no longer sees it.
- **Reduce-only and no-short limits**: the part of an order that would open or flip a position
  when it may not is cut (nothing left: cancelled, "nothing to reduce or no shorting").
- **max_leverage**: a fill that would take gross exposure (Σ |position × mark|, this symbol
  marked at the fill price, the others at their latest marks) above ``max_leverage × equity``
  is reduced to what the cap allows (rounded toward zero to whole lots when trading whole
  lots) and the order's rest is cancelled; the order's ``tag`` in the results notes "leverage
  cap reduced <asked> to <allowed>", as for target orders. When nothing is allowed the order is
  cancelled with the reason "leverage cap: no room at max_leverage <x>". Reductions toward flat
  are never capped, and a position already beyond the cap is kept, not forced down.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from quantstrata.backtest import _nb
from quantstrata.backtest._sessions import NEVER, SessionCloses
from quantstrata.backtest.config import BacktestConfig
from quantstrata.core.clock import ns_from_datetime
from quantstrata.execution import FillModel, FillResult, OrderStep, WorkingBracket, WorkingOrder
from quantstrata.model.identifiers import ClientOrderId, Symbol, TradeId, VenueOrderId
from quantstrata.model.orders import (
    Accepted,
    Bracket,
    Cancelled,
    CancelRequested,
    Expired,
    Fill,
    FillEvent,
    OneCancelsOther,
    Order,
    OrderEvent,
    OrderRequest,
    OrderSide,
    Submitted,
    TimeInForce,
)
from quantstrata.model.position import POSITION_TOLERANCE

if TYPE_CHECKING:
    from collections.abc import Callable

    from quantstrata.backtest._align import AlignedBars
    from quantstrata.strategy.context import StrategyContext

__all__ = ["EPSILON", "OrderDesk", "Prices", "fill_row", "order_row", "position_after"]

EPSILON = 1e-12


class Prices(NamedTuple):
    """One bar's prices and volume as the fill model reads them (already validated)."""

    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(slots=True)
class _Working:
    """A working order (or a bracket's exit pair) and what links it to other orders."""

    order_id: ClientOrderId
    symbol: int
    state: WorkingOrder | WorkingBracket
    expires: int
    partner: ClientOrderId | None = None
    bracket: Bracket | None = None
    legs: tuple[ClientOrderId | None, ClientOrderId | None] = (None, None)
    capped: bool = False
    reason: str = "rest cancelled"
    ids: tuple[ClientOrderId, ...] = field(default=())


class OrderDesk(ABC):
    """Cash, positions, orders and the working-order book of one event-loop run."""

    bar: int
    context: StrategyContext

    def __init__(self, aligned: AlignedBars, config: BacktestConfig) -> None:
        """Start flat with the configured cash."""
        self.aligned = aligned
        self.config = config
        self.symbols = tuple(Symbol(symbol) for symbol in aligned.symbols)
        count = len(self.symbols)
        self.account = np.full(1 + count, np.nan)
        self.account[0] = config.cash
        self.quantities = np.zeros(count)
        self.marks = np.full(count, np.nan)
        self.orders: dict[str, Order] = {}
        self.order_rows: dict[str, tuple[object, ...] | None] = {}
        self.notes: dict[str, str] = {}
        self.working: list[_Working] = []
        self.fill_rows: list[tuple[object, ...]] = []
        self.changed = False
        self.on_order: Callable[[Order, StrategyContext], None] | None = None
        self.on_fill: Callable[[Fill, StrategyContext], None] | None = None
        self._models = [
            FillModel(
                config.fill,
                config.commission,
                config.slippage,
                instrument=config.instruments.get(symbol),
            )
            for symbol in aligned.symbols
        ]
        self._sessions = SessionCloses(config, aligned.symbols, aligned.times)
        self.sized_at_decision: set[ClientOrderId] = set()
        """Target orders capped when sized (``size_at="decision"``), as live sends them."""
        steps = np.diff(aligned.times)
        self._bar_length = int(steps[steps > 0].min()) if (steps > 0).any() else 0
        self._next_id = 0

    @property
    def cash(self) -> float:
        """Cash after every fill so far (``account[0]``; ``account[1:]`` holds the targets)."""
        return float(self.account[0])

    @cash.setter
    def cash(self, value: float) -> None:
        self.account[0] = value

    @property
    @abstractmethod
    def now(self) -> datetime:
        """The current bar time (defined by the loop)."""

    @abstractmethod
    def symbol_index(self, symbol: str) -> int:
        """Return the column of ``symbol`` (defined by the loop)."""

    def new_order_id(self) -> ClientOrderId:
        """Return the next client order id."""
        self._next_id += 1
        return ClientOrderId(f"E{self._next_id}")

    def prices(self, column: int) -> Prices:
        """Return the current bar's prices of symbol ``column``."""
        bar, aligned = self.bar, self.aligned
        return Prices(
            float(aligned.open[bar, column]),
            float(aligned.high[bar, column]),
            float(aligned.low[bar, column]),
            float(aligned.close[bar, column]),
            float(aligned.volume[bar, column]),
        )

    # -- opening and closing orders ------------------------------------------------------------

    def submit(
        self, order_id: ClientOrderId, request: OrderRequest | Bracket | OneCancelsOther
    ) -> None:
        """Open ``request`` (or each order of a group) as working order(s) from now on."""
        if isinstance(request, OneCancelsOther):
            second_id = self.new_order_id()
            first = self._open(order_id, request.first)
            second = self._open(second_id, request.second)
            first.partner, second.partner = second_id, order_id
            return
        if isinstance(request, Bracket):
            self._open(order_id, request.entry).bracket = request
            return
        self._open(order_id, request)

    def _open(self, order_id: ClientOrderId, request: OrderRequest) -> _Working:
        self.create(order_id, request, self.now)
        state = WorkingOrder.from_request(request)
        column = self.symbol_index(request.symbol)
        item = _Working(order_id, column, state, self._expiry(request, column), ids=(order_id,))
        self.working.append(item)
        return item

    def _expiry(self, request: OrderRequest, column: int) -> int:
        if request.time_in_force is not TimeInForce.DAY:
            return int(NEVER)
        decided = int(self.aligned.times[max(self.bar, 0)]) + self._bar_length
        return self._sessions.expiry(column, decided)

    def create(self, order_id: ClientOrderId, request: OrderRequest, ts: datetime) -> None:
        """Record ``request`` as submitted and accepted at ``ts``."""
        self.orders[order_id] = Order.submit(Submitted(order_id, ts, request))
        self.order_rows[order_id] = None
        self.apply(Accepted(order_id, ts, VenueOrderId(order_id)))

    def apply(self, event: OrderEvent) -> Order:
        """Apply ``event`` to its order and tell the strategy."""
        order = self.orders[event.order_id].apply(event)
        self.orders[event.order_id] = order
        if self.on_order is not None:
            self.on_order(order, self.context)
        return order

    def cancel_by_id(self, order_id: ClientOrderId, reason: str, *, requested: bool) -> None:
        """Cancel the working item holding ``order_id`` (every order of it)."""
        for item in self.working:
            if order_id in item.ids:
                for member in item.ids:
                    self.cancel_order(member, reason, requested=requested)
                self.working.remove(item)
                return

    def cancel_order(self, order_id: ClientOrderId, reason: str, *, requested: bool) -> None:
        """Cancel ``order_id`` unless it is already terminal."""
        if self.orders[order_id].is_terminal:
            return
        if requested:
            self.apply(CancelRequested(order_id, self.now))
        self.apply(Cancelled(order_id, self.now, reason))

    # -- matching ------------------------------------------------------------------------------

    def step_symbol(self, column: int) -> None:
        """Step the working orders of symbol ``column`` (oldest first) on the current bar."""
        prices: Prices | None = None
        for item in [w for w in self.working if w.symbol == column]:
            if item in self.working:
                prices = prices if prices is not None else self.prices(column)
                self._step(item, prices)

    def _step(self, item: _Working, prices: Prices) -> None:
        if int(self.aligned.times[self.bar]) >= item.expires:
            self.working.remove(item)
            self.apply(Expired(item.order_id, self.now))
            return
        if isinstance(item.state, WorkingBracket):
            self._step_bracket(item, item.state, prices)
            return
        order = self.orders[item.order_id]
        state = item.state
        allowed = self._allowed(order.request, state.quantity)
        if allowed <= EPSILON * state.quantity:
            self.working.remove(item)
            self.cancel_order(item.order_id, "nothing to reduce or no shorting", requested=False)
            return
        item.capped = allowed < state.quantity
        if item.capped:
            state = replace(state, quantity=allowed)
        step = self._models[item.symbol].step(state, prices)
        if (
            step.fill is not None
            and not order.request.reduce_only
            and item.order_id not in self.sized_at_decision
        ):
            capped = self._cap_leverage(item, state, step, prices)
            if capped is None:
                self.working.remove(item)
                self.cancel_order(item.order_id, item.reason, requested=False)
                return
            step = capped
        self._after_step(item, order, state, step)

    def _after_step(
        self, item: _Working, order: Order, state: WorkingOrder, step: OrderStep
    ) -> None:
        item.state = step.order if step.order is not None else state
        if step.fill is not None:
            self.book(item.order_id, item.symbol, step.fill)
            if item.partner is not None:
                self.cancel_by_id(
                    item.partner, "the other order of the group filled", requested=True
                )
        immediate = order.request.time_in_force is TimeInForce.IOC
        if step.order is None and not item.capped:
            self.working.remove(item)
        elif item.capped or immediate:
            self.working.remove(item)
            self.cancel_order(item.order_id, item.reason, requested=False)
        self._after_entry(item)

    def _allowed(self, request: OrderRequest, quantity: float) -> float:
        """Return how much of ``quantity`` may trade: reduce-only and no-short limits."""
        held = self.quantities[self.symbol_index(request.symbol)]
        reducing = held * float(request.side) < 0.0
        if request.reduce_only:
            return min(quantity, abs(float(held))) if reducing else 0.0
        if not self.config.allow_short and request.side is OrderSide.SELL:
            return min(quantity, max(float(held), 0.0))
        return quantity

    def _cap_leverage(
        self, item: _Working, state: WorkingOrder, step: OrderStep, prices: Prices
    ) -> OrderStep | None:
        """Return ``step`` with its fill cut to the leverage cap (``None``: nothing allowed)."""
        fill = step.fill
        if fill is None:
            return step
        column = item.symbol
        marks = self.marks.copy()
        marks[column] = fill.price
        equity, gross = _nb.equity_nb(self.cash, self.quantities, marks)
        current = float(self.quantities[column])
        side = float(fill.side)
        desired = current + side * fill.quantity
        other = gross - abs(current * fill.price)
        leverage = self.config.max_leverage
        capped = float(_nb.cap_leverage_nb(current, desired, fill.price, other, equity, leverage))
        if abs(capped - desired) <= 1e-9 * max(abs(desired), 1.0):
            return step
        symbol = self.symbols[column]
        allowed = abs(float(_nb.round_lots_nb(capped - current, *self.config.lot_size(symbol))))
        if allowed <= EPSILON * fill.quantity or (capped - current) * side <= 0.0:
            item.reason = f"leverage cap: no room at max_leverage {leverage:g}"
            self.notes[item.order_id] = item.reason
            return None
        note = f"leverage cap reduced {side * fill.quantity:.10g} to {side * allowed:.10g}"
        self.notes[item.order_id] = note
        item.capped, item.reason = True, note
        return self._models[column].step(replace(state, quantity=allowed), prices)

    def _after_entry(self, item: _Working) -> None:
        order = self.orders[item.order_id]
        if item.bracket is None or not order.is_terminal or order.filled_quantity <= 0.0:
            return
        bracket, filled = item.bracket, order.filled_quantity
        item.bracket = None
        legs: list[ClientOrderId | None] = []
        for request in (bracket.stop_loss_request, bracket.take_profit_request):
            if request is None:
                legs.append(None)
                continue
            leg_id = self.new_order_id()
            sized = replace(request, quantity=filled)
            self.create(leg_id, sized, self.now)
            legs.append(leg_id)
        exit_side = OrderSide(-bracket.entry.side)
        state = WorkingBracket(
            exit_side, filled, bracket.stop_loss, bracket.take_profit, arrived=True
        )
        ids = tuple(leg for leg in legs if leg is not None)
        expires = self._expiry(bracket.entry, item.symbol)
        self.working.append(
            _Working(ids[0], item.symbol, state, expires, legs=(legs[0], legs[1]), ids=ids)
        )

    def _step_bracket(self, item: _Working, state: WorkingBracket, prices: Prices) -> None:
        # Bracket exits are reduce-only: never beyond the position held now.
        allowed = self._allowed(self.orders[item.ids[0]].request, state.quantity)
        if allowed <= EPSILON * state.quantity:
            self.cancel_by_id(item.ids[0], "nothing to reduce", requested=False)
            return
        if allowed < state.quantity:
            state = replace(state, quantity=allowed)
        step = self._models[item.symbol].step_bracket(state, prices)
        if step.bracket is not None:
            item.state = step.bracket
            return
        stop_id, take_id = item.legs
        filled_id, other_id = (stop_id, take_id) if step.leg == 1 else (take_id, stop_id)
        self.working.remove(item)
        if other_id is not None:
            self.cancel_order(other_id, "the other exit of the bracket filled", requested=True)
        if filled_id is None:
            return
        if step.fill is not None:
            self.book(filled_id, item.symbol, step.fill)
        if step.order is not None:
            self.working.append(
                _Working(filled_id, item.symbol, step.order, item.expires, ids=(filled_id,))
            )

    def book(self, order_id: ClientOrderId, column: int, result: FillResult) -> None:
        """Record a fill of ``order_id``: position, cash, the order, and the strategy."""
        order = self.orders[order_id]
        fill = Fill(
            order_id,
            TradeId(f"{order_id}-{len(order.trade_ids) + 1}"),
            self.symbols[column],
            result.side,
            result.quantity,
            result.price,
            result.commission,
            self.now,
            result.liquidity,
        )
        self.fill_rows.append(fill_row(fill))
        self.quantities[column] = position_after(
            float(self.quantities[column]), fill.signed_quantity
        )
        self.cash -= fill.signed_quantity * fill.price + fill.commission
        self.changed = True
        self.apply(FillEvent(fill))
        if self.on_fill is not None:
            self.on_fill(fill, self.context)


def position_after(held: float, traded: float) -> float:
    """Return the quantity after trading ``traded`` (signed) on ``held``, as Position.apply does.

    A reducing trade within :data:`POSITION_TOLERANCE` of the position closes it exactly.
    """
    opposite = held != 0.0 and (held > 0.0) != (traded > 0.0)
    if opposite and math.isclose(abs(traded), abs(held), rel_tol=POSITION_TOLERANCE, abs_tol=0.0):
        return 0.0
    return held + traded


def fill_row(fill: Fill) -> tuple[object, ...]:
    """Return ``fill`` as a row of the ledger's fill schema (the time in ns since the epoch)."""
    side = "buy" if fill.side is OrderSide.BUY else "sell"
    return (
        ns_from_datetime(fill.ts),
        fill.order_id,
        fill.trade_id,
        fill.symbol,
        side,
        fill.quantity,
        fill.price,
        fill.commission,
        fill.liquidity.value,
    )


def order_row(order: Order, note: str | None) -> tuple[object, ...]:
    """Return ``order`` as a row of the ledger's order schema, ``note`` added to its tag.

    The creation time is in ns since the epoch.
    """
    request = order.request
    tag = request.tag if note is None else "; ".join(filter(None, (request.tag, note)))
    return (
        order.order_id,
        order.symbol,
        ns_from_datetime(order.created_at),
        "buy" if order.side is OrderSide.BUY else "sell",
        request.order_type.name.lower(),
        order.quantity,
        request.limit_price,
        request.stop_price,
        order.status.value,
        order.filled_quantity,
        order.average_fill_price if order.filled_quantity > 0 else None,
        tag,
    )
