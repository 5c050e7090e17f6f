"""Reconciliation: compare what the order manager believes with what the venue reports.

Three pure comparisons return typed :class:`Mismatch` values:

- :func:`compare_orders`: open orders at the venue against ours (an order we never sent, an
  order we think working that the venue no longer lists, an order we closed that still works);
- :func:`compare_fills`: the venue's fills against the trade ids booked on our orders (a fill
  we missed, a fill of an order we do not know);
- :func:`compare_positions`: the venue's positions against ours;
- :func:`compare_margin`: the venue's equity against the maintenance margin it reports (a
  venue in a margin call: its liquidations are its own orders, adopted as they come).

:func:`reconcile` runs one cycle against the broker: it adopts unknown venue orders (and
alarms), resolves orders missing at the venue by querying them, books missed fills (their
trade ids de-duplicate them), and moves every symbol whose position still disagrees to the
``halted`` (or ``reducing``) trading state; an account below its maintenance margin moves
every symbol to ``reducing``. A query that fails
(:class:`~quantstrata.live.broker.BrokerUnavailableError`) skips the whole cycle: nothing is
assumed, in particular never a flat position.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from quantstrata.execution.risk import TradingState
from quantstrata.live.broker import AccountSnapshot, BrokerUnavailableError, VenueOrder
from quantstrata.live.orders import OrderManager
from quantstrata.model.identifiers import ClientOrderId, Symbol, TradeId
from quantstrata.model.orders import Fill, FillEvent, Order, OrderStatus
from quantstrata.model.position import Position

__all__ = [
    "RECONCILED",
    "Mismatch",
    "MismatchKind",
    "ReconcileReport",
    "compare_balances",
    "compare_fills",
    "compare_margin",
    "compare_orders",
    "compare_positions",
    "reconcile",
]

RECONCILED = "reconciled"
"""Checkpoint label written after each completed cycle."""

_AT_VENUE = frozenset({OrderStatus.PENDING, OrderStatus.PARTIAL, OrderStatus.PENDING_CANCEL})


class MismatchKind(StrEnum):
    """What disagrees between our state and the venue's."""

    UNKNOWN_VENUE_ORDER = "unknown_venue_order"
    MISSING_AT_VENUE = "missing_at_venue"
    CLOSED_BUT_WORKING = "closed_but_working"
    MISSING_FILL = "missing_fill"
    UNKNOWN_FILL = "unknown_fill"
    POSITION = "position"
    BALANCE = "balance"
    MARGIN = "margin"


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One disagreement: its kind, a message, and where (order, symbol, trade) with values."""

    kind: MismatchKind
    message: str
    symbol: Symbol | None = None
    order_id: ClientOrderId | None = None
    trade_id: TradeId | None = None
    ours: float | str | None = None
    theirs: float | str | None = None


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    """The result of one cycle: what disagreed and what was done about it.

    ``skipped`` is true when a venue query failed; then ``reason`` says why and nothing else
    was compared or changed.
    """

    ts: datetime
    skipped: bool = False
    reason: str = ""
    mismatches: tuple[Mismatch, ...] = ()
    adopted: tuple[ClientOrderId, ...] = ()
    booked: tuple[TradeId, ...] = ()
    halted: tuple[Symbol, ...] = ()

    @property
    def clean(self) -> bool:
        """Whether the cycle ran and found nothing."""
        return not self.skipped and not self.mismatches


def compare_orders(
    ours: Mapping[ClientOrderId, Order], venue: Sequence[VenueOrder]
) -> list[Mismatch]:
    """Return the mismatches between our orders and the venue's open orders."""
    mismatches: list[Mismatch] = []
    listed = {order.order_id: order for order in venue}
    for order_id, reported in listed.items():
        mine = ours.get(order_id)
        if mine is None:
            mismatches.append(
                Mismatch(
                    MismatchKind.UNKNOWN_VENUE_ORDER,
                    f"venue order {reported.venue_order_id} ({order_id}) is not ours",
                    reported.symbol,
                    order_id,
                    theirs=str(reported.status),
                )
            )
        elif mine.is_terminal:
            mismatches.append(
                Mismatch(
                    MismatchKind.CLOSED_BUT_WORKING,
                    f"order {order_id} is {mine.status} here but working at the venue",
                    mine.symbol,
                    order_id,
                    ours=str(mine.status),
                    theirs=str(reported.status),
                )
            )
    for order_id, mine in ours.items():
        if mine.status in _AT_VENUE and order_id not in listed:
            mismatches.append(
                Mismatch(
                    MismatchKind.MISSING_AT_VENUE,
                    f"order {order_id} is {mine.status} here but not open at the venue",
                    mine.symbol,
                    order_id,
                    ours=str(mine.status),
                )
            )
    return mismatches


def compare_fills(ours: Mapping[ClientOrderId, Order], venue: Sequence[Fill]) -> list[Mismatch]:
    """Return the venue fills not booked on our orders (each trade id once)."""
    mismatches: list[Mismatch] = []
    seen: set[TradeId] = set()
    for fill in venue:
        if fill.trade_id in seen:
            continue
        seen.add(fill.trade_id)
        mine = ours.get(fill.order_id)
        if mine is None:
            mismatches.append(
                Mismatch(
                    MismatchKind.UNKNOWN_FILL,
                    f"fill {fill.trade_id} of unknown order {fill.order_id}",
                    fill.symbol,
                    fill.order_id,
                    fill.trade_id,
                    theirs=fill.signed_quantity,
                )
            )
        elif fill.trade_id not in mine.trade_ids:
            mismatches.append(
                Mismatch(
                    MismatchKind.MISSING_FILL,
                    f"fill {fill.trade_id} of order {fill.order_id} was never booked",
                    fill.symbol,
                    fill.order_id,
                    fill.trade_id,
                    theirs=fill.signed_quantity,
                )
            )
    return mismatches


def compare_positions(
    ours: Mapping[Symbol, Position], venue: Mapping[str, float], *, tolerance: float = 1e-9
) -> list[Mismatch]:
    """Return the symbols whose signed quantities differ beyond a relative ``tolerance``."""
    mismatches: list[Mismatch] = []
    symbols = sorted({str(symbol) for symbol in ours} | set(venue))
    for symbol in symbols:
        position = ours.get(Symbol(symbol))
        mine = 0.0 if position is None else position.quantity
        theirs = float(venue.get(symbol, 0.0))
        if not math.isclose(mine, theirs, rel_tol=tolerance, abs_tol=tolerance):
            mismatches.append(
                Mismatch(
                    MismatchKind.POSITION,
                    f"position in {symbol}: {mine!r} here, {theirs!r} at the venue",
                    Symbol(symbol),
                    ours=mine,
                    theirs=theirs,
                )
            )
    return mismatches


def compare_balances(
    positions: Mapping[Symbol, Position],
    cash: float,
    currency_of: Mapping[str, str],
    venue: Mapping[str, float],
    *,
    tolerance: float = 1e-9,
) -> list[Mismatch]:
    """Return the currencies whose cash differs from the venue's (several currencies only).

    ``venue`` is the cash per currency the venue reports, its base currency (that of ``cash``)
    first; ``currency_of`` says which symbols settle outside it. Our cash in a currency is
    what the fills of its symbols moved: ``realized_pnl − quantity × average_price`` of each
    position (realized PnL is net of commissions); the base keeps ``cash`` less those.
    """
    if len(venue) <= 1:
        return []  # one currency: nothing beyond the cash the runtime already trusts
    base = next(iter(venue))
    ours = dict.fromkeys(venue, 0.0)
    for symbol, position in positions.items():
        code = currency_of.get(str(symbol), base)
        if code != base:
            moved = position.realized_pnl - position.quantity * position.average_price
            ours[code] = ours.get(code, 0.0) + moved
            cash -= moved
    ours[base] = cash
    return [
        Mismatch(
            MismatchKind.BALANCE,
            f"cash in {code}: {mine!r} here, {venue.get(code, 0.0)!r} at the venue",
            ours=mine,
            theirs=float(venue.get(code, 0.0)),
        )
        for code, mine in ours.items()
        if not math.isclose(mine, venue.get(code, 0.0), rel_tol=tolerance, abs_tol=1e-6)
    ]


def compare_margin(account: AccountSnapshot) -> list[Mismatch]:
    """Return a mismatch when the venue's equity is below the maintenance margin it reports."""
    equity, maintenance = account.equity, account.maintenance_margin
    if equity is None or maintenance is None or equity >= maintenance:
        return []
    return [
        Mismatch(
            MismatchKind.MARGIN,
            f"margin call at the venue: equity {equity:,.2f} below the maintenance margin "
            f"{maintenance:,.2f}; only reducing orders pass",
            ours=equity,
            theirs=maintenance,
        )
    ]


def _fills_since(manager: OrderManager, lookback: timedelta) -> datetime | None:
    previous = manager.state.checkpoints.get(RECONCILED)
    if previous is None:
        return None
    venue_as_of = previous.data.get("venue_as_of")
    if isinstance(venue_as_of, str):
        return datetime.fromisoformat(venue_as_of) - lookback
    return previous.ts - lookback


async def _adopt_own_closed_order(
    manager: OrderManager, order_id: ClientOrderId, venue_fills: Sequence[Fill]
) -> bool:
    """Adopt this run's order that the venue filled but the journal lost (a power-loss tail).

    Only ids of this run qualify (another run's or a person's trades stay alarms); return
    whether the order was adopted.
    """
    if not manager.issued(order_id):
        return False
    try:
        reported = await manager.broker.query_order(order_id)
    except BrokerUnavailableError as error:
        manager.log.warning("cannot query %s to adopt it: %s", order_id, error)
        return False
    if reported is None:
        return False
    await manager.adopt(reported, [f for f in venue_fills if f.order_id == order_id])
    return True


async def reconcile(
    manager: OrderManager,
    *,
    lookback: timedelta = timedelta(days=1),
    on_position_mismatch: TradingState = TradingState.HALTED,
    tolerance: float = 1e-9,
    currency_of: Mapping[str, str] | None = None,
) -> ReconcileReport:
    """Run one reconciliation cycle between ``manager`` and its broker; see the module doc.

    Where the broker reports cash in several currencies, each is compared with ours
    (:func:`compare_balances`; ``currency_of``: the symbols settling outside the base) and a
    difference is alarmed.

    Fills are asked for since the previous cycle minus ``lookback`` (all of them on the first
    cycle), in the venue's time: the ``as_of`` of its account at that cycle when it reports one
    (a replaying venue's clock is not ours), else our clock's.
    """
    broker = manager.broker
    since = _fills_since(manager, lookback)
    try:
        venue_open = await broker.open_orders()
        venue_fills = await broker.fills(since)
    except BrokerUnavailableError as error:
        manager.log.warning("reconciliation skipped: %s", error)
        return ReconcileReport(manager.clock.now(), skipped=True, reason=str(error))
    order_mismatches = compare_orders(manager.orders, venue_open)
    adopted: list[ClientOrderId] = []
    for mismatch in order_mismatches:
        if mismatch.kind is MismatchKind.UNKNOWN_VENUE_ORDER and mismatch.order_id is not None:
            reported = next(o for o in venue_open if o.order_id == mismatch.order_id)
            own_fills = [f for f in venue_fills if f.order_id == mismatch.order_id]
            await manager.adopt(reported, own_fills)
            adopted.append(mismatch.order_id)
        elif mismatch.order_id is not None:
            manager.alarm(mismatch.kind, mismatch.message, order_id=mismatch.order_id)
            await manager.resolve(mismatch.order_id)
    fill_mismatches = compare_fills(manager.orders, venue_fills)
    booked: list[TradeId] = []
    for mismatch in fill_mismatches:
        fill = next(f for f in venue_fills if f.trade_id == mismatch.trade_id)
        if mismatch.kind is MismatchKind.MISSING_FILL:
            manager.alarm(mismatch.kind, mismatch.message, order_id=fill.order_id)
            await manager.apply_update(FillEvent(fill))
            booked.append(fill.trade_id)
        elif fill.order_id in manager.orders:
            booked.append(fill.trade_id)  # booked when its order was adopted for an earlier fill
        elif await _adopt_own_closed_order(manager, fill.order_id, venue_fills):
            adopted.append(fill.order_id)
            booked.append(fill.trade_id)
        else:
            manager.alarm(mismatch.kind, mismatch.message, symbol=fill.symbol)
    try:
        account = await broker.account()
    except BrokerUnavailableError as error:
        manager.log.warning("position reconciliation skipped: %s", error)
        return ReconcileReport(
            manager.clock.now(),
            skipped=True,
            reason=f"account query failed: {error}",
            mismatches=(*order_mismatches, *fill_mismatches),
            adopted=tuple(adopted),
            booked=tuple(booked),
        )
    position_mismatches = compare_positions(
        manager.positions, account.positions, tolerance=tolerance
    )
    halted: list[Symbol] = []
    for mismatch in position_mismatches:
        symbol = mismatch.symbol
        manager.alarm(mismatch.kind, mismatch.message, symbol=symbol)
        manager.set_trading_state(symbol, on_position_mismatch, mismatch.message)
        if symbol is not None:
            halted.append(symbol)
    balance_mismatches = compare_balances(
        manager.positions, manager.state.cash, currency_of or {}, account.balances
    )
    for mismatch in balance_mismatches:
        manager.alarm(mismatch.kind, mismatch.message)
    margin_mismatches = compare_margin(account)
    for mismatch in margin_mismatches:
        manager.alarm(mismatch.kind, mismatch.message)
        if manager.state.trading.get(None) is not TradingState.HALTED:
            manager.set_trading_state(None, TradingState.REDUCING, mismatch.message)
    mismatches = (
        *order_mismatches,
        *fill_mismatches,
        *position_mismatches,
        *balance_mismatches,
        *margin_mismatches,
    )
    manager.checkpoint(
        RECONCILED,
        mismatches=len(mismatches),
        adopted=len(adopted),
        venue_as_of=None if account.as_of is None else account.as_of.isoformat(),
    )
    return ReconcileReport(
        manager.clock.now(),
        mismatches=mismatches,
        adopted=tuple(adopted),
        booked=tuple(booked),
        halted=tuple(halted),
    )
