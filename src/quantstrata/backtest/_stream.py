"""One stretch of a streamed backtest at a time, with the engine's state carried between them.

A streamed run (:mod:`quantstrata.backtest.stream`) hands :class:`StreamEngine` consecutive
stretches ("chunks") of canonical bars, each later than the one before. Per chunk it:

1. computes the strategy's targets on the chunk with each symbol's last ``2 × warmup_bars()``
   bars before it (kept from the previous chunks), and checks that the targets of the last
   ``warmup_bars()`` of those bars equal the ones the previous chunk computed (else the
   strategy depends on more history than it declares: :class:`StreamedBacktestError`);
2. simulates the targets in :func:`~quantstrata.backtest._nb.resume_decided_nb` from the state
   the previous chunk left (cash, positions, marks, last targets, working orders);
3. turns the chunk's book into its rows of the equity curve, orders, fills and round trips
   (:mod:`quantstrata.backtest._stream_book`) and hands them to the writer.

Orders still working at the chunk's end (and every order sent after the first of them) are
carried into the next chunk's order arrays, so orders are written in the order sent and each
once, complete. The rows equal the one-pass run's bit for bit.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import polars as pl

from quantstrata.backtest import _nb
from quantstrata.backtest._align import AlignedBars, align_bars
from quantstrata.backtest._decided import _frames, compiled_decisions
from quantstrata.backtest._signal import kernel_settings, target_grid
from quantstrata.backtest._stream_book import Book, ChunkRows
from quantstrata.backtest.config import BacktestConfig, SizeAt
from quantstrata.core.errors import ConfigError
from quantstrata.strategy.lookahead import check_no_lookahead
from quantstrata.strategy.signal import SignalStrategy, TargetUnit

__all__ = ["StreamEngine", "StreamedBacktestError", "check_streamable"]

_ORDER_WIDTH = 6
"""Values per order row of :func:`~quantstrata.backtest._nb.resume_decided_nb`."""


class StreamedBacktestError(ConfigError):
    """A backtest cannot be streamed as asked; the message says what to do instead."""


def check_streamable(strategy: object, config: BacktestConfig) -> int:
    """Refuse what a streamed run cannot simulate; return the strategy's warm-up in bars.

    Streaming runs a :class:`~quantstrata.strategy.SignalStrategy` sized at the decision
    without risk checks (the compiled loop of :mod:`._decided`); everything else needs the
    whole history in memory.
    """
    if not isinstance(strategy, SignalStrategy):
        raise StreamedBacktestError(
            f"a streamed backtest runs a SignalStrategy, got {type(strategy).__name__}: "
            "event strategies run in memory (Backtest(bars, strategy).run())"
        )
    if config.size_at is not SizeAt.DECISION:
        raise StreamedBacktestError(
            "a streamed backtest sizes targets at the decision, got "
            f"size_at={config.size_at.value!r}: use size_at='decision' or run in memory "
            "(Backtest(bars, strategy, config).run())"
        )
    if not compiled_decisions(config):
        raise StreamedBacktestError(
            "a streamed backtest cannot run risk checks (config.risk is set): they need the "
            "event loop; set risk=None or run in memory (Backtest(bars, strategy, config).run())"
        )
    contracts = sorted(
        symbol
        for symbol, instrument in config.instruments.items()
        if instrument.multiplier != 1.0
        or instrument.margin is not None
        or instrument.settlement_currency != config.account_currency()
    )
    if contracts:
        raise StreamedBacktestError(
            f"a streamed backtest trades cash products in one currency; {', '.join(contracts)} "
            "has a multiplier, a margin or another currency: run it in memory "
            "(Backtest(bars, strategy, config).run())"
        )
    warmup = strategy.warmup_bars()
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise StreamedBacktestError(
            f"{strategy.name}.warmup_bars() must return the bars of history a target needs "
            f"(an int >= 0) for a streamed run, got {warmup!r}"
        )
    return warmup


class StreamEngine:
    """Simulate consecutive chunks of bars of ``symbols`` with the state carried across them."""

    def __init__(
        self, strategy: SignalStrategy, config: BacktestConfig, symbols: tuple[str, ...]
    ) -> None:
        """Start before the first bar with ``config.cash`` and nothing held or working."""
        self.strategy = strategy
        self.config = config
        self.symbols = symbols
        self.warmup = check_streamable(strategy, config)
        units = strategy.target_unit is TargetUnit.UNITS
        self._settings, self._costs = kernel_settings(config, symbols, units=units)
        self._state = _nb.decided_state_nb(len(symbols), config.cash)
        self._tail: pl.DataFrame | None = None  # each symbol's latest 2 × warm-up bars
        self._recent: pl.DataFrame | None = None  # the targets of each one's latest warm-up bars
        # Orders carried into the next chunk: symbol, values, created and fill times (-1: none).
        self._carried_symbol = np.zeros(0, dtype=np.int64)
        self._carried_values = np.zeros((0, _ORDER_WIDTH))
        self._carried_times = np.zeros((0, 2), dtype=np.int64)
        self.next_id = 1
        self.book = Book(config, symbols)

    def check_lookahead(self, bars: pl.DataFrame) -> None:
        """Run the look-ahead check on ``bars`` when the config asks for it.

        A streamed run checks the first stretch it reads (a catalog period), not the whole
        history: :func:`~quantstrata.strategy.check_no_lookahead` on those bars.
        """
        if self.config.check_lookahead:
            check_no_lookahead(self.strategy, bars, samples=self.config.lookahead_samples)

    def step(self, bars: pl.DataFrame) -> ChunkRows:
        """Simulate the canonical ``bars`` (later than every earlier chunk); return their rows."""
        aligned = align_bars(bars, self.symbols)
        grid = target_grid(self._targets(bars), aligned)
        bar_count = aligned.times.shape[0]
        carried = self._carried_symbol.shape[0]
        index = np.empty((carried + bar_count * len(self.symbols), 3), dtype=np.int64)
        values = np.empty((index.shape[0], _ORDER_WIDTH))
        times = self._order_arrays(aligned, index, values)
        cash = np.empty(bar_count)
        positions = np.empty((bar_count, len(self.symbols)))
        count = _nb.resume_decided_nb(
            aligned.open, aligned.high, aligned.low, aligned.close, aligned.volume,
            aligned.has_bar, grid, self._settings, self._costs, self.config.fill.policy.bar_offset,
            cash, positions, index, values, self.book.carry_factors(aligned.times), self._state,
        )  # fmt: skip
        if count < 0:
            raise StreamedBacktestError(
                "an order would not fill completely on the bar it meets (a volume cap, lot "
                "rounding of the fill, or a sell beyond the position with shorting off): only "
                "the event loop simulates that, in memory; run Backtest(bars, strategy, "
                "config).run() or drop fill.volume_cap / fill.round_lots"
            )
        orders, fills = _frames(replace(aligned, times=times), index[:count], values[:count],
                                first_id=self.next_id)  # fmt: skip
        fills = fills.filter(pl.col("ts") >= pl.lit(aligned.times[0]).cast(fills.schema["ts"]))
        sent = self._carry_orders(index[:count], values[:count], times)
        return self.book.rows(aligned, cash, positions, orders.head(sent), fills)

    def _order_arrays(
        self, aligned: AlignedBars, index: np.ndarray, values: np.ndarray
    ) -> np.ndarray:
        """Put the carried orders on top of the order arrays; return the times they index.

        The times are the chunk's bar times, then each carried order's creation time, then
        its fill time: a carried order's row indexes its own times past the chunk's bars.
        """
        bars = aligned.times.shape[0]
        carried = self._carried_symbol.shape[0]
        rows = np.arange(carried, dtype=np.int64)
        filled = self._carried_times[:, 1] >= 0
        index[:carried, 0] = bars + rows
        index[:carried, 1] = self._carried_symbol
        index[:carried, 2] = np.where(filled, bars + carried + rows, -1)
        values[:carried] = self._carried_values
        fill_times = np.where(filled, self._carried_times[:, 1], 0)
        return np.concatenate((aligned.times, self._carried_times[:, 0], fill_times))

    def _carry_orders(self, index: np.ndarray, values: np.ndarray, times: np.ndarray) -> int:
        """Keep the orders from the first still working on; return how many are complete.

        The state's working rows are moved to match: the carried orders come first in the
        next chunk's arrays.
        """
        count = index.shape[0]
        working_rows = np.flatnonzero(index[:, 2] < 0)
        sent = int(working_rows[0]) if working_rows.shape[0] else count
        kept = slice(sent, count)
        self._carried_symbol = index[kept, 1].copy()
        self._carried_values = values[kept].copy()
        fill = index[kept, 2]
        self._carried_times = np.column_stack(
            (times[index[kept, 0]], np.where(fill >= 0, times[np.maximum(fill, 0)], -1))
        ).astype(np.int64)
        working, counters = self._state[6], self._state[7]
        working[:] = np.where(working >= 0, working - sent, -1)
        counters[0] = count - sent
        self.next_id += sent
        return sent

    def _targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        """Return the strategy's targets of ``bars``, computed after each symbol's warm-up."""
        window = bars if self._tail is None else pl.concat([self._tail, bars], how="vertical")
        targets = self.strategy.compute_targets(window)
        prefix = 0 if self._tail is None else self._tail.height
        if self.warmup:
            if self._recent is not None:
                self._check_recent(targets.head(prefix))
            self._tail = _last_bars(window, 2 * self.warmup, len(self.symbols))
            self._recent = _last_bars(targets, self.warmup, len(self.symbols))
        return targets.slice(prefix)

    def _check_recent(self, again: pl.DataFrame) -> None:
        """Refuse targets of the carried bars that differ from the previous chunk's."""
        assert self._recent is not None  # set together with the tail
        both = self._recent.join(again, on=["ts", "symbol"], how="left", suffix="_again")
        differ = both.filter(~pl.col("target").eq_missing(pl.col("target_again")))
        if differ.height:
            ts, symbol, before, after = differ.row(0)
            raise StreamedBacktestError(
                f"{self.strategy.name}'s target of {symbol} at {ts} was {before} computed on the "
                f"history before it but {after} on its last {2 * self.warmup} bars: its targets "
                f"depend on more than warmup_bars() = {self.warmup} bars of history. Return the "
                "history a target needs from warmup_bars(), or run in memory "
                f"({differ.height} such target(s) in this chunk)"
            )


def _last_bars(frame: pl.DataFrame, bars: int, symbols: int) -> pl.DataFrame:
    """Return each symbol's last ``bars`` rows of ``frame`` (sorted by ``ts``, ``symbol``).

    When the last ``bars`` times each hold a row of every one of the ``symbols`` (a dense
    panel), those rows are the frame's tail: no grouping is needed.
    """
    tail = frame.tail(bars * symbols)
    if tail.height == bars * symbols and tail.get_column("ts").n_unique() == bars:
        return tail
    grouped = frame.group_by("symbol", maintain_order=True).tail(bars)
    return grouped.select(frame.columns).sort("ts", "symbol")
