"""``quantstrata live --venue alpaca``: Alpaca's options, and the feed and broker they build.

Keys come from ``$APCA_API_KEY_ID`` and ``$APCA_API_SECRET_KEY``, never the command line. The
paper account is the default; a live account is traded only with ``--live-account``, and the
command first prints which one (its number masked) it is about to trade.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from quantstrata.live.broker import Broker
from quantstrata.live.brokers._alpaca_rest import AlpacaConfig, AlpacaCredentials, trading_client
from quantstrata.live.brokers.alpaca import AlpacaBroker
from quantstrata.live.feed import Feed
from quantstrata.live.feeds.alpaca import AlpacaFeed

__all__ = [
    "AlpacaDataStreamOption",
    "AlpacaStreamOption",
    "AlpacaUrlOption",
    "LiveAccountOption",
    "alpaca_venue",
]

AlpacaUrlOption = Annotated[
    str | None,
    typer.Option("--alpaca-url", help="Alpaca: Trading API endpoint replacing Alpaca's."),
]
AlpacaStreamOption = Annotated[
    str | None,
    typer.Option(
        "--alpaca-stream-url", help="Alpaca: trade_updates WebSocket (default: <url>/stream)."
    ),
]
AlpacaDataStreamOption = Annotated[
    str | None,
    typer.Option("--alpaca-data-stream-url", help="Alpaca: market data WebSocket endpoint."),
]
LiveAccountOption = Annotated[
    bool,
    typer.Option(
        "--live-account",
        help="Alpaca, IB: trade the LIVE account (real money); the paper account otherwise.",
    ),
]


def alpaca_venue(
    console: Console,
    *,
    url: str | None,
    stream_url: str | None,
    data_url: str | None,
    data_stream_url: str | None,
    feed: str,
    live_account: bool,
) -> tuple[Feed, Broker]:
    """Return Alpaca's bar feed and broker, keyed from the environment; say which account."""
    config = AlpacaConfig.build(
        paper=not live_account,
        url=url,
        stream_url=stream_url,
        data_url=data_url,
        data_stream_url=data_stream_url,
        feed=feed,
    )
    credentials = AlpacaCredentials.from_environment()
    account = trading_client(config, credentials).get_account()
    number = str(account.get("account_number") or "")
    kind = "LIVE account (real money)" if live_account else "paper account"
    console.print(
        f"alpaca: trading the {kind} ****{number[-4:]} at {config.trading_url}", highlight=False
    )
    return AlpacaFeed(config, credentials), AlpacaBroker(config, credentials)
