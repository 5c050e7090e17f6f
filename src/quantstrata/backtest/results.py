"""The outcome of a backtest: :class:`BacktestResult`, built the same way for both styles.

Frames (all timestamps ``Datetime("ns", "UTC")``, bar open times):

- ``equity``: per bar time ``ts, cash, positions_value, equity, drawdown, gross_exposure``;
  values are after the bar's fills, positions marked at each symbol's last close (a symbol
  without a bar at a time keeps its previous close).
- ``positions``: per bar ``ts, symbol, quantity, price, value`` (rows where the symbol has a
  bar; ``price`` is the close).
- ``orders``, ``fills``: every order and every execution (``ts`` of a fill is its bar).
- ``trades``: FIFO round trips (:mod:`quantstrata.backtest.trades`).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from quantstrata.analytics import MetricsConfig, PerformanceMetrics
from quantstrata.analytics._activity import ordered_positions, read_positions
from quantstrata.analytics._inputs import EquityCurve, ordered_equity
from quantstrata.analytics.metrics import compute_checked_metrics
from quantstrata.backtest._ledger import Ledger, marks
from quantstrata.backtest._notebook import PlotKind, plot_result, result_html
from quantstrata.backtest._results_nb import equity_curve_nb
from quantstrata.backtest.record import RunRecord
from quantstrata.backtest.trades import describe_open_positions, open_positions, round_trips
from quantstrata.model.bar import TIMESTAMP_DTYPE
from quantstrata.model.interval import Interval

__all__ = ["BacktestResult", "build_result"]

_ROW_SUM_IN_ORDER = 8
"""Below this many symbols NumPy sums a row left to right, as the compiled curve does."""


@dataclass(frozen=True, slots=True)
class _MetricInputs:
    """What :func:`compute_checked_metrics` reads, kept until the metrics are first asked for."""

    curve: EquityCurve
    trades: pl.DataFrame
    positions: pl.DataFrame
    config: MetricsConfig
    interval: Interval | None

    def compute(self) -> PerformanceMetrics:
        """Return the metrics of the run."""
        return compute_checked_metrics(
            self.curve,
            trades=self.trades,
            positions=self.positions,
            config=self.config,
            interval=self.interval,
        )


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """Everything a backtest produced: curves, orders, fills, trades, metrics and provenance.

    ``metrics`` are computed when first read (then kept): a run that only needs its trades or
    its equity, such as a sweep scoring one figure, does not pay for the rest.
    """

    equity: pl.DataFrame
    positions: pl.DataFrame
    orders: pl.DataFrame
    fills: pl.DataFrame
    trades: pl.DataFrame
    _metric_inputs: _MetricInputs = field(repr=False, compare=False)
    record: RunRecord
    bars: pl.DataFrame
    _metrics: list[PerformanceMetrics] = field(
        default_factory=list, init=False, repr=False, compare=False
    )

    @property
    def metrics(self) -> PerformanceMetrics:
        """The performance metrics of the run (computed on first access)."""
        if not self._metrics:
            self._metrics.append(self._metric_inputs.compute())
        return self._metrics[0]

    @property
    def open_positions(self) -> pl.DataFrame:
        """The positions still open after the last bar and their unrealised PnL.

        They are not in ``trades`` (closed round trips only); see
        :func:`~quantstrata.backtest.trades.open_positions`.
        """
        return open_positions(self.fills, self.bars)

    @property
    def final_equity(self) -> float:
        """The equity after the last bar."""
        return float(self.equity["equity"][-1])

    def to_html(self, path: str | Path) -> Path:
        """Write the self-contained HTML report to ``path`` and return where it is."""
        report = importlib.import_module("quantstrata.backtest.report")
        return Path(report.write_report(self, Path(path)))

    def plot(self, kind: PlotKind = "equity", *, symbol: str | None = None) -> Any:
        """Return a Plotly figure of the run (the report's charts); call ``.show()`` on it.

        ``kind`` is ``"equity"`` (equity over drawdown), ``"price"`` (``symbol``'s prices
        with a marker per trade entry and exit; default the first symbol) or ``"monthly"``
        (the monthly returns heatmap).
        """
        return plot_result(self, kind, symbol)

    def _repr_html_(self) -> str:
        """Show the run in a notebook: summary, equity sparkline and the metrics table."""
        return result_html(self)

    def summary(self) -> str:
        """Return a plain-text summary: what ran, on what, and the metrics table."""
        record = self.record
        head = [
            f"{record.strategy} {record.parameters}",
            f"{record.bars} bars of {', '.join(record.symbols)}; fill policy {record.fill_policy}",
            (
                f"orders {self.orders.height}, fills {self.fills.height}, "
                f"trades {self.trades.height} (closed)"
            ),
            f"open at the end: {describe_open_positions(self.open_positions)}",
            f"final equity {self.final_equity:,.2f}",
        ]
        return "\n".join([*head, str(self.metrics)])


def build_result(
    ledger: Ledger,
    bars: pl.DataFrame,
    record: RunRecord,
    metrics_config: MetricsConfig,
    *,
    interval: Interval | None = None,
) -> BacktestResult:
    """Turn a simulation loop's ledger into the result frames and metrics.

    ``interval`` is the bars' interval, which annualises the metrics on the configured
    calendar (None: the metrics infer it).

    ``bars`` is the canonical bar frame the ledger was simulated on: its rows are the aligned
    ``has_bar`` cells in row-major order, so its ``ts``, ``symbol`` and ``close`` columns are
    reused as they are for the positions frame.
    """
    aligned = ledger.aligned
    times = pl.Series("ts", aligned.times, dtype=pl.Int64).cast(TIMESTAMP_DTYPE)
    every_bar = bool(aligned.has_bar.all())
    mark = aligned.close if every_bar else marks(aligned)
    if ledger.positions.shape[1] < _ROW_SUM_IN_ORDER:
        values = np.empty_like(ledger.positions)
        positions_value, _, equity, drawdown, gross_exposure = equity_curve_nb(
            ledger.cash, ledger.positions, mark, values
        )
    else:
        values = np.where(ledger.positions == 0.0, 0.0, ledger.positions * mark)
        positions_value = values.sum(axis=1)
        equity = ledger.cash + positions_value
        peak = np.maximum.accumulate(equity)
        drawdown = np.where(peak > 0.0, 1.0 - equity / peak, 0.0)
        gross_exposure = np.abs(values).sum(axis=1) / equity
    equity_frame = pl.DataFrame(
        {
            "ts": times,
            "cash": ledger.cash,
            "positions_value": positions_value,
            "equity": equity,
            "drawdown": drawdown,
            "gross_exposure": gross_exposure,
        }
    )
    positions = _positions_frame(ledger, bars, times, values, every_bar=every_bar)
    trades = round_trips(ledger.fills, aligned.times)
    metric_inputs = _MetricInputs(
        ordered_equity(aligned.times, equity),
        trades=trades.rename({"entry_ts": "entry_time", "exit_ts": "exit_time"}),
        positions=_metric_positions(positions, aligned.symbols, one_row_per_time=every_bar),
        config=metrics_config,
        interval=interval,
    )
    return BacktestResult(
        equity=equity_frame,
        positions=positions,
        orders=ledger.orders,
        fills=ledger.fills,
        trades=trades,
        _metric_inputs=metric_inputs,
        record=record,
        bars=bars,
    )


def _metric_positions(
    positions: pl.DataFrame, symbols: tuple[str, ...], *, one_row_per_time: bool
) -> pl.DataFrame:
    """Return the positions in the form the metrics read (sorted by symbol, then time).

    One symbol with a bar at every time is in that order already (the aligned times strictly
    increase), so only its quantities are checked; otherwise the frame is read and sorted.
    """
    if one_row_per_time and len(symbols) == 1:
        return ordered_positions(
            symbols[0],
            positions.get_column("ts"),
            positions.get_column("quantity").to_numpy(),
            positions.get_column("price"),
        )
    return read_positions(
        positions.select("ts", "symbol", pl.col("quantity").alias("position"), "price")
    )


def _positions_frame(
    ledger: Ledger, bars: pl.DataFrame, times: pl.Series, values: np.ndarray, *, every_bar: bool
) -> pl.DataFrame:
    """Return ``ts, symbol, quantity, price, value`` at every cell where a symbol has a bar."""
    aligned = ledger.aligned
    has_bar = aligned.has_bar
    if every_bar and has_bar.shape[1] == 1:
        quantity, value = ledger.positions[:, 0], values[:, 0]
    else:
        quantity, value = ledger.positions[has_bar], values[has_bar]
    if bars.height == quantity.shape[0]:
        keys = bars.select("ts", "symbol", price="close")
    else:  # bars that are not the ledger's own: lay the keys out from the aligned arrays
        rows, columns = np.nonzero(has_bar)
        keys = pl.DataFrame(
            {
                "ts": times.gather(rows),
                "symbol": pl.Series(aligned.symbols, dtype=pl.String).gather(columns),
                "price": aligned.close[has_bar],
            }
        )
    return keys.select(
        "ts",
        pl.col("symbol").cast(pl.String),
        pl.Series("quantity", quantity, dtype=pl.Float64),
        pl.col("price").cast(pl.Float64),
        pl.Series("value", value, dtype=pl.Float64),
    )
