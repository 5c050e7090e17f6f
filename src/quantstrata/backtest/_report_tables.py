"""The report's HTML tables: run header, metrics and trades, with secrets kept out.

Every text that comes from the run record passes through :class:`Redactor`: fields whose
name looks like a credential are dropped (and their values masked wherever else they occur),
:class:`~quantstrata.core.secrets.Secret` values are masked, and
:func:`~quantstrata.core.secrets.redact` masks key-like URL parameters and auth headers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from html import escape
from typing import TYPE_CHECKING

import polars as pl

from quantstrata.analytics._format import format_duration as _duration
from quantstrata.analytics._format import format_metric
from quantstrata.analytics._format import format_moment as _moment
from quantstrata.analytics.labels import metric_label
from quantstrata.backtest._report_data import time_labels
from quantstrata.backtest.trades import describe_open_positions
from quantstrata.core.secrets import MASK, Secret, looks_like_secret_name, redact

if TYPE_CHECKING:
    from quantstrata.backtest.report import ReportableRecord

__all__ = [
    "Redactor",
    "format_metric",
    "header_html",
    "metrics_html",
    "trades_html",
]

_MIN_SECRET_LENGTH = 4
_MIDNIGHT = " 00:00:00"
_TRADE_HEADINGS = (
    ("symbol", "Symbol"),
    ("direction", "Direction"),
    ("entry_ts", "Entry (UTC)"),
    ("exit_ts", "Exit (UTC)"),
    ("quantity", "Quantity"),
    ("entry_price", "Entry price"),
    ("exit_price", "Exit price"),
    ("pnl", "P&L"),
    ("return", "Return"),
    ("commission", "Commission"),
    ("bars_held", "Bars held"),
)


class Redactor:
    """Flatten record mappings into displayable rows with every credential masked or dropped."""

    def __init__(self, *mappings: Mapping[str, object]) -> None:
        """Collect the secret values in ``mappings`` so they can be masked anywhere."""
        self._secrets: set[str] = set()
        for mapping in mappings:
            self._collect(mapping, hidden=False)

    def clean(self, text: str) -> str:
        """Return ``text`` with every collected secret and key-like parameter masked."""
        longest_first: list[str] = sorted(self._secrets, key=lambda value: (-len(value), value))
        return redact(text, longest_first)

    def rows(self, mapping: Mapping[str, object]) -> tuple[list[tuple[str, str]], int]:
        """Return ``(dotted key, cleaned value)`` rows sorted by key and the hidden field count."""
        rows: list[tuple[str, str]] = []
        hidden = self._flatten("", mapping, rows)
        return sorted(rows), hidden

    def _collect(self, value: object, *, hidden: bool) -> None:
        if isinstance(value, Secret):
            self._remember(value.reveal())
        elif isinstance(value, Mapping):
            for key, item in value.items():
                self._collect(item, hidden=hidden or looks_like_secret_name(str(key)))
        elif isinstance(value, list | tuple | set | frozenset):
            for item in value:
                self._collect(item, hidden=hidden)
        elif hidden and value is not None:
            self._remember(str(value))

    def _remember(self, text: str) -> None:
        if len(text) >= _MIN_SECRET_LENGTH:
            self._secrets.add(text)

    def _flatten(self, prefix: str, value: object, rows: list[tuple[str, str]]) -> int:
        if isinstance(value, Mapping) and (value or not prefix):
            hidden = 0
            for key, item in value.items():
                name = f"{prefix}.{key}" if prefix else str(key)
                if looks_like_secret_name(str(key)):
                    hidden += 1
                else:
                    hidden += self._flatten(name, item, rows)
            return hidden
        if isinstance(value, list | tuple) and any(_is_nested(item) for item in value):
            return sum(
                self._flatten(f"{prefix}[{index}]", item, rows) for index, item in enumerate(value)
            )
        rows.append((self.clean(prefix), self.clean(_plain(value))))
        return 0


def header_html(
    record: ReportableRecord,
    curve: pl.DataFrame,
    fills: pl.DataFrame,
    open_at_end: pl.DataFrame,
    redactor: Redactor,
) -> str:
    """Return the run header: what ran, on which data, how fills were made, and its settings.

    ``open_at_end`` holds the positions still open after the last bar
    (:func:`~quantstrata.backtest.trades.open_positions`), shown with their unrealised PnL.
    """
    first, last = curve["ts"][0], curve["ts"][-1]
    symbols = ", ".join(str(symbol) for symbol in record.symbols)
    summary = [
        ("Strategy", record.strategy),
        ("Period", f"{_moment(first)} → {_moment(last)} ({_duration(last - first)})"),
        ("Input bars", f"{record.bars:,} ({symbols})"),
        ("Fill policy", str(record.fill_policy)),
        ("Fills", _fills_summary(fills)),
        ("Open at the end", describe_open_positions(open_at_end)),
        ("Data fingerprint", record.data_fingerprint),
        ("Package version", record.package_version),
        ("Run started", _moment(record.started_at)),
    ]
    parts = [
        f"<h1>Backtest report: {escape(redactor.clean(record.strategy))}</h1>",
        _key_value_table("run-summary", [(k, redactor.clean(v)) for k, v in summary]),
    ]
    for title, identifier, mapping in (
        ("Parameters", "parameters", record.parameters),
        ("Configuration", "configuration", record.config),
    ):
        rows, hidden = redactor.rows(mapping)
        parts.append(f"<h2>{title}</h2>")
        parts.append(_key_value_table(identifier, rows) if rows else "<p>(none)</p>")
        if hidden:
            parts.append(f'<p class="note">{hidden} credential-like field(s) not shown.</p>')
    return '<header id="report-header">\n' + "\n".join(parts) + "\n</header>"


def metrics_html(values: Mapping[str, object]) -> str:
    """Return one table row per metric, labelled and formatted (percentages, ratios, times)."""
    rows = "\n".join(
        f'<tr data-metric="{escape(name)}"><th>{escape(metric_label(name))}</th>'
        f"<td>{escape(format_metric(name, value))}</td></tr>"
        for name, value in values.items()
    )
    return f'<table id="metrics-table" class="metrics">\n<tbody>\n{rows}\n</tbody>\n</table>'


def trades_html(trades: pl.DataFrame, rows: int) -> str:
    """Return the trades table; above ``2 * rows`` trades only the first and last ``rows``."""
    columns = [(name, label) for name, label in _TRADE_HEADINGS if name in trades.columns]
    count = trades.height
    shown: Sequence[int] = range(count)
    if count > 2 * rows:
        shown = [*range(rows), *range(count - rows, count)]
    cells = {name: _column_text(trades, name) for name, _ in columns}
    body: list[str] = []
    for position, index in enumerate(shown):
        if position == rows and count > 2 * rows:
            body.append(
                f'<tr class="gap"><td colspan="{len(columns) + 1}">'
                f"… {count - 2 * rows:,} trades not shown …</td></tr>"
            )
        values = "".join(f"<td>{escape(cells[name][index])}</td>" for name, _ in columns)
        body.append(f'<tr data-trade="{index}"><td>{index + 1}</td>{values}</tr>')
    heading = "".join(f"<th>{escape(label)}</th>" for _, label in columns)
    caption = f"{count:,} trades" + (f" (first and last {rows} shown)" if count > 2 * rows else "")
    return (
        f'<table id="trades-table" class="trades">\n<caption>{caption}</caption>\n'
        f"<thead><tr><th>#</th>{heading}</tr></thead>\n<tbody>\n"
        + "\n".join(body)
        + "\n</tbody>\n</table>"
    )


def margin_calls_html(calls: pl.DataFrame) -> str:
    """Return the margin calls table: when, equity against maintenance, the policy, closed."""
    body = "\n".join(
        f'<tr data-margin-call="{index}"><td>{escape(when)}</td>'
        f"<td>{equity:,.2f}</td><td>{maintenance:,.2f}</td><td>{escape(policy)}</td>"
        f"<td>{escape(', '.join(symbols))}</td></tr>"
        for index, (when, equity, maintenance, policy, symbols) in enumerate(
            zip(
                time_labels(calls["ts"]),
                calls["equity"].to_list(),
                calls["maintenance"].to_list(),
                calls["policy"].to_list(),
                calls["symbols"].to_list(),
                strict=True,
            )
        )
    )
    return (
        f'<table id="margin-calls-table" class="trades">\n'
        f"<caption>{calls.height:,} margin calls; the closing orders are tagged "
        f"&quot;margin call liquidation&quot;</caption>\n"
        "<thead><tr><th>time</th><th>equity</th><th>maintenance</th><th>policy</th>"
        "<th>closed</th></tr></thead>\n<tbody>\n" + body + "\n</tbody>\n</table>"
    )


def _column_text(trades: pl.DataFrame, name: str) -> list[str]:
    series = trades[name]
    if isinstance(series.dtype, pl.Datetime):
        labels = time_labels(series)
        if all(label.endswith(_MIDNIGHT) for label in labels):  # daily bars: the date says it all
            return [label.removesuffix(_MIDNIGHT) for label in labels]
        return labels
    return [_trade_value(name, value) for value in series.to_list()]


def _trade_value(name: str, value: object) -> str:
    """Format one trade cell: return in percent, money to two places, quantity compactly."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if not isinstance(value, float):
        return str(value)
    if name == "return":
        return f"{value * 100:+.2f} %"
    if name == "pnl":
        return f"{value:+,.2f}"
    if name == "quantity":
        return f"{value:,.6g}"
    return f"{value:,.4f}" if abs(value) < 1.0 else f"{value:,.2f}"


def _fills_summary(fills: pl.DataFrame) -> str:
    parts = [f"{fills.height:,} fills"]
    if "commission" in fills.columns and fills.height:
        parts.append(f"commission {float(fills['commission'].sum()):,.2f}")
    if "liquidity" in fills.columns and fills.height:
        counts = fills["liquidity"].value_counts(sort=True, name="count").sort("liquidity")
        parts.extend(f"{count:,} {kind}" for kind, count in counts.iter_rows())
    return ", ".join(parts)


def _key_value_table(identifier: str, rows: Iterable[tuple[str, str]]) -> str:
    body = "\n".join(
        f"<tr><th>{escape(key)}</th><td>{escape(value)}</td></tr>" for key, value in rows
    )
    return f'<table id="{identifier}" class="key-value">\n<tbody>\n{body}\n</tbody>\n</table>'


def _is_nested(value: object) -> bool:
    return isinstance(value, Mapping | list | tuple)


def _plain(value: object) -> str:
    if isinstance(value, Secret):
        return MASK
    if isinstance(value, Mapping):  # only ever empty here: non-empty mappings are flattened
        return "{}"
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return "[" + ", ".join(_plain(item) for item in items) + "]"
    if isinstance(value, datetime):
        return _moment(value)
    if isinstance(value, timedelta):
        return _duration(value)
    return "None" if value is None else str(value)
