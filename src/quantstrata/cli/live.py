"""``quantstrata live`` and ``quantstrata status``: trade a strategy, and read a run's journal.

quantstrata live examples/sma_cross.py --data SPX --venue paper --from 2015-01-01
quantstrata live examples/sma_cross.py --venue sim --venue-url http://127.0.0.1:8700 --symbol SPX
quantstrata live examples/sma_cross.py --venue ccxt --exchange kraken --symbol BTC/USD -i 1h
quantstrata status --journal quantstrata-journal.sqlite

``--venue paper`` replays the bars (bundled, file or catalog) into an in-process paper broker
that fills with the backtest's fill model; bars before ``--start`` warm the strategy up.
``--venue sim`` trades on a running ``quantstrata venue serve`` (its key from
``$QUANTSTRATA_VENUE_KEY``). ``--venue ccxt`` trades the spot account of a ccxt exchange
(``--exchange``; keys from ``$QUANTSTRATA_EXCHANGE_API_KEY``, ``$QUANTSTRATA_EXCHANGE_SECRET``
and, where the exchange wants one, ``$QUANTSTRATA_EXCHANGE_PASSWORD``), bars streamed with
ccxt.pro's ``watch_ohlcv``, until SIGINT/SIGTERM. Every order passes the risk checks and is
journaled first.
``--dashboard`` serves the live dashboard on 127.0.0.1 (``--dashboard-port``, 8710 by
default); its admin token comes from ``$QUANTSTRATA_DASHBOARD_TOKEN`` and an optional read-only
token from ``$QUANTSTRATA_DASHBOARD_VIEWER_TOKEN``; neither is ever printed.
"""

from __future__ import annotations

import os
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.console import Console
from rich.table import Table

from quantstrata.cli._bar_source import load_bars
from quantstrata.cli._options import CatalogOption, TimezoneOption, as_utc
from quantstrata.cli._providers import (
    ExchangeOption,
    ExchangeOptionsOption,
    ExchangeUrlOption,
    ExchangeWebSocketOption,
    ccxt_config,
)
from quantstrata.cli._render import make_console, print_frame
from quantstrata.cli._strategy_source import build_strategy, load_strategy_class
from quantstrata.cli.venue import KEY_VARIABLE, infer_interval
from quantstrata.core.clock import LiveClock
from quantstrata.core.errors import ConfigError
from quantstrata.core.secrets import Secret
from quantstrata.execution.config import CommissionConfig
from quantstrata.execution.fill_model import FillModel
from quantstrata.live import Live, LiveConfig, LiveSummary
from quantstrata.live.broker import Broker
from quantstrata.live.brokers import CcxtBroker, PaperBroker, VenueBroker, VenueFeed
from quantstrata.live.dashboard import DashboardConfig
from quantstrata.live.feed import Feed
from quantstrata.live.feeds import CcxtFeed, ReplayFeed
from quantstrata.live.journal import Durability, Journal, PostgresJournal, SqliteJournal
from quantstrata.live.state import LiveState
from quantstrata.strategy.event import EventStrategy
from quantstrata.strategy.signal import SignalStrategy

__all__ = ["VenueKind", "ccxt_venue", "dashboard_config", "live", "status", "summary_table"]

DEFAULT_JOURNAL = "quantstrata-journal.sqlite"
DEFAULT_DASHBOARD_PORT = 8710
DASHBOARD_TOKEN_VARIABLE = "QUANTSTRATA_DASHBOARD_TOKEN"  # noqa: S105 - a variable name
DASHBOARD_VIEWER_VARIABLE = "QUANTSTRATA_DASHBOARD_VIEWER_TOKEN"
EXCHANGE_KEY_VARIABLE = "QUANTSTRATA_EXCHANGE_API_KEY"
EXCHANGE_SECRET_VARIABLE = "QUANTSTRATA_EXCHANGE_SECRET"  # noqa: S105 - a variable name
EXCHANGE_PASSWORD_VARIABLE = "QUANTSTRATA_EXCHANGE_PASSWORD"  # noqa: S105 - a variable name


class VenueKind(StrEnum):
    """Where the live runtime sends its orders."""

    PAPER = "paper"
    SIM = "sim"
    CCXT = "ccxt"


def live(
    strategy: Annotated[str, typer.Argument(help="file.py, file.py:Class or module:Class.")],
    data: Annotated[
        list[str] | None,
        typer.Option("--data", "-d", help="Paper: sample, file or catalog symbol (repeatable)."),
    ] = None,
    venue: Annotated[
        VenueKind, typer.Option("--venue", help="paper, sim or ccxt.")
    ] = VenueKind.PAPER,
    venue_url: Annotated[
        str, typer.Option("--venue-url", help="Sim: the venue's address.")
    ] = "http://127.0.0.1:8700",
    symbol: Annotated[
        list[str] | None,
        typer.Option("--symbol", help="Sim, ccxt: a symbol to trade (repeatable)."),
    ] = None,
    exchange: ExchangeOption = "binance",
    exchange_url: ExchangeUrlOption = None,
    exchange_ws_url: ExchangeWebSocketOption = None,
    exchange_option: ExchangeOptionsOption = None,
    interval: Annotated[str | None, typer.Option("--interval", "-i", help="Bar interval.")] = None,
    start: Annotated[
        datetime | None, typer.Option("--start", help="Paper: first bar traded (UTC).")
    ] = None,
    first: Annotated[datetime | None, typer.Option("--from", help="Paper: first bar read.")] = None,
    end: Annotated[datetime | None, typer.Option("--to", help="Paper: end, exclusive.")] = None,
    pause: Annotated[
        float, typer.Option("--pause", help="Paper: seconds between bar times (0: at once).")
    ] = 0.0,
    cash: Annotated[float, typer.Option("--cash", help="Paper: starting cash.")] = 100_000.0,
    commission: Annotated[float, typer.Option("--commission", help="Paper: rate.")] = 0.0,
    journal: Annotated[str, typer.Option("--journal", help="SQLite file or DSN.")] = (
        DEFAULT_JOURNAL
    ),
    run_id: Annotated[str, typer.Option("--run-id", help="Client order id prefix.")] = "live",
    durability: Annotated[
        Durability,
        typer.Option(
            "--journal-durability",
            help="process: appends survive a kill of this process; machine: also a power loss "
            "(one disk flush per order).",
        ),
    ] = "process",
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Parameter name=value.")
    ] = None,
    catalog: CatalogOption = None,
    timezone: TimezoneOption = None,
    dashboard: Annotated[
        bool,
        typer.Option(
            "--dashboard",
            help=f"Serve the live dashboard (tokens from ${DASHBOARD_TOKEN_VARIABLE} and, "
            f"read-only, ${DASHBOARD_VIEWER_VARIABLE}).",
        ),
    ] = False,
    dashboard_port: Annotated[
        int, typer.Option("--dashboard-port", help="The dashboard's port on 127.0.0.1.")
    ] = DEFAULT_DASHBOARD_PORT,
) -> None:
    """Trade a strategy live on the paper broker or the simulated venue until the feed ends."""
    console = make_console()
    chosen = build_strategy(load_strategy_class(strategy), param or [])
    board = dashboard_config(dashboard_port) if dashboard else None
    if board is not None:
        console.print(
            f"dashboard: http://{board.host}:{board.port}/ "
            f"(sign in with the token in ${DASHBOARD_TOKEN_VARIABLE})",
            highlight=False,
        )
    if venue is VenueKind.PAPER:
        loaded = load_bars(
            data or ["SPX"], interval=interval, catalog=catalog, start=first, end=end,
            timezone=timezone,
        )  # fmt: skip
        summary = run_paper(
            chosen,
            loaded.bars,
            start=as_utc(start),
            pause=pause,
            cash=cash,
            commission=commission,
            journal=journal,
            durability=durability,
            run_id=run_id,
            dashboard=board,
        )
    else:
        if not symbol:
            raise ConfigError(f"--venue {venue} needs --symbol for every symbol to trade")
        config = LiveConfig.build(
            symbols=tuple(symbol),
            interval=interval or "1d",
            journal=journal,
            journal_durability=durability,
            run_id=run_id,
            dashboard=board,
        )
        if venue is VenueKind.SIM:
            key = Secret.from_environment(KEY_VARIABLE)
            connections: tuple[Feed, Broker] = (
                VenueFeed(venue_url, key),
                VenueBroker(venue_url, key),
            )
        else:
            connections = ccxt_venue(
                exchange, list(symbol), exchange_url, exchange_ws_url, exchange_option
            )
        summary = Live(chosen, *connections, config).run()
    console.print(summary_table(summary))
    if summary.stopped_by != "feed ended":
        console.print(f"stopped: {summary.stopped_by}; the journal is closed", highlight=False)


def run_paper(
    strategy: SignalStrategy | EventStrategy,
    bars: pl.DataFrame,
    *,
    start: datetime | None,
    pause: float = 0.0,
    cash: float,
    commission: float,
    journal: str,
    run_id: str,
    durability: Durability = "process",
    dashboard: DashboardConfig | None = None,
) -> LiveSummary:
    """Replay ``bars`` into a paper broker and trade ``strategy`` on them; return the summary."""
    interval = infer_interval(bars)
    config = LiveConfig.build(
        symbols=tuple(sorted(bars["symbol"].unique())),
        interval=interval,
        journal=journal,
        journal_durability=durability,
        run_id=run_id,
        warm_up=start is not None,
        dashboard=dashboard,
    )
    clock = LiveClock()
    broker = PaperBroker(
        clock=clock,
        fill_model=FillModel(commission=CommissionConfig.build(rate=commission)),
        cash=cash,
    )
    feed = ReplayFeed(bars, interval, start=start, pause=pause)
    return Live(strategy, feed, broker, config, clock=clock).run()


def ccxt_venue(
    exchange: str,
    symbols: list[str],
    url: str | None,
    ws_url: str | None,
    options: list[str] | None,
) -> tuple[Feed, Broker]:
    """Return the kline feed and the spot broker of a ccxt exchange, keyed from the environment."""
    config = ccxt_config(exchange, symbols, url, ws_url, "spot", private=True, options=options)
    password = os.environ.get(EXCHANGE_PASSWORD_VARIABLE)
    broker = CcxtBroker(
        config,
        api_key=Secret.from_environment(EXCHANGE_KEY_VARIABLE),
        secret=Secret.from_environment(EXCHANGE_SECRET_VARIABLE),
        password=Secret(password) if password else None,
    )
    return CcxtFeed(config), broker


def dashboard_config(port: int) -> DashboardConfig:
    """Return the dashboard's settings with the tokens read from the environment."""
    viewer = os.environ.get(DASHBOARD_VIEWER_VARIABLE)
    return DashboardConfig.build(
        port=port,
        admin_token=Secret.from_environment(DASHBOARD_TOKEN_VARIABLE),
        viewer_token=Secret(viewer) if viewer else None,
    )


def summary_table(summary: LiveSummary) -> Table:
    """Return the run's summary as a two-column table."""
    table = Table(title=f"live run {summary.run_id}", show_header=False)
    table.add_row("stopped by", summary.stopped_by)
    table.add_row("bar times handled", f"{summary.bar_times:,}")
    table.add_row("orders sent", f"{summary.orders_sent:,}")
    table.add_row("refused by risk checks", f"{summary.risk_rejections:,}")
    table.add_row("reconciliations", f"{summary.reconciliations:,}")
    table.add_row("cash", f"{summary.cash:,.2f}")
    for name, quantity in summary.positions.items():
        table.add_row(f"position {name}", f"{quantity:,.6g}")
    table.add_row("alerts", f"{len(summary.alerts):,}")
    return table


def status(
    journal: Annotated[str, typer.Option("--journal", help="SQLite file or DSN.")] = (
        DEFAULT_JOURNAL
    ),
) -> None:
    """Show a run's positions, open orders, cash and alarms, read from its journal."""
    console = make_console()
    store = _open(journal)
    try:
        state = LiveState.fold(store.replay())
    finally:
        store.close()
    _print_state(console, state)


def _open(journal: str) -> Journal:
    if journal.startswith(("postgresql://", "postgres://")):
        return PostgresJournal(Secret(journal))
    if not Path(journal).exists():
        raise ConfigError(f"no journal at {journal}; pass --journal with the run's file")
    return SqliteJournal(journal)


def _print_state(console: Console, state: LiveState) -> None:
    positions = pl.DataFrame(
        [
            {
                "symbol": str(symbol),
                "quantity": position.quantity,
                "average_price": position.average_price,
                "realized_pnl": position.realized_pnl,
                "commission": position.total_commission,
            }
            for symbol, position in sorted(state.positions.items())
        ],
        schema={
            "symbol": pl.String,
            "quantity": pl.Float64,
            "average_price": pl.Float64,
            "realized_pnl": pl.Float64,
            "commission": pl.Float64,
        },
    )
    print_frame(console, positions, title="positions")
    orders = pl.DataFrame(
        [
            {
                "order_id": str(order.order_id),
                "symbol": str(order.symbol),
                "side": order.side.name.lower(),
                "quantity": order.quantity,
                "filled": order.filled_quantity,
                "status": order.status.value,
            }
            for order in state.open_orders()
        ],
        schema={
            "order_id": pl.String,
            "symbol": pl.String,
            "side": pl.String,
            "quantity": pl.Float64,
            "filled": pl.Float64,
            "status": pl.String,
        },
    )
    print_frame(console, orders, title="open orders")
    realized = sum(position.realized_pnl for position in state.positions.values())
    console.print(
        f"cash {state.cash:,.2f}; realized PnL {realized:,.2f}; orders {len(state.orders):,}; "
        f"risk rejections {state.rejections:,}; alarms {state.alarms:,}; "
        f"journal records {state.last_sequence:,}",
        highlight=False,
    )
    trading = {str(key) if key else "all": value.value for key, value in state.trading.items()}
    console.print(f"trading states: {trading or 'active'}", highlight=False)
