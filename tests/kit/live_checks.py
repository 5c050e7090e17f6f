"""Checks shared by the live tests that trade on the venue: fills as frames, journal vs venue."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from quantstrata.backtest import Backtest, BacktestConfig
from quantstrata.execution import CommissionConfig
from quantstrata.live.journal import RiskRejection, decode_entry
from quantstrata.live.state import LiveState
from quantstrata.model.orders import Fill, OrderEvent, OrderStatus

FILL_COLUMNS = ("ts", "side", "quantity", "price", "commission")
"""The columns a live fill and a backtest fill are compared on."""


def fills_frame(fills: Iterable[Fill], columns: Sequence[str] = FILL_COLUMNS) -> pl.DataFrame:
    """Return ``fills`` laid out like a backtest's fills frame (ns times, lower-case sides)."""
    rows = list(fills)
    frame = pl.DataFrame(
        {
            "ts": [fill.ts for fill in rows],
            "symbol": [str(fill.symbol) for fill in rows],
            "side": [fill.side.name.lower() for fill in rows],
            "quantity": [fill.quantity for fill in rows],
            "price": [fill.price for fill in rows],
            "commission": [fill.commission for fill in rows],
        },
        schema_overrides={"ts": pl.Datetime("us", "UTC")},
    ).with_columns(pl.col("ts").dt.cast_time_unit("ns"))
    return frame.select(columns)


def backtest_fills(
    bars: pl.DataFrame, strategy: Any, rate: float, columns: Sequence[str] = FILL_COLUMNS
) -> pl.DataFrame:
    """Return the fills the backtest makes of ``strategy`` on ``bars``, sized as live trading is.

    The backtest's default sizes targets with the equity known when the order is decided, as
    the live runtime must; ``rate`` is the commission the venue charges.
    """
    config = BacktestConfig(commission=CommissionConfig(rate=rate), check_lookahead=False)
    return Backtest(bars, strategy, config).run().fills.select(columns)


def assert_consistent_with_venue(
    state: LiveState, fills: list[Any], positions: dict[str, float], orders: list[dict[str, Any]]
) -> None:
    """Assert the journal's state holds exactly the venue's fills, positions and orders.

    Every venue fill is booked once (by trade id), positions equal the venue's, no client id
    reached the venue twice or unknown to the journal, and no order is left unknown.
    """
    ours = {trade for order in state.orders.values() for trade in order.trade_ids}
    assert ours == {fill.trade_id for fill in fills}
    held = {str(s): p.quantity for s, p in state.positions.items() if not p.is_flat}
    assert held == pytest.approx({s: q for s, q in positions.items() if q})
    venue_ids = [order["client_order_id"] for order in orders]
    assert len(venue_ids) == len(set(venue_ids))
    assert set(venue_ids) <= {str(order_id) for order_id in state.orders}
    assert not [o for o in state.orders.values() if o.status is OrderStatus.UNKNOWN]


def lose_unflushed_tail(journal: Path, chance: random.Random | None = None) -> int:
    """Delete what a power loss may take from a process-durable SQLite journal; return how many.

    That is a tail of order-flow entries after the last entry that steers the run (those are
    flushed as they are appended). Without ``chance`` the whole such tail goes; with it, a
    random part of it (a loss can strike at any point after the last flush).
    """
    with sqlite3.connect(journal) as raw:
        rows = raw.execute("SELECT sequence, body FROM journal ORDER BY sequence").fetchall()
        flushed = max(
            (
                sequence
                for sequence, body in rows
                if not isinstance(decode_entry(body), OrderEvent | RiskRejection)
            ),
            default=0,
        )
        last = rows[-1][0] if rows else 0
        cut = flushed if chance is None else chance.randint(flushed, last)
        raw.execute("DELETE FROM journal WHERE sequence > ?", (cut,))
    raw.close()
    return last - cut
