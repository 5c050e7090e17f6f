"""``quantstrata backtest``: run a strategy file or class on bars; ``--report`` writes the HTML.

quantstrata backtest examples/sma_cross.py --data SPX --param fast=20 --param slow=50
quantstrata backtest quantstrata.strategy.examples:RsiMeanReversion --data GOOG --fill next_close
quantstrata backtest my_strategy.py:Breakout --data prices.csv --report out/breakout.html
quantstrata backtest examples/sma_cross.py --size-at fill   # sized at the fill, as the peers do
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
from quantstrata.backtest.config import SizeAt
from quantstrata.backtest.trades import describe_open_positions
from quantstrata.cli._bar_source import LoadedBars, load_bars
from quantstrata.cli._options import (
    CashOption,
    CatalogIntervalOption,
    CatalogOption,
    CommissionOption,
    EndOption,
    StartOption,
    TimezoneOption,
)
from quantstrata.cli._render import make_console
from quantstrata.cli._strategy_source import build_strategy, load_strategy_class
from quantstrata.core.clock import LiveClock
from quantstrata.core.config import DEFAULT_CASH
from quantstrata.core.errors import ConfigError
from quantstrata.execution.config import CommissionConfig, FillConfig, FillPolicy
from quantstrata.strategy.event import EventStrategy
from quantstrata.strategy.signal import SignalStrategy

__all__ = ["SizeAtOption", "backtest", "check_warm_up", "metrics_table", "run_and_report"]

_LABEL_GAP = re.compile(r"\s{2,}")

SizeAtOption = Annotated[
    SizeAt,
    typer.Option(
        "--size-at",
        help="When a target becomes an order quantity: decision (at the deciding close, as "
        "live and paper trading size it, so they reproduce the backtest) or fill (at the fill "
        "price, as backtesting.py and backtrader do; for comparing with them).",
    ),
]
"""When a backtest sizes targets; every command that runs backtests takes it, default decision.

Declared here, not with the shared options, so commands that run no backtest do not import the
backtester to start.
"""


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
    size_at: SizeAtOption = SizeAt.DECISION,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="HTML report to write (default: none)."),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="Strategy parameter as name=value; repeatable."),
    ] = None,
    catalog: CatalogOption = None,
    timezone: TimezoneOption = None,
) -> None:
    """Backtest a strategy on bundled, file or catalog bars; print metrics, write the report.

    Without ``--report`` no file is written (nothing is overwritten by surprise).
    """
    console = make_console()
    chosen = build_strategy(load_strategy_class(strategy), param or [])
    loaded = load_bars(
        data or ["SPX"], interval=interval, catalog=catalog, start=start, end=end, timezone=timezone
    )
    check_warm_up(make_console(stderr=True), chosen, loaded, start is not None)
    config = BacktestConfig.build(
        cash=cash,
        commission=CommissionConfig.build(rate=commission),
        fill=FillConfig.build(policy=fill),
        calendar=loaded.calendar,
        size_at=size_at,
    )
    run_and_report(console, chosen, loaded, config, report)


def run_and_report(
    console: Console,
    strategy: SignalStrategy | EventStrategy,
    loaded: LoadedBars,
    config: BacktestConfig,
    report: Path | None,
) -> BacktestResult:
    """Run the backtest, print what ran and its metrics table, write and name the report.

    With ``report=None`` no report is written; one line says how to ask for it.
    """
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
    if report is None:
        console.print("no HTML report written; --report PATH writes one", highlight=False)
        return result
    written = result.to_html(report)
    console.print(f"report written to {written.resolve()}", highlight=False, soft_wrap=True)
    return result


def check_warm_up(
    warn: Console,
    strategy: SignalStrategy | EventStrategy,
    loaded: LoadedBars,
    from_given: bool,
) -> None:
    """Refuse bars too few for the strategy's warm-up; warn when it leaves few bars to trade.

    Every symbol needs more bars than ``strategy.warmup_bars()`` for one decision. When fewer
    bars remain after the warm-up than the warm-up itself, a warning on ``warn`` says so.
    """
    warm_up = strategy.warmup_bars()
    counts = loaded.bars.group_by("symbol").len().sort("len", "symbol")
    symbol, bars = counts.row(0)
    remedy = "pass an earlier --from" if from_given else "use longer data"
    held = f"{symbol} has {bars:,} bars in the range"
    if bars <= warm_up:
        raise ConfigError(
            f"{strategy.name} needs a warm-up of {warm_up:,} bars but {held}: no bar is left "
            f"to trade; {remedy}"
        )
    if bars - warm_up < warm_up:
        warn.print(
            f"warning: {strategy.name}'s warm-up of {warm_up:,} bars leaves {bars - warm_up:,} "
            f"to trade ({held}); {remedy} for more decisions",
            highlight=False,
            soft_wrap=True,
        )


def metrics_table(metrics: PerformanceMetrics, title: str | None = None) -> Table:
    """Return the metrics as a two-column Rich table, labelled and formatted as ``str(metrics)``."""
    table = Table(title=title, header_style="bold")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for line in str(metrics).splitlines():
        label, *value = _LABEL_GAP.split(line.strip(), maxsplit=1)
        table.add_row(label, value[0] if value else "")
    return table
