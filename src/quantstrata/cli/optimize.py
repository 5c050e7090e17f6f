r"""``quantstrata optimize``: search a strategy's parameters, optionally walk forward.

quantstrata optimize quantstrata.strategy.examples:SmaCrossover --data SPX_1d \\
    --grid fast=5:50:5 --grid slow=20:200:10 --objective sharpe
quantstrata optimize my_strategy.py --grid period=10:40:5 --method optuna --trials 50
quantstrata optimize my_strategy.py --grid fast=5:30:5 --grid slow=40:120:20 \\
    --walk-forward 756:252 --scheduler tcp://10.0.0.5:8786

Ctrl-C stops the search and prints the candidates already evaluated.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer
from rich.console import Console
from rich.table import Table

from quantstrata.analytics._format import format_metric
from quantstrata.backtest import BacktestConfig
from quantstrata.backtest.config import SizeAt
from quantstrata.backtest.optimize import (
    Backend,
    OptimizeConfig,
    SearchMethod,
    WalkForwardConfig,
    parse_range,
)
from quantstrata.backtest.optimize import (
    optimize as run_optimize,
)
from quantstrata.backtest.optimize._tasks import METRIC_COLUMNS
from quantstrata.backtest.optimize.engine import OptimizationResult
from quantstrata.backtest.optimize.report import (
    write_optimization_report,
    write_walk_forward_report,
)
from quantstrata.backtest.optimize.walkforward import walk_forward
from quantstrata.cli._bar_source import load_bars
from quantstrata.cli._options import CashOption, CatalogOption, TimezoneOption
from quantstrata.cli._render import format_cell, make_console
from quantstrata.cli._strategy_source import load_strategy_class
from quantstrata.cli.backtest import SizeAtOption
from quantstrata.core.config import DEFAULT_CASH
from quantstrata.core.errors import ConfigError
from quantstrata.execution.config import CommissionConfig
from quantstrata.strategy.origin import strategy_label

__all__ = ["DEFAULT_OPTIMIZE_REPORT", "optimize", "parse_grid", "parse_walk_forward"]

DEFAULT_OPTIMIZE_REPORT = Path("optimize-report.html")
_SHOWN_ROWS = 10
_COUNT_METRICS = frozenset({"trades", "max_drawdown_duration_bars"})


def parse_grid(assignments: list[str]) -> dict[str, list[Any]]:
    """Turn ``name=start:stop:step`` or ``name=a,b,c`` options into a grid."""
    grid: dict[str, list[Any]] = {}
    for assignment in assignments:
        name, separator, values = assignment.partition("=")
        if not separator or not name.strip():
            raise ConfigError(
                f"--grid takes name=start:stop:step or name=a,b,c, got {assignment!r}"
            )
        grid[name.strip()] = parse_range(values)
    return grid


def parse_walk_forward(text: str) -> WalkForwardConfig:
    """Read ``IN:OUT`` or ``IN:OUT:anchored`` (bar counts) into a walk-forward config."""
    parts = text.split(":")
    if len(parts) not in {2, 3} or (len(parts) == 3 and parts[2] not in {"anchored", "rolling"}):
        raise ConfigError(f"--walk-forward takes IN:OUT[:anchored|rolling] bars, got {text!r}")
    try:
        in_sample, out_of_sample = int(parts[0]), int(parts[1])
    except ValueError:
        raise ConfigError(f"--walk-forward bar counts must be integers, got {text!r}") from None
    return WalkForwardConfig.build(
        in_sample=in_sample,
        out_of_sample=out_of_sample,
        anchored=len(parts) == 3 and parts[2] == "anchored",
    )


def optimize(
    strategy: Annotated[
        str, typer.Argument(help="A .py file, file.py:ClassName or package.module:Class.")
    ],
    grid: Annotated[
        list[str],
        typer.Option("--grid", "-g", help="Values to try: name=start:stop:step or name=a,b,c."),
    ],
    data: Annotated[
        list[str] | None,
        typer.Option("--data", "-d", help="Sample, file or catalog symbol (default SPX_1d)."),
    ] = None,
    objective: Annotated[str, typer.Option("--objective", help="Metric to rank by.")] = "sharpe",
    method: Annotated[SearchMethod, typer.Option("--method")] = SearchMethod.GRID,
    trials: Annotated[int, typer.Option("--trials", help="Random/Optuna candidates.")] = 100,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    backend: Annotated[Backend, typer.Option("--backend")] = Backend.LOCAL,
    workers: Annotated[int | None, typer.Option("--workers", help="Worker processes.")] = None,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Dask scheduler address (implies dask).")
    ] = None,
    walk: Annotated[
        str | None,
        typer.Option("--walk-forward", help="IN:OUT[:anchored] bars: walk-forward analysis."),
    ] = None,
    interval: Annotated[str | None, typer.Option("--interval", "-i")] = None,
    start: Annotated[datetime | None, typer.Option("--from", help="First bar (UTC).")] = None,
    end: Annotated[datetime | None, typer.Option("--to", help="End, exclusive (UTC).")] = None,
    cash: CashOption = DEFAULT_CASH,
    commission: Annotated[float, typer.Option("--commission")] = 0.0,
    size_at: SizeAtOption = SizeAt.DECISION,
    pbo: Annotated[
        int,
        typer.Option(
            "--pbo",
            help="Partitions for the Probability of Backtest Overfitting (CSCV); 0 skips it. "
            "With --walk-forward: of the grid over the whole history.",
        ),
    ] = 0,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help=f"HTML report path (default ./{DEFAULT_OPTIMIZE_REPORT}): the heatmaps; "
            "with --walk-forward (written only when given) the stitched equity and windows.",
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write all results (.csv or .parquet).")
    ] = None,
    catalog: CatalogOption = None,
    timezone: TimezoneOption = None,
) -> None:
    """Search a strategy's parameters; print the best candidates and write the heatmap report."""
    console = make_console()
    strategy_class = load_strategy_class(strategy)
    loaded = load_bars(
        data or ["SPX_1d"], interval=interval, catalog=catalog, start=start, end=end,
        timezone=timezone,
    )  # fmt: skip
    backtest = BacktestConfig.build(
        cash=cash,
        commission=CommissionConfig.build(rate=commission),
        calendar=loaded.calendar,
        check_lookahead=False,
        size_at=size_at,
    )
    settings = OptimizeConfig.build(
        method=method,
        objective=objective,
        trials=trials,
        seed=seed,
        backend=Backend.DASK if scheduler is not None else backend,
        workers=workers,
        scheduler=scheduler,
        progress=make_console(stderr=True).is_terminal,  # no bar in pipes and logs
    )
    space = parse_grid(grid)
    console.print(f"starting cash {backtest.cash:,.2f} for every run", highlight=False)
    if walk is not None:
        analysis = walk_forward(
            loaded.bars,
            strategy_class,
            space,
            parse_walk_forward(walk),
            settings,
            backtest=backtest,
        )
        console.print(_table(analysis.windows, "walk-forward windows", settings.objective))
        console.print(
            "stitched out-of-sample equity: "
            f"Sharpe {format_metric('sharpe', analysis.metrics.sharpe)}, "
            f"total return {format_metric('total_return', analysis.metrics.total_return)}",
            highlight=False,
        )
        _write(analysis.windows, output, console)
        if pbo:  # the overfitting of picking the best of this grid over the whole history
            sweep = run_optimize(loaded.bars, strategy_class, space, settings, backtest=backtest)
            _print_overfitting(console, sweep, loaded.bars, pbo, settings)
        if report is not None:
            written = write_walk_forward_report(analysis, report, strategy_label(strategy_class))
            console.print(f"report written to {written.resolve()}", highlight=False, soft_wrap=True)
        return
    result = run_optimize(loaded.bars, strategy_class, space, settings, backtest=backtest)
    if result.interrupted:
        console.print(f"[yellow]interrupted: {result.frame.height} of {result.planned} run[/]")
    shown = ["trial", *result.parameters, "objective", "total_return", "max_drawdown", "trades"]
    console.print(
        _table(
            result.frame.head(_SHOWN_ROWS).select(shown),
            f"best by {result.objective}",
            result.objective,
        )
    )
    _write(result.frame, output, console)
    if pbo:
        _print_overfitting(console, result, loaded.bars, pbo, settings)
    if len(result.parameters) >= 2 and result.frame.height:
        written = write_optimization_report(result, report or DEFAULT_OPTIMIZE_REPORT)
        console.print(f"report written to {written.resolve()}", highlight=False, soft_wrap=True)


def _print_overfitting(
    console: Console,
    result: OptimizationResult,
    bars: pl.DataFrame,
    partitions: int,
    settings: OptimizeConfig,
) -> None:
    """Print the best candidate's deflated Sharpe ratio and the sweep's PBO (CSCV)."""
    if result.frame.height < 2:
        return
    overfit = result.overfitting(bars, partitions=partitions, config=settings)
    console.print(
        f"deflated Sharpe ratio of the best: {result.deflated_sharpe(bars):.3f}; "
        f"probability of backtest overfitting: {overfit.pbo:.2f} "
        f"over {overfit.splits:,} splits",
        highlight=False,
    )


def _write(frame: pl.DataFrame, output: Path | None, console: Console) -> None:
    if output is None:
        return
    if output.suffix == ".parquet":
        frame.write_parquet(output)
    else:
        frame.write_csv(output)
    console.print(f"results written to {output.resolve()}", highlight=False, soft_wrap=True)


def _as_count(name: str, value: object) -> object:
    """Return a count metric (kept as a float in result rows) as the integer it is."""
    if name in _COUNT_METRICS and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _table(frame: pl.DataFrame, title: str, objective: object) -> Table:
    """Return the rows as a table; metrics formatted as every command formats them."""
    table = Table(title=title, header_style="bold")
    shown = frame.columns[:14]
    for name in shown:
        table.add_column(name, justify="right")
    metric_of = {name: name for name in METRIC_COLUMNS}
    metric_of["objective"] = objective if isinstance(objective, str) else ""
    for row in frame.select(shown).iter_rows():
        table.add_row(
            *(
                format_metric(metric_of[name], _as_count(name, value))
                if name in metric_of
                else format_cell(value)
                for name, value in zip(shown, row, strict=True)
            )
        )
    return table
