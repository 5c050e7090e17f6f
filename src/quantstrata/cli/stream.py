"""``quantstrata stream``: print closed bars from a provider's live stream as they complete."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

import typer

from quantstrata.cli._options import IntervalOption
from quantstrata.cli._providers import (
    BaseUrlOption,
    PlanOption,
    ProviderOption,
    SymbolsOption,
    split_symbols,
    tickdb_config,
)
from quantstrata.cli._render import make_console
from quantstrata.core.errors import ConfigError
from quantstrata.core.secrets import Secret
from quantstrata.data.sources import API_KEY_VARIABLE, AsyncTickDBClient, TickDBConfig
from quantstrata.data.stream import StreamConfig, TickDBStream

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
    bars: Annotated[
        int | None, typer.Option("--bars", help="Stop after this many bars (default: never).")
    ] = None,
) -> None:
    """Stream live trades into bars and print each closed bar (Ctrl-C to stop).

    Reconnects with backoff, re-subscribes and backfills gaps over REST on its own; the API key
    comes from $TICKDB_API_KEY.
    """
    if provider != "tickdb":
        raise ConfigError(f"--provider {provider!r} is not supported yet; use tickdb")
    config = tickdb_config(base_url, plan, ws_url)
    asyncio.run(_print_bars(split_symbols(symbols), interval, config, bars))


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
    shown = 0
    try:
        async for bar in client.bars():
            opened = datetime.fromtimestamp(bar.ts_ms / 1000, UTC).isoformat(sep=" ")
            console.print(
                f"{opened} {bar.symbol} open={bar.open:g} high={bar.high:g} low={bar.low:g} "
                f"close={bar.close:g} volume={bar.volume:g}",
                highlight=False,
            )
            shown += 1
            if limit is not None and shown >= limit:
                break
    finally:
        await client.close()
        await rest.close()
