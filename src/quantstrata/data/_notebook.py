"""How the catalog and bar frames show themselves in a notebook: HTML cards and Plotly figures.

The catalog card is its :meth:`~quantstrata.data.catalog.Catalog.describe` table (Parquet
footers only, no bar is read); its plot is the time coverage of every (interval, symbol).
The bar frame card lists each symbol with its range, last close and a close sparkline; its
plot is candlesticks for one symbol or close lines for several.
"""

from __future__ import annotations

from html import escape
from typing import Any

import polars as pl

from quantstrata.analytics._format import format_moment
from quantstrata.analytics._html import (
    card_html,
    cell_text,
    frame_html,
    sparkline_svg,
    table_html,
)
from quantstrata.core.errors import ConfigError

__all__ = [
    "CANDLESTICK_LIMIT",
    "SHOWN_SYMBOLS",
    "bars_html",
    "catalog_html",
    "plot_bars",
    "plot_coverage",
]

SHOWN_SYMBOLS = 20
"""A bar frame card lists at most this many symbols (the rest are counted)."""
CANDLESTICK_LIMIT = 5_000
"""Above this many bars a symbol is drawn as a close line rather than candlesticks."""
_HEAD_ROWS = 3


def catalog_html(root: str, described: pl.DataFrame) -> str:
    """Return the catalog card: its (redacted) root and one row per stored (interval, symbol)."""
    if described.is_empty():
        return card_html("Catalog (empty)", subtitle=root)
    shown = described.with_columns(
        pl.col("first", "last").dt.strftime("%Y-%m-%d %H:%M"),
        size=pl.col("bytes").map_elements(_size, return_dtype=pl.String),
    ).drop("bytes")
    return card_html(
        "Catalog",
        frame_html(shown, rows=50, identifier="catalog"),
        subtitle=f"{root}: {described.height:,} series, {int(described['rows'].sum()):,} bars",
    )


def plot_coverage(described: pl.DataFrame) -> Any:
    """Return a timeline with one bar per (interval, symbol) from its first to its last bar."""
    import plotly.graph_objects as go  # type: ignore[import-untyped]

    labels = [
        f"{symbol} {interval}"
        for interval, symbol in described.select("interval", "symbol").iter_rows()
    ]
    first = described["first"].dt.replace_time_zone(None)
    spans = (described["last"] - described["first"]).dt.total_milliseconds()
    figure = go.Figure(
        go.Bar(
            base=first.to_list(),
            x=[max(int(span), 1) for span in spans.to_list()],
            y=labels,
            orientation="h",
            text=[f"{rows:,} bars" for rows in described["rows"].to_list()],
            hovertemplate="%{y}: %{text}<extra></extra>",
            marker={"color": "#1f77b4"},
        )
    )
    figure.update_layout(
        template="plotly_white",
        title={"text": "Catalog coverage"},
        xaxis={"type": "date", "title": {"text": "time (UTC)"}},
        yaxis={"autorange": "reversed", "type": "category"},
        height=160 + 28 * max(described.height, 1),
    )
    return figure


def bars_html(bars: pl.DataFrame, interval: str) -> str:
    """Return the bar frame card: a row per symbol with range, last close and a sparkline."""
    symbols = bars["symbol"].unique(maintain_order=True).to_list()
    rows = []
    for symbol in symbols[:SHOWN_SYMBOLS]:
        series = bars.filter(pl.col("symbol") == symbol).sort("ts")
        close = series["close"]
        rows.append(
            [
                escape(str(symbol)),
                f"{series.height:,}",
                escape(format_moment(series["ts"][0])),
                escape(format_moment(series["ts"][-1])),
                escape(cell_text(close[-1])),
                sparkline_svg(close.to_numpy(), width=140, height=28, label=str(symbol)),
            ]
        )
    more = len(symbols) - SHOWN_SYMBOLS
    if more > 0:
        rows.append([f"… {more:,} more symbols", "", "", "", "", ""])
    table = table_html(
        ["symbol", "bars", "first (UTC)", "last (UTC)", "last close", "close"],
        rows,
        numeric=[False, True, False, False, True, False],
        identifier="symbols",
    )
    title = f"BarFrame: {len(symbols):,} symbol{'s' if len(symbols) != 1 else ''}, {interval}"
    return card_html(
        title,
        table,
        frame_html(bars, rows=_HEAD_ROWS, identifier="bars"),
        subtitle=f"{bars.height:,} bars; .plot() draws candlesticks",
    )


def plot_bars(bars: pl.DataFrame, symbol: str | None) -> Any:
    """Return candlesticks for one symbol, or one close line per symbol when there are several."""
    import plotly.graph_objects as go

    symbols = [str(name) for name in bars["symbol"].unique(maintain_order=True).to_list()]
    if symbol is not None and symbol not in symbols:
        raise ConfigError(f"symbol {symbol!r} is not in the bars; they hold {symbols[:10]}")
    chosen = [symbol] if symbol is not None else symbols
    figure = go.Figure(
        layout={
            "template": "plotly_white",
            "title": {"text": ", ".join(chosen[:5]) + (" …" if len(chosen) > 5 else "")},
            "xaxis": {"rangeslider": {"visible": False}, "title": {"text": "time (UTC)"}},
            "yaxis": {"title": {"text": "price"}},
        }
    )
    for name in chosen:
        series = bars.filter(pl.col("symbol") == name).sort("ts")
        times = series["ts"].dt.convert_time_zone("UTC").dt.replace_time_zone(None).to_list()
        if len(chosen) == 1 and series.height <= CANDLESTICK_LIMIT:
            figure.add_trace(
                go.Candlestick(
                    x=times,
                    open=series["open"].to_list(),
                    high=series["high"].to_list(),
                    low=series["low"].to_list(),
                    close=series["close"].to_list(),
                    name=name,
                )
            )
        else:
            figure.add_trace(
                go.Scatter(x=times, y=series["close"].to_list(), mode="lines", name=f"{name} close")
            )
    return figure


def _size(value: int) -> str:
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{size:,.1f} GiB"  # pragma: no cover
