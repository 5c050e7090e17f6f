"""``quantstrata backtest``: run a strategy file or class on bars and write the HTML report.

quantstrata backtest examples/sma_cross.py --data SPX --param fast=20 --param slow=50
quantstrata backtest quantstrata.strategy.examples:RsiMeanReversion --data GOOG --fill next_close
quantstrata backtest my_strategy.py:Breakout --data prices.csv --report out/breakout.html
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from quantstrata.analytics import PerformanceMetrics
from quantstrata.backtest import Backtest, BacktestConfig, BacktestResult
from quantstrata.backtest.trades import describe_open_positions
from quantstrata.cli._bar_source import LoadedBars, load_bars
from quantstrata.cli._options import (
    CashOption,
    CatalogIntervalOption,
    CatalogOption,
    CommissionOption,
    EndOption,
    StartOption,
)
from quantstrata.cli._render import make_console
from quantstrata.cli._strategy_source import build_strategy, load_strategy_class
from quantstrata.core.clock import LiveClock
from quantstrata.core.config import DEFAULT_CASH
from quantstrata.execution.config import CommissionConfig, FillConfig, FillPolicy
from quantstrata.strategy.event import EventStrategy
from quantstrata.strategy.signal import SignalStrategy

__all__ = ["DEFAULT_REPORT", "backtest", "metrics_table", "run_and_report"]

DEFAULT_REPORT = Path("backtest-report.html")
_LABEL_GAP = re.compile(r"\s{2,}")


def backtest(
    strategy: Annotated[
        str,
        typer.Argument(
            help="A .py file (with one strategy class), file.py:ClassName or package.module:Class."
        ),
    ],
    data: Annotated[
        list[str] | None,
        typer.Option(
            "--data",
            "-d",
            help="Bundled sample (SPX, GOOG_1d ...), CSV/Parquet file or catalog symbol; "
            "repeat for several symbols. Default: SPX.",
        ),
    ] = None,
    interval: CatalogIntervalOption = None,
    start: StartOption = None,
    end: EndOption = None,
    cash: CashOption = DEFAULT_CASH,
    commission: CommissionOption = 0.0,
    fill: Annotated[
        FillPolicy,
        typer.Option("--fill", help="When decided orders fill (this_close is optimistic)."),
    ] = FillPolicy.NEXT_OPEN,
    report: Annotated[
        Path | None,
        typer.Option("--report", help=f"HTML report to write (default ./{DEFAULT_REPORT})."),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="Strategy parameter as name=value; repeatable."),
    ] = None,
    catalog: CatalogOption = None,
) -> None:
    """Backtest a strategy on bundled, file or catalog bars; print metrics, write the report."""
    console = make_console()
    chosen = build_strategy(load_strategy_class(strategy), param or [])
    loaded = load_bars(data or ["SPX"], interval=interval, catalog=catalog, start=start, end=end)
    config = BacktestConfig.build(
        cash=cash,
        commission=CommissionConfig.build(rate=commission),
        fill=FillConfig.build(policy=fill),
        calendar=loaded.calendar,
    )
    run_and_report(console, chosen, loaded, config, report or DEFAULT_REPORT)


def run_and_report(
    console: Console,
    strategy: SignalStrategy | EventStrategy,
    loaded: LoadedBars,
    config: BacktestConfig,
    report: Path,
) -> BacktestResult:
    """Run the backtest, print what ran and its metrics table, write and name the report."""
    result = Backtest(loaded.bars, strategy, config, clock=LiveClock()).run()
    sources = escape(", ".join(loaded.sources))
    console.print(f"[bold]{escape(repr(strategy))}[/] on {sources}", highlight=False)
    console.print(
        f"starting cash {config.cash:,.2f}, "
        f"{result.record.bars:,} bars, fill policy {result.record.fill_policy}, "
        f"orders {result.orders.height}, trades {result.trades.height} (closed), "
        f"final equity {result.final_equity:,.2f}",
        highlight=False,
    )
    console.print(
        f"open at the end: {describe_open_positions(result.open_positions)}",
        highlight=False,
        soft_wrap=True,
    )
    console.print(metrics_table(result.metrics, title=f"{strategy.name} metrics"))
    written = result.to_html(report)
    console.print(f"report written to {written.resolve()}", highlight=False, soft_wrap=True)
    return result


def metrics_table(metrics: PerformanceMetrics, title: str | None = None) -> Table:
    """Return the metrics as a two-column Rich table, labelled and formatted as ``str(metrics)``."""
    table = Table(title=title, header_style="bold")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for line in str(metrics).splitlines():
        label, *value = _LABEL_GAP.split(line.strip(), maxsplit=1)
        table.add_row(label, value[0] if value else "")
    return table
