"""``quantstrata live`` and ``quantstrata status``: trade a strategy, and read a run's journal.

quantstrata live examples/sma_cross.py --data SPX --venue paper --from 2015-01-01
quantstrata live examples/sma_cross.py --venue sim --venue-url http://127.0.0.1:8700 --symbol SPX
quantstrata live examples/sma_cross.py --venue ccxt --exchange kraken --symbol BTC/USD -i 1h
quantstrata live examples/sma_cross.py --venue alpaca --symbol SPY -i 1m
quantstrata status --journal quantstrata-journal.sqlite

``--venue paper`` replays the bars (bundled, file or catalog) into an in-process paper broker
that fills with the backtest's fill model (``Live.for_paper``); bars before ``--start`` warm the
strategy up. Run again on the same ``--journal``, it resumes after the last bar time the journal
handled. The journal is a SQLite file or a PostgreSQL DSN; a DSN with a password comes from
``$QUANTSTRATA_JOURNAL_DSN`` or ``--journal-dsn-file``, never the command line.
``--venue sim`` trades on a running ``quantstrata venue serve`` (its key from
``$QUANTSTRATA_VENUE_KEY``). ``--venue ccxt`` trades the spot account of a ccxt exchange
(``--exchange``; keys from ``$QUANTSTRATA_EXCHANGE_API_KEY``, ``$QUANTSTRATA_EXCHANGE_SECRET``
and, where the exchange wants one, ``$QUANTSTRATA_EXCHANGE_PASSWORD``), bars streamed with
ccxt.pro's ``watch_ohlcv``, until SIGINT/SIGTERM. ``--venue alpaca`` trades an Alpaca account
(keys from ``$APCA_API_KEY_ID`` and ``$APCA_API_SECRET_KEY``; the paper account unless
``--live-account``, and it prints which account it trades), bars from Alpaca's stream.
Every order passes the risk checks and is journaled first.
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

from quantstrata.cli._alpaca import (
    AlpacaDataStreamOption,
    AlpacaStreamOption,
    AlpacaUrlOption,
    LiveAccountOption,
    alpaca_venue,
)
from quantstrata.cli._bar_source import load_bars
from quantstrata.cli._options import CatalogOption, TimezoneOption, as_utc
from quantstrata.cli._providers import (
    AlpacaDataUrlOption,
    AlpacaFeedOption,
    ExchangeOption,
    ExchangeOptionsOption,
    ExchangeUrlOption,
    ExchangeWebSocketOption,
    ccxt_config,
)
from quantstrata.cli._render import make_console, print_frame
from quantstrata.cli._strategy_source import build_strategy, load_strategy_class
from quantstrata.cli.venue import KEY_VARIABLE
from quantstrata.core.config import DEFAULT_CASH
from quantstrata.core.errors import ConfigError
from quantstrata.core.secrets import Secret, SecretUrl
from quantstrata.live import Live, LiveConfig, LiveSummary
from quantstrata.live.broker import Broker
from quantstrata.live.brokers import CcxtBroker
from quantstrata.live.config import POSTGRES_SCHEMES
from quantstrata.live.dashboard import DashboardConfig
from quantstrata.live.feed import Feed
from quantstrata.live.feeds import CcxtFeed
from quantstrata.live.journal import Durability, Journal, PostgresJournal, SqliteJournal
from quantstrata.live.paper import check_start
from quantstrata.live.state import LiveState

__all__ = [
    "VenueKind",
    "ccxt_venue",
    "dashboard_config",
    "journal_location",
    "live",
    "status",
    "summary_table",
]

DEFAULT_JOURNAL = "quantstrata-journal.sqlite"
JOURNAL_DSN_VARIABLE = "QUANTSTRATA_JOURNAL_DSN"
JournalOption = Annotated[
    str | None,
    typer.Option(
        "--journal",
        help=f"SQLite file (default {DEFAULT_JOURNAL}) or a PostgreSQL DSN without a password; "
        f"a DSN with one comes from ${JOURNAL_DSN_VARIABLE} or --journal-dsn-file.",
        show_default=False,
    ),
]
JournalDsnFileOption = Annotated[
    Path | None,
    typer.Option("--journal-dsn-file", help="A file holding the PostgreSQL journal's DSN."),
]
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
    ALPACA = "alpaca"


def live(
    strategy: Annotated[str, typer.Argument(help="file.py, file.py:Class or module:Class.")],
    data: Annotated[
        list[str] | None,
        typer.Option("--data", "-d", help="Paper: sample, file or catalog symbol (repeatable)."),
    ] = None,
    venue: Annotated[
        VenueKind, typer.Option("--venue", help="paper, sim, ccxt or alpaca.")
    ] = VenueKind.PAPER,
    venue_url: Annotated[
        str, typer.Option("--venue-url", help="Sim: the venue's address.")
    ] = "http://127.0.0.1:8700",
    symbol: Annotated[
        list[str] | None,
        typer.Option("--symbol", help="Sim, ccxt, alpaca: a symbol to trade (repeatable)."),
    ] = None,
    alpaca_url: AlpacaUrlOption = None,
    alpaca_stream_url: AlpacaStreamOption = None,
    alpaca_data_url: AlpacaDataUrlOption = None,
    alpaca_data_stream_url: AlpacaDataStreamOption = None,
    alpaca_feed: AlpacaFeedOption = "iex",
    live_account: LiveAccountOption = False,
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
    cash: Annotated[float, typer.Option("--cash", help="Paper: starting cash.")] = DEFAULT_CASH,
    commission: Annotated[float, typer.Option("--commission", help="Paper: rate.")] = 0.0,
    journal: JournalOption = None,
    journal_dsn_file: JournalDsnFileOption = None,
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
    max_bar_delay: Annotated[
        str,
        typer.Option(
            "--max-bar-delay",
            help="Sim, ccxt: seconds after its close past which a bar is too late to trade; "
            "'interval' (one bar) or 'off' (trade every bar however late).",
        ),
    ] = "interval",
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
    location = journal_location(journal, journal_dsn_file)
    if venue is VenueKind.PAPER:
        loaded = load_bars(
            data or ["SPX"],
            interval=interval,
            catalog=catalog,
            start=first,
            end=end,
            timezone=timezone,
        )
        check_start(loaded.bars, as_utc(start), option="--start")
        config = LiveConfig.build(
            symbols=tuple(sorted(loaded.bars["symbol"].unique())),
            journal=location,
            journal_durability=durability,
            run_id=run_id,
            dashboard=board,
        )
        paper = Live.for_paper(
            chosen,
            loaded.bars,
            journal=location,
            cash=cash,
            commission=commission,
            start=as_utc(start),
            config=config,
            pause=pause,
            calendar=loaded.calendar,
        )
        summary = paper.run()
    else:
        if not symbol:
            raise ConfigError(f"--venue {venue} needs --symbol for every symbol to trade")
        config = LiveConfig.build(
            symbols=tuple(symbol),
            interval=interval or "1d",
            journal=location,
            journal_durability=durability,
            run_id=run_id,
            dashboard=board,
            max_bar_delay=None if max_bar_delay.strip().lower() == "off" else max_bar_delay,
        )
        if venue is VenueKind.SIM:
            summary = Live.on_venue(
                chosen, venue_url, Secret.from_environment(KEY_VARIABLE), config
            )
        else:
            connections = (
                alpaca_venue(
                    console, url=alpaca_url, stream_url=alpaca_stream_url,
                    data_url=alpaca_data_url, data_stream_url=alpaca_data_stream_url,
                    feed=alpaca_feed, live_account=live_account,
                )
                if venue is VenueKind.ALPACA
                else ccxt_venue(
                    exchange, list(symbol), exchange_url, exchange_ws_url, exchange_option
                )
            )  # fmt: skip
            summary = Live(chosen, *connections, config).run()
    _print_resume(console, summary, location)
    console.print(summary_table(summary))
    if summary.stopped_by != "feed ended":
        console.print(f"stopped: {summary.stopped_by}; the journal is closed", highlight=False)


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
    table.add_row("equity", f"{summary.equity:,.2f}")
    for name, quantity in summary.positions.items():
        table.add_row(f"position {name}", f"{quantity:,.6g}")
    table.add_row("alerts", f"{len(summary.alerts):,}")
    return table


def status(journal: JournalOption = None, journal_dsn_file: JournalDsnFileOption = None) -> None:
    """Show a run's positions, open orders, cash and alarms, read from its journal."""
    console = make_console()
    store = _open(journal_location(journal, journal_dsn_file))
    try:
        state = LiveState.fold(store.replay())
    finally:
        store.close()
    _print_state(console, state)


def journal_location(journal: str | None, dsn_file: Path | None) -> str | SecretUrl:
    """Return the journal to use: ``--journal``, ``--journal-dsn-file``, the variable, or the file.

    A PostgreSQL DSN with a password is refused on the command line (every user of the machine
    sees a process's arguments): it comes from ``$QUANTSTRATA_JOURNAL_DSN`` or a file instead.
    """
    if journal is not None and dsn_file is not None:
        raise ConfigError("pass --journal or --journal-dsn-file, not both")
    if dsn_file is not None:
        try:
            return SecretUrl(dsn_file.read_text(encoding="utf-8").strip())
        except OSError as error:
            raise ConfigError(f"--journal-dsn-file {dsn_file}: {error.strerror}") from None
    if journal is not None:
        if journal.startswith(POSTGRES_SCHEMES) and SecretUrl(journal).has_password:
            raise ConfigError(
                f"--journal {SecretUrl(journal)} puts a password on the command line, where "
                f"every user of the machine can read it; set ${JOURNAL_DSN_VARIABLE} to the DSN "
                "(or write it to a file and pass --journal-dsn-file FILE) instead"
            )
        return journal
    dsn = os.environ.get(JOURNAL_DSN_VARIABLE, "")
    return SecretUrl(dsn) if dsn else DEFAULT_JOURNAL


def _print_resume(console: Console, summary: LiveSummary, journal: str | SecretUrl) -> None:
    resumed = summary.resumed_after
    if resumed is None:
        return
    console.print(f"resumed after {resumed:%Y-%m-%d %H:%M} from {journal}", highlight=False)
    if summary.bar_times == 0:
        console.print(
            f"nothing after {resumed:%Y-%m-%d %H:%M} to trade: the journal's state is shown "
            "(pass a fresh --journal to start a new run)",
            highlight=False,
        )


def _open(journal: str | SecretUrl) -> Journal:
    if isinstance(journal, SecretUrl):
        return PostgresJournal(journal)
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
