"""``quantstrata stream``: print closed bars from a provider's live stream as they complete."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console

from quantstrata.cli._options import IntervalOption
from quantstrata.cli._providers import (
    BaseUrlOption,
    ExchangeOption,
    ExchangeUrlOption,
    ExchangeWebSocketOption,
    MarketTypeOption,
    PlanOption,
    ProviderOption,
    SymbolsOption,
    ccxt_config,
    check_provider,
    split_symbols,
    tickdb_config,
)
from quantstrata.cli._render import make_console
from quantstrata.core.secrets import Secret
from quantstrata.data.sources import API_KEY_VARIABLE, AsyncTickDBClient, TickDBConfig
from quantstrata.data.stream import StreamConfig, TickDBStream
from quantstrata.live.brokers import CcxtConfig
from quantstrata.live.feeds import CcxtFeed
from quantstrata.model.interval import Interval

__all__ = ["stream"]

WebSocketOption = Annotated[
    str | None,
    typer.Option(
        "--ws-url", envvar="TICKDB_WS_URL", help="WebSocket endpoint (default: TickDB's)."
    ),
]


def stream(
    symbols: SymbolsOption,
    interval: IntervalOption = "1m",
    provider: ProviderOption = "tickdb",
    base_url: BaseUrlOption = None,
    ws_url: WebSocketOption = None,
    plan: PlanOption = "free",
    exchange: ExchangeOption = "binance",
    exchange_url: ExchangeUrlOption = None,
    exchange_ws_url: ExchangeWebSocketOption = None,
    market_type: MarketTypeOption = "spot",
    bars: Annotated[
        int | None, typer.Option("--bars", help="Stop after this many bars (default: never).")
    ] = None,
) -> None:
    """Print each closed bar of a live stream as it completes (Ctrl-C to stop).

    tickdb: trades built into bars; the API key comes from $TICKDB_API_KEY. ccxt: the
    exchange's kline stream (ccxt.pro watch_ohlcv; a bar closes when the next one starts).
    Both reconnect with backoff and backfill gaps over REST on their own.
    """
    names = split_symbols(symbols)
    if check_provider(provider, ("tickdb", "ccxt")) == "ccxt":
        config = ccxt_config(exchange, names, exchange_url, exchange_ws_url, market_type)
        asyncio.run(_print_ccxt_bars(names, interval, config, bars))
        return
    asyncio.run(_print_bars(names, interval, tickdb_config(base_url, plan, ws_url), bars))


async def _print_ccxt_bars(
    symbols: list[str], interval: str, config: CcxtConfig, limit: int | None
) -> None:
    console = make_console()
    feed = CcxtFeed(config)
    console.print(
        f"streaming {', '.join(symbols)} {interval} bars from {config.exchange} "
        "(ts = open time, UTC)"
    )
    try:
        rows = (
            (bar.ts, bar.symbol, bar.open, bar.high, bar.low, bar.close, bar.volume)
            async for bar in feed.bars(symbols, Interval.parse(interval))
        )
        await _show_bars(console, rows, limit)
    finally:
        await feed.close()


async def _print_bars(
    symbols: list[str], interval: str, config: TickDBConfig, limit: int | None
) -> None:
    console = make_console()
    key = Secret.from_environment(API_KEY_VARIABLE)
    rest = AsyncTickDBClient(key, config=config)
    client = TickDBStream(
        key, symbols, interval, rest.klines, config=StreamConfig(url=config.websocket_url)
    )
    console.print(f"streaming {', '.join(symbols)} {interval} bars (ts = open time, UTC)")
    try:
        rows = (
            (
                datetime.fromtimestamp(bar.ts_ms / 1000, UTC),
                bar.symbol,
                bar.open,
                bar.high,
                bar.low,
                bar.close,
                bar.volume,
            )
            async for bar in client.bars()
        )
        await _show_bars(console, rows, limit)
    finally:
        await client.close()
        await rest.close()


_BarRow = tuple[datetime, str, float, float, float, float, float]


async def _show_bars(console: Console, rows: AsyncIterator[_BarRow], limit: int | None) -> None:
    """Print one line per closed bar (open time, symbol, OHLCV) until ``limit`` bars."""
    shown = 0
    async for opened, symbol, open_, high, low, close, volume in rows:
        console.print(
            f"{opened.isoformat(sep=' ')} {symbol} open={open_:g} high={high:g} low={low:g} "
            f"close={close:g} volume={volume:g}",
            highlight=False,
        )
        shown += 1
        if limit is not None and shown >= limit:
            return
