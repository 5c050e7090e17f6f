"""``quantstrata demo``: the main job on the bundled sample data.

Load every bundled sample into a catalog, validate it, print what is there, then backtest the
SMA crossover on the S&P 500 from that catalog and write its HTML report next to the catalog
(into a kept temporary folder when the catalog itself is temporary). Last, replay the final
bars through the simulated venue into the live runtime and show that live trading gets the
backtest's fills.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.console import Console

from quantstrata.backtest import BacktestConfig
from quantstrata.cli._bar_source import LoadedBars
from quantstrata.cli._demo_live import replay_live
from quantstrata.cli._render import make_console, print_frame
from quantstrata.cli.backtest import run_and_report
from quantstrata.data.catalog import Catalog
from quantstrata.data.samples import load_samples_into, sample_info, sample_names
from quantstrata.process.resample import resample
from quantstrata.process.validate import validate_bars
from quantstrata.strategy.examples import SmaCrossover

__all__ = ["REPORT_NAME", "demo"]

REPORT_NAME = "backtest-report.html"
LIVE_BARS = 500


def demo(
    catalog: Annotated[
        Path | None,
        typer.Option("--catalog", help="Catalog root to fill (default: a fresh temporary one)."),
    ] = None,
) -> None:
    """Load the bundled samples into a catalog, validate them and summarise the result."""
    console = make_console()
    if catalog is None:
        # The report outlives the temporary catalog so the printed path can be opened.
        report = Path(tempfile.mkdtemp(prefix="quantstrata-demo-report-")) / REPORT_NAME
        with tempfile.TemporaryDirectory(prefix="quantstrata-demo-") as root:
            _run(console, Path(root), report)
    else:
        _run(console, catalog, catalog / REPORT_NAME)


def _run(console: Console, root: Path, report: Path) -> None:
    store = Catalog(root)
    console.rule("[bold]quantstrata demo: bundled samples -> catalog")
    summaries = load_samples_into(store)
    written = sum(summary.rows_written for summary in summaries)
    console.print(f"loaded {len(summaries)} samples, {written:,} bars, into {store.root}")
    print_frame(console, store.describe(), title="catalog contents")
    _validate_samples(console, store)
    _weekly_view(console, store)
    _backtest(console, store, report)
    replay_live(console, store.read(["SPX"], interval="1d").tail(LIVE_BARS))


def _validate_samples(console: Console, store: Catalog) -> None:
    rows = []
    for name in sample_names():
        info = sample_info(name)
        bars = store.read([info.symbol], interval=str(info.interval))
        report = validate_bars(bars, policy="drop", calendar=info.calendar).report
        rows.append(
            {
                "sample": name,
                "calendar": info.calendar or "24/7",
                "bars": bars.height,
                "issues": len(report.issues),
                "gaps": len(report.gaps),
                "missing bars": sum(gap.missing_bars for gap in report.gaps),
            }
        )
    print_frame(console, pl.DataFrame(rows), title="validation against each market's calendar")


def _weekly_view(console: Console, store: Catalog) -> None:
    daily = store.read(["SPX"], interval="1d")
    weekly = resample(daily, "1w", calendar="XNYS")
    print_frame(console, weekly.tail(5), title="SPX resampled to weekly bars (last 5)")


def _backtest(console: Console, store: Catalog, report: Path) -> None:
    console.rule("[bold]backtest: SMA crossover on SPX (decide at close, fill next open)")
    info = sample_info("SPX_1d")
    bars = store.read([info.symbol], interval=str(info.interval))
    loaded = LoadedBars(
        bars=bars, sources=(f"catalog {store.root} SPX 1d",), calendar=info.calendar
    )
    config = BacktestConfig(calendar=info.calendar)
    run_and_report(console, SmaCrossover(fast=10, slow=30), loaded, config, report)
