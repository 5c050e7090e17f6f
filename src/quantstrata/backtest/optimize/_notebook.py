"""How optimisation and walk-forward results show themselves in a notebook.

The cards are inline HTML (no scripts): the search's best candidates as a table, and for a
walk-forward analysis the stitched out-of-sample equity as a sparkline beside its metrics.
The plots are Plotly figures: the optimisation report's heatmap (or the objective against
the one searched parameter) and the stitched equity coloured by window.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from quantstrata.analytics._html import (
    card_html,
    frame_html,
    key_value_html,
    metrics_html,
    side_by_side,
    sparkline_svg,
)
from quantstrata.core.errors import ConfigError

if TYPE_CHECKING:
    from quantstrata.backtest.optimize.engine import OptimizationResult
    from quantstrata.backtest.optimize.walkforward import WalkForwardResult

__all__ = [
    "SHOWN_CANDIDATES",
    "optimization_html",
    "plot_optimization",
    "plot_walk_forward",
    "walk_forward_html",
]

SHOWN_CANDIDATES = 10
"""The optimisation card lists this many of the best candidates."""
_SHOWN_COLUMNS = ("objective", "total_return", "sharpe", "max_drawdown", "trades")


def optimization_html(result: OptimizationResult) -> str:
    """Return the card of a search: what was searched, the best values, the top candidates."""
    name = result.strategy_class.__name__
    direction = "maximised" if result.maximize else "minimised"
    status = f"{result.frame.height:,} of {result.planned:,} candidates evaluated"
    if result.interrupted:
        status += " (interrupted)"
    best = [] if result.frame.is_empty() else list(result.best.items())
    columns = ["trial", *result.parameters]
    columns += [column for column in _SHOWN_COLUMNS if column in result.frame.columns]
    return card_html(
        f"OptimizationResult: {name}, {result.objective} {direction}",
        key_value_html([(key, repr(value)) for key, value in best], identifier="best"),
        frame_html(result.frame.head(SHOWN_CANDIDATES).select(columns), identifier="candidates"),
        subtitle=f"{status}; .plot() draws the objective over the parameters",
    )


def walk_forward_html(result: WalkForwardResult) -> str:
    """Return the card of a walk-forward analysis: stitched equity, metrics and windows."""
    equity = result.equity["equity"]
    curve = sparkline_svg(
        equity.to_numpy(),
        width=240,
        height=56,
        label=f"stitched out-of-sample equity, {equity.len():,} bars",
    )
    searched = ", ".join(result.parameters)
    status = f"{result.windows.height:,} windows over {searched}"
    if result.interrupted:
        status += " (interrupted)"
    return card_html(
        "WalkForwardResult: stitched out-of-sample run",
        side_by_side(curve, metrics_html(_defined(result.metrics.to_dict()))),
        frame_html(result.windows, identifier="windows"),
        subtitle=f"{status}; .plot() draws the stitched equity by window",
    )


def _defined(values: dict[str, Any]) -> dict[str, Any]:
    """Drop the metrics a stitched curve cannot have (the trade statistics are all n/a)."""
    return {
        name: value
        for name, value in values.items()
        if value is not None and not (isinstance(value, float) and math.isnan(value))
    }


def plot_optimization(result: OptimizationResult, x: str | None, y: str | None) -> Any:
    """Return the objective heatmap over ``x`` and ``y`` (default the first two parameters).

    With one searched parameter the figure is the objective against it.
    """
    import plotly.graph_objects as go  # type: ignore[import-untyped]
    import plotly.io as pio  # type: ignore[import-untyped]

    from quantstrata.backtest.optimize.report import heatmap_figure

    names = result.parameters
    if not names or result.frame.is_empty():
        raise ConfigError("the search has no evaluated candidate to plot")
    if len(names) == 1 and x is None and y is None:
        ordered = result.frame.sort(names[0])
        return go.Figure(
            go.Scatter(
                x=ordered[names[0]].to_list(),
                y=ordered["objective"].to_list(),
                mode="lines+markers",
                name=result.objective,
            ),
            layout={
                "template": "plotly_white",
                "title": {"text": f"{result.objective} by {names[0]}"},
                "xaxis": {"title": {"text": names[0]}},
                "yaxis": {"title": {"text": result.objective}},
            },
        )
    across = x if x is not None else names[0]
    down = y if y is not None else next(name for name in names if name != across)
    return pio.from_json(heatmap_figure(result, across, down))


def plot_walk_forward(result: WalkForwardResult) -> Any:
    """Return the stitched out-of-sample equity, one coloured trace per window."""
    import plotly.graph_objects as go

    figure = go.Figure(
        layout={
            "template": "plotly_white",
            "title": {"text": "Walk-forward: stitched out-of-sample equity"},
            "xaxis": {"title": {"text": "time (UTC)"}},
            "yaxis": {"title": {"text": "equity"}},
            "hovermode": "x unified",
        }
    )
    for (number,), piece in result.equity.partition_by(
        "window", as_dict=True, maintain_order=True
    ).items():
        figure.add_trace(
            go.Scatter(
                x=piece["ts"].dt.convert_time_zone("UTC").dt.replace_time_zone(None).to_list(),
                y=piece["equity"].to_list(),
                mode="lines",
                name=f"window {int(str(number)) + 1}",
            )
        )
    return figure
