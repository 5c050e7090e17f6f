"""Small, self-contained HTML pieces for notebook reprs: cards, tables and SVG sparklines.

Everything here returns a string of inline HTML: no scripts, no stylesheets, no external
resources, so a notebook shows it offline and a saved notebook stays readable. Every text that
reaches the page goes through :func:`html.escape`. The layers above compose these pieces in
their own ``_notebook`` modules (backtest results, optimisation results, the catalog, bar
frames, the live order book).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from html import escape

import numpy as np
import polars as pl

from quantstrata.analytics._format import format_metric, format_moment
from quantstrata.analytics.labels import metric_label

__all__ = [
    "SPARKLINE_POINTS",
    "card_html",
    "cell_text",
    "frame_html",
    "key_value_html",
    "metrics_html",
    "side_by_side",
    "sparkline_indices",
    "sparkline_svg",
    "table_html",
]

SPARKLINE_POINTS = 300
"""A sparkline draws at most this many points (see :func:`sparkline_indices`)."""

_UP, _DOWN, _FLAT = "#2e7d32", "#c62828", "#1f77b4"
_CARD_STYLE = (
    "font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;"
    "font-size:13px;line-height:1.35;display:inline-block;max-width:100%"
)
_TABLE_STYLE = "border-collapse:collapse;margin:4px 0"
_CELL_STYLE = "padding:1px 8px;border-bottom:1px solid #eee;white-space:nowrap"
_NUMBER_STYLE = _CELL_STYLE + ";text-align:right;font-variant-numeric:tabular-nums"


def sparkline_indices(count: int, max_points: int = SPARKLINE_POINTS) -> np.ndarray:
    """Return the sample positions a sparkline draws: all of them, or ``max_points`` evenly spread.

    Up to ``max_points`` samples every one is drawn; beyond that the positions are evenly
    spaced from the first sample to the last (both always kept), so a long curve costs the
    same as a short one.
    """
    if count <= max_points:
        return np.arange(count, dtype=np.int64)
    return np.unique(np.linspace(0, count - 1, max_points).round().astype(np.int64))


def sparkline_svg(
    values: Sequence[float] | np.ndarray,
    *,
    width: int = 180,
    height: int = 40,
    label: str = "",
    max_points: int = SPARKLINE_POINTS,
) -> str:
    """Return an inline SVG line of ``values`` (green when it ends higher, red when lower).

    Non-finite values are skipped. The polyline has one point per position from
    :func:`sparkline_indices`; an empty or all-NaN input gives an empty SVG of the same size.
    """
    array = np.asarray(values, dtype=np.float64)
    positions = sparkline_indices(array.shape[0], max_points)
    chosen = array[positions]
    finite = np.isfinite(chosen)
    positions, chosen = positions[finite], chosen[finite]
    title = f"<title>{escape(label)}</title>" if label else ""
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" '
        f'class="quantstrata-sparkline">{title}'
    )
    if chosen.size == 0:
        return head + "</svg>"
    low, high = float(chosen.min()), float(chosen.max())
    span = high - low if high > low else 1.0
    last = max(int(array.shape[0]) - 1, 1)
    xs = positions / last * (width - 2) + 1
    ys = (height - 2) - (chosen - low) / span * (height - 4) + 1
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    colour = _UP if chosen[-1] > chosen[0] else _DOWN if chosen[-1] < chosen[0] else _FLAT
    return (
        head + f'<polyline fill="none" stroke="{colour}" stroke-width="1.4" '
        f'stroke-linejoin="round" points="{points}"/></svg>'
    )


def cell_text(value: object) -> str:
    """Format one table cell: floats compactly, instants in UTC, nulls as a dash."""
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        if abs(value) >= 1e15:
            return f"{value:.6e}"
        return f"{value:,.0f}" if abs(value) >= 1e6 else f"{value:,.6g}"  # volumes in full
    if isinstance(value, datetime):
        return format_moment(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def key_value_html(rows: Iterable[tuple[str, str]], *, identifier: str = "") -> str:
    """Return a two-column table of ``(label, value)`` rows, both escaped."""
    body = "".join(
        f'<tr><th style="{_CELL_STYLE};text-align:left">{escape(key)}</th>'
        f'<td style="{_CELL_STYLE}">{escape(value)}</td></tr>'
        for key, value in rows
    )
    return f'<table{_identified(identifier)} style="{_TABLE_STYLE}"><tbody>{body}</tbody></table>'


def metrics_html(values: Mapping[str, object]) -> str:
    """Return the metrics table: one row per metric, marked ``data-metric="name"``."""
    body = "".join(
        f'<tr data-metric="{escape(name)}"><th style="{_CELL_STYLE};text-align:left">'
        f"{escape(metric_label(name))}</th>"
        f'<td style="{_NUMBER_STYLE}">{escape(format_metric(name, value))}</td></tr>'
        for name, value in values.items()
    )
    return (
        f'<table class="quantstrata-metrics" style="{_TABLE_STYLE}"><tbody>{body}</tbody></table>'
    )


def frame_html(frame: pl.DataFrame, *, rows: int = 10, identifier: str = "") -> str:
    """Return ``frame`` as a table; above ``2 * rows`` rows only the first and last ``rows``."""
    count = frame.height
    shown = frame if count <= 2 * rows else pl.concat([frame.head(rows), frame.tail(rows)])
    numeric = [dtype.is_numeric() for dtype in frame.schema.values()]
    heading = "".join(
        f'<th style="{_NUMBER_STYLE if is_number else _CELL_STYLE}">{escape(name)}</th>'
        for name, is_number in zip(frame.columns, numeric, strict=True)
    )
    lines = []
    for position, row in enumerate(shown.iter_rows()):
        if position == rows and count > 2 * rows:
            lines.append(
                f'<tr><td colspan="{len(numeric)}" style="{_CELL_STYLE};color:#777">'
                f"… {count - 2 * rows:,} rows not shown …</td></tr>"
            )
        cells = "".join(
            f'<td style="{_NUMBER_STYLE if is_number else _CELL_STYLE}">'
            f"{escape(cell_text(value))}</td>"
            for value, is_number in zip(row, numeric, strict=True)
        )
        lines.append(f"<tr>{cells}</tr>")
    return (
        f'<table{_identified(identifier)} style="{_TABLE_STYLE}"><thead><tr>{heading}</tr></thead>'
        f"<tbody>{''.join(lines)}</tbody></table>"
    )


def table_html(
    headings: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    numeric: Sequence[bool],
    identifier: str = "",
) -> str:
    """Return a table of ready-made cell HTML (escape text cells first; SVG may go in as is)."""
    styles = [_NUMBER_STYLE if is_number else _CELL_STYLE for is_number in numeric]
    heading = "".join(
        f'<th style="{style}">{escape(text)}</th>'
        for text, style in zip(headings, styles, strict=True)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td style="{style}">{cell}</td>' for cell, style in zip(row, styles, strict=True)
        )
        + "</tr>"
        for row in rows
    )
    return (
        f'<table{_identified(identifier)} style="{_TABLE_STYLE}"><thead><tr>{heading}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def card_html(title: str, *parts: str, subtitle: str = "") -> str:
    """Wrap already-escaped ``parts`` under an escaped ``title`` (and ``subtitle``) in one box."""
    sub = f'<div style="color:#555">{escape(subtitle)}</div>' if subtitle else ""
    body = "".join(f'<div style="margin-top:6px">{part}</div>' for part in parts)
    return (
        f'<div class="quantstrata-repr" style="{_CARD_STYLE}">'
        f"<div><strong>{escape(title)}</strong></div>{sub}{body}</div>"
    )


def side_by_side(*parts: str) -> str:
    """Lay ``parts`` out in a row that wraps on narrow screens."""
    cells = "".join(f'<div style="margin-right:24px">{part}</div>' for part in parts)
    return f'<div style="display:flex;flex-wrap:wrap;align-items:flex-start">{cells}</div>'


def _identified(identifier: str) -> str:
    return f' id="{escape(identifier)}"' if identifier else ""
