"""The live state as the fold of the journal: orders, positions, cash and trading states.

The order manager changes its state only by appending an entry to the journal and folding
that same entry into :class:`LiveState`, so replaying the journal after a restart rebuilds an
equal state (the test suite checks ``LiveState.fold(journal.replay()) == manager.state``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from quantstrata.execution.risk import TradingState
from quantstrata.live._notebook import order_book_html, plot_order_book
from quantstrata.live.journal.entries import (
    Alarm,
    BarHandled,
    CancelIntent,
    CashSet,
    Checkpoint,
    JournalError,
    JournalRecord,
    RiskRejection,
    TradingStateChange,
)
from quantstrata.model.identifiers import ClientOrderId, Symbol
from quantstrata.model.orders import (
    Fill,
    FillEvent,
    InvalidOrderError,
    Order,
    OrderStateError,
    OrderStatus,
    Resolved,
    Submitted,
)
from quantstrata.model.position import Position

__all__ = ["ACKNOWLEDGED", "LiveState", "StateAccount"]

ACKNOWLEDGED = frozenset({OrderStatus.PENDING, OrderStatus.PARTIAL})
"""Statuses in which a cancel may be sent (the venue knows the order)."""


@dataclass(eq=True)
class LiveState:
    """Everything the order manager knows, rebuilt by folding journal records in order.

    ``orders`` by client order id; ``positions`` by symbol (from the fills booked);
    ``cash`` set by :class:`CashSet` entries and moved by fills (quantity × price × the
    symbol's contract multiplier in ``multipliers``, 1 when absent, and commission);
    ``trading`` the trading states set (key ``None``: global);
    ``deferred_cancels`` cancels waiting for an acknowledgement; ``submitted`` the number of
    orders created (it numbers client order ids); ``checkpoints`` the latest of each label;
    ``last_bar`` the open time of the last bar time the runtime handled and ``bar_targets``
    the targets it held then (where a restarted run resumes).
    """

    orders: dict[ClientOrderId, Order] = field(default_factory=dict)
    positions: dict[Symbol, Position] = field(default_factory=dict)
    cash: float = 0.0
    trading: dict[Symbol | None, TradingState] = field(default_factory=dict)
    deferred_cancels: set[ClientOrderId] = field(default_factory=set)
    checkpoints: dict[str, Checkpoint] = field(default_factory=dict)
    last_bar: datetime | None = None
    bar_targets: dict[str, float] = field(default_factory=dict)
    submitted: int = 0
    rejections: int = 0
    alarms: int = 0
    last_sequence: int = 0
    multipliers: Mapping[str, float] = field(default_factory=dict, compare=False)
    # The ids of the non-terminal orders, in submission order: the runtime asks for the open
    # orders at every bar, and scanning every order ever sent would grow with the run.
    _open: dict[ClientOrderId, None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        """Index the open orders of a state built with orders (as a snapshot or a test does)."""
        self._open = {
            order_id: None for order_id, order in self.orders.items() if not order.is_terminal
        }

    @classmethod
    def fold(
        cls, records: Iterable[JournalRecord], multipliers: Mapping[str, float] | None = None
    ) -> LiveState:
        """Return the state after applying ``records`` in order to an empty state.

        ``multipliers`` are the contract multipliers of symbols that have one.
        """
        state = cls(multipliers=dict(multipliers or {}))
        for record in records:
            state.apply(record)
        return state

    def position(self, symbol: str) -> Position:
        """Return the position in ``symbol`` (flat when nothing was ever booked)."""
        return self.positions.get(Symbol(symbol), Position.flat(symbol))

    def equity(self, marks: Mapping[str, float]) -> float:
        """Return cash plus every position valued at ``marks`` (its average price if unmarked)."""
        return self.cash + sum(
            position.quantity
            * (float(marks.get(symbol, position.average_price)) * self.multipliers.get(symbol, 1.0))
            for symbol, position in self.positions.items()
            if not position.is_flat
        )

    def open_orders(self) -> list[Order]:
        """Return the orders that are not terminal, oldest first."""
        orders = self.orders
        return [orders[order_id] for order_id in self._open]

    def plot(self) -> Any:
        """Return a Plotly bar chart of each symbol's position and its open orders' quantity."""
        return plot_order_book(self)

    def _repr_html_(self) -> str:
        """Show the order book in a notebook: cash, open orders and positions."""
        return order_book_html(self, "LiveState: order book")

    def apply(self, record: JournalRecord) -> list[Fill]:
        """Fold ``record``; return the fills it booked (they moved positions and cash)."""
        if record.sequence != self.last_sequence + 1:
            raise JournalError(
                f"journal record {record.sequence} applied after {self.last_sequence}"
            )
        entry = record.entry
        booked: list[Fill] = []
        if isinstance(entry, Submitted):
            self._submit(entry)
        elif isinstance(entry, RiskRejection):
            self.rejections += 1
        elif isinstance(entry, CancelIntent):
            self.deferred_cancels.add(entry.order_id)
        elif isinstance(entry, TradingStateChange):
            self.trading[entry.symbol] = entry.state
        elif isinstance(entry, Alarm):
            self.alarms += 1
        elif isinstance(entry, CashSet):
            self.cash = entry.cash
        elif isinstance(entry, Checkpoint):
            self.checkpoints[entry.label] = entry
        elif isinstance(entry, BarHandled):
            self.last_bar = entry.ts
            self.bar_targets = dict(entry.targets)
        else:
            booked = self._order_event(record.sequence, entry)
        self.last_sequence = record.sequence
        return booked

    def _submit(self, entry: Submitted) -> None:
        if entry.order_id in self.orders:
            raise JournalError(f"order {entry.order_id} submitted twice in the journal")
        order = Order.submit(entry)
        self.orders[entry.order_id] = order
        if not order.is_terminal:
            self._open[entry.order_id] = None
        self.submitted += 1

    def _order_event(self, sequence: int, event: object) -> list[Fill]:
        order_id = getattr(event, "order_id", None)
        order = self.orders.get(order_id)  # type: ignore[arg-type]
        if order is None:
            raise JournalError(f"journal record {sequence}: event for unknown order {order_id}")
        try:
            after = order.apply(event)  # type: ignore[arg-type]
        except (OrderStateError, InvalidOrderError) as error:
            raise JournalError(f"journal record {sequence} cannot be applied: {error}") from error
        self.orders[order.order_id] = after
        if after.is_terminal:
            self._open.pop(order.order_id, None)
        if after.is_terminal or after.status is OrderStatus.PENDING_CANCEL:
            self.deferred_cancels.discard(order.order_id)
        new_trades = after.trade_ids - order.trade_ids
        if not new_trades:
            return []
        candidates: tuple[Fill, ...] = ()
        if isinstance(event, FillEvent):
            candidates = (event.fill,)
        elif isinstance(event, Resolved):
            candidates = event.fills
        booked: list[Fill] = []
        for fill in candidates:
            if fill.trade_id not in new_trades:
                continue
            new_trades = new_trades - {fill.trade_id}
            booked.append(fill)
            self.positions[fill.symbol] = self.position(fill.symbol).apply(fill)
            multiplier = self.multipliers.get(fill.symbol, 1.0)
            self.cash -= fill.signed_quantity * (fill.price * multiplier) + fill.commission
        return booked


class StateAccount:
    """A live state as the strategy context reads it (an ``AccountView``)."""

    def __init__(self, state: LiveState) -> None:
        """Read ``state`` (the order manager's, updated in place) at every call."""
        self._state = state

    @property
    def cash(self) -> float:
        """Cash after every fill booked."""
        return self._state.cash

    def position(self, symbol: str) -> float:
        """Return the signed quantity held in ``symbol``."""
        return self._state.position(symbol).quantity

    def open_orders(self, symbol: str | None = None) -> Sequence[Order]:
        """Return the working orders (of ``symbol`` only), oldest first."""
        found = sorted(self._state.open_orders(), key=lambda o: (o.created_at, o.order_id))
        return [order for order in found if symbol is None or order.symbol == symbol]

    def multiplier(self, symbol: str) -> float:
        """Return the contract multiplier of ``symbol`` (1 for cash products)."""
        return self._state.multipliers.get(symbol, 1.0)
