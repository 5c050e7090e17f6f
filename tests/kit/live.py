"""A scripted venue (a real :class:`~quantstrata.live.broker.Broker` with programmable faults),
helpers to drive the order manager, and Hypothesis strategies for journal entries.

:class:`ScriptedVenue` is a fake *provider*: it implements the broker protocol as a venue
would (orders, fills, updates pushed, idempotent submit by client order id) and misbehaves
exactly as told: a submit that times out after the venue accepted it, one that times out
before it arrived, a rejection, a fill pushed before the acknowledgement, a fill pushed twice,
a cancel that races a fill, queries that fail.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum

from hypothesis import strategies as st

from quantstrata.core.clock import SimulatedClock
from quantstrata.execution.risk import RiskFailure, TradingState
from quantstrata.live.broker import (
    AccountSnapshot,
    BrokerUnavailableError,
    OrderRejectedError,
    SubmitOutcomeUnknownError,
    VenueOrder,
)
from quantstrata.live.journal import (
    Alarm,
    CancelIntent,
    CashSet,
    Checkpoint,
    JournalEntry,
    RiskRejection,
    TradingStateChange,
)
from quantstrata.model.identifiers import ClientOrderId, Symbol, TradeId, VenueOrderId
from quantstrata.model.orders import (
    Accepted,
    Cancelled,
    CancelRejected,
    CancelRequested,
    Expired,
    Fill,
    FillEvent,
    Liquidity,
    OrderEvent,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    Rejected,
    Resolved,
    Submitted,
    TimedOut,
)

__all__ = [
    "START",
    "SYMBOL",
    "Fault",
    "ScriptedVenue",
    "journal_entries",
    "settle",
]

START = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
SYMBOL = Symbol("BTC-USD")


async def settle(rounds: int = 20) -> None:
    """Let other tasks (the update consumer) run until they are idle."""
    for _ in range(rounds):
        await asyncio.sleep(0)


class Fault(StrEnum):
    """How the scripted venue answers the next submit."""

    NONE = "none"
    REJECT = "reject"
    TIMEOUT_BUT_ACCEPTED = "timeout_but_accepted"
    TIMEOUT_NOT_RECEIVED = "timeout_not_received"
    FILL_BEFORE_ACK = "fill_before_ack"


@dataclass(slots=True)
class _Entry:
    order_id: ClientOrderId
    venue_order_id: VenueOrderId
    request: OrderRequest
    status: OrderStatus
    updated_at: datetime
    filled: float = 0.0
    notional: float = 0.0

    def report(self) -> VenueOrder:
        return VenueOrder(
            self.order_id,
            self.venue_order_id,
            self.request.symbol,
            self.request,
            self.status,
            self.filled,
            self.notional / self.filled if self.filled else None,
            self.updated_at,
        )


class ScriptedVenue:
    """A venue with a book, fills and a push stream, whose faults a test scripts."""

    def __init__(self, clock: SimulatedClock, *, cash: float = 100_000.0) -> None:
        self.clock = clock
        self.cash = cash
        self.positions: dict[str, float] = {}
        self.book: dict[ClientOrderId, _Entry] = {}
        self.trades: list[Fill] = []
        self.received: list[tuple[ClientOrderId, OrderRequest]] = []
        self.cancels: list[ClientOrderId] = []
        self.faults: list[Fault] = []
        self.unavailable = False
        self.cancel_races_fill = False
        self.fill_price = 100.0
        self._queue: asyncio.Queue[OrderEvent | None] = asyncio.Queue()

    @property
    def name(self) -> str:
        return "scripted"

    async def connect(self) -> None:
        return None

    async def close(self) -> None:
        self._queue.put_nowait(None)

    async def submit(self, order_id: ClientOrderId, request: OrderRequest) -> VenueOrderId:
        self.received.append((order_id, request))
        fault = self.faults.pop(0) if self.faults else Fault.NONE
        if fault is Fault.REJECT:
            raise OrderRejectedError(f"{order_id} rejected", "insufficient margin")
        if fault is Fault.TIMEOUT_NOT_RECEIVED:
            raise SubmitOutcomeUnknownError(f"{order_id}: no answer in 5 s")
        known = self.book.get(order_id)
        if known is not None:
            return known.venue_order_id
        entry = _Entry(
            order_id,
            VenueOrderId(f"V{len(self.book) + 1}"),
            request,
            OrderStatus.PENDING,
            self.clock.now(),
        )
        self.book[order_id] = entry
        if fault is Fault.TIMEOUT_BUT_ACCEPTED:
            raise SubmitOutcomeUnknownError(f"{order_id}: no answer in 5 s")
        if fault is Fault.FILL_BEFORE_ACK:
            self.execute(order_id, request.quantity)
            await settle()
        return entry.venue_order_id

    def execute(
        self,
        order_id: str,
        quantity: float,
        *,
        price: float | None = None,
        push: bool = True,
        twice: bool = False,
    ) -> Fill:
        """Fill ``quantity`` of an order; push the fill (twice when asked) or keep it silent."""
        entry = self.book[ClientOrderId(order_id)]
        fill = Fill(
            entry.order_id,
            TradeId(f"T{len(self.trades) + 1}"),
            entry.request.symbol,
            entry.request.side,
            quantity,
            self.fill_price if price is None else price,
            0.0,
            self.clock.now(),
            Liquidity.TAKER,
            entry.venue_order_id,
        )
        self.trades.append(fill)
        entry.filled += quantity
        entry.notional += quantity * fill.price
        if entry.status is not OrderStatus.CANCELLED:
            full = entry.filled >= entry.request.quantity - 1e-12
            entry.status = OrderStatus.FILLED if full else OrderStatus.PARTIAL
        entry.updated_at = self.clock.now()
        symbol = str(entry.request.symbol)
        self.positions[symbol] = self.positions.get(symbol, 0.0) + fill.signed_quantity
        self.cash -= fill.signed_quantity * fill.price
        if push:
            self._queue.put_nowait(FillEvent(fill))
            if twice:
                self._queue.put_nowait(FillEvent(fill))
        return fill

    def adopt_foreign(self, order_id: str, request: OrderRequest) -> _Entry:
        """Place an order at the venue that the order manager never sent."""
        entry = _Entry(
            ClientOrderId(order_id),
            VenueOrderId(f"F{len(self.book) + 1}"),
            request,
            OrderStatus.PENDING,
            self.clock.now(),
        )
        self.book[entry.order_id] = entry
        return entry

    async def cancel(self, order_id: ClientOrderId) -> None:
        self.cancels.append(order_id)
        if self.unavailable:
            raise BrokerUnavailableError("venue down")
        entry = self.book.get(order_id)
        if entry is None:
            raise OrderRejectedError("unknown order", "unknown order")
        if self.cancel_races_fill and not entry.status.is_terminal:
            self.execute(order_id, entry.request.quantity - entry.filled)
        if entry.status.is_terminal:
            raise OrderRejectedError(f"{order_id} is {entry.status}", "order already closed")
        entry.status = OrderStatus.CANCELLED
        entry.updated_at = self.clock.now()
        self._queue.put_nowait(Cancelled(order_id, self.clock.now(), "cancelled on request"))

    async def query_order(self, order_id: ClientOrderId) -> VenueOrder | None:
        if self.unavailable:
            raise BrokerUnavailableError("venue down")
        entry = self.book.get(order_id)
        return None if entry is None else entry.report()

    async def open_orders(self) -> list[VenueOrder]:
        if self.unavailable:
            raise BrokerUnavailableError("venue down")
        return [e.report() for e in self.book.values() if not e.status.is_terminal]

    async def fills(self, since: datetime | None = None) -> list[Fill]:
        if self.unavailable:
            raise BrokerUnavailableError("venue down")
        return [f for f in self.trades if since is None or f.ts >= since]

    async def account(self) -> AccountSnapshot:
        if self.unavailable:
            raise BrokerUnavailableError("venue down")
        return AccountSnapshot(self.cash, dict(self.positions), self.clock.now())

    async def updates(self) -> AsyncIterator[OrderEvent]:
        while True:
            event = await self._queue.get()
            if event is None:
                return
            yield event


# ---------------------------------------------------------------- Hypothesis strategies

_offsets = st.sampled_from(
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
)
_times = st.builds(
    lambda seconds, micros, zone: (
        START + timedelta(seconds=seconds, microseconds=micros)
    ).astimezone(zone),
    st.integers(0, 10**8),
    st.integers(0, 999_999),
    _offsets,
)
_positive = st.floats(min_value=1e-9, max_value=1e12, allow_nan=False, allow_infinity=False)
_ids = st.from_regex(r"[A-Za-z0-9_-]{1,36}", fullmatch=True).map(ClientOrderId)
_text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=30
).filter(
    lambda text: (
        text.strip() == text and bool(text) and all(ord(c) >= 32 and ord(c) != 127 for c in text)
    )
)
_symbols = st.sampled_from([SYMBOL, Symbol("ETH/USDT"), Symbol("ÄPFEL.DE")])


@st.composite
def _requests(draw: st.DrawFn) -> OrderRequest:
    kind = draw(st.sampled_from(list(OrderType)))
    prices: dict[str, float] = {}
    if kind in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        prices["limit_price"] = draw(_positive)
    if kind in (OrderType.STOP, OrderType.STOP_LIMIT):
        prices["stop_price"] = draw(_positive)
    if kind is OrderType.TRAILING_STOP:
        prices["trail_percent"] = draw(st.floats(0.001, 0.5))
    return OrderRequest(
        draw(_symbols),
        draw(st.sampled_from(list(OrderSide))),
        draw(_positive),
        kind,
        tag=draw(st.none() | st.just("entry")),
        reduce_only=draw(st.booleans()),
        **prices,
    )


@st.composite
def _fills(draw: st.DrawFn, order_id: ClientOrderId | None = None) -> Fill:
    return Fill(
        order_id if order_id is not None else draw(_ids),
        TradeId(draw(_text)),
        draw(_symbols),
        draw(st.sampled_from(list(OrderSide))),
        draw(_positive),
        draw(_positive),
        draw(st.floats(0, 1e6)),
        draw(_times),
        draw(st.sampled_from(list(Liquidity))),
        draw(st.none() | _text.map(VenueOrderId)),
    )


@st.composite
def _resolved(draw: st.DrawFn) -> Resolved:
    order_id = draw(_ids)
    status = draw(
        st.sampled_from([None, OrderStatus.PENDING, OrderStatus.PARTIAL, OrderStatus.CANCELLED])
    )
    if status is None:
        return Resolved.not_found(order_id, draw(_times))
    fills: tuple[Fill, ...] = ()
    if status is OrderStatus.PARTIAL:
        fills = tuple(draw(st.lists(_fills(order_id), min_size=1, max_size=3)))
    return Resolved(order_id, draw(_times), status, VenueOrderId(draw(_text)), fills)


_checkpoint_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**62), 2**62),
    _text,
    st.floats(allow_nan=False, allow_infinity=False),
)


def journal_entries() -> st.SearchStrategy[JournalEntry]:
    """Draw any journal entry, with awkward floats, offsets and text."""
    return st.one_of(
        st.builds(Submitted, _ids, _times, _requests()),
        st.builds(Accepted, _ids, _times, _text.map(VenueOrderId)),
        st.builds(Rejected, _ids, _times, _text),
        st.builds(FillEvent, _fills()),
        st.builds(CancelRequested, _ids, _times),
        st.builds(CancelRejected, _ids, _times, _text),
        st.builds(Cancelled, _ids, _times, st.just("") | _text),
        st.builds(Expired, _ids, _times),
        st.builds(TimedOut, _ids, _times, _text),
        _resolved(),
        st.builds(
            RiskRejection,
            _times,
            _requests(),
            st.lists(
                st.builds(
                    RiskFailure,
                    _text,
                    _text,
                    st.none() | _positive | _text,
                    st.none() | _positive,
                ),
                max_size=3,
            ).map(tuple),
        ),
        st.builds(CancelIntent, _ids, _times),
        st.builds(
            TradingStateChange,
            _times,
            st.none() | _symbols,
            st.sampled_from(list(TradingState)),
            _text,
        ),
        st.builds(Alarm, _times, _text, _text, st.none() | _ids, st.none() | _symbols),
        st.builds(CashSet, _times, st.floats(-1e12, 1e12), _text),
        st.builds(
            Checkpoint, _times, _text, st.dictionaries(_text, _checkpoint_values, max_size=4)
        ),
    )


# ---------------------------------------------------------------- random journaled runs

_OPERATIONS = (
    "submit",
    "ack",
    "fill",
    "duplicate_fill",
    "cancel_request",
    "cancelled",
    "reject",
    "timeout",
    "not_found",
    "expire",
    "trading",
    "cash",
)


def operations() -> st.SearchStrategy[list[tuple[str, int, float]]]:
    """Draw a run as operations ``(name, order index, number)``; many are illegal on purpose."""
    return st.lists(
        st.tuples(
            st.sampled_from(_OPERATIONS),
            st.integers(0, 5),
            st.floats(0.05, 1.0, allow_nan=False),
        ),
        max_size=60,
    )


def _event_for(
    name: str,
    order_id: ClientOrderId,
    number: float,
    *,
    ts: datetime,
    remaining: float,
    serial: int,
) -> JournalEntry | None:
    if name == "ack":
        return Accepted(order_id, ts, VenueOrderId(f"V-{order_id}"))
    if name in ("fill", "duplicate_fill"):
        if remaining <= 0:
            return None
        trade = TradeId(f"T{order_id}-{1 if name == 'duplicate_fill' else serial}")
        quantity = remaining if number > 0.7 else remaining * number
        side = OrderSide.BUY if int(order_id.rsplit("-", 1)[1]) % 2 else OrderSide.SELL
        return FillEvent(
            Fill(order_id, trade, SYMBOL, side, quantity, 100.0 + number, 0.01, ts, Liquidity.TAKER)
        )
    simple = {
        "cancel_request": lambda: CancelRequested(order_id, ts),
        "cancelled": lambda: Cancelled(order_id, ts, "by venue"),
        "reject": lambda: Rejected(order_id, ts, "no margin"),
        "timeout": lambda: TimedOut(order_id, ts, "slow"),
        "not_found": lambda: Resolved.not_found(order_id, ts),
        "expire": lambda: Expired(order_id, ts),
    }
    return simple[name]()


def run_operations(journal: object, script: list[tuple[str, int, float]]) -> object:
    """Journal-then-fold ``script`` the way the order manager does; return the live state.

    Events the order would ignore, refuse as illegal, or that are duplicates are not
    journaled, exactly as in :meth:`OrderManager.apply_update`.
    """
    from quantstrata.live.state import LiveState
    from quantstrata.model.orders import EventOutcome, InvalidOrderError, OrderStateError

    state = LiveState()
    ids: list[ClientOrderId] = []
    for serial, (name, index, number) in enumerate(script):
        ts = START + timedelta(seconds=serial)
        entry: JournalEntry | None
        if name == "submit":
            order_id = ClientOrderId(f"run-{len(ids) + 1}")
            side = OrderSide.BUY if (len(ids) + 1) % 2 else OrderSide.SELL
            entry = Submitted(order_id, ts, OrderRequest(SYMBOL, side, round(number * 10, 3)))
            ids.append(order_id)
        elif name == "trading":
            entry = TradingStateChange(ts, SYMBOL, list(TradingState)[index % 3], "test")
        elif name == "cash":
            entry = CashSet(ts, number * 1_000, "deposit")
        elif not ids:
            continue
        else:
            order = state.orders[ids[index % len(ids)]]
            entry = _event_for(
                name,
                order.order_id,
                number,
                ts=ts,
                remaining=order.remaining_quantity,
                serial=serial,
            )
            if entry is None:
                continue
            try:
                outcome = order.apply_with_outcome(entry).outcome  # type: ignore[arg-type]
            except (OrderStateError, InvalidOrderError):
                continue
            if outcome is not EventOutcome.APPLIED:
                continue
        state.apply(journal.append(entry))  # type: ignore[attr-defined]
    return state
