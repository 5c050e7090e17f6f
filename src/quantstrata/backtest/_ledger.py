"""What both simulation loops hand over: cash and positions per bar, orders and fills."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import polars as pl

from quantstrata.backtest._align import AlignedBars
from quantstrata.core.clock import ns_from_datetime
from quantstrata.exchange import MarginCall, MarginCallPolicy
from quantstrata.exchange._margin import maintenance_breached, margin_rates
from quantstrata.exchange.config import TradingRules
from quantstrata.model.bar import TIMESTAMP_DTYPE
from quantstrata.model.orders import Fill, Order, OrderSide

if TYPE_CHECKING:
    from quantstrata.backtest._currencies import CurrencyBook

__all__ = [
    "FILL_SCHEMA",
    "MARGIN_CALL_SCHEMA",
    "ORDER_SCHEMA",
    "Ledger",
    "fill_row",
    "margin_call_frame",
    "margin_called",
    "marks",
    "order_row",
]

FILL_SCHEMA = pl.Schema(
    {
        "ts": TIMESTAMP_DTYPE,
        "order_id": pl.String(),
        "trade_id": pl.String(),
        "symbol": pl.String(),
        "side": pl.String(),
        "quantity": pl.Float64(),
        "price": pl.Float64(),
        "commission": pl.Float64(),
        "liquidity": pl.String(),
    }
)
ORDER_SCHEMA = pl.Schema(
    {
        "order_id": pl.String(),
        "symbol": pl.String(),
        "created_ts": TIMESTAMP_DTYPE,
        "side": pl.String(),
        "order_type": pl.String(),
        "quantity": pl.Float64(),
        "limit_price": pl.Float64(),
        "stop_price": pl.Float64(),
        "status": pl.String(),
        "filled_quantity": pl.Float64(),
        "average_fill_price": pl.Float64(),
        "tag": pl.String(),
    }
)
MARGIN_CALL_SCHEMA = pl.Schema(
    {
        "ts": TIMESTAMP_DTYPE,
        "equity": pl.Float64(),
        "maintenance": pl.Float64(),
        "policy": pl.String(),
        "symbols": pl.List(pl.String()),
    }
)


def margin_call_frame(calls: Sequence[MarginCall] = ()) -> pl.DataFrame:
    """Return ``calls`` as a frame of :data:`MARGIN_CALL_SCHEMA` (the bar the call was made)."""
    return pl.DataFrame(
        [
            (call.ts, call.equity, call.maintenance, call.policy.value, list(call.symbols))
            for call in calls
        ],
        schema=MARGIN_CALL_SCHEMA,
        orient="row",
    )


@dataclass(frozen=True, slots=True)
class Ledger:
    """The outcome of a simulation loop.

    ``cash`` (per bar) and ``positions`` (bars × symbols) are after each bar's fills; ``fills``
    and ``orders`` follow :data:`FILL_SCHEMA` and :data:`ORDER_SCHEMA`, ``margin_calls``
    :data:`MARGIN_CALL_SCHEMA`.

    A run in more than one currency also has its ``currencies`` (with the FX rates per bar)
    and ``balances`` (bars × currencies, the cash in each currency); ``cash`` is then their
    sum in the base currency.
    """

    aligned: AlignedBars
    cash: npt.NDArray[np.float64]
    positions: npt.NDArray[np.float64]
    fills: pl.DataFrame
    orders: pl.DataFrame
    currencies: CurrencyBook | None = None
    balances: npt.NDArray[np.float64] | None = None
    margin_calls: pl.DataFrame = field(default_factory=margin_call_frame)
    funding: tuple[tuple[object, ...], ...] = ()
    """Perpetual funding payments made (rows of :func:`~quantstrata.exchange._funding.
    funding_records`); only the event loop pays funding."""


def marks(aligned: AlignedBars) -> npt.NDArray[np.float64]:
    """Return each symbol's last close at every bar time (``NaN`` before its first bar)."""
    rows = np.arange(aligned.times.shape[0])[:, None]
    last = np.where(aligned.has_bar, rows, 0)
    np.maximum.accumulate(last, axis=0, out=last)
    seen = np.maximum.accumulate(aligned.has_bar, axis=0)
    picked = np.take_along_axis(aligned.close, last, axis=0)
    return np.where(seen, picked, np.nan)


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


def margin_called(ledger: Ledger, rules: TradingRules) -> bool:
    """Return whether a compiled run's book fell below the maintenance margin at some bar.

    The compiled loops make no margin calls; when this is ``False`` they made none to make, so
    their run is the simulated exchange's (:mod:`quantstrata.exchange._margin`).
    """
    symbols = ledger.aligned.symbols
    if rules.margin_call is MarginCallPolicy.NONE:
        return False
    rates = margin_rates(symbols, rules.instruments)
    return maintenance_breached(ledger.cash, ledger.positions, marks(ledger.aligned), rates)
