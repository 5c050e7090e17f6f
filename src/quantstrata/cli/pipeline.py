"""``quantstrata pipeline``: backtest a factor-pipeline strategy over a universe of symbols.

quantstrata pipeline examples/momentum_pipeline.py --synthetic 500 --years 10
quantstrata pipeline examples/mean_reversion_pipeline.py --data SPX,IXIC,GOOG
quantstrata pipeline my_pipeline.py --data prices.parquet --param top=20 --commission 0.001

It prints the metrics table and the weights of the last rebalance, and writes the HTML report,
as ``quantstrata backtest`` does. ``--synthetic N`` trades ``N`` seeded synthetic symbols on the
NYSE calendar instead of loaded data.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.console import Console
from rich.table import Table

from quantstrata.backtest import BacktestConfig
from quantstrata.backtest.config import SizeAt
from quantstrata.cli._bar_source import LoadedBars, load_bars
from quantstrata.cli._options import (
    CashOption,
    CatalogIntervalOption,
    CatalogOption,
    CommissionOption,
    EndOption,
    StartOption,
    TimezoneOption,
    as_utc,
)
from quantstrata.cli._render import make_console
from quantstrata.cli._strategy_source import build_strategy, load_strategy_class
from quantstrata.cli.backtest import SizeAtOption, run_and_report
from quantstrata.core.config import DEFAULT_CASH
from quantstrata.core.errors import ConfigError
from quantstrata.data.synthetic import generate_bars
from quantstrata.execution.config import CommissionConfig
from quantstrata.strategy.pipeline import PipelineStrategy

__all__ = ["DEFAULT_PIPELINE_REPORT", "SYNTHETIC_START", "pipeline", "synthetic_universe"]

DEFAULT_PIPELINE_REPORT = Path("pipeline-report.html")
SYNTHETIC_START = datetime(2014, 1, 2, tzinfo=UTC)
"""The first session of the synthetic universe."""
_SESSIONS_PER_YEAR = 252
_SHOWN_WEIGHTS = 15


def pipeline(
    strategy: Annotated[
        str,
        typer.Argument(help="A .py file with one PipelineStrategy, file.py:Class or module:Class."),
    ],
    data: Annotated[
        list[str] | None,
        typer.Option(
            "--data",
            "-d",
            help="Symbols to trade: bundled samples, files or catalog symbols, comma-separated "
            "or repeated (SPX,IXIC,GOOG). Default: SPX,IXIC,GOOG unless --synthetic.",
        ),
    ] = None,
    synthetic: Annotated[
        int | None,
        typer.Option("--synthetic", help="Trade this many seeded synthetic daily symbols."),
    ] = None,
    years: Annotated[
        float, typer.Option("--years", help="Years of synthetic sessions (252 a year).")
    ] = 10.0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the synthetic universe.")] = 7,
    interval: CatalogIntervalOption = None,
    start: StartOption = None,
    end: EndOption = None,
    cash: CashOption = DEFAULT_CASH,
    commission: CommissionOption = 0.0,
    size_at: SizeAtOption = SizeAt.DECISION,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report", help=f"HTML report to write (default ./{DEFAULT_PIPELINE_REPORT})."
        ),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="Strategy parameter as name=value; repeatable."),
    ] = None,
    catalog: CatalogOption = None,
    timezone: TimezoneOption = None,
) -> None:
    """Backtest a pipeline strategy; print metrics and the last weights, write the report."""
    console = make_console()
    chosen = build_strategy(load_strategy_class(strategy), param or [])
    if not isinstance(chosen, PipelineStrategy):
        raise ConfigError(
            f"{chosen.name} is not a PipelineStrategy; run it with `quantstrata backtest`"
        )
    loaded = _bars(data, synthetic, (years, seed), interval, catalog, (start, end), timezone)
    config = BacktestConfig.build(
        cash=cash,
        commission=CommissionConfig.build(rate=commission),
        calendar=loaded.calendar,
        size_at=size_at,
    )
    run_and_report(console, chosen, loaded, config, report or DEFAULT_PIPELINE_REPORT)
    _print_weights(console, chosen, loaded.bars)


def synthetic_universe(symbols: int, years: float, seed: int) -> pl.DataFrame:
    """Return ``symbols`` seeded synthetic daily bar series on the NYSE calendar over ``years``."""
    if symbols < 1:
        raise ConfigError(f"--synthetic must be >= 1 symbol, got {symbols}")
    sessions = round(years * _SESSIONS_PER_YEAR)
    if sessions < 2:
        raise ConfigError(f"--years must give at least 2 sessions, got {years}")
    return generate_bars(
        symbols=symbols,
        bars=sessions,
        interval="1d",
        calendar="XNYS",
        start=SYNTHETIC_START,
        seed=seed,
        volatility=0.3,
    ).sort("ts", "symbol")


def _bars(
    data: list[str] | None,
    synthetic: int | None,
    shape: tuple[float, int],
    interval: str | None,
    catalog: Path | None,
    window: tuple[datetime | None, datetime | None],
    timezone: str | None,
) -> LoadedBars:
    """Return the synthetic universe or the named bars (comma-separated names allowed)."""
    start, end = window
    if synthetic is not None:
        if data:
            raise ConfigError("pass either --data or --synthetic, not both")
        years, seed = shape
        bars = synthetic_universe(synthetic, years, seed)
        if start is not None:
            bars = bars.filter(pl.col("ts") >= as_utc(start))
        if end is not None:
            bars = bars.filter(pl.col("ts") < as_utc(end))
        source = f"synthetic universe ({synthetic} symbols, {years:g} years, seed {seed})"
        return LoadedBars(bars=bars, sources=(source,), calendar="XNYS")
    names = [name.strip() for item in data or ["SPX,IXIC,GOOG"] for name in item.split(",")]
    return load_bars(
        [name for name in names if name], interval=interval, catalog=catalog, start=start, end=end,
        timezone=timezone,
    )  # fmt: skip


def _print_weights(console: Console, strategy: PipelineStrategy, bars: pl.DataFrame) -> None:
    """Print the last rebalance's date, how many symbols it holds and its largest weights."""
    decided = strategy.pipeline().rebalances(bars)
    if decided.is_empty():
        console.print("no rebalance in these bars", highlight=False)
        return
    last = decided.filter(pl.col("ts") == pl.col("ts").max())
    held = last.filter(pl.col("weight") != 0.0).sort(
        pl.col("weight").abs(), "symbol", descending=[True, False]
    )
    console.print(
        f"weights at the last rebalance, {last['ts'][0]:%Y-%m-%d}: {held.height} held",
        highlight=False,
    )
    table = Table(header_style="bold")
    table.add_column("symbol")
    table.add_column("weight", justify="right")
    for symbol, weight in held.select("symbol", "weight").head(_SHOWN_WEIGHTS).iter_rows():
        table.add_row(symbol, f"{weight:+.4f}")
    if held.height > _SHOWN_WEIGHTS:
        table.add_row("…", f"{held.height - _SHOWN_WEIGHTS} more")
    console.print(table)
