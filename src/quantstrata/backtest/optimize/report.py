"""The optimisation report: parameter heatmaps and the ranked table, one self-contained HTML file.

A heatmap shows the objective over two parameters; when the search varied more parameters,
each cell shows the best objective over the others (the value a user could have reached).
The page reuses the backtest report's page builder, so plotly.js is inline and the same
result gives the same bytes.
"""

from __future__ import annotations

import math
import os
from html import escape
from itertools import combinations
from pathlib import Path
from typing import Any

import plotly.graph_objects as go  # type: ignore[import-untyped]
import plotly.io as pio  # type: ignore[import-untyped]
import polars as pl

from quantstrata._version import __version__
from quantstrata.backtest._report_page import Figure, Section, render_page, write_atomically
from quantstrata.backtest._report_tables import metrics_html
from quantstrata.backtest.optimize._notebook import plot_walk_forward
from quantstrata.backtest.optimize.engine import OptimizationResult
from quantstrata.backtest.optimize.walkforward import WalkForwardResult
from quantstrata.core.errors import ConfigError

__all__ = [
    "heatmap_data",
    "heatmap_figure",
    "render_optimization_report",
    "render_walk_forward_report",
    "write_optimization_report",
    "write_walk_forward_report",
]

_TABLE_ROWS = 20


def heatmap_data(
    frame: pl.DataFrame, x: str, y: str, value: str, *, maximize: bool = True
) -> tuple[list[Any], list[Any], list[list[float | None]]]:
    """Return ``(x values, y values, z rows)``: the best ``value`` per cell, None if empty."""
    for name in (x, y, value):
        if name not in frame.columns:
            raise ConfigError(f"heatmap column {name!r} is not in the results ({frame.columns})")
    valid = frame.filter(pl.col(value).is_not_nan() & pl.col(value).is_not_null())
    best = pl.col(value).max() if maximize else pl.col(value).min()
    cells = valid.group_by(x, y).agg(best.alias("z"))
    xs = sorted(frame[x].unique().to_list())
    ys = sorted(frame[y].unique().to_list())
    lookup = {(row[0], row[1]): float(row[2]) for row in cells.iter_rows()}
    grid = [[lookup.get((x_value, y_value)) for x_value in xs] for y_value in ys]
    return xs, ys, grid


def heatmap_figure(result: OptimizationResult, x: str, y: str) -> str:
    """Return the Plotly JSON of the objective heatmap over parameters ``x`` and ``y``."""
    xs, ys, grid = heatmap_data(result.frame, x, y, "objective", maximize=result.maximize)
    text = [["" if cell is None else f"{cell:.3g}" for cell in row] for row in grid]
    figure = go.Figure(
        go.Heatmap(
            z=grid,
            x=[str(value) for value in xs],
            y=[str(value) for value in ys],
            text=text,
            texttemplate="%{text}",
            colorscale="RdYlGn" if result.maximize else "RdYlGn_r",
            colorbar={"title": {"text": result.objective}},
            hovertemplate=f"{x}=%{{x}} {y}=%{{y}}: %{{z:.4g}}<extra></extra>",
            hoverongaps=False,
        )
    )
    figure.update_layout(
        title={"text": f"{result.objective} by {x} and {y}", "x": 0.0, "xanchor": "left"},
        template="plotly_white",
        height=200 + 22 * len(ys),
        xaxis={"title": {"text": x}, "type": "category"},
        yaxis={"title": {"text": y}, "type": "category"},
    )
    return str(pio.to_json(figure, validate=False, pretty=False, engine="json"))


def render_optimization_report(
    result: OptimizationResult, pairs: list[tuple[str, str]] | None = None
) -> str:
    """Return the report page: one heatmap per parameter pair, then the best rows."""
    chosen = pairs if pairs is not None else list(combinations(result.parameters, 2))[:3]
    figures = tuple(
        Figure(f"heatmap-{number}", heatmap_figure(result, x, y))
        for number, (x, y) in enumerate(chosen, start=1)
    )
    status = "interrupted" if result.interrupted else "complete"
    header = (
        f"<h1>Optimisation: {escape(result.strategy_class.__name__)}</h1>\n"
        f'<p class="note">{result.frame.height} of {result.planned} candidates ({status}); '
        f"objective {escape(result.objective)}, "
        f"{'maximised' if result.maximize else 'minimised'}</p>"
    )
    sections = (
        Section("heatmaps", "Parameter heatmaps", figures),
        Section("ranking", f"Best {_TABLE_ROWS} candidates", html=_table(result)),
    )
    return render_page(
        f"Optimisation report: {result.strategy_class.__name__}",
        header,
        sections,
        f"quantstrata {__version__}",
    )


def write_optimization_report(
    result: OptimizationResult,
    path: str | os.PathLike[str],
    pairs: list[tuple[str, str]] | None = None,
) -> Path:
    """Write the optimisation report to ``path`` atomically and return the path."""
    return write_atomically(Path(path), render_optimization_report(result, pairs))


def render_walk_forward_report(result: WalkForwardResult, strategy: str) -> str:
    """Return the walk-forward page: the stitched out-of-sample equity, its metrics, windows."""
    status = "interrupted" if result.interrupted else "complete"
    header = (
        f"<h1>Walk-forward: {escape(strategy)}</h1>\n"
        f'<p class="note">{result.windows.height} windows ({status}); parameters searched: '
        f"{escape(', '.join(result.parameters))}</p>"
    )
    equity = Figure(
        "walk-forward-equity",
        str(pio.to_json(plot_walk_forward(result), validate=False, pretty=False, engine="json")),
    )
    sections = (
        Section("equity", "Stitched out-of-sample equity", (equity,)),
        Section(
            "metrics",
            "Out-of-sample performance metrics",
            html=metrics_html(result.metrics.to_dict()),
        ),
        Section("windows", "Windows", html=_frame_table(result.windows)),
    )
    return render_page(
        f"Walk-forward report: {strategy}", header, sections, f"quantstrata {__version__}"
    )


def write_walk_forward_report(
    result: WalkForwardResult, path: str | os.PathLike[str], strategy: str
) -> Path:
    """Write the walk-forward report of ``strategy`` (its name) to ``path`` atomically."""
    return write_atomically(Path(path), render_walk_forward_report(result, strategy))


def _frame_table(frame: pl.DataFrame) -> str:
    head = "".join(f"<th>{escape(name)}</th>" for name in frame.columns)
    rows = [
        "<tr>" + "".join(f"<td>{escape(_cell(value))}</td>" for value in row) + "</tr>"
        for row in frame.iter_rows()
    ]
    return f'<table class="metrics"><tr>{head}</tr>{"".join(rows)}</table>'


def _table(result: OptimizationResult) -> str:
    columns = ["trial", *result.parameters, "objective", "total_return", "max_drawdown", "trades"]
    head = "".join(f"<th>{escape(name)}</th>" for name in columns)
    rows = []
    for row in result.frame.head(_TABLE_ROWS).iter_rows(named=True):
        cells = "".join(f"<td>{escape(_cell(row[name]))}</td>" for name in columns)
        rows.append(f"<tr>{cells}</tr>")
    return f'<table class="metrics"><tr>{head}</tr>{"".join(rows)}</table>'


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.4g}"
    return str(value)
