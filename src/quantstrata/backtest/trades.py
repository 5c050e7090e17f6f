"""Round-trip trades from fills: first in, first out per symbol, with partial closes and flips.

Each fill that opens or adds to a position becomes an open lot. A fill against the position
closes lots oldest first; every closed piece of a lot is one round trip (so a lot closed by two
fills gives two trades, and one fill closing two lots gives two trades). A fill larger than the
position closes it and opens a lot on the other side with the rest: a flip. Commissions are
shared in proportion to quantity: a trade carries its share of the entry fill's and the exit
fill's commission, and its ``pnl`` is net of both. Positions still open at the end are not
trades.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt
import polars as pl

from quantstrata.model.bar import TIMESTAMP_DTYPE

__all__ = ["TRADE_SCHEMA", "round_trips"]

TRADE_SCHEMA = pl.Schema(
    {
        "symbol": pl.String(),
        "direction": pl.String(),
        "entry_ts": TIMESTAMP_DTYPE,
        "exit_ts": TIMESTAMP_DTYPE,
        "quantity": pl.Float64(),
        "entry_price": pl.Float64(),
        "exit_price": pl.Float64(),
        "pnl": pl.Float64(),
        "return": pl.Float64(),
        "commission": pl.Float64(),
        "bars_held": pl.Int64(),
    }
)
_TOLERANCE = 1e-9


@dataclass(slots=True)
class _Lot:
    """An open piece of a position: signed quantity, entry price, time and commission left."""

    quantity: float
    price: float
    ts: datetime
    commission: float


def round_trips(fills: pl.DataFrame, bar_times: npt.NDArray[np.int64]) -> pl.DataFrame:
    """Return the round trips of ``fills`` (``ts, symbol, side, quantity, price, commission``).

    ``bar_times`` are the backtest's bar times (ns, sorted); ``bars_held`` counts the bars
    from the entry fill's bar to the exit fill's bar.
    """
    rows: list[tuple[object, ...]] = []
    ordered = fills.with_row_index("row").sort("symbol", "ts", "row", maintain_order=True)
    for part in ordered.partition_by("symbol", maintain_order=True):
        rows.extend(_symbol_trips(part))
    frame = pl.DataFrame(rows, schema=TRADE_SCHEMA, orient="row")
    if frame.is_empty():
        return frame
    entry = np.searchsorted(bar_times, frame["entry_ts"].dt.epoch("ns").to_numpy())
    exit_ = np.searchsorted(bar_times, frame["exit_ts"].dt.epoch("ns").to_numpy())
    return frame.with_columns(pl.Series("bars_held", exit_ - entry, dtype=pl.Int64)).sort(
        "exit_ts", "entry_ts", "symbol", maintain_order=True
    )


def _symbol_trips(fills: pl.DataFrame) -> list[tuple[object, ...]]:
    lots: deque[_Lot] = deque()
    rows: list[tuple[object, ...]] = []
    for ts, symbol, side, quantity, price, commission in fills.select(
        "ts", "symbol", "side", "quantity", "price", "commission"
    ).iter_rows():
        signed = quantity if side == "buy" else -quantity
        left = signed
        while lots and left != 0.0 and (lots[0].quantity > 0) != (left > 0):
            lot = lots[0]
            closed = min(abs(lot.quantity), abs(left))
            share = commission * closed / quantity
            entry_share = lot.commission * closed / abs(lot.quantity)
            rows.append(
                _trip(
                    symbol, lot, closed=closed, ts=ts, price=price, commission=entry_share + share
                )
            )
            lot.commission -= entry_share
            lot.quantity += closed if lot.quantity < 0 else -closed
            left += closed if left < 0 else -closed
            if abs(lot.quantity) <= _TOLERANCE * closed:
                lots.popleft()
            if abs(left) <= _TOLERANCE * quantity:
                left = 0.0
        if left != 0.0:
            lots.append(_Lot(left, price, ts, commission * abs(left) / quantity))
    return rows


def _trip(
    symbol: str, lot: _Lot, *, closed: float, ts: datetime, price: float, commission: float
) -> tuple[object, ...]:
    direction = 1.0 if lot.quantity > 0 else -1.0
    pnl = closed * (price - lot.price) * direction - commission
    return (
        symbol,
        "long" if direction > 0 else "short",
        lot.ts,
        ts,
        closed,
        lot.price,
        price,
        pnl,
        pnl / (closed * lot.price),
        commission,
        0,
    )
