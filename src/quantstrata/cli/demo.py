"""``quantstrata demo``: the main job on the bundled sample data.

Load every bundled sample into a catalog, validate it, and print what is there. Later layers
extend the demo with a backtest and a live replay.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.console import Console

from quantstrata.cli._render import make_console, print_frame
from quantstrata.data.catalog import Catalog
from quantstrata.data.samples import load_samples_into, sample_info, sample_names
from quantstrata.process.resample import resample
from quantstrata.process.validate import validate_bars

__all__ = ["demo"]


def demo(
    catalog: Annotated[
        Path | None,
        typer.Option("--catalog", help="Catalog root to fill (default: a fresh temporary one)."),
    ] = None,
) -> None:
    """Load the bundled samples into a catalog, validate them and summarise the result."""
    console = make_console()
    if catalog is None:
        with tempfile.TemporaryDirectory(prefix="quantstrata-demo-") as root:
            _run(console, Path(root))
    else:
        _run(console, catalog)


def _run(console: Console, root: Path) -> None:
    store = Catalog(root)
    console.rule("[bold]quantstrata demo: bundled samples -> catalog")
    summaries = load_samples_into(store)
    written = sum(summary.rows_written for summary in summaries)
    console.print(f"loaded {len(summaries)} samples, {written:,} bars, into {store.root}")
    print_frame(console, store.describe(), title="catalog contents")
    _validate_samples(console, store)
    _weekly_view(console, store)


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
