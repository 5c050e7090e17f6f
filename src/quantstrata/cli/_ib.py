"""``quantstrata live --venue ib``: IB's options, and the feed and broker they build.

TWS or IB Gateway must run and accept API connections (no keys: the login is TWS's). The paper
account is the default (IB Gateway's paper port, 4002); a live account is traded only with
``--live-account`` (port 4001 unless ``--ib-port``), and the broker refuses to trade when the
account TWS is logged in to is not of the kind asked for. The command first prints which kind
and where.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from quantstrata.live.broker import Broker
from quantstrata.live.brokers._ib_link import IBConfig
from quantstrata.live.brokers.ib import IBBroker
from quantstrata.live.feed import Feed
from quantstrata.live.feeds.ib import IBFeed

__all__ = [
    "IB_BAR_GRACE",
    "IBAccountOption",
    "IBClientIdOption",
    "IBHostOption",
    "IBPortOption",
    "ib_venue",
]

IB_BAR_GRACE = 2.0
"""Seconds the runtime waits for the other symbols' bars of one bar time (one subscription each)."""
GATEWAY_PAPER_PORT = 4002
GATEWAY_LIVE_PORT = 4001

IBHostOption = Annotated[str, typer.Option("--ib-host", help="IB: host of TWS / IB Gateway.")]
IBPortOption = Annotated[
    int | None,
    typer.Option("--ib-port", help="IB: API port (default 4002 paper, 4001 live: IB Gateway's)."),
]
IBClientIdOption = Annotated[
    int,
    typer.Option(
        "--ib-client-id", help="IB: API client id of the broker (the feed uses the next one)."
    ),
]
IBAccountOption = Annotated[
    str,
    typer.Option("--ib-account", help="IB: account number, when TWS manages several."),
]


def ib_venue(
    console: Console,
    *,
    host: str,
    port: int | None,
    client_id: int,
    account: str,
    live_account: bool,
) -> tuple[Feed, Broker]:
    """Return IB's bar feed and broker for TWS / Gateway at ``host``; say which account kind."""
    chosen = (
        port if port is not None else (GATEWAY_LIVE_PORT if live_account else GATEWAY_PAPER_PORT)
    )
    config = IBConfig(
        host=host, port=chosen, client_id=client_id, paper=not live_account, account=account
    )
    kind = "LIVE account (real money)" if live_account else "paper account"
    console.print(
        f"ib: trading the {kind} of TWS / IB Gateway at {host}:{chosen} "
        f"(client ids {client_id} and {client_id + 1})",
        highlight=False,
    )
    return IBFeed(config), IBBroker(config)
