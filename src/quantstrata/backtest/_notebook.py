"""How a backtest result shows itself in a notebook: an HTML card and Plotly figures.

The card (:func:`result_html`) is cheap: a summary, an inline SVG sparkline of the equity curve
and the metrics table, with every text from the run record escaped and credentials masked as
in the report. :func:`plot_result` returns the report's own figures as Plotly objects, so what
a notebook draws and what the HTML report draws cannot drift apart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from quantstrata.analytics._format import format_moment
from quantstrata.analytics._html import (
    card_html,
    key_value_html,
    metrics_html,
    side_by_side,
    sparkline_svg,
)
from quantstrata.backtest._report_tables import Redactor
from quantstrata.core.errors import ConfigError

if TYPE_CHECKING:
    from quantstrata.backtest.results import BacktestResult

__all__ = ["PlotKind", "plot_result", "result_html", "strategy_title"]

PlotKind = Literal["equity", "price", "monthly"]
_PLOT_POINTS = 5_000


def strategy_title(strategy: str, parameters: dict[str, object] | Any) -> str:
    """Return ``ClassName(a=1, b=2)`` from a qualified class name and its parameters."""
    name = strategy.rsplit(".", 1)[-1]
    arguments = ", ".join(f"{key}={value!r}" for key, value in dict(parameters).items())
    return f"{name}({arguments})"


def result_html(result: BacktestResult) -> str:
    """Return the notebook card of ``result``: summary, equity sparkline, metrics table."""
    record = result.record
    redactor = Redactor(record.parameters, record.config)
    equity = result.equity["equity"]
    first, last = result.equity["ts"][0], result.equity["ts"][-1]
    summary = key_value_html(
        [
            ("Period", f"{format_moment(first)} → {format_moment(last)}"),
            ("Symbols", ", ".join(str(symbol) for symbol in record.symbols)),
            ("Fill policy", str(record.fill_policy)),
            ("Final equity", f"{result.final_equity:,.2f}"),
            ("Orders / fills / trades", _counts(result)),
        ],
        identifier="result-summary",
    )
    curve = sparkline_svg(
        equity.to_numpy(), width=240, height=56, label=f"equity, {equity.len():,} bars"
    )
    return card_html(
        redactor.clean(strategy_title(record.strategy, record.parameters)),
        side_by_side(curve + summary, metrics_html(result.metrics.to_dict())),
        subtitle=f"BacktestResult: {record.bars:,} bars; .plot() draws the equity curve",
    )


def plot_result(result: BacktestResult, kind: PlotKind, symbol: str | None) -> Any:
    """Return the report figure ``kind`` of ``result`` as a ``plotly.graph_objects.Figure``."""
    # Plotly loads only when a figure is asked for, never when a result is built.
    import plotly.io as pio  # type: ignore[import-untyped]

    from quantstrata.backtest import _report_figures as figures
    from quantstrata.backtest._report_data import check_equity

    curve = check_equity(result.equity)
    title = strategy_title(result.record.strategy, result.record.parameters)
    if kind == "equity":
        text = figures.equity_figure(curve, max_points=_PLOT_POINTS)
    elif kind == "monthly":
        text = figures.monthly_returns_figure(curve)
    elif kind == "price":
        symbols = sorted({str(name) for name in result.bars["symbol"].unique().to_list()})
        chosen = symbol if symbol is not None else symbols[0]
        if chosen not in symbols:
            raise ConfigError(f"symbol {chosen!r} is not in this result; it has {symbols}")
        text = figures.price_figure(
            result.bars.filter(pl.col("symbol") == chosen).sort("ts"),
            result.trades.filter(pl.col("symbol") == chosen).sort("entry_ts"),
            chosen,
            candlestick_limit=_PLOT_POINTS,
            max_points=_PLOT_POINTS,
        )
    else:
        raise ConfigError(f"kind must be 'equity', 'price' or 'monthly', got {kind!r}")
    figure = pio.from_json(text)
    if kind != "price":
        figure.update_layout(title={"text": title, "x": 0.0, "xanchor": "left"})
    return figure


def _counts(result: BacktestResult) -> str:
    return f"{result.orders.height:,} / {result.fills.height:,} / {result.trades.height:,}"
