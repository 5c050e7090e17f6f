"""Run a strategy live through AlpacaBroker + AlpacaFeed on the fake Alpaca (shared by tests)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from quantstrata.core.secrets import Secret
from quantstrata.data import load_sample
from quantstrata.live import Live, LiveConfig, LiveSummary
from quantstrata.live.broker import AccountSnapshot
from quantstrata.live.brokers._alpaca_rest import AlpacaConfig, AlpacaCredentials
from quantstrata.live.brokers.alpaca import AlpacaBroker
from quantstrata.live.feeds.alpaca import AlpacaFeed
from quantstrata.live.journal import SqliteJournal
from quantstrata.live.state import LiveState
from quantstrata.model.bar import BAR_COLUMNS
from quantstrata.model.orders import Fill
from tests.kit.fake_alpaca import FakeAlpaca


@dataclass
class AlpacaRun:
    """What one run left: the summary, the journal's state, the venue's fills and account."""

    summary: LiveSummary
    state: LiveState
    fills: list[Fill]
    account: AccountSnapshot
    broker: AlpacaBroker
    feed: AlpacaFeed


def spx_bars(count: int = 120) -> pl.DataFrame:
    """Return ``count`` daily SPX bars from 2012 on (the sample)."""
    start = datetime(2012, 1, 1, tzinfo=UTC)
    return load_sample("SPX_1d").select(BAR_COLUMNS).filter(pl.col("ts") >= start).head(count)


def alpaca_config(fake: FakeAlpaca, **changes: Any) -> AlpacaConfig:
    """Return settings pointing every endpoint at ``fake``, with short timeouts."""
    settings: dict[str, Any] = {
        "url": fake.url,
        "stream_url": fake.ws_url,
        "data_url": fake.data_url,
        "data_stream_url": fake.data_ws_url,
        "timeout_seconds": 2.0,
        "backoff_base_seconds": 0.02,
        "reconnect_cap_seconds": 0.2,
    }
    settings.update(changes)
    return AlpacaConfig.build(**settings)


def credentials(fake: FakeAlpaca) -> AlpacaCredentials:
    """Return the fake's keys as secrets."""
    return AlpacaCredentials(Secret(fake.key_id), Secret(fake.secret))


def connections(
    fake: FakeAlpaca,
    bars: pl.DataFrame,
    during: Callable[[int], None] | None = None,
    **changes: Any,
) -> tuple[AlpacaFeed, AlpacaBroker]:
    """Return a feed acking the fake's lockstep replay and a broker, both on ``fake``.

    ``during(n)`` runs after the runtime handled its ``n``-th bar time (to inject a fault).
    """
    config = alpaca_config(fake, **changes)
    keys = credentials(fake)
    handled = [0]

    async def ack(ts: datetime) -> None:
        handled[0] += 1
        if during is not None:
            during(handled[0])
        await asyncio.to_thread(fake.ack, ts)

    last = bars["ts"].max()
    assert isinstance(last, datetime)
    feed = AlpacaFeed(config, keys, on_ack=ack, stop_after=last)
    return feed, AlpacaBroker(config, keys)


async def run_on_fake(
    fake: FakeAlpaca,
    bars: pl.DataFrame,
    strategy: object,
    journal: Path,
    during: Callable[[int], None] | None = None,
    *,
    interval: str = "1d",
    **changes: Any,
) -> AlpacaRun:
    """Trade ``strategy`` on ``fake`` (lockstep replay of ``bars``) until the last bar."""
    symbols = tuple(sorted(bars["symbol"].unique()))
    feed, broker = connections(fake, bars, during, **changes)
    config = LiveConfig(
        symbols=symbols,
        interval=interval,
        journal=str(journal),
        warm_up=False,
        reconcile_interval=3600,
        max_bar_delay=None,  # the fake replays history: by the wall clock every bar is late
    )
    fake.start_replay(lockstep=True)
    summary = await Live(strategy, feed, broker, config).run_async()  # type: ignore[arg-type]
    checker = AlpacaBroker(alpaca_config(fake), credentials(fake))
    fills = await checker.fills()
    account = await checker.account()
    store = SqliteJournal(journal)
    try:
        state = LiveState.fold(store.replay())
    finally:
        store.close()
    return AlpacaRun(summary, state, fills, account, broker, feed)
