"""The demo's last step: live trading on the simulated venue gets the backtest's fills.

It replays the end of the SPX sample through the simulated venue into the live runtime and
shows that live trading sent the backtest's orders and got its fills.

The venue runs in this process on 127.0.0.1 (a random port and a fresh key), replaying in
lockstep as fast as the runtime takes the bars. The live runtime trades the same strategy
object through its risk checks, order manager and SQLite journal; the backtest sizes targets
at the deciding close (its default, ``size_at="decision"``), as live trading must.
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
from pathlib import Path

import polars as pl
from rich.console import Console
from rich.table import Table

from quantstrata.backtest import Backtest, BacktestConfig
from quantstrata.core.errors import QuantstrataError
from quantstrata.core.secrets import Secret
from quantstrata.execution.config import CommissionConfig
from quantstrata.live import Live, LiveConfig, LiveSummary
from quantstrata.live.brokers import VenueBroker
from quantstrata.strategy.examples import SmaCrossover
from quantstrata.venue import VenueConfig, VenueServer

__all__ = ["LiveParityError", "replay_live"]

_COLUMNS = ("ts", "side", "quantity", "price", "commission")
_TOLERANCE = 1e-9


class LiveParityError(QuantstrataError):
    """Live trading on the venue did not reproduce the backtest's fills."""


def replay_live(console: Console, bars: pl.DataFrame, *, rate: float = 0.001) -> None:
    """Trade ``bars`` live on the venue and print the comparison with the backtest."""
    strategy = SmaCrossover(fast=10, slow=30)
    commission = CommissionConfig(rate=rate)
    console.rule(
        f"[bold]live: {bars.height} SPX bars replayed through the simulated venue (lockstep)"
    )
    with tempfile.TemporaryDirectory(prefix="quantstrata-demo-live-") as folder:
        summary, live_fills = asyncio.run(
            _trade(strategy, bars, commission, Path(folder) / "journal.sqlite")
        )
    config = BacktestConfig(commission=commission, check_lookahead=False)
    expected = Backtest(bars, strategy, config).run().fills.select(_COLUMNS)
    difference = _largest_difference(live_fills, expected)
    table = Table(show_header=True)
    for column in ("", "live on the venue", "backtest"):
        table.add_column(column)
    table.add_row("bar times", f"{summary.bar_times:,}", f"{bars.height:,}")
    table.add_row("fills", f"{live_fills.height:,}", f"{expected.height:,}")
    table.add_row("orders refused by risk", f"{summary.risk_rejections}", "-")
    console.print(table)
    if difference is None or difference > _TOLERANCE:
        raise LiveParityError(
            f"live fills differ from the backtest's (largest relative difference {difference})"
        )
    console.print(
        f"live orders and fills equal the backtest's: {live_fills.height} fills, same times, "
        f"sides, quantities, prices and commissions (largest relative difference "
        f"{difference:.1e})",
        highlight=False,
    )


async def _trade(
    strategy: SmaCrossover, bars: pl.DataFrame, commission: CommissionConfig, journal: Path
) -> tuple[LiveSummary, pl.DataFrame]:
    key = Secret(secrets.token_urlsafe(24))
    server = VenueServer(bars, VenueConfig(speed="lockstep", commission=commission), key)
    await server.start()
    try:
        config = LiveConfig(
            symbols=("SPX",), journal=str(journal), warm_up=False, reconcile_interval=3_600
        )
        summary = await Live.for_venue(strategy, server.url, key, config).run_async()
        client = VenueBroker(server.url, key)
        fills = await client.fills()
        await client.close()
    finally:
        await server.stop()
    frame = pl.DataFrame(
        {
            "ts": [fill.ts for fill in fills],
            "side": [fill.side.name.lower() for fill in fills],
            "quantity": [fill.quantity for fill in fills],
            "price": [fill.price for fill in fills],
            "commission": [fill.commission for fill in fills],
        }
    ).with_columns(pl.col("ts").dt.cast_time_unit("ns"))
    return summary, frame


def _largest_difference(live: pl.DataFrame, expected: pl.DataFrame) -> float | None:
    """Return the largest relative difference of the numbers, ``None`` if the rows differ."""
    if live.height != expected.height:
        return None
    if live.select("ts", "side").to_dicts() != expected.select("ts", "side").to_dicts():
        return None
    largest = 0.0
    for column in ("quantity", "price", "commission"):
        ours, theirs = live[column].to_numpy(), expected[column].to_numpy()
        scale = abs(theirs).clip(min=1e-12)
        largest = max(largest, float((abs(ours - theirs) / scale).max(initial=0.0)))
    return largest
