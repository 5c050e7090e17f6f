"""A running simulated venue for tests: real uvicorn on 127.0.0.1, port 0, real SQLite."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
import polars as pl

from quantstrata.core.secrets import Secret
from quantstrata.data.samples import load_sample
from quantstrata.live.brokers import VenueBroker, VenueFeed
from quantstrata.venue import VenueConfig, VenueServer

KEY_TEXT = "test-venue-key-7f3a9c"
KEY = Secret(KEY_TEXT)
HEADERS = {"X-API-Key": KEY_TEXT}


def spx(bars: int = 60) -> pl.DataFrame:
    """Return the first ``bars`` rows of the bundled SPX sample."""
    return load_sample("SPX_1d").head(bars)


@asynccontextmanager
async def running_venue(
    bars: pl.DataFrame | None = None, *, interval: str = "1d", **settings: Any
) -> AsyncIterator[VenueServer]:
    """Serve a venue of ``interval`` bars in the running event loop for the block's duration."""
    server = VenueServer(
        spx() if bars is None else bars, VenueConfig(**settings), KEY, interval=interval
    )
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@contextmanager
def venue_in_thread(bars: pl.DataFrame | None = None, **settings: Any) -> Iterator[VenueServer]:
    """Serve a venue from a background thread (for synchronous tests)."""
    server = VenueServer(spx() if bars is None else bars, VenueConfig(**settings), KEY)
    server.start_in_thread()
    try:
        yield server
    finally:
        server.stop_thread()


def http(server: VenueServer, **options: Any) -> httpx.AsyncClient:
    """Return an HTTP client for ``server`` sending the key."""
    return httpx.AsyncClient(base_url=server.url, headers=HEADERS, timeout=10.0, **options)


def broker(server: VenueServer, **options: Any) -> VenueBroker:
    """Return a broker client of ``server``."""
    return VenueBroker(server.url, KEY, **options)


def feed(server: VenueServer, **options: Any) -> VenueFeed:
    """Return a feed client of ``server``."""
    return VenueFeed(server.url, KEY, **options)


async def wait_until(predicate: Any, timeout: float = 10.0) -> None:
    """Poll an async or plain predicate until it is true; fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        outcome = predicate()
        if asyncio.iscoroutine(outcome):
            outcome = await outcome
        if outcome:
            return
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def market(quantity: float, symbol: str = "SPX", **options: Any) -> dict[str, Any]:
    """Return the JSON body of a market order (buy if ``quantity`` > 0)."""
    return {
        "symbol": symbol,
        "side": "buy" if quantity > 0 else "sell",
        "quantity": abs(quantity),
        **options,
    }
