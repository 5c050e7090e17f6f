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
from typing import cast

import numpy as np
import polars as pl

from quantstrata.backtest import _nb
from quantstrata.backtest._align import AlignedBars
from quantstrata.backtest._context import BacktestContext, unknown_symbol
from quantstrata.backtest._currencies import CurrencyBook, carry_charges
from quantstrata.backtest._event_nb import decide_targets_nb, execute_targets_nb
from quantstrata.backtest._ledger import (
    FILL_SCHEMA,
    ORDER_SCHEMA,
    Ledger,
    fill_row,
    margin_call_frame,
    marks,
    order_row,
)
from quantstrata.backtest._signal import kernel_settings
from quantstrata.backtest._snapshot import AlignedSnapshot
from quantstrata.backtest.config import BacktestConfig, SizeAt
from quantstrata.core.clock import datetime_from_ns
from quantstrata.exchange import EPSILON, FundingRates, Prices, SimulatedExchange
from quantstrata.exchange._funding import charge_funding
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


_FillRow = tuple[int, str, str, str, str, float, float, float, str]
"""A row of the ledger's fills (``FILL_SCHEMA``, the time in ns)."""
_Unfilled = tuple[str, int, float, float, float, float, float, float, float, float, float]
"""A target order sent without the exchange: its id, decision bar, then ``decide_targets_nb``'s
``out`` row (``column, asked, capped, delta, fill bar, traded, price, commission, position
after``). A plain tuple: one is built per order, in the loop's hot path."""


def _by_column(order: _Unfilled) -> float:
    return order[2]


def _fill_bar(order: _Unfilled) -> float:
    return order[6]


def _next_due(unfilled: list[_Unfilled]) -> int:
    """Return the first bar an order of ``unfilled`` fills on (``-1``: none)."""
    return int(min((_fill_bar(o) for o in unfilled if _fill_bar(o) >= 0), default=-1))


class EventBook:
    """The event loop's state: the simulated exchange plus targets, the cursor and lazy reads."""

    def __init__(
        self,
        aligned: AlignedBars,
        config: BacktestConfig,
        strategy: EventStrategy,
        currencies: CurrencyBook | None = None,
        *,
        compiled: bool = True,
    ):
        """Start flat with the configured cash, before the first bar (cursor ``-1``).

        ``currencies``: the run's currencies and FX rates when not everything is in the base.
        ``compiled=False`` sends every target order sized at the decision through the exchange
        (the tests compare both ways).
        """
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
        self.order_rows: dict[str, tuple[object, ...] | None] = {}
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
        self._changes: list[tuple[int, float, np.ndarray, np.ndarray]] = []
        self._rows = [np.flatnonzero(aligned.has_bar[:, s]) for s in range(count)]
        self._now_bar = 0
        self._now = datetime_from_ns(int(aligned.times[0]))
        self._symbols_bar = -2
        self._symbols_now: tuple[str, ...] = ()
        self.context = BacktestContext(self, strategy.name)
        self.snapshot = AlignedSnapshot(self)
        self.on_order = strategy.on_order if _overridden(strategy, "on_order") else None
        self.on_fill = strategy.on_fill if _overridden(strategy, "on_fill") else None
        self.compiled = self.on_order is None and self.on_fill is None and currencies is None
        self._use_currencies(currencies)
        self._settings, self._costs = kernel_settings(config, aligned.symbols, units=False)
        self._terms = self._settings[6:].reshape(count, 3)
        self._orders_index = np.zeros((count, 3), dtype=np.int64)
        self._orders_values = np.zeros((count, 7))
        self.size_at_decision = config.size_at is SizeAt.DECISION
        self.decided: dict[str, float] = {}
        units = bool(getattr(strategy, "target_units", False))
        self.sizing = config.sizing(units, aligned.symbols)
        self.unobserved = compiled and self.compiled and config.risk is None
        """Whether target orders sized at the decision may skip the exchange (:meth:`_decide`)."""
        self._decided_mask = np.zeros(count, dtype=np.bool_)
        self._decided_settings = self._settings.copy()
        self._decided_settings[0] = 1.0 if units else 0.0
        self._sized = np.empty((count, 9))
        self._waiting = np.zeros(count)
        self.unfilled: list[_Unfilled] = []
        """Target orders booked without the exchange, still to fill, in the order sent."""
        self._due = -1
        self._unbooked: list[int] = []
        """Rows of ``fill_rows`` compiled code booked in the account's arrays only."""
        self.active = False
        """Whether a bar must be executed: targets pending, orders unfilled or working."""

    # -- the exchange --------------------------------------------------------------------------

    @property
    def cash(self) -> float:
        """Cash after every fill so far (``account[0]``; ``account[1:]`` holds the targets)."""
        return float(self.account[0])

    def new_order_id(self) -> ClientOrderId:
        """Return the next client order id."""
        return self.exchange.new_order_id()

    def _row_id(self) -> str:
        """Return the next client order id as a plain ``str``, for an order kept as rows only.

        A :class:`ClientOrderId` (a ``str`` subclass) is tracked by the garbage collector:
        thousands kept in the ledger's rows would make full collections run during a backtest.
        """
        return str(self.new_order_id())

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
        """Return cash plus the positions at their latest marks (in the base currency)."""
        current = self.marks if self.executing or self.bar < 0 else self.closes[self.bar]
        if self.currencies is not None:
            cash = self.balances.in_base(self.cash)
            return float(
                _nb.exposure_nb(cash, self.quantities, current * self.rates(), self._terms)[0]
            )
        return float(_nb.exposure_nb(self.cash, self.quantities, current, self._terms)[0])

    def _use_currencies(self, currencies: CurrencyBook | None) -> None:
        """Keep each currency's rate per bar, in the order of the exchange's balances."""
        self.currencies = currencies
        self.balances = self.exchange.account.balances
        self._rate_index = np.array(
            [currencies.currencies.index(c) for c in self.balances.currencies]
            if currencies is not None
            else [0],
            dtype=np.int64,
        )
        self._rates = (
            currencies.rates[:, self._rate_index] if currencies is not None else np.ones((0, 1))
        )

    def rates(self) -> np.ndarray:
        """Return each symbol's rate to the base currency as of now (1 for the base's)."""
        return self.balances.column_rates()

    def set_rates(self, bar: int) -> None:
        """Value every currency at the FX rates of bar ``bar`` (none before the first bar)."""
        if bar >= 0:
            self.balances.rates[:] = self._rates[bar]

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        """Return the working orders (of ``symbol`` only), oldest first."""
        self.hand_over()
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
            self._decided_mask[column] = True
            return
        self.pending_from[column] = max(self.bar, 0)
        self.pending = self.active = True

    def place_decided(self) -> None:
        """Send the market orders that reach this bar's new targets, sized at its closes.

        The same function the live runtime calls (:func:`orders_for_targets`), on the same
        account: cash, positions, working orders, and every symbol's latest close.
        """
        if self.unobserved and not self.exchange.has_working and self._decide():
            self.active = self.active or bool(self.unfilled)
            return
        self.hand_over()
        decided, self.decided = self.decided, {}
        self._decided_mask[:] = False
        closes = self.closes[max(self.bar, 0)]
        symbols = self.aligned.symbols
        cash = self.cash
        if self.currencies is not None:  # sized in the base currency
            closes, cash = closes * self.rates(), self.balances.in_base(cash)
        prices = {s: float(closes[c]) for c, s in enumerate(symbols) if not np.isnan(closes[c])}
        positions = {s: float(self.quantities[c]) for c, s in enumerate(symbols)}
        book = TargetBook(cash, positions, self.exchange.open_orders(), prices)
        for request in orders_for_targets(decided, book, self.sizing):
            order_id = self.new_order_id()
            if not self.context.risk_refused(order_id, request):
                self.exchange.submit(order_id, request, self.now, sized=True)
        self._update_active()

    def _update_active(self) -> None:
        self.active = self.pending or bool(self.unfilled) or self.exchange.has_working

    # -- target orders no one observes ---------------------------------------------------------

    def _decide(self) -> bool:
        """Size the decided targets in compiled code; keep their orders off the exchange.

        For a strategy without ``on_order``/``on_fill`` and without risk checks, with no order
        working at the exchange: the orders and their fills are exactly what the exchange would
        give (:func:`decide_targets_nb`), so each fill is booked on its bar by
        :meth:`_fill_unfilled` without order objects. Return ``False`` (nothing done) when the
        exchange must take them.
        """
        aligned, bar = self.aligned, self.bar
        written = decide_targets_nb(
            bar, self.offset, self._decided_mask, aligned.has_bar, aligned.open, aligned.high,
            aligned.low, aligned.close, aligned.volume, self.closes, self.quantities,
            self.account, self._waiting, self._decided_settings, self._costs, self._sized,
        )  # fmt: skip
        if written < 0:
            return False
        self.decided = {}
        for values in self._sized[:written].tolist():
            order_id = self._row_id()
            self.order_rows[order_id] = None
            self.unfilled.append((order_id, bar, *values))
            due = int(values[4])
            if due >= 0 and (self._due < 0 or due < self._due):
                self._due = due
        return True

    def _fill_unfilled(self) -> None:
        """Book the fills :meth:`_decide` worked out for this bar, symbol by symbol.

        The marks are left as they are: only the exchange's leverage cap and callbacks during
        execution read them, and the exchange path sets them before it steps any order.
        """
        bar = self.bar
        if self._due != bar:
            return
        unfilled = self.unfilled
        if len(unfilled) == 1:
            due, self.unfilled = unfilled, []
        else:
            due = sorted((o for o in unfilled if _fill_bar(o) == bar), key=_by_column)
            self.unfilled = [o for o in unfilled if _fill_bar(o) != bar]
        times, symbols = self.aligned.times, self.symbols
        fill_ns = int(times[bar])
        for order_id, decided, at, asked, capped, delta, _, traded, price, commission, after in due:
            column = int(at)
            self.account[0] -= traded * (price * self._terms[column, 0]) + commission
            self.quantities[column] = after
            self._waiting[column] = 0.0
            symbol = symbols[column]
            side = "buy" if traded > 0.0 else "sell"
            quantity = abs(traded)
            self.order_rows[order_id] = (
                order_id, symbol, int(times[decided]), side, "market", abs(delta), None, None,
                "filled", quantity, price * quantity / quantity, leverage_tag(asked, capped),
            )  # fmt: skip
            self.fill_rows.append(
                (fill_ns, order_id, f"{order_id}-1", symbol, side, quantity, price, commission,
                 "taker")
            )  # fmt: skip
            self._unbooked.append(len(self.fill_rows) - 1)
        self.changed = True
        self._due = _next_due(self.unfilled) if self.unfilled else -1

    def hand_over(self) -> None:
        """Send the target orders still to fill to the exchange (as sent when decided).

        Whenever the exchange or a reader needs them as orders: a strategy's own order or
        cancel, a read of the open orders, a target order the compiled step cannot fill whole.
        """
        self._book_positions()
        if not self.unfilled:
            return
        unfilled, self.unfilled = self.unfilled, []
        self._due = -1
        times = self.aligned.times
        for order_id, decided, at, asked, capped, delta, *_ in unfilled:
            column = int(at)
            self._waiting[column] = 0.0
            request = OrderRequest.market(
                self.symbols[column], delta, tag=leverage_tag(asked, capped)
            )
            created = datetime_from_ns(int(times[decided]))
            self.exchange.submit(ClientOrderId(order_id), request, created, sized=True)

    def _book_positions(self) -> None:
        """Give the account the fills compiled code booked in its arrays only (``absorb``).

        Deferred until the exchange is used, which is the only reader of the account's
        positions in a backtest: while no order is at the exchange they cost nothing, not even
        the row each would keep (fewer objects kept, fewer full garbage collections).
        """
        if not self._unbooked:
            return
        unbooked, self._unbooked = self._unbooked, []
        account, index = self.exchange.account, self.index
        for row in unbooked:
            ts, order_id, _, symbol, side, quantity, price, commission, _ = cast(
                "_FillRow", self.fill_rows[row]
            )
            signed = quantity if side == "buy" else -quantity
            account.absorb(index[symbol], (order_id, ts, signed, price, commission))

    # -- the loop ------------------------------------------------------------------------------

    def execute(self) -> None:
        """Step working orders, then pending targets (reductions first), of symbols with a bar."""
        self._execute()
        self._update_active()

    def _execute(self) -> None:
        exchange = self.exchange
        if self.unfilled:
            self._fill_unfilled()
            if not (self.pending or exchange.has_working):
                self._keep_changes()
                return
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

    def check_margin(self) -> None:
        """Mark every symbol at this bar's close; the exchange makes a margin call if one is due.

        Its liquidation orders meet the market on each symbol's next bar, like any order.
        """
        self.marks[:] = self.closes[self.bar]
        self._book_positions()  # the call reads the account's positions
        self.exchange.check_margin(self.now)
        self.active = self.active or self.exchange.has_working  # liquidations to execute

    def charge_carry(self, factors: np.ndarray) -> None:
        """Take short borrow and financing for the interval ending at this bar's start.

        The same compiled charge as the signal loop's, on the positions valued at the last
        closes before this bar.
        """
        previous = self.closes[self.bar - 1] if self.bar > 0 else self.marks
        if self.currencies is not None:
            self._charge_by_currency(self.currencies, previous)
            return
        charge = carry_cost_nb(self.cash, self.quantities, previous, factors[0], factors[1])
        if charge:
            self.account[0] -= charge
            self.changed = True
            self._keep_changes()

    def _charge_by_currency(self, currencies: CurrencyBook, previous: np.ndarray) -> None:
        """Take each currency's borrow and financing from that currency's cash."""
        balances = self.balances
        cash = balances.cash.copy()
        cash[0] = self.cash
        factors = currencies.carry[self.bar, self._rate_index]
        charges = carry_charges(cash, self.quantities, previous, balances.of_column, factors)
        if charges.any():
            self.account[0] -= charges[0]
            balances.cash[1:] -= charges[1:]
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
            self._changes.append(
                (self.bar, self.cash, self.quantities.copy(), self.balances.cash.copy())
            )
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
        order_id = self._row_id()
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
            self._unbooked.append(len(self.fill_rows) - 1)

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
        self.hand_over()
        intents, self.context.intents = self.context.intents, []
        exchange, now = self.exchange, self.now
        for intent in intents:
            if intent.kind == "cancel":
                exchange.cancel(intent.order_id, now, "cancelled by the strategy")
            elif intent.request is not None:
                exchange.submit(intent.order_id, intent.request, now)
        self._update_active()

    def ledger(self) -> Ledger:
        """Return what the loop produced, cash and positions carried forward between changes."""
        self.hand_over()
        rows = [
            row
            if row is not None
            else order_row(
                self.orders[cast("ClientOrderId", order_id)],
                self.exchange.notes.get(cast("ClientOrderId", order_id)),
            )
            for order_id, row in self.order_rows.items()
        ]
        orders = pl.DataFrame(
            rows, schema={**ORDER_SCHEMA, "created_ts": pl.Int64}, orient="row"
        ).with_columns(pl.col("created_ts").cast(TIMESTAMP_DTYPE))
        fills = pl.DataFrame(
            self.fill_rows, schema={**FILL_SCHEMA, "ts": pl.Int64}, orient="row"
        ).with_columns(pl.col("ts").cast(TIMESTAMP_DTYPE))
        cash, positions, balances = self._carried()
        calls = margin_call_frame(self.exchange.margin_calls)
        paid = tuple(self.funding_rows)
        if self.currencies is None:
            return Ledger(
                self.aligned, cash, positions, fills, orders, margin_calls=calls, funding=paid
            )
        local = balances[:, np.argsort(self._rate_index)]  # in the order of the currency book
        local[:, 0] = cash
        in_base = (local * self.currencies.rates).sum(axis=1)
        return Ledger(
            self.aligned, in_base, positions, fills, orders, self.currencies, local, calls, paid
        )

    def _carried(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        times = self.aligned.times.shape[0]
        cash = np.full(times, self.config.cash)
        positions = np.zeros(self.aligned.close.shape)
        balances = np.zeros((times, self.balances.cash.shape[0]))
        if not self._changes:
            return cash, positions, balances
        latest = np.full(times, -1, dtype=np.int64)
        latest[[change[0] for change in self._changes]] = np.arange(len(self._changes))
        np.maximum.accumulate(latest, out=latest)
        seen = latest >= 0
        picked = np.maximum(latest, 0)
        changed_cash = np.array([change[1] for change in self._changes])
        changed_positions = np.stack([change[2] for change in self._changes])
        changed_balances = np.stack([change[3] for change in self._changes])
        cash = np.where(seen, changed_cash[picked], self.config.cash)
        positions = np.where(seen[:, None], changed_positions[picked], 0.0)
        balances = np.where(seen[:, None], changed_balances[picked], 0.0)
        return cash, positions, balances


def _bar_length(aligned: AlignedBars) -> timedelta:
    """Return the smallest step between bar times (zero with a single bar time)."""
    steps = np.diff(aligned.times)
    positive = steps[steps > 0]
    return timedelta(microseconds=int(positive.min()) // 1000) if positive.size else timedelta(0)


def run_event(
    strategy: EventStrategy,
    aligned: AlignedBars,
    config: BacktestConfig,
    currencies: CurrencyBook | None = None,
    funding: FundingRates | None = None,
    *,
    compiled: bool = True,
) -> Ledger:
    """Drive ``strategy`` through the aligned bars and return the ledger.

    ``currencies``: the run's currencies and FX rates when not everything is in the base; the
    orders of a bar meet the market at the rates of the bar before (no later rate is known
    then), the strategy decides at its own bar's. ``funding``: perpetual funding rates, paid at
    the start of the first bar at or after each funding time (:meth:`EventBook.pay_funding`).
    ``compiled=False``: every target order sized at the decision goes through the exchange
    (so does every order of a run paying funding).
    """
    fast = compiled and funding is None
    book = EventBook(aligned, config, strategy, currencies, compiled=fast)
    context, snapshot = book.context, book.snapshot
    strategy.on_start(context)
    book.declaring = False
    book.drain()
    on_bar = strategy.on_bar
    before, after = book.offset == 1, book.offset == 0
    carry = config.carry_factors(aligned.times)
    charging = bool(np.any(carry if currencies is None else currencies.carry))
    margined = config.calls_margin(aligned.symbols)
    for bar in range(aligned.times.shape[0]):
        book.bar = bar
        if charging:
            book.charge_carry(carry[bar])
        if funding is not None:
            book.pay_funding(funding)
        if before and book.active:
            if currencies is not None:
                book.set_rates(bar - 1)
            book.execute()
        if currencies is not None:
            book.set_rates(bar)
        on_bar(snapshot, context)
        if context.intents:
            book.drain()
        if book.decided:
            book.place_decided()
        if after and book.active:
            book.execute()
        if margined:
            book.check_margin()
    strategy.on_stop(context)
    book.drain()
    return book.ledger()
