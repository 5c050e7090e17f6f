"""The report's Plotly figures, each returned as deterministic JSON text.

Plotly has no type information, so it stays inside this module: every builder takes Polars
frames and returns the figure's JSON (``{"data": [...], "layout": {...}}``), which the page
embeds as data and hands to ``Plotly.newPlot`` in the browser. Values are passed as plain
lists (not NumPy arrays) so the JSON holds readable numbers rather than base64 blocks.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go  # type: ignore[import-untyped]
import plotly.io as pio  # type: ignore[import-untyped]
import polars as pl
from plotly.subplots import make_subplots  # type: ignore[import-untyped]

from quantstrata.backtest._report_data import (
    finite_or_none,
    minmax_indices,
    monthly_returns,
    time_labels,
    underwater,
)

__all__ = ["MONTH_NAMES", "equity_figure", "monthly_returns_figure", "price_figure"]

MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
"""Heatmap column labels, January first."""

_TEMPLATE = "plotly_white"
_UP, _DOWN = "#26a69a", "#ef5350"
_LONG, _SHORT = "#2e7d32", "#c62828"
_WIN, _LOSS = "#1b5e20", "#b71c1c"
_LINE, _UNDERWATER = "#1f77b4", "#d62728"
_FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"}


def price_figure(
    bars: pl.DataFrame,
    trades: pl.DataFrame,
    symbol: str,
    *,
    candlestick_limit: int,
    max_points: int,
) -> str:
    """Return one symbol's price chart with a ▲ per trade entry and a ▼ per trade exit.

    Up to ``candlestick_limit`` bars are drawn as candlesticks; longer histories become a close
    line thinned to about ``max_points`` points (see :func:`minmax_indices`).
    """
    figure = go.Figure()
    if bars.height <= candlestick_limit:
        figure.add_trace(_candlesticks(bars, symbol))
    else:
        close = bars["close"].to_numpy()
        rows = minmax_indices(close, max_points)
        figure.add_trace(
            go.Scatter(
                x=time_labels(bars["ts"].gather(rows)),
                y=finite_or_none(close[rows]),
                mode="lines",
                name=f"{symbol} close",
                line={"color": _LINE, "width": 1.2},
            )
        )
    figure.add_traces(_trade_markers(trades))
    # Marker traces make Plotly pad the autorange by 5 %; pin the axis to the bars instead.
    span = time_labels(bars["ts"].gather([0, bars.height - 1])) if bars.height else None
    figure.update_layout(
        **_layout(f"{symbol}: price and trades", height=480),
        hovermode="closest",
        xaxis={
            "rangeslider": {"visible": False},
            "title": {"text": "time (UTC)"},
            **({"range": span} if span is not None and span[0] != span[1] else {}),
        },
        yaxis={"title": {"text": "price"}},
    )
    return _to_json(figure)


def equity_figure(curve: pl.DataFrame, *, max_points: int) -> str:
    """Return the equity curve above its underwater (drawdown) curve, sharing the time axis."""
    equity = curve["equity"].to_numpy()
    depth = underwater(equity) * 100.0
    figure = make_subplots(
        rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.04, row_heights=[0.7, 0.3]
    )
    rows = minmax_indices(equity, max_points)
    figure.add_trace(
        go.Scatter(
            x=time_labels(curve["ts"].gather(rows)),
            y=finite_or_none(equity[rows]),
            mode="lines",
            name="equity",
            line={"color": _LINE, "width": 1.5},
            hovertemplate="%{x}<br>equity %{y:,.2f}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    rows = minmax_indices(depth, max_points)
    figure.add_trace(
        go.Scatter(
            x=time_labels(curve["ts"].gather(rows)),
            y=finite_or_none(depth[rows]),
            mode="lines",
            name="drawdown",
            fill="tozeroy",
            line={"color": _UNDERWATER, "width": 1.0},
            hovertemplate="%{x}<br>drawdown %{y:.2f} %<extra></extra>",
        ),
        row=2,
        col=1,
    )
    # The section heading names the chart; a title inside it would repeat the heading.
    figure.update_layout(**_layout(None, height=540), hovermode="x unified")
    figure.update_yaxes(title_text="equity", row=1, col=1)
    figure.update_yaxes(title_text="drawdown (%)", row=2, col=1)
    figure.update_xaxes(title_text="time (UTC)", row=2, col=1)
    return _to_json(figure)


def monthly_returns_figure(curve: pl.DataFrame) -> str:
    """Return the monthly returns heatmap: one row per year, one column per month, in percent."""
    table = monthly_returns(curve)
    present = [int(year) for year in table["year"].to_list()]
    years = list(range(min(present), max(present) + 1))
    cells: dict[tuple[int, int], float] = {
        (int(year), int(month)): float(value) * 100.0 for year, month, value in table.iter_rows()
    }
    grid = [[cells.get((year, month)) for month in range(1, 13)] for year in years]
    text = [["" if value is None else _one_place(value) for value in row] for row in grid]
    figure = go.Figure(
        go.Heatmap(
            z=grid,
            x=list(MONTH_NAMES),
            y=[str(year) for year in years],
            text=text,
            texttemplate="%{text}",
            colorscale="RdYlGn",
            zmid=0.0,
            xgap=1,
            ygap=1,
            colorbar={"title": {"text": "%"}},
            hovertemplate="%{y} %{x}: %{z:.2f} %<extra></extra>",
            hoverongaps=False,
        )
    )
    figure.update_layout(
        **_layout(None, height=100 + 24 * len(years)),
        yaxis={"autorange": "reversed", "type": "category"},
        xaxis={"side": "top", "type": "category"},
    )
    return _to_json(figure)


def _candlesticks(bars: pl.DataFrame, symbol: str) -> Any:
    return go.Candlestick(
        x=time_labels(bars["ts"]),
        open=finite_or_none(bars["open"]),
        high=finite_or_none(bars["high"]),
        low=finite_or_none(bars["low"]),
        close=finite_or_none(bars["close"]),
        name=symbol,
        increasing={"line": {"color": _UP}},
        decreasing={"line": {"color": _DOWN}},
    )


def _trade_markers(trades: pl.DataFrame) -> list[Any]:
    """Return the entry (▲, coloured by direction) and exit (▼, coloured by P&L) markers."""
    directions = [str(direction) for direction in trades["direction"].to_list()]
    pnl = trades["pnl"].to_list()
    entries = go.Scatter(
        x=time_labels(trades["entry_ts"]),
        y=finite_or_none(trades["entry_price"]),
        mode="markers",
        name="entries ▲",
        marker={
            "symbol": "triangle-up",
            "size": 11,
            "color": [_SHORT if direction == "short" else _LONG for direction in directions],
            "line": {"width": 1, "color": "#ffffff"},
        },
        text=_hover(trades, "entry"),
        hovertemplate="%{text}<extra></extra>",
    )
    exits = go.Scatter(
        x=time_labels(trades["exit_ts"]),
        y=finite_or_none(trades["exit_price"]),
        mode="markers",
        name="exits ▼",
        marker={
            "symbol": "triangle-down",
            "size": 11,
            "color": [_LOSS if value is not None and value < 0 else _WIN for value in pnl],
            "line": {"width": 1, "color": "#ffffff"},
        },
        text=_hover(trades, "exit"),
        hovertemplate="%{text}<extra></extra>",
    )
    return [entries, exits]


def _hover(trades: pl.DataFrame, side: str) -> list[str]:
    times = time_labels(trades[f"{side}_ts"])
    rows = zip(
        times,
        trades["direction"].to_list(),
        trades[f"{side}_price"].to_list(),
        trades["quantity"].to_list(),
        trades["pnl"].to_list(),
        trades["return"].to_list(),
        strict=True,
    )
    return [
        f"{str(direction).capitalize()} {side} · {time}<br>"
        f"price {_number(price)}<br>quantity {_number(quantity)}<br>"
        f"trade P&L {_signed(pnl)} ({_percent(result)})"
        for time, direction, price, quantity, pnl, result in rows
    ]


def _one_place(value: float) -> str:
    """Format a percentage to one place, without the "-0.0" a tiny loss would round to."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def _number(value: object) -> str:
    return "n/a" if not isinstance(value, int | float) else f"{value:,.6g}"


def _signed(value: object) -> str:
    return "n/a" if not isinstance(value, int | float) else f"{value:+,.2f}"


def _percent(value: object) -> str:
    return "n/a" if not isinstance(value, int | float) else f"{value * 100:+.2f} %"


def _layout(title: str | None, *, height: int) -> dict[str, Any]:
    """Return the shared layout; ``title=None`` for a chart its section heading already names."""
    titled = {"title": {"text": title, "x": 0.0, "xanchor": "left"}} if title is not None else {}
    return {
        **titled,
        "template": _TEMPLATE,
        "height": height,
        "margin": {"l": 60, "r": 30, "t": 60 if title is not None else 40, "b": 40},
        "font": _FONT,
        "legend": {
            "orientation": "h",
            "y": 1.02,
            "yanchor": "bottom",
            "x": 1.0,
            "xanchor": "right",
        },
    }


def _to_json(figure: Any) -> str:
    """Serialise with the standard-library engine so output never depends on orjson."""
    return str(pio.to_json(figure, validate=False, pretty=False, engine="json"))
