"""Backtests larger than memory: a signal strategy over a catalog query, a stretch at a time.

``Backtest.from_catalog(catalog, strategy, config, interval="1m", output="run/").run()``
reads the catalog one storage period at a time (a month of minute bars, …), simulates it in
chunks of ``chunk_bars`` bar times with the engine's state carried from chunk to chunk, and
writes the equity curve, orders, fills and trades to Parquet under ``output`` as it goes; the
metrics are computed at the end from those files. Peak memory depends on the period read and
the chunk (symbols × ``chunk_bars``), not on the length of the history. The rows and metrics are
those of ``Backtest(bars, strategy, config).run()`` on the same bars, bit for bit (turnover to
the last digit or so: it is summed over the position changes only), as long as the strategy's
targets depend on no more than ``warmup_bars()`` bars of history; see
``docs/layers/backtest.md`` ("Streaming from the catalog") for what streams and what does not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl

from quantstrata._version import __version__
from quantstrata.analytics import MetricsConfig, PerformanceMetrics
from quantstrata.analytics._activity import read_positions
from quantstrata.analytics._inputs import ordered_equity
from quantstrata.analytics.metrics import compute_checked_metrics
from quantstrata.backtest._align import canonical_bars
from quantstrata.backtest._ledger import FILL_SCHEMA, ORDER_SCHEMA
from quantstrata.backtest._stream import StreamedBacktestError, StreamEngine, check_streamable
from quantstrata.backtest._stream_book import CHANGE_SCHEMA, ChunkRows
from quantstrata.backtest.config import BacktestConfig
from quantstrata.backtest.record import RunRecord, fingerprint
from quantstrata.backtest.trades import TRADE_SCHEMA
from quantstrata.core.clock import Clock, SimulatedClock, utc_bound
from quantstrata.core.errors import ConfigError, DataError
from quantstrata.data.catalog import Catalog
from quantstrata.model.bar import TIMESTAMP_DTYPE
from quantstrata.model.interval import Interval
from quantstrata.strategy.origin import strategy_label
from quantstrata.strategy.signal import SignalStrategy

__all__ = ["StreamedBacktest", "StreamedBacktestError", "StreamedResult"]

CHUNK_CELLS = 1_000_000
"""Default chunk: this many (bar time × symbol) cells, at least one bar time."""
_FLUSH_ROWS = 1_000_000
"""Rows of one result table buffered before they are written out as one Parquet part."""
_TABLES = {
    "equity": None,
    "orders": ORDER_SCHEMA,
    "fills": FILL_SCHEMA,
    "trades": TRADE_SCHEMA,
    "changes": CHANGE_SCHEMA,
}


@dataclass(frozen=True, slots=True)
class StreamedResult:
    """A streamed run: its result tables on disk, its metrics and what was run.

    ``directory`` holds one folder of Parquet parts per table (``equity``, ``orders``,
    ``fills``, ``trades``, and ``changes``: the cells where a position changed), in time order;
    :meth:`scan` reads one lazily, :meth:`read` into memory.
    """

    directory: Path
    metrics: PerformanceMetrics
    record: RunRecord
    final_equity: float
    chunks: int

    def scan(self, table: str) -> pl.LazyFrame:
        """Return ``table`` lazily: ``equity``, ``orders``, ``fills``, ``trades`` or ``changes``."""
        if table not in _TABLES:
            raise ConfigError(f"no table {table!r} in a streamed result; it has {list(_TABLES)}")
        return pl.scan_parquet(self.directory / table / "*.parquet")

    def read(self, table: str) -> pl.DataFrame:
        """Return ``table`` in memory (see :meth:`scan`)."""
        return self.scan(table).collect()

    def summary(self) -> str:
        """Return a plain-text summary: what ran, on what, where the tables are, the metrics."""
        record = self.record
        head = [
            f"{record.strategy} {record.parameters}",
            f"{record.bars} bar times of {len(record.symbols)} symbol(s), {self.chunks} chunks",
            f"tables under {self.directory}",
            f"final equity {self.final_equity:,.2f}",
        ]
        return "\n".join([*head, str(self.metrics)])


class StreamedBacktest:
    """A signal strategy over a catalog query, simulated in chunks (see the module docs).

    Built by :meth:`Backtest.from_catalog <quantstrata.backtest.Backtest.from_catalog>`.
    ``symbols`` defaults to every symbol of ``interval``; ``start``/``end`` bound the bar
    times (half-open); ``chunk_bars`` is the bar times per chunk (default: about
    :data:`CHUNK_CELLS` cells). ``output`` must be empty or absent: the tables are written there.
    """

    def __init__(
        self,
        catalog: Catalog,
        strategy: SignalStrategy,
        config: BacktestConfig | None = None,
        *,
        interval: str | Interval,
        output: str | Path,
        symbols: str | Iterable[str] | None = None,
        start: datetime | date | str | None = None,
        end: datetime | date | str | None = None,
        chunk_bars: int | None = None,
        clock: Clock | None = None,
    ) -> None:
        """Check the query and settings; nothing is read until :meth:`run`."""
        if not isinstance(catalog, Catalog):
            raise ConfigError(f"catalog must be a Catalog, got {type(catalog).__name__}")
        self.config = config if config is not None else BacktestConfig()
        check_streamable(strategy, self.config)
        self.strategy = strategy
        self.catalog = catalog
        self.interval = Interval.parse(interval)
        stored = catalog.symbols(self.interval)
        chosen = stored if symbols is None else symbols
        names = [chosen] if isinstance(chosen, str) else list(dict.fromkeys(chosen))
        if not names:
            raise DataError(f"the catalog holds no {self.interval} bars to backtest")
        self.symbols = tuple(sorted(names))
        every = set(self.symbols) == set(stored)
        self._query = None if every else self.symbols  # all: one listing of the catalog a read
        self.start, self.end = utc_bound(start, "start"), utc_bound(end, "end")
        if chunk_bars is not None and (isinstance(chunk_bars, bool) or chunk_bars < 1):
            raise ConfigError(f"chunk_bars must be a whole number >= 1, got {chunk_bars!r}")
        self.chunk_bars = chunk_bars or max(1, CHUNK_CELLS // len(self.symbols))
        self.output = Path(output)
        if self.output.exists() and any(self.output.iterdir()):
            raise ConfigError(
                f"output {self.output} is not empty: give a new or empty directory for the tables"
            )
        self.clock = clock

    def run(self) -> StreamedResult:
        """Read, simulate and write chunk by chunk; return the result with its metrics."""
        engine = StreamEngine(self.strategy, self.config, self.symbols)
        writer = _TableWriter(self.output)
        digest = hashlib.sha256()
        chunks, first, last, final = 0, None, None, self.config.cash
        for window in self._windows():
            if first is None:
                engine.check_lookahead(window)
                first = window.get_column("ts")[0]
            digest.update(fingerprint(window).encode())
            for chunk in _chunks(window, self.chunk_bars):
                rows = engine.step(chunk)
                writer.write(rows)
                chunks += 1
                final = float(rows.equity.get_column("equity")[-1])
            last = window.get_column("ts")[-1]
        if first is None or last is None:
            raise DataError(f"the catalog query holds no {self.interval} bars of {self.symbols}")
        writer.close()
        started = self.clock.now() if self.clock is not None else SimulatedClock(first).now()
        record = RunRecord(
            data_fingerprint=digest.hexdigest(),
            strategy=strategy_label(type(self.strategy)),
            parameters=dict(self.strategy.parameters.model_dump(mode="json")),
            config=self.config.summary(),
            fill_policy=self.config.fill.policy.value,
            package_version=__version__,
            started_at=started,
            bars=engine.book.bars,
            symbols=self.symbols,
            first_bar=first,
            last_bar=last,
        )
        metrics = _metrics(self.output, self.config, self.interval)
        return StreamedResult(self.output, metrics, record, final, chunks)

    def _windows(self) -> Iterator[pl.DataFrame]:
        """Yield the canonical bars of each catalog period within the query, in time order."""
        for lower, upper in self.catalog.periods(self.symbols, interval=self.interval):
            begin = lower if self.start is None else max(lower, self.start)
            finish = upper if self.end is None else min(upper, self.end)
            if begin >= finish:
                continue
            frame = self.catalog.read(self._query, interval=self.interval, start=begin, end=finish)
            if not frame.is_empty():
                yield canonical_bars(_time_major(frame, len(self.symbols)))


def _time_major(frame: pl.DataFrame, symbols: int) -> pl.DataFrame:
    """Reorder the catalog's ``(symbol, ts)`` rows by ``(ts, symbol)`` without sorting if dense.

    When every symbol has the same bar times (a dense panel), the order is a transpose of
    the rows: a gather. Otherwise the frame is returned as it is (canonical_bars sorts it).
    """
    times = frame.height // symbols
    if times * symbols != frame.height:
        return frame
    ts = frame.get_column("ts").to_physical().to_numpy().reshape(symbols, times)
    if not bool((ts == ts[0]).all()):
        return frame
    order = np.arange(frame.height, dtype=np.int64).reshape(symbols, times).T.ravel()
    return frame.select(pl.all().gather(order))


def _chunks(bars: pl.DataFrame, size: int) -> Iterator[pl.DataFrame]:
    """Yield ``bars`` (canonical) in slices of ``size`` bar times (every symbol's bars at each)."""
    ts = bars.get_column("ts").to_physical().to_numpy()
    starts = np.flatnonzero(np.concatenate(([True], ts[1:] != ts[:-1])))
    for first in range(0, starts.shape[0], size):
        begin = int(starts[first])
        end = int(starts[first + size]) if first + size < starts.shape[0] else ts.shape[0]
        yield bars.slice(begin, end - begin)


class _TableWriter:
    """Append result rows to Parquet parts, one folder per table, a part per ~1M rows."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._buffers: dict[str, list[pl.DataFrame]] = {name: [] for name in _TABLES}
        self._rows = dict.fromkeys(_TABLES, 0)
        self._parts = dict.fromkeys(_TABLES, 0)
        for name in _TABLES:
            (directory / name).mkdir(parents=True, exist_ok=True)

    def write(self, rows: ChunkRows) -> None:
        for name in _TABLES:
            frame: pl.DataFrame = getattr(rows, name)
            if frame.height:
                self._buffers[name].append(frame)
                self._rows[name] += frame.height
                if self._rows[name] >= _FLUSH_ROWS:
                    self._flush(name)

    def close(self) -> None:
        """Write what is buffered; a table with no rows gets one empty part (its schema)."""
        for name, schema in _TABLES.items():
            if self._buffers[name]:
                self._flush(name)
            elif self._parts[name] == 0:
                empty = pl.DataFrame(schema=schema or _EQUITY_SCHEMA)
                empty.write_parquet(self.directory / name / "part-000000.parquet")

    def _flush(self, name: str) -> None:
        frame = pl.concat(self._buffers[name], how="vertical")
        frame.write_parquet(self.directory / name / f"part-{self._parts[name]:06d}.parquet")
        self._parts[name] += 1
        self._buffers[name], self._rows[name] = [], 0


_EQUITY_SCHEMA = pl.Schema(
    {
        "ts": TIMESTAMP_DTYPE,
        **dict.fromkeys(
            ("cash", "positions_value", "equity", "drawdown", "gross_exposure", "carry_cost"),
            pl.Float64(),
        ),
    }
)


def _metrics(directory: Path, config: BacktestConfig, interval: Interval) -> PerformanceMetrics:
    """Compute the metrics from the written equity curve, trades and position changes.

    The curve has one row per bar time and the trades one per round trip, whatever the number
    of symbols; the positions are read as changes (what the metrics need of them).
    """
    equity = pl.scan_parquet(directory / "equity" / "*.parquet").select("ts", "equity").collect()
    trades = pl.read_parquet(directory / "trades" / "*.parquet")
    changes = pl.read_parquet(directory / "changes" / "*.parquet")
    if changes.is_empty():  # nothing traded: one flat row, as a dense record would show
        first = equity.get_column("ts")[0]
        changes = pl.DataFrame(
            {"ts": [first], "symbol": [""], "position": [0.0], "price": [0.0]},
            schema=CHANGE_SCHEMA,
        )
    return compute_checked_metrics(
        ordered_equity(
            equity.get_column("ts").dt.epoch("ns").to_numpy(),
            equity.get_column("equity").to_numpy(),
        ),
        trades=trades.rename({"entry_ts": "entry_time", "exit_ts": "exit_time"}),
        positions=read_positions(changes),
        config=MetricsConfig(risk_free_rate=config.risk_free_rate, calendar=config.calendar),
        interval=interval if config.calendar is not None else None,
    )
