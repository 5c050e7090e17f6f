"""The backtest report: one self-contained, interactive HTML file built with Plotly.

>>> from quantstrata.backtest.report import write_report
>>> write_report(result, "report.html")  # doctest: +SKIP
PosixPath('report.html')

The page holds, top to bottom: a header (strategy, parameters, period, data fingerprint,
fill policy, package version and settings from the run record, with credentials removed),
the metrics table, the equity curve over its drawdown, one price chart per symbol with a ▲ at
every trade entry and a ▼ at every exit, the monthly returns heatmap and the trades table.

plotly.js is embedded inline, so the file opens offline and makes no network request. The
same result always gives the same bytes: element ids are fixed and the only time shown is
the record's ``started_at``. Requires the ``report`` extra (``pip install quantstrata[report]``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol

import polars as pl
from pydantic import Field

from quantstrata._version import __version__
from quantstrata.backtest import _report_figures as figures
from quantstrata.backtest._report_data import check_equity, check_trades, require_columns
from quantstrata.backtest._report_page import (
    Figure,
    Section,
    render_page,
    write_atomically,
)
from quantstrata.backtest._report_tables import (
    Redactor,
    header_html,
    margin_calls_html,
    metrics_html,
    trades_html,
)
from quantstrata.backtest.trades import open_positions
from quantstrata.core.config import FrozenConfig
from quantstrata.model.bar import PRICE_COLUMNS

__all__ = [
    "ReportConfig",
    "ReportableMetrics",
    "ReportableRecord",
    "ReportableResult",
    "render_report",
    "write_report",
]

_BAR_COLUMNS = ("ts", "symbol", *PRICE_COLUMNS)  # volume is not drawn


class ReportableMetrics(Protocol):
    """The metrics summary, e.g. :class:`~quantstrata.analytics.PerformanceMetrics`."""

    def to_dict(self) -> Mapping[str, object]:
        """Return every metric by name, in display order."""
        ...


class ReportableRecord(Protocol):
    """The run's provenance, e.g. :class:`~quantstrata.backtest.record.RunRecord`."""

    @property
    def data_fingerprint(self) -> str:
        """SHA-256 of the input bars."""
        ...

    @property
    def strategy(self) -> str:
        """Qualified class name of the strategy."""
        ...

    @property
    def parameters(self) -> Mapping[str, object]:
        """The strategy's parameter values."""
        ...

    @property
    def config(self) -> Mapping[str, object]:
        """The backtest configuration as plain values (may hold credentials; never shown)."""
        ...

    @property
    def fill_policy(self) -> str:
        """The fill policy's name."""
        ...

    @property
    def package_version(self) -> str:
        """The quantstrata version that ran."""
        ...

    @property
    def started_at(self) -> datetime:
        """When the run started, from the injected clock."""
        ...

    @property
    def bars(self) -> int:
        """How many input bars the run covered."""
        ...

    @property
    def symbols(self) -> Sequence[str]:
        """The symbols traded."""
        ...


class ReportableResult(Protocol):
    """What the report reads from a backtest result (see the backtest results contract).

    ``equity`` needs ``ts`` and ``equity``; ``trades`` the round-trip columns ``symbol``,
    ``direction``, ``entry_ts``, ``exit_ts``, ``quantity``, ``entry_price``, ``exit_price``,
    ``pnl`` and ``return``; ``bars`` the canonical bar columns; ``fills`` may be empty.
    """

    @property
    def equity(self) -> pl.DataFrame:
        """Equity per bar time."""
        ...

    @property
    def trades(self) -> pl.DataFrame:
        """Round-trip trades."""
        ...

    @property
    def fills(self) -> pl.DataFrame:
        """Every execution."""
        ...

    @property
    def bars(self) -> pl.DataFrame:
        """The input bars (canonical frame)."""
        ...

    @property
    def metrics(self) -> ReportableMetrics:
        """The performance summary."""
        ...

    @property
    def record(self) -> ReportableRecord:
        """The run's provenance."""
        ...


class ReportConfig(FrozenConfig):
    """How much the report draws: candlestick limit, points per line, trade table rows."""

    candlestick_limit: int = Field(default=5_000, ge=1)
    """Symbols with at most this many bars get candlesticks, longer ones a close line."""
    max_points: int = Field(default=5_000, ge=10)
    """Lines longer than this are thinned, keeping each bucket's low and high."""
    trade_rows: int = Field(default=25, ge=1)
    """Above twice this many trades, the table shows only the first and last this many."""
    price_charts: int = Field(default=40, ge=1)
    """At most this many price charts: with more symbols, those with the most trades (a
    500-symbol universe would otherwise make a page of hundreds of megabytes)."""


def write_report(
    result: ReportableResult, path: str | os.PathLike[str], *, config: ReportConfig | None = None
) -> Path:
    """Write the HTML report of ``result`` to ``path`` atomically and return the path.

    Parent directories are created. Raises :class:`~quantstrata.core.errors.SchemaError` when
    a frame lacks a column the report needs, and
    :class:`~quantstrata.core.errors.DataError` for an empty or non-positive equity curve or
    trades on symbols without bars.
    """
    return write_atomically(Path(path), render_report(result, config=config))


def render_report(result: ReportableResult, *, config: ReportConfig | None = None) -> str:
    """Return the report of ``result`` as one HTML document (what :func:`write_report` writes)."""
    settings = config if config is not None else ReportConfig()
    record = result.record
    curve = check_equity(result.equity)
    require_columns(result.bars, "bars", _BAR_COLUMNS)
    symbols = sorted({str(symbol) for symbol in result.bars["symbol"].unique().to_list()})
    check_trades(result.trades, symbols)
    redactor = Redactor(record.parameters, record.config)
    sections: tuple[Section, ...] = (
        Section("metrics", "Performance metrics", html=metrics_html(result.metrics.to_dict())),
        Section(
            "equity",
            "Equity and drawdown",
            (Figure("equity-chart", figures.equity_figure(curve, max_points=settings.max_points)),),
        ),
        Section(
            "prices",
            "Prices and trades",
            _price_figures(result, _charted(result.trades, symbols, settings), settings),
            html=_charted_note(len(symbols), settings.price_charts),
        ),
        Section(
            "monthly-returns",
            "Monthly returns (%)",
            (Figure("monthly-returns-chart", figures.monthly_returns_figure(curve)),),
        ),
        Section("trades", "Trades", html=trades_html(result.trades, settings.trade_rows)),
    )
    calls = getattr(result, "margin_calls", None)  # a BacktestResult's; other results have none
    if isinstance(calls, pl.DataFrame) and calls.height:
        sections += (Section("margin-calls", "Margin calls", html=margin_calls_html(calls)),)
    return render_page(
        title=redactor.clean(f"Backtest report: {record.strategy}"),
        header=header_html(
            record, curve, result.fills, open_positions(result.fills, result.bars), redactor
        ),
        sections=sections,
        generator=f"quantstrata {__version__}",
    )


def _charted(trades: pl.DataFrame, symbols: list[str], settings: ReportConfig) -> list[str]:
    """Return the symbols that get a price chart: all, or the most traded (ties by name)."""
    if len(symbols) <= settings.price_charts:
        return symbols
    counts = dict(trades.group_by("symbol").len().iter_rows())
    ranked = sorted(symbols, key=lambda symbol: (-counts.get(symbol, 0), symbol))
    return sorted(ranked[: settings.price_charts])


def _charted_note(symbols: int, limit: int) -> str:
    if symbols <= limit:
        return ""
    return f"<p>Price charts of the {limit} most traded of {symbols} symbols.</p>"


def _price_figures(
    result: ReportableResult, symbols: list[str], settings: ReportConfig
) -> tuple[Figure, ...]:
    """Return one price chart per symbol, ids numbered in symbol order (names may be unsafe)."""
    charts = []
    for number, symbol in enumerate(symbols, start=1):
        bars = result.bars.filter(pl.col("symbol") == symbol).sort("ts")
        trades = result.trades.filter(pl.col("symbol") == symbol).sort("entry_ts")
        json_text = figures.price_figure(
            bars,
            trades,
            symbol,
            candlestick_limit=settings.candlestick_limit,
            max_points=settings.max_points,
        )
        charts.append(Figure(f"price-chart-{number}", json_text))
    return tuple(charts)
