"""The outcome of a backtest: :class:`BacktestResult`, built the same way for both styles.

Frames (all timestamps ``Datetime("ns", "UTC")``, bar open times):

- ``equity``: per bar time ``ts, cash, positions_value, equity, drawdown, gross_exposure``;
  values are after the bar's fills, positions marked at each symbol's last close (a symbol
  without a bar at a time keeps its previous close) times its contract multiplier. With
  futures or perpetual swaps, ``cash`` is what a futures broker reports (PnL settled at every
  mark, the initial margin of open contracts set aside: backtrader's ``getcash()``) and
  ``positions_value`` the rest of equity (:func:`~quantstrata.execution.margin.free_cash`).
- ``positions``: per bar ``ts, symbol, quantity, price, value`` (rows where the symbol has a
  bar; ``price`` is the close).
- ``orders``, ``fills``: every order and every execution (``ts`` of a fill is its bar).
- ``trades``: FIFO round trips (:mod:`quantstrata.backtest.trades`).

A run whose instruments settle in more than one currency is valued in the base currency (cash,
``positions_value``, ``equity``, the positions' ``value`` and the metrics, at each bar's FX
rates); its ``equity`` frame adds, per currency ``C``, ``cash_C`` (the cash held in ``C``) and
``pnl_C`` (what the cash and positions in ``C`` gained since the start, in ``C``) and
``rate_C`` (one ``C`` in the base), and
:attr:`BacktestResult.currencies` sums them up at the last bar.

- ``margin_calls``: per margin call ``ts, equity, maintenance, policy, symbols`` (the bar whose
  closes put equity below the maintenance margin, and the symbols it closed, whose orders are
  tagged ``"margin call liquidation"``; ``docs/backtest-realism.md``).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from quantstrata.analytics import MetricsConfig, PerformanceMetrics
from quantstrata.analytics._activity import ordered_positions, read_positions
from quantstrata.analytics._inputs import EquityCurve, ordered_equity
from quantstrata.analytics.metrics import compute_checked_metrics
from quantstrata.backtest._currencies import CurrencyBook
from quantstrata.backtest._ledger import Ledger, margin_call_frame, marks
from quantstrata.backtest._notebook import PlotKind, plot_result, result_html
from quantstrata.backtest._results_nb import equity_curve_nb
from quantstrata.backtest.record import RunRecord
from quantstrata.backtest.trades import describe_open_positions, open_positions, round_trips
from quantstrata.exchange._funding import funding_records
from quantstrata.execution.margin import free_cash, multiplier_of
from quantstrata.model.bar import TIMESTAMP_DTYPE
from quantstrata.model.instrument import Instrument
from quantstrata.model.interval import Interval

__all__ = ["BacktestResult", "build_result", "equity_columns"]

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
    margin_calls: pl.DataFrame = field(default_factory=margin_call_frame)
    funding: pl.DataFrame = field(default_factory=lambda: funding_records([]))
    """Perpetual funding payments: ``ts, symbol, quantity, mark, funding_rate, payment`` (what
    the account paid; negative when it received), one row per funding time and position."""
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
    def currencies(self) -> pl.DataFrame:
        """Per currency at the last bar: ``currency, cash, pnl`` (in it), ``rate``, ``pnl_base``.

        One row (the base currency, rate 1) for a single-currency run.
        """
        return currency_table(self.equity)

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
    instruments: Mapping[str, Instrument] | None = None,
) -> BacktestResult:
    """Turn a simulation loop's ledger into the result frames and metrics.

    ``interval`` is the bars' interval, which annualises the metrics on the configured
    calendar (None: the metrics infer it). ``instruments`` give contract multipliers and
    margins (positions are valued ``quantity × close × multiplier``).

    ``bars`` is the canonical bar frame the ledger was simulated on: its rows are the aligned
    ``has_bar`` cells in row-major order, so its ``ts``, ``symbol`` and ``close`` columns are
    reused as they are for the positions frame.
    """
    aligned = ledger.aligned
    times = pl.Series("ts", aligned.times, dtype=pl.Int64).cast(TIMESTAMP_DTYPE)
    every_bar = bool(aligned.has_bar.all())
    mark = aligned.close if every_bar else marks(aligned)
    held = [(instruments or {}).get(symbol) for symbol in aligned.symbols]
    multipliers = np.array([multiplier_of(instrument) for instrument in held])
    contracts = any(i is not None and i.asset_class.has_contracts for i in held)
    price = mark
    if (multipliers != 1.0).any():
        mark = mark * multipliers  # each symbol's value of one unit
    local = mark
    if ledger.currencies is not None:  # valued in the base currency
        mark = mark * ledger.currencies.column_rates()
    values, positions_value, equity, drawdown, gross_exposure = equity_columns(
        ledger.cash, ledger.positions, mark
    )
    cash = ledger.cash
    if contracts:
        cash = free_cash(ledger.cash, ledger.positions, price, held)
        positions_value = equity - cash
    equity_frame = pl.DataFrame(
        {
            "ts": times,
            "cash": cash,
            "positions_value": positions_value,
            "equity": equity,
            "drawdown": drawdown,
            "gross_exposure": gross_exposure,
        }
    )
    if ledger.currencies is not None and ledger.balances is not None:
        start = float(str(record.config["cash"]))
        equity_frame = equity_frame.with_columns(
            _by_currency(ledger.currencies, ledger.balances, ledger.positions, local, start)
        )
    positions = _positions_frame(ledger, bars, times, values, every_bar=every_bar)
    trades = round_trips(
        ledger.fills,
        aligned.times,
        {symbol: float(m) for symbol, m in zip(aligned.symbols, multipliers, strict=True)},
    )
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
        margin_calls=ledger.margin_calls,
    )


def _by_currency(
    book: CurrencyBook, balances: np.ndarray, positions: np.ndarray, local: np.ndarray, start: float
) -> list[pl.Series]:
    """Return ``cash_C``, ``pnl_C`` (in ``C``) and ``rate_C`` per currency ``C`` at every bar.

    ``local`` are the marks in each symbol's own currency; ``start`` the starting (base) cash.
    """
    values = np.where(positions == 0.0, 0.0, positions * local)
    columns: list[pl.Series] = []
    for index, currency in enumerate(book.currencies):
        held = values[:, book.of_column == index].sum(axis=1)
        pnl = balances[:, index] + held - (start if index == 0 else 0.0)
        columns += [
            pl.Series(f"cash_{currency}", balances[:, index]),
            pl.Series(f"pnl_{currency}", pnl),
            pl.Series(f"rate_{currency}", book.rates[:, index]),
        ]
    return columns


def currency_table(equity: pl.DataFrame) -> pl.DataFrame:
    """Return cash, PnL, rate and PnL in the base per currency at the last bar of ``equity``.

    Empty for a single-currency run (its ``equity`` frame has no per-currency columns).
    """
    names = [name.removeprefix("cash_") for name in equity.columns if name.startswith("cash_")]
    last = equity.row(-1, named=True) if equity.height else {}
    rows = [
        (name, last[f"cash_{name}"], last[f"pnl_{name}"], last[f"rate_{name}"]) for name in names
    ]
    table = pl.DataFrame(
        rows,
        schema={"currency": pl.String, "cash": pl.Float64, "pnl": pl.Float64, "rate": pl.Float64},
        orient="row",
    )
    return table.with_columns(pnl_base=pl.col("pnl") * pl.col("rate"))


def equity_columns(
    cash: np.ndarray, positions: np.ndarray, mark: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return ``values, positions_value, equity, drawdown, gross_exposure`` of a book.

    ``cash`` per bar, ``positions`` and ``mark`` (bars × symbols) after each bar. Every column
    but ``drawdown`` is computed row by row, so a streamed run computing them a stretch of
    bars at a time gets the same numbers.
    """
    if positions.shape[1] < _ROW_SUM_IN_ORDER:
        values = np.empty_like(positions)
        positions_value, _, equity, drawdown, gross_exposure = equity_curve_nb(
            cash, positions, mark, values
        )
        return values, positions_value, equity, drawdown, gross_exposure
    values = np.where(positions == 0.0, 0.0, positions * mark)
    positions_value = values.sum(axis=1)
    equity = cash + positions_value
    peak = np.maximum.accumulate(equity)
    drawdown = np.where(peak > 0.0, 1.0 - equity / peak, 0.0)
    gross_exposure = np.abs(values).sum(axis=1) / equity
    return values, positions_value, equity, drawdown, gross_exposure


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
