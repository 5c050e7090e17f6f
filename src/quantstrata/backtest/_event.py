"""Simulate an event strategy: a Python loop over bar times around the shared fill model.

Per bar time, with the fill policy's offset 1 (``next_open``, ``next_close``): working orders
and pending targets of every symbol with a bar are stepped through
:meth:`~quantstrata.execution.FillModel.step` (symbols in sorted order, orders oldest first,
then the target), positions are marked at the closes, and the strategy's ``on_bar`` runs; its
intents become orders that first meet the market on the next bar. With ``this_close`` the
stepping happens after ``on_bar``, at the same bar's close. Orders change only through
:meth:`~quantstrata.model.orders.Order.apply` and positions only through
:meth:`~quantstrata.model.position.Position.apply`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime

import numpy as np
import polars as pl

from quantstrata.backtest import _nb
from quantstrata.backtest._align import AlignedBars
from quantstrata.backtest._context import BacktestContext, unknown_symbol
from quantstrata.backtest._ledger import FILL_SCHEMA, ORDER_SCHEMA, Ledger
from quantstrata.backtest._signal import leverage_tag
from quantstrata.backtest.config import BacktestConfig
from quantstrata.core.clock import datetime_from_ns
from quantstrata.execution import FillModel, FillResult, WorkingBracket, WorkingOrder
from quantstrata.execution._nb import carry_cost_nb
from quantstrata.model.bar import TIMESTAMP_DTYPE, Bar
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
from quantstrata.model.position import Position
from quantstrata.strategy.event import BarSnapshot, EventStrategy

__all__ = ["EventBook", "run_event"]

_EPSILON = 1e-12


@dataclass(slots=True)
class _Working:
    """A working order (or a bracket's exit pair) and what links it to other orders."""

    order_id: ClientOrderId
    symbol: int
    state: WorkingOrder | WorkingBracket
    session: date
    partner: ClientOrderId | None = None
    bracket: Bracket | None = None
    legs: tuple[ClientOrderId | None, ClientOrderId | None] = (None, None)
    capped: bool = False
    ids: tuple[ClientOrderId, ...] = field(default=())


class EventBook:
    """The event loop's account: cash, positions, orders and the working-order book."""

    def __init__(self, aligned: AlignedBars, config: BacktestConfig, strategy: EventStrategy):
        """Start flat with the configured cash."""
        self.aligned = aligned
        self.config = config
        self.strategy = strategy
        self.context = BacktestContext(self, strategy.name)
        self.symbols = tuple(Symbol(symbol) for symbol in aligned.symbols)
        self._index = {symbol: index for index, symbol in enumerate(aligned.symbols)}
        count = len(self.symbols)
        self.cash = config.cash
        self.quantities = np.zeros(count)
        self.marks = np.full(count, np.nan)
        self.positions = {symbol: Position.flat(symbol) for symbol in self.symbols}
        self.orders: dict[ClientOrderId, Order] = {}
        self.working: list[_Working] = []
        self.fills: list[Fill] = []
        self.targets = np.full(count, np.nan)
        self.pending_from = np.full(count, -1, dtype=np.int64)
        self.cash_out = np.empty(aligned.times.shape[0])
        self.positions_out = np.empty(aligned.close.shape)
        self._rows = [np.flatnonzero(aligned.has_bar[:, s]) for s in range(count)]
        self._columns = [np.flatnonzero(row).tolist() for row in aligned.has_bar]
        self._models = {
            s: FillModel(
                config.fill,
                config.commission,
                config.slippage,
                instrument=config.instruments.get(symbol),
            )
            for s, symbol in enumerate(aligned.symbols)
        }
        self._next_id = 0
        self.bar = 0
        self.now = datetime_from_ns(int(aligned.times[0]))
        self.snapshot = BarSnapshot(self.now, ())

    # -- reads for the context -----------------------------------------------------------------

    def symbol_index(self, symbol: str) -> int:
        """Return the column of ``symbol``; raise for a symbol without bars."""
        try:
            return self._index[symbol]
        except KeyError:
            raise unknown_symbol(symbol, self.aligned.symbols) from None

    def quantity(self, symbol: str) -> float:
        """Return the signed quantity held in ``symbol``."""
        return float(self.quantities[self.symbol_index(symbol)])

    def equity(self) -> float:
        """Return cash plus the positions at their latest marks."""
        return float(_nb.equity_nb(self.cash, self.quantities, self.marks)[0])

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        """Return the working orders (of ``symbol`` only), oldest first."""
        found = [self.orders[order_id] for item in self.working for order_id in item.ids]
        found.sort(key=lambda order: (order.created_at, order.order_id))
        return [order for order in found if symbol is None or order.symbol == symbol]

    def history(self, symbol: str, length: int) -> pl.DataFrame:
        """Return the last ``length`` bars of ``symbol`` up to the current bar."""
        column = self.symbol_index(symbol)
        rows = self._rows[column]
        end = int(np.searchsorted(rows, self.bar, side="right"))
        picked = rows[max(0, end - length) : end]
        aligned = self.aligned
        return pl.DataFrame(
            {
                "ts": pl.Series(aligned.times[picked], dtype=pl.Int64).cast(TIMESTAMP_DTYPE),
                "symbol": [symbol] * picked.shape[0],
                **{
                    name: getattr(aligned, name)[picked, column]
                    for name in ("open", "high", "low", "close", "volume")
                },
            },
            schema_overrides={"symbol": pl.String},
        )

    def new_order_id(self) -> ClientOrderId:
        """Return the next client order id."""
        self._next_id += 1
        return ClientOrderId(f"E{self._next_id}")

    # -- the loop ------------------------------------------------------------------------------

    def begin_bar(self, bar: int) -> None:
        """Make ``bar`` the current bar time and build its snapshot."""
        self.bar = bar
        self.now = datetime_from_ns(int(self.aligned.times[bar]))
        self.snapshot = BarSnapshot(
            self.now,
            tuple(self._bar(bar, column) for column in self._columns[bar]),
        )

    def execute(self) -> None:
        """Step working orders, then pending targets (reductions first), of symbols with a bar."""
        columns = self._columns[self.bar]
        if self.working:
            for column in columns:
                bar = self.snapshot[self.symbols[column]]
                for item in [w for w in self.working if w.symbol == column]:
                    if item in self.working:
                        self._step(item, bar)
        if any(self.pending_from[column] >= 0 for column in columns):
            self._execute_targets((self.pending_from >= 0) & self.aligned.has_bar[self.bar])
        self.drain()

    def _execute_targets(self, pending: np.ndarray) -> None:
        at_close = self.config.fill.policy.arrives_at_close
        prices = (self.aligned.close if at_close else self.aligned.open)[self.bar]
        order = _nb.execution_order_nb(
            pending,
            self.targets,
            self.quantities,
            self.marks,
            prices,
            self.cash,
            False,  # noqa: FBT003 - fraction-of-equity targets
            self.config.allow_short,
        )
        for s in order:
            column = int(s)
            if self._execute_target(column, self.snapshot[self.symbols[column]]):
                self.pending_from[column] = -1

    def mark_closes(self) -> None:
        """Mark every symbol with a bar now at its close."""
        closes = self.aligned.close[self.bar]
        for column in self._columns[self.bar]:
            self.marks[column] = closes[column]

    def record(self) -> None:
        """Keep the cash and positions after the current bar."""
        self.cash_out[self.bar] = self.cash
        self.positions_out[self.bar] = self.quantities

    def drain(self) -> None:
        """Turn the intents the strategy recorded into targets, orders and cancels."""
        intents, self.context.intents = self.context.intents, []
        for intent in intents:
            if intent.kind == "target":
                column = self.symbol_index(intent.symbol)
                if intent.fraction != self.targets[column]:
                    self.targets[column] = intent.fraction
                    self.pending_from[column] = self.bar
            elif intent.kind == "cancel" and intent.order_id is not None:
                self._cancel_by_id(intent.order_id, "cancelled by the strategy", requested=True)
            elif intent.order_id is not None and intent.request is not None:
                self._submit(intent.order_id, intent.request)

    def ledger(self) -> Ledger:
        """Return what the loop produced."""
        orders = pl.DataFrame(
            [_order_row(order) for order in self.orders.values()],
            schema=ORDER_SCHEMA,
            orient="row",
        )
        fills = pl.DataFrame(
            [_fill_row(fill) for fill in self.fills], schema=FILL_SCHEMA, orient="row"
        )
        return Ledger(self.aligned, self.cash_out, self.positions_out, fills, orders)

    # -- orders --------------------------------------------------------------------------------

    def _bar(self, bar: int, column: int) -> Bar:
        aligned = self.aligned
        return Bar(
            self.now,
            self.symbols[column],
            float(aligned.open[bar, column]),
            float(aligned.high[bar, column]),
            float(aligned.low[bar, column]),
            float(aligned.close[bar, column]),
            float(aligned.volume[bar, column]),
        )

    def _submit(
        self, order_id: ClientOrderId, request: OrderRequest | Bracket | OneCancelsOther
    ) -> None:
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
        self._create(order_id, request, self.now)
        state = WorkingOrder(
            side=request.side,
            quantity=request.quantity,
            order_type=request.order_type,
            limit_price=request.limit_price,
            stop_price=request.stop_price,
            trail_amount=request.trail_amount,
            trail_percent=request.trail_percent,
        )
        item = _Working(
            order_id, self.symbol_index(request.symbol), state, self.now.date(), ids=(order_id,)
        )
        self.working.append(item)
        return item

    def _create(self, order_id: ClientOrderId, request: OrderRequest, ts: datetime) -> None:
        self.orders[order_id] = Order.submit(Submitted(order_id, ts, request))
        self._apply(Accepted(order_id, ts, VenueOrderId(order_id)))

    def _apply(self, event: OrderEvent) -> Order:
        order = self.orders[event.order_id].apply(event)
        self.orders[event.order_id] = order
        self.strategy.on_order(order, self.context)
        return order

    def _cancel_by_id(self, order_id: ClientOrderId, reason: str, *, requested: bool) -> None:
        for item in self.working:
            if order_id in item.ids:
                for member in item.ids:
                    self._cancel_order(member, reason, requested=requested)
                self.working.remove(item)
                return

    def _cancel_order(self, order_id: ClientOrderId, reason: str, *, requested: bool) -> None:
        if self.orders[order_id].is_terminal:
            return
        if requested:
            self._apply(CancelRequested(order_id, self.now))
        self._apply(Cancelled(order_id, self.now, reason))

    # -- matching ------------------------------------------------------------------------------

    def _step(self, item: _Working, bar: Bar) -> None:
        order = self.orders[item.order_id]
        if not item.state.arrived:  # wt-realism: a DAY order lives in the first session it meets
            item.session = bar.ts.date()
        if order.request.time_in_force is TimeInForce.DAY and bar.ts.date() != item.session:
            self.working.remove(item)
            self._apply(Expired(item.order_id, self.now))
            return
        if isinstance(item.state, WorkingBracket):
            self._step_bracket(item, item.state, bar)
            return
        state = item.state
        allowed = self._allowed(order.request, state.quantity)
        if allowed <= _EPSILON * state.quantity:
            self.working.remove(item)
            self._cancel_order(item.order_id, "nothing to reduce or no shorting", requested=False)
            return
        item.capped = allowed < state.quantity
        if item.capped:
            state = replace(state, quantity=allowed)
        step = self._models[item.symbol].step(state, bar)
        item.state = step.order if step.order is not None else state
        if step.fill is not None:
            self._book(item.order_id, item.symbol, step.fill)
            if item.partner is not None:
                self._cancel_by_id(
                    item.partner, "the other order of the group filled", requested=True
                )
        immediate = order.request.time_in_force is TimeInForce.IOC
        if step.order is None and not item.capped:
            self.working.remove(item)
        elif item.capped or immediate:
            self.working.remove(item)
            self._cancel_order(item.order_id, "rest cancelled", requested=False)
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
            self._create(leg_id, sized, self.now)
            legs.append(leg_id)
        exit_side = OrderSide(-bracket.entry.side)
        state = WorkingBracket(
            exit_side, filled, bracket.stop_loss, bracket.take_profit, arrived=True
        )
        ids = tuple(leg for leg in legs if leg is not None)
        self.working.append(
            _Working(ids[0], item.symbol, state, self.now.date(), legs=(legs[0], legs[1]), ids=ids)
        )

    def _step_bracket(self, item: _Working, state: WorkingBracket, bar: Bar) -> None:
        # Bracket exits are reduce-only: never beyond the position held now (wt-realism fix).
        allowed = self._allowed(self.orders[item.ids[0]].request, state.quantity)
        if allowed <= _EPSILON * state.quantity:
            self._cancel_by_id(item.ids[0], "nothing to reduce", requested=False)
            return
        if allowed < state.quantity:
            state = replace(state, quantity=allowed)
        step = self._models[item.symbol].step_bracket(state, bar)
        if step.bracket is not None:
            item.state = step.bracket
            return
        stop_id, take_id = item.legs
        filled_id, other_id = (stop_id, take_id) if step.leg == 1 else (take_id, stop_id)
        self.working.remove(item)
        if other_id is not None:
            self._cancel_order(other_id, "the other exit of the bracket filled", requested=True)
        if filled_id is None:
            return
        if step.fill is not None:
            self._book(filled_id, item.symbol, step.fill)
        if step.order is not None:
            self.working.append(
                _Working(filled_id, item.symbol, step.order, item.session, ids=(filled_id,))
            )

    def _book(self, order_id: ClientOrderId, column: int, result: FillResult) -> None:
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
        self.fills.append(fill)
        position = self.positions[fill.symbol].apply(fill)
        self.positions[fill.symbol] = position
        self.quantities[column] = position.quantity
        self.cash -= fill.signed_quantity * fill.price + fill.commission
        self._apply(FillEvent(fill))
        self.strategy.on_fill(fill, self.context)

    def _execute_target(self, column: int, bar: Bar) -> bool:
        """Size, cap, round and fill the pending target of ``column`` as the compiled loop does."""
        config = self.config
        at_close = config.fill.policy.arrives_at_close
        price = bar.close if at_close else bar.open
        self.marks[column] = price
        equity, gross = _nb.equity_nb(self.cash, self.quantities, self.marks)
        current = float(self.quantities[column])
        units = False
        desired = _nb.target_position_nb(
            self.targets[column], units, equity, price, config.allow_short
        )
        capped = _nb.cap_leverage_nb(
            current, desired, price, gross - abs(current * price), equity, config.max_leverage
        )
        delta = float(_nb.round_lots_nb(capped - current, *config.lot_size(bar.symbol)))
        if abs(delta) <= _EPSILON * max(abs(current), 1.0):
            return True
        decided = datetime_from_ns(int(self.aligned.times[self.pending_from[column]]))
        request = OrderRequest.market(
            bar.symbol, delta, tag=leverage_tag(desired - current, capped - current)
        )
        order_id = self.new_order_id()
        self._create(order_id, request, decided)
        step = self._models[column].step(WorkingOrder(request.side, request.quantity), bar)
        if step.fill is not None:
            self._book(order_id, column, step.fill)
        if step.order is None:
            return True
        self._cancel_order(
            order_id, "target order: rest cancelled at the end of the bar", requested=False
        )
        return False


def _fill_row(fill: Fill) -> tuple[object, ...]:
    side = "buy" if fill.side is OrderSide.BUY else "sell"
    return (
        fill.ts,
        fill.order_id,
        fill.trade_id,
        fill.symbol,
        side,
        fill.quantity,
        fill.price,
        fill.commission,
        fill.liquidity.value,
    )


def _order_row(order: Order) -> tuple[object, ...]:
    request = order.request
    return (
        order.order_id,
        order.symbol,
        order.created_at,
        "buy" if order.side is OrderSide.BUY else "sell",
        request.order_type.name.lower(),
        order.quantity,
        request.limit_price,
        request.stop_price,
        order.status.value,
        order.filled_quantity,
        order.average_fill_price if order.filled_quantity > 0 else None,
        request.tag,
    )


def run_event(strategy: EventStrategy, aligned: AlignedBars, config: BacktestConfig) -> Ledger:
    """Drive ``strategy`` through the aligned bars and return the ledger."""
    book = EventBook(aligned, config, strategy)
    context = book.context
    offset = config.fill.policy.bar_offset
    strategy.on_start(context)
    book.drain()
    carry = config.carry_factors(aligned.times)  # wt-realism: borrow and financing
    for bar in range(aligned.times.shape[0]):
        book.begin_bar(bar)
        book.cash -= carry_cost_nb(book.cash, book.quantities, book.marks, *carry[bar])
        if offset == 1:
            book.execute()
        book.mark_closes()
        strategy.on_bar(book.snapshot, context)
        book.drain()
        if offset == 0:
            book.execute()
        book.record()
    strategy.on_stop(context)
    book.drain()
    return book.ledger()
