"""``quantstrata data``: import or fetch bars into the catalog, list and show it, validate files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer

from quantstrata.cli._options import CatalogOption, IntervalOption, TimezoneOption, as_utc
from quantstrata.cli._providers import (
    BaseUrlOption,
    ExchangeOption,
    ExchangeUrlOption,
    MarketTypeOption,
    PlanOption,
    ProviderOption,
    SymbolsOption,
    YahooUrlOption,
    ccxt_exchange,
    check_provider,
    split_symbols,
    tickdb_client,
)
from quantstrata.cli._render import make_console, print_frame, progress_bar
from quantstrata.core.errors import ConfigError
from quantstrata.data.catalog import Catalog, WriteSummary
from quantstrata.data.importers import import_file, numbered_by_file_line, read_bars_file
from quantstrata.data.sources import (
    fetch_ccxt_to_catalog,
    fetch_tickdb_to_catalog,
    fetch_yfinance_to_catalog,
)
from quantstrata.data.sources.yfinance_history import redirected_session
from quantstrata.process.config import ValidationPolicy
from quantstrata.process.validate import ValidationReport, validate_bars

__all__ = ["app"]

app = typer.Typer(help="Import, inspect and validate bar data.", no_args_is_help=True)

_SHOWN_ISSUES = 50
SymbolOption = Annotated[
    str | None, typer.Option("--symbol", "-s", help="Symbol (default: the file name's stem).")
]
FormatOption = Annotated[
    str | None,
    typer.Option("--time-format", help="strftime format of text dates, e.g. %m/%d/%Y."),
]
CalendarOption = Annotated[
    str | None,
    typer.Option("--calendar", help="Exchange calendar for gap checks (XNYS, 24/5); none = 24/7."),
]


def _catalog(root: Path | None) -> Catalog:
    return Catalog(root)


@app.command("import")
def import_command(
    paths: Annotated[list[Path], typer.Argument(help="CSV (optionally .gz) or Parquet files.")],
    interval: IntervalOption,
    symbol: SymbolOption = None,
    timezone: TimezoneOption = None,
    time_format: FormatOption = None,
    on_conflict: Annotated[
        str, typer.Option(help="When stored bars differ: raise, overwrite or keep.")
    ] = "raise",
    policy: Annotated[
        ValidationPolicy,
        typer.Option(
            "--policy",
            help="Bad rows: raise (import nothing), drop them, or repair what has one fix "
            "and drop the rest.",
        ),
    ] = ValidationPolicy.RAISE,
    catalog: CatalogOption = None,
) -> None:
    """Import bar files into the catalog (validated, de-duplicated, written atomically).

    Errors name bad rows by file line (the header is line 1).
    """
    console = make_console()
    store = _catalog(catalog)
    with progress_bar(make_console(stderr=True)) as progress:
        task = progress.add_task(f"importing {len(paths)} file(s)", total=len(paths))
        for path in paths:
            progress.update(task, description=f"importing {path.name}")
            summary = import_file(
                store,
                path,
                interval=interval,
                symbol=symbol,
                timezone=timezone,
                time_format=time_format,
                on_conflict=on_conflict,
                validation=policy.value,
            )
            progress.advance(task)
            console.print(
                f"[green]imported[/] {path.name}: {summary.rows_written:,} rows written, "
                f"{summary.rows_skipped_duplicate:,} duplicates skipped, "
                f"{summary.files_written} file(s) -> {store.root}",
                highlight=False,
            )


@app.command("list")
def list_command(catalog: CatalogOption = None) -> None:
    """List what the catalog holds: interval, symbol, rows, first and last bar, size."""
    console = make_console()
    store = _catalog(catalog)
    described = store.describe()
    if described.is_empty():
        console.print(f"the catalog at {store.root} is empty; try `quantstrata demo`")
        return
    print_frame(console, described, title=f"catalog {store.root}")


@app.command("show")
def show_command(
    symbol: Annotated[str, typer.Argument(help="Symbol to show.")],
    interval: IntervalOption,
    start: Annotated[datetime | None, typer.Option("--from", help="First bar time (UTC).")] = None,
    end: Annotated[datetime | None, typer.Option("--to", help="Last bar time (UTC).")] = None,
    rows: Annotated[int, typer.Option("--rows", "-n", help="Rows at each end.")] = 5,
    catalog: CatalogOption = None,
) -> None:
    """Show the first and last bars of one symbol and a summary of the range."""
    console = make_console()
    bars = _catalog(catalog).read([symbol], interval=interval, start=as_utc(start), end=as_utc(end))
    if bars.is_empty():
        console.print(f"no {interval} bars for {symbol} in that range")
        return
    shown = bars if bars.height <= 2 * rows else pl.concat([bars.head(rows), bars.tail(rows)])
    print_frame(console, shown, title=f"{symbol} {interval}: {bars.height:,} bars")


@app.command("validate")
def validate_command(
    path: Annotated[Path, typer.Argument(help="CSV (optionally .gz) or Parquet file to check.")],
    symbol: SymbolOption = None,
    timezone: TimezoneOption = None,
    time_format: FormatOption = None,
    interval: Annotated[
        str | None, typer.Option("--interval", "-i", help="Expected interval for gap checks.")
    ] = None,
    calendar: CalendarOption = None,
) -> None:
    """Check a file before import; exit 1 with a report naming each bad row, column and value.

    Rows of a CSV are named by file line (the header is line 1).
    """
    console = make_console()
    frame = read_bars_file(
        path, symbol=symbol, timezone=timezone, time_format=time_format, validation=None
    )
    result = validate_bars(frame, policy="drop", calendar=calendar, interval=interval)
    report = replace(result.report, issues=numbered_by_file_line(path, result.report.issues))
    console.print(report.summary())
    if report.ok:
        console.print(f"[green]ok[/] {path.name}: {report.rows_in:,} rows pass every check")
        return
    issues = _issue_table(report)
    print_frame(console, issues.head(_SHOWN_ISSUES), title=f"problems in {path.name}")
    if issues.height > _SHOWN_ISSUES:
        console.print(f"... and {issues.height - _SHOWN_ISSUES:,} more")
    raise typer.Exit(code=1)


def _issue_table(report: ValidationReport) -> pl.DataFrame:
    """Return the report's issues as a table; rows read from a CSV are named by file line."""
    table = report.to_frame()
    if all(issue.line is None for issue in report.issues):
        return table
    lines = pl.Series("row", [issue.line for issue in report.issues], dtype=pl.Int64)
    return table.with_columns(lines).rename({"row": "file line"})


@app.command("fetch")
def fetch_command(
    symbols: SymbolsOption,
    interval: IntervalOption,
    start: Annotated[datetime, typer.Option("--from", help="First bar time (UTC).")],
    end: Annotated[datetime, typer.Option("--to", help="End of the range, exclusive (UTC).")],
    provider: ProviderOption = "tickdb",
    base_url: BaseUrlOption = None,
    plan: PlanOption = "free",
    exchange: ExchangeOption = "binance",
    exchange_url: ExchangeUrlOption = None,
    market_type: MarketTypeOption = "spot",
    yahoo_url: YahooUrlOption = None,
    catalog: CatalogOption = None,
) -> None:
    """Download bars from a provider into the catalog (paged, retried, rate limited).

    tickdb: the API key comes from $TICKDB_API_KEY. ccxt: public OHLCV of --exchange (no key).
    yfinance: Yahoo Finance daily or intraday bars. Bars replace stored ones with the same time.
    """
    check_provider(provider)
    console = make_console()
    store = _catalog(catalog)
    names = split_symbols(symbols)
    lower, upper = as_utc(start), as_utc(end)
    if lower is None or upper is None:
        raise ConfigError("--from and --to are required")
    with progress_bar(make_console(stderr=True)) as progress:
        task = progress.add_task(f"fetching {len(names)} symbol(s)", total=None)
        if provider == "tickdb":
            with tickdb_client(base_url, plan) as client:

                def advance(done: int, total: int) -> None:
                    # ``done`` counts pages of the current symbol; the bar shows all symbols.
                    progress.update(task, total=total * len(names), advance=1 if done else 0)

                summary = fetch_tickdb_to_catalog(
                    client, store, names, interval=interval, start=lower, end=upper,
                    progress=advance,
                )  # fmt: skip
        else:
            progress.update(task, total=len(names))
            summary = _fetch_other(
                provider, names, interval, (lower, upper), store,
                lambda _symbol, _rows: progress.update(task, advance=1),
                exchange=ccxt_exchange(exchange, exchange_url, market_type)
                if provider == "ccxt" else None,
                yahoo_url=yahoo_url,
            )  # fmt: skip
    console.print(
        f"[green]fetched[/] {', '.join(names)} {interval}: {summary.rows_written:,} rows written, "
        f"{summary.rows_skipped_duplicate:,} unchanged -> {store.root}"
    )


def _fetch_other(
    provider: str,
    names: list[str],
    interval: str,
    bounds: tuple[datetime, datetime],
    store: Catalog,
    on_symbol: Callable[[str, int], None],
    *,
    exchange: Any,
    yahoo_url: str | None,
) -> WriteSummary:
    lower, upper = bounds
    if provider == "yfinance":
        session = None if yahoo_url is None else redirected_session(yahoo_url)
        return fetch_yfinance_to_catalog(
            store, names, interval=interval, start=lower, end=upper, session=session,
            on_symbol=on_symbol,
        )  # fmt: skip
    return fetch_ccxt_to_catalog(
        exchange, store, names, interval=interval, start=lower, end=upper, on_symbol=on_symbol
    )
