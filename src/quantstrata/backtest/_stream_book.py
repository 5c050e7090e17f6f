"""A streamed run's book between chunks, and each chunk's rows of the result frames.

:class:`Book` carries what the result frames need from one chunk to the next (each symbol's
last close and position, the last cash, the equity's running peak, the last bar time and
the round trips' open lots) and turns a simulated chunk into its rows of the equity curve,
orders, fills and trades (:class:`ChunkRows`), the same rows, bit for bit, as
:func:`~quantstrata.backtest.results.build_result` gives for those bars of the one-pass run.
Each chunk also yields the cells where a position changed: the metrics read exposure and
turnover from them (:func:`~quantstrata.analytics._activity.read_positions` takes changes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from quantstrata.backtest._align import AlignedBars
from quantstrata.backtest._ledger import FILL_SCHEMA, marks
from quantstrata.backtest.config import BacktestConfig
from quantstrata.backtest.results import equity_columns
from quantstrata.backtest.trades import TRADE_SCHEMA, _match, _trades_frame
from quantstrata.execution._nb import carry_costs_nb
from quantstrata.model.bar import TIMESTAMP_DTYPE

__all__ = ["CHANGE_SCHEMA", "Book", "ChunkRows"]

CHANGE_SCHEMA = pl.Schema(
    {"ts": TIMESTAMP_DTYPE, "symbol": pl.String(), "position": pl.Float64(), "price": pl.Float64()}
)
"""Rows where a symbol's position changed: the position from then on and the bar's close."""

_LOT_COLUMNS = ("ts", "symbol", "side", "quantity", "price", "commission")


@dataclass(frozen=True, slots=True)
class ChunkRows:
    """One chunk's rows of the result frames (and of the position changes the metrics read)."""

    equity: pl.DataFrame
    orders: pl.DataFrame
    fills: pl.DataFrame
    trades: pl.DataFrame
    changes: pl.DataFrame


class Book:
    """What the result frames carry from one chunk to the next."""

    def __init__(self, config: BacktestConfig, symbols: tuple[str, ...]) -> None:
        """Start before the first bar: ``config.cash``, nothing held, no close seen."""
        self.config = config
        self.symbols = symbols
        self.bars = 0  # bar times simulated so far
        self._peak = -math.inf
        self._cash = config.cash
        self._marks = np.full(len(symbols), np.nan)
        self._positions = np.zeros(len(symbols))
        self._last_time: int | None = None
        self._lots = pl.DataFrame(schema={name: FILL_SCHEMA[name] for name in _LOT_COLUMNS})
        self._lot_bars = np.zeros(0, dtype=np.int64)

    def carry_factors(self, times: np.ndarray) -> np.ndarray:
        """Return the borrow and financing factors of the chunk's bars (none when not charged).

        The first bar's interval starts at the previous chunk's last bar, as in one pass.
        """
        if not self.config.charges_carry():
            return np.zeros((0, 2))
        if self._last_time is None:
            return self.config.carry_factors(times)
        return self.config.carry_factors(np.concatenate(([self._last_time], times)))[1:]

    def rows(
        self,
        aligned: AlignedBars,
        cash: np.ndarray,
        positions: np.ndarray,
        orders: pl.DataFrame,
        fills: pl.DataFrame,
    ) -> ChunkRows:
        """Return the chunk's rows and move the book past its last bar."""
        every_bar = bool(aligned.has_bar.all())
        mark = aligned.close
        if not every_bar:  # a symbol without a bar yet in the chunk keeps its last close
            mark = marks(aligned)
            mark = np.where(np.isnan(mark), self._marks, mark)
        equity = self._equity(aligned, cash, positions, mark)
        changes = self._changes(aligned, positions)
        trades = self._trades(aligned.times, fills)
        self._cash = float(cash[-1])
        self._marks = mark[-1].copy()
        self._positions = positions[-1].copy()
        self._last_time = int(aligned.times[-1])
        self.bars += aligned.times.shape[0]
        return ChunkRows(equity, orders, fills, trades, changes)

    def _equity(
        self, aligned: AlignedBars, cash: np.ndarray, positions: np.ndarray, mark: np.ndarray
    ) -> pl.DataFrame:
        """Return the chunk's equity rows; the drawdown runs from the carried peak."""
        _, positions_value, equity, _, gross_exposure = equity_columns(cash, positions, mark)
        peak = np.maximum.accumulate(np.concatenate(([self._peak], equity)))[1:]
        with np.errstate(divide="ignore", invalid="ignore"):
            drawdown = np.where(peak > 0.0, 1.0 - equity / peak, 0.0)
        frame = pl.DataFrame(
            {
                "ts": pl.Series(aligned.times, dtype=pl.Int64).cast(TIMESTAMP_DTYPE),
                "cash": cash,
                "positions_value": positions_value,
                "equity": equity,
                "drawdown": drawdown,
                "gross_exposure": gross_exposure,
                "carry_cost": self._carry_costs(aligned, cash, positions, mark),
                "funding": np.zeros(len(aligned.times)),  # no perpetuals (check_streamable)
            }
        )
        self._peak = float(peak[-1])
        return frame

    def _carry_costs(
        self, aligned: AlignedBars, cash: np.ndarray, positions: np.ndarray, mark: np.ndarray
    ) -> np.ndarray:
        """Return the carry charged at each bar, from the book after the bar before."""
        if not self.config.charges_carry():
            return np.zeros(cash.shape[0])
        factors = self.carry_factors(aligned.times)
        if self._last_time is None:
            return carry_costs_nb(cash, positions, mark, factors)
        return carry_costs_nb(
            np.concatenate(([self._cash], cash)),
            np.vstack((self._positions, positions)),
            np.vstack((self._marks, mark)),
            np.vstack((np.zeros((1, 2)), factors)),
        )[1:]

    def _changes(self, aligned: AlignedBars, positions: np.ndarray) -> pl.DataFrame:
        """Return the cells where a position changed (positions change only at fills)."""
        before = np.vstack((self._positions, positions[:-1]))
        changed = positions != before
        rows, columns = np.nonzero(changed)
        return pl.DataFrame(
            {
                "ts": pl.Series(aligned.times[rows], dtype=pl.Int64).cast(TIMESTAMP_DTYPE),
                "symbol": pl.Series(self.symbols, dtype=pl.String).gather(columns),
                "position": positions[changed],
                "price": aligned.close[changed],
            },
            schema=CHANGE_SCHEMA,
        )

    def _trades(self, times: np.ndarray, fills: pl.DataFrame) -> pl.DataFrame:
        """Return the round trips closed by the chunk's fills; carry the lots left open.

        The open lots go back to the matcher as carried rows, ahead of the chunk's fills, so
        they are matched first in, first out exactly as in one pass.
        """
        frame = pl.concat([self._lots, fills.select(_LOT_COLUMNS)], how="vertical")
        if frame.is_empty():
            return pl.DataFrame(schema=TRADE_SCHEMA)
        fill_ns = fills.get_column("ts").dt.epoch("ns").to_numpy()
        bars = np.concatenate(
            (self._lot_bars, self.bars + np.searchsorted(times, fill_ns).astype(np.int64))
        )
        carried = np.zeros(frame.height, dtype=np.bool_)
        carried[: self._lots.height] = True
        matched = _match(frame, carried)
        entry, exit_ = matched.order[matched.rows[:, 0]], matched.order[matched.rows[:, 1]]
        codes, ts = matched.codes, matched.ts
        sequence = np.lexsort((codes[entry], ts[entry], ts[exit_]))
        entry, exit_, values = entry[sequence], exit_[sequence], matched.values[sequence]
        open_rows = matched.order[matched.open_rows]
        signed, price, commission = matched.open_lots.T
        self._lots = pl.DataFrame(
            {
                "ts": pl.Series(ts[open_rows], dtype=pl.Int64).cast(TIMESTAMP_DTYPE),
                "symbol": matched.symbols.gather(codes[open_rows]),
                "side": np.where(signed > 0.0, "buy", "sell"),
                "quantity": np.abs(signed),
                "price": price,
                "commission": commission,
            },
            schema={name: FILL_SCHEMA[name] for name in _LOT_COLUMNS},
        )
        self._lot_bars = bars[open_rows]
        return _trades_frame(
            matched.symbols, codes[entry], ts[entry], ts[exit_], values, bars[exit_] - bars[entry],
            np.ones(entry.shape[0]),  # cash products only (check_streamable)
        )  # fmt: skip
