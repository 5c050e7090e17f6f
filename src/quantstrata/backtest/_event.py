"""Simulate an event strategy: a Python loop over bar times around the shared fill model.

Per bar time, with the fill policy's offset 1 (``next_open``, ``next_close``): working orders
and pending targets of every symbol with a bar are stepped through
:meth:`~quantstrata.execution.FillModel.step` (symbols in sorted order, orders oldest first,
then the targets, reductions first), and the strategy's ``on_bar`` runs; its intents become
orders that first meet the market on the next bar. With ``this_close`` the stepping happens
after ``on_bar``, at the same bar's close. Orders, cash and positions are kept by the simulated
exchange (:class:`~quantstrata.exchange.SimulatedExchange`), which also holds the order rules
(DAY expiry at the session close, reduce-only and no-short limits, the leverage cap on
submitted orders); this loop is the glue between it, the strategy and the ledger.

The ledger keeps order and fill *rows*: a target order that fills completely, for a strategy
without ``on_order``/``on_fill`` callbacks, is written straight to rows with the same values the
order objects would give, since no one could observe the objects.

The loop does as little as it can per bar, because a strategy's ``on_bar`` is most of a run:

- ``on_bar`` gets one :class:`~quantstrata.backtest._snapshot.AlignedSnapshot` view that builds
  ``Bar`` values only when read; the bar time is converted only when asked for.
- Nothing is stepped on a bar without working orders or pending targets.
- Positions are marked lazily: equity at a bar is cash plus the positions at the closes carried
  forward to that bar (while executing: at the previous closes, and the executing symbol at its
  execution price), which is what marking every close every bar gives.
- Cash and positions are kept only when a fill changed them and carried forward at the end.
- A target is stored when it is set (:meth:`EventBook.set_target`); declared indicators are
  computed in batch once (:mod:`quantstrata.backtest._declared`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl

from quantstrata.backtest import _nb
from quantstrata.backtest._align import AlignedBars
from quantstrata.backtest._context import BacktestContext, unknown_symbol
from quantstrata.backtest._event_nb import execute_targets_nb
from quantstrata.backtest._ledger import (
    FILL_SCHEMA,
    ORDER_SCHEMA,
    Ledger,
    fill_row,
    marks,
    order_row,
)
from quantstrata.backtest._signal import kernel_settings
from quantstrata.backtest._snapshot import AlignedSnapshot
from quantstrata.backtest.config import BacktestConfig, SizeAt
from quantstrata.core.clock import datetime_from_ns
from quantstrata.exchange import EPSILON, FundingRates, Prices, SimulatedExchange, charge_funding
from quantstrata.execution._nb import carry_cost_nb
from quantstrata.execution.targets import TargetBook, leverage_tag, orders_for_targets
from quantstrata.model.bar import TIMESTAMP_DTYPE, Bar
from quantstrata.model.identifiers import ClientOrderId
from quantstrata.model.orders import (
    FillEvent,
    Order,
    OrderEvent,
    OrderRequest,
    Submitted,
)
from quantstrata.strategy.event import EventStrategy

__all__ = ["EventBook", "run_event"]


def _overridden(strategy: EventStrategy, name: str) -> bool:
    return getattr(type(strategy), name) is not getattr(EventStrategy, name)


class EventBook:
    """The event loop's state: the simulated exchange plus targets, the cursor and lazy reads."""

    def __init__(self, aligned: AlignedBars, config: BacktestConfig, strategy: EventStrategy):
        """Start flat with the configured cash, before the first bar (cursor ``-1``)."""
        self.aligned = aligned
        self.config = config
        exchange_config = config.exchange_config(_bar_length(aligned))
        self.exchange = SimulatedExchange(exchange_config, aligned.symbols)
        self.exchange.listener = self._on_event
        self.symbols = self.exchange.symbols
        account = self.exchange.account
        self.account, self.quantities = account.values, account.quantities
        self.marks = account.marks
        self.orders = self.exchange.orders
        self.order_rows: dict[ClientOrderId, tuple[object, ...] | None] = {}
        self.fill_rows: list[tuple[object, ...]] = []
        self.funding_rows: list[tuple[object, ...]] = []
        self.changed = False
        self.strategy = strategy
        self.index = {symbol: column for column, symbol in enumerate(aligned.symbols)}
        count = len(aligned.symbols)
        self.offset = config.fill.policy.bar_offset
        self.closes = marks(aligned)
        self.targets: list[float] = [np.nan] * count
        self.pending_from = np.full(count, -1, dtype=np.int64)
        self.pending = False
        self.executing = False
        self.declaring = True
        self.bar = -1
        self._changes: list[tuple[int, float, np.ndarray]] = []
        self._rows = [np.flatnonzero(aligned.has_bar[:, s]) for s in range(count)]
        self._now_bar = 0
        self._now = datetime_from_ns(int(aligned.times[0]))
        self._symbols_bar = -2
        self._symbols_now: tuple[str, ...] = ()
        self.context = BacktestContext(self, strategy.name)
        self.snapshot = AlignedSnapshot(self)
        self.on_order = strategy.on_order if _overridden(strategy, "on_order") else None
        self.on_fill = strategy.on_fill if _overridden(strategy, "on_fill") else None
        self.compiled = self.on_order is None and self.on_fill is None
        self._settings, self._costs = kernel_settings(config, aligned.symbols, units=False)
        self._terms = self._settings[6:].reshape(count, 3)
        self._orders_index = np.zeros((count, 3), dtype=np.int64)
        self._orders_values = np.zeros((count, 7))
        self.size_at_decision = config.size_at is SizeAt.DECISION
        self.decided: dict[str, float] = {}
        units = bool(getattr(strategy, "target_units", False))
        self.sizing = config.sizing(units, aligned.symbols)

    # -- the exchange --------------------------------------------------------------------------

    @property
    def cash(self) -> float:
        """Cash after every fill so far (``account[0]``; ``account[1:]`` holds the targets)."""
        return float(self.account[0])

    def new_order_id(self) -> ClientOrderId:
        """Return the next client order id."""
        return self.exchange.new_order_id()

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

    def _on_event(self, order: Order, event: OrderEvent) -> None:
        """Keep the ledger's rows of the exchange's orders and fills; tell the strategy."""
        if isinstance(event, Submitted):
            self.order_rows[order.order_id] = None
            return
        fill = event.fill if isinstance(event, FillEvent) else None
        if fill is not None:
            self.fill_rows.append(fill_row(fill))
            self.changed = True
        if self.on_order is not None:
            self.on_order(order, self.context)
        if fill is not None and self.on_fill is not None:
            self.on_fill(fill, self.context)

    # -- reads for the context -----------------------------------------------------------------

    @property
    def now(self) -> datetime:
        """The current bar's time (the first bar's before the first bar)."""
        bar = max(self.bar, 0)
        if bar != self._now_bar:
            self._now = datetime_from_ns(int(self.aligned.times[bar]))
            self._now_bar = bar
        return self._now

    def symbols_now(self) -> tuple[str, ...]:
        """Return the symbols with a bar at the current time, sorted."""
        bar = max(self.bar, 0)
        if bar != self._symbols_bar:
            columns = np.flatnonzero(self.aligned.has_bar[bar]).tolist()
            self._symbols_now = tuple(self.aligned.symbols[column] for column in columns)
            self._symbols_bar = bar
        return self._symbols_now

    def bar_of(self, column: int) -> Bar:
        """Return the current bar of symbol ``column`` as a checked :class:`Bar`."""
        prices = self.prices(column)
        return Bar(self.now, self.symbols[column], *prices)

    def symbol_index(self, symbol: str) -> int:
        """Return the column of ``symbol``; raise for a symbol without bars."""
        try:
            return self.index[symbol]
        except KeyError:
            raise unknown_symbol(symbol, self.aligned.symbols) from None

    def quantity(self, symbol: str) -> float:
        """Return the signed quantity held in ``symbol``."""
        return float(self.quantities[self.symbol_index(symbol)])

    def equity(self) -> float:
        """Return cash plus the positions at their latest marks."""
        current = self.marks if self.executing or self.bar < 0 else self.closes[self.bar]
        return float(_nb.exposure_nb(self.cash, self.quantities, current, self._terms)[0])

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        """Return the working orders (of ``symbol`` only), oldest first."""
        return self.exchange.open_orders(symbol)

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

    def set_target(self, column: int, fraction: float) -> None:
        """Make ``fraction`` the target of ``column``, pending from the current bar.

        With ``size_at="decision"`` the target is kept for :meth:`place_decided` instead.
        """
        self.targets[column] = fraction
        self.account[1 + column] = fraction
        if self.size_at_decision:
            self.decided[self.aligned.symbols[column]] = fraction
            return
        self.pending_from[column] = max(self.bar, 0)
        self.pending = True

    def place_decided(self) -> None:
        """Send the market orders that reach this bar's new targets, sized at its closes.

        The same function the live runtime calls (:func:`orders_for_targets`), on the same
        account: cash, positions, working orders, and every symbol's latest close.
        """
        decided, self.decided = self.decided, {}
        closes = self.closes[max(self.bar, 0)]
        symbols = self.aligned.symbols
        prices = {s: float(closes[c]) for c, s in enumerate(symbols) if not np.isnan(closes[c])}
        positions = {s: float(self.quantities[c]) for c, s in enumerate(symbols)}
        book = TargetBook(self.cash, positions, self.exchange.open_orders(), prices)
        for request in orders_for_targets(decided, book, self.sizing):
            order_id = self.new_order_id()
            if not self.context.risk_refused(order_id, request):
                self.exchange.submit(order_id, request, self.now, sized=True)

    # -- the loop ------------------------------------------------------------------------------

    def execute(self) -> None:
        """Step working orders, then pending targets (reductions first), of symbols with a bar."""
        exchange = self.exchange
        if self.compiled and not exchange.has_working:
            self._execute_compiled()
            return
        bar = self.bar
        marked = bar - self.offset
        self.marks[:] = self.closes[marked] if marked >= 0 else np.nan
        self.executing = True
        if exchange.has_working:
            working = exchange.working_symbols()
            symbols, now = self.symbols, self.now
            for column in np.flatnonzero(self.aligned.has_bar[bar]).tolist():
                if symbols[column] in working:
                    exchange.on_bar(symbols[column], now, self.prices(column))
        if self.pending:
            pending = (self.pending_from >= 0) & self.aligned.has_bar[bar]
            if pending.any():
                self._execute_targets(pending)
            self.pending = bool((self.pending_from >= 0).any())
        self.executing = False
        self.drain()
        self._keep_changes()

    def charge_carry(self, factors: np.ndarray) -> None:
        """Take short borrow and financing for the interval ending at this bar's start.

        The same compiled charge as the signal loop's, on the positions valued at the last
        closes before this bar.
        """
        previous = self.closes[self.bar - 1] if self.bar > 0 else self.marks
        charge = carry_cost_nb(self.cash, self.quantities, previous, factors[0], factors[1])
        if charge:
            self.account[0] -= charge
            self.changed = True
            self._keep_changes()

    def pay_funding(self, funding: FundingRates) -> None:
        """Pay the funding due since the previous bar time, before this bar's fills.

        A funding time in ``(previous bar time, this bar time]`` is paid on the positions
        held then, at the series' mark or else the last closes before this bar (the
        exchange's one rule, :func:`~quantstrata.exchange._funding.charge_funding`).
        """
        bar, times = self.bar, self.aligned.times
        after = int(times[bar - 1]) if bar > 0 else int(times[0]) - 1
        rows = funding.due(after, int(times[bar]))
        if not rows:
            return
        latest = self.closes[bar - 1] if bar > 0 else self.marks
        paid = charge_funding(self.exchange.account, funding, rows, self.index, latest)
        if paid:
            self.funding_rows.extend(paid)
            self.changed = True
            self._keep_changes()

    def _keep_changes(self) -> None:
        if self.changed:
            self._changes.append((self.bar, self.cash, self.quantities.copy()))
            self.changed = False

    def _execute_compiled(self) -> None:
        """Execute the pending targets with the signal loop's compiled step; write ledger rows.

        Used while no order is working, for strategies without ``on_order``/``on_fill`` (no one
        could observe the order objects, so the ledger gets the rows the signal loop writes).
        """
        aligned = self.aligned
        count, self.pending = execute_targets_nb(
            self.bar, self.offset, aligned.has_bar, self.pending_from,
            aligned.open, aligned.high, aligned.low, aligned.close, aligned.volume, self.closes,
            self.quantities, self.marks, self.account, self._settings, self._costs,
            self._orders_index, self._orders_values,
        )  # fmt: skip
        if count == 0:
            return
        fill_ns = int(aligned.times[self.bar])
        for index, values in zip(
            self._orders_index[:count].tolist(), self._orders_values[:count].tolist(), strict=True
        ):
            self._target_rows(index[0], index[2], values, fill_ns)
        self._keep_changes()

    def _target_rows(self, decision: int, column: int, values: list[float], fill_ns: int) -> None:
        """Write one compiled target order (and its fill) as the signal loop reports it."""
        asked, capped, quantity, filled, _, price, commission = values
        order_id = self.new_order_id()
        symbol = self.symbols[column]
        side = "buy" if quantity > 0.0 else "sell"
        status = "filled" if abs(filled) >= abs(quantity) else "cancelled"
        self.order_rows[order_id] = (
            order_id, symbol, int(self.aligned.times[decision]), side, "market", abs(quantity),
            None, None, status, abs(filled), price if filled != 0.0 else None,
            leverage_tag(asked, capped),
        )  # fmt: skip
        if filled != 0.0:
            self.fill_rows.append(
                (fill_ns, order_id, f"{order_id}-1", symbol, side, abs(filled), price,
                 commission, "taker")
            )  # fmt: skip
            self.changed = True
            self.exchange.account.absorb(column, (order_id, fill_ns, filled, price, commission))

    def _execute_targets(self, pending: np.ndarray) -> None:
        at_close = self.config.fill.policy.arrives_at_close
        prices = (self.aligned.close if at_close else self.aligned.open)[self.bar]
        order = _nb.execution_order_nb(
            pending,
            np.asarray(self.targets),
            self.quantities,
            self.marks,
            prices,
            self.cash,
            False,  # noqa: FBT003 - fraction-of-equity targets
            self.config.allow_short,
            self._terms,
        )
        for s in order:
            column = int(s)
            if self._execute_target(column):
                self.pending_from[column] = -1

    def _execute_target(self, column: int) -> bool:
        """Size, cap, round and fill the pending target of ``column`` as the compiled loop does."""
        config = self.config
        prices = self.prices(column)
        price = prices.close if config.fill.policy.arrives_at_close else prices.open
        self.marks[column] = price
        terms = self._terms
        equity, gross = _nb.exposure_nb(self.cash, self.quantities, self.marks, terms)
        current = float(self.quantities[column])
        desired = _nb.target_position_nb(
            self.targets[column],
            False,  # noqa: FBT003 - fraction-of-equity targets
            equity,
            price * terms[column, 0],
            config.allow_short,
        )
        cost = _nb.unit_cost_nb(price, terms[column])
        capped = _nb.cap_leverage_nb(
            current, desired, cost, gross - abs(current * cost), equity, config.max_leverage
        )
        symbol = self.symbols[column]
        delta = float(_nb.round_lots_nb(capped - current, *config.lot_size(symbol)))
        if abs(delta) <= EPSILON * max(abs(current), 1.0):
            return True
        decided = datetime_from_ns(int(self.aligned.times[self.pending_from[column]]))
        tag = leverage_tag(desired - current, capped - current)
        request = OrderRequest.market(symbol, delta, tag=tag)
        return self.exchange.execute(
            self.new_order_id(), request, decided, self.now, prices,
            rest="target order: rest cancelled at the end of the bar",
        )  # fmt: skip

    def drain(self) -> None:
        """Turn the queued order requests and cancels into orders and cancellations."""
        if not self.context.intents:
            return
        intents, self.context.intents = self.context.intents, []
        exchange, now = self.exchange, self.now
        for intent in intents:
            if intent.kind == "cancel":
                exchange.cancel(intent.order_id, now, "cancelled by the strategy")
            elif intent.request is not None:
                exchange.submit(intent.order_id, intent.request, now)

    def ledger(self) -> Ledger:
        """Return what the loop produced, cash and positions carried forward between changes."""
        rows = [
            row
            if row is not None
            else order_row(self.orders[order_id], self.exchange.notes.get(order_id))
            for order_id, row in self.order_rows.items()
        ]
        orders = pl.DataFrame(
            rows, schema={**ORDER_SCHEMA, "created_ts": pl.Int64}, orient="row"
        ).with_columns(pl.col("created_ts").cast(TIMESTAMP_DTYPE))
        fills = pl.DataFrame(
            self.fill_rows, schema={**FILL_SCHEMA, "ts": pl.Int64}, orient="row"
        ).with_columns(pl.col("ts").cast(TIMESTAMP_DTYPE))
        cash, positions = self._carried()
        return Ledger(self.aligned, cash, positions, fills, orders, tuple(self.funding_rows))

    def _carried(self) -> tuple[np.ndarray, np.ndarray]:
        times = self.aligned.times.shape[0]
        cash = np.full(times, self.config.cash)
        positions = np.zeros(self.aligned.close.shape)
        if not self._changes:
            return cash, positions
        latest = np.full(times, -1, dtype=np.int64)
        latest[[change[0] for change in self._changes]] = np.arange(len(self._changes))
        np.maximum.accumulate(latest, out=latest)
        seen = latest >= 0
        picked = np.maximum(latest, 0)
        changed_cash = np.array([change[1] for change in self._changes])
        changed_positions = np.stack([change[2] for change in self._changes])
        cash = np.where(seen, changed_cash[picked], self.config.cash)
        positions = np.where(seen[:, None], changed_positions[picked], 0.0)
        return cash, positions


def _bar_length(aligned: AlignedBars) -> timedelta:
    """Return the smallest step between bar times (zero with a single bar time)."""
    steps = np.diff(aligned.times)
    positive = steps[steps > 0]
    return timedelta(microseconds=int(positive.min()) // 1000) if positive.size else timedelta(0)


def run_event(
    strategy: EventStrategy,
    aligned: AlignedBars,
    config: BacktestConfig,
    funding: FundingRates | None = None,
) -> Ledger:
    """Drive ``strategy`` through the aligned bars and return the ledger.

    ``funding``: perpetual funding rates, paid at the start of the first bar at or after each
    funding time (:meth:`EventBook.pay_funding`).
    """
    book = EventBook(aligned, config, strategy)
    context, snapshot, exchange = book.context, book.snapshot, book.exchange
    strategy.on_start(context)
    book.declaring = False
    book.drain()
    on_bar = strategy.on_bar
    before, after = book.offset == 1, book.offset == 0
    carry = config.carry_factors(aligned.times)
    charging = bool(np.any(carry))
    for bar in range(aligned.times.shape[0]):
        book.bar = bar
        if charging:
            book.charge_carry(carry[bar])
        if funding is not None:
            book.pay_funding(funding)
        if before and (book.pending or exchange.has_working):
            book.execute()
        on_bar(snapshot, context)
        if context.intents:
            book.drain()
        if book.decided:
            book.place_decided()
        if after and (book.pending or exchange.has_working):
            book.execute()
    strategy.on_stop(context)
    book.drain()
    return book.ledger()
