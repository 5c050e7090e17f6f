"""Round-trip trades from fills: first in, first out per symbol, with partial closes and flips.

Each fill that opens or adds to a position becomes an open lot. A fill against the position
closes lots oldest first; every closed piece of a lot is one round trip (so a lot closed by two
fills gives two trades, and one fill closing two lots gives two trades). A fill larger than the
position closes it and opens a lot on the other side with the rest: a flip. Commissions are
shared in proportion to quantity: a trade carries its share of the entry fill's and the exit
fill's commission, and its ``pnl`` is net of both. Positions still open at the end are not
trades (as backtesting.py's ``# Trades`` without ``finalize_trades``): :func:`open_positions`
reports them separately, with their unrealised PnL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from quantstrata.backtest._trades_nb import round_trips_nb, sorted_positions_nb
from quantstrata.model.bar import TIMESTAMP_DTYPE

__all__ = [
    "OPEN_POSITION_SCHEMA",
    "TRADE_SCHEMA",
    "describe_open_positions",
    "open_positions",
    "round_trips",
]

TRADE_SCHEMA = pl.Schema(
    {
        "symbol": pl.String(),
        "direction": pl.String(),
        "entry_ts": TIMESTAMP_DTYPE,
        "exit_ts": TIMESTAMP_DTYPE,
        "quantity": pl.Float64(),
        "entry_price": pl.Float64(),
        "exit_price": pl.Float64(),
        "pnl": pl.Float64(),
        "return": pl.Float64(),
        "commission": pl.Float64(),
        "bars_held": pl.Int64(),
    }
)

OPEN_POSITION_SCHEMA = pl.Schema(
    {
        "symbol": pl.String(),
        "direction": pl.String(),
        "quantity": pl.Float64(),
        "entry_price": pl.Float64(),
        "last_price": pl.Float64(),
        "unrealised_pnl": pl.Float64(),
    }
)
"""Columns of :func:`open_positions`."""


def round_trips(
    fills: pl.DataFrame,
    bar_times: npt.NDArray[np.int64],
    multipliers: Mapping[str, float] | None = None,
) -> pl.DataFrame:
    """Return the round trips of ``fills`` (``ts, symbol, side, quantity, price, commission``).

    ``bar_times`` are the backtest's bar times (ns, sorted); ``bars_held`` counts the bars
    from the entry fill's bar to the exit fill's bar. Trades are sorted by exit time, entry
    time and symbol. ``multipliers`` are contract multipliers by symbol (1 for others): a
    trade's PnL is ``quantity × price move × multiplier``.
    """
    if fills.is_empty():
        return pl.DataFrame(schema=TRADE_SCHEMA)
    matched = _match(fills)
    entry, exit_ = matched.order[matched.rows[:, 0]], matched.order[matched.rows[:, 1]]
    codes, ts = matched.codes, matched.ts
    sequence = np.lexsort((codes[entry], ts[entry], ts[exit_]))
    entry, exit_, values = entry[sequence], exit_[sequence], matched.values[sequence]
    bar = _bar_positions(bar_times, ts)
    contract = np.ones(matched.symbols.len())
    for code, symbol in enumerate(matched.symbols.to_list()):
        contract[code] = (multipliers or {}).get(symbol, 1.0)
    return _trades_frame(
        matched.symbols, codes[entry], ts[entry], ts[exit_], values, bar[exit_] - bar[entry],
        contract[codes[entry]],
    )  # fmt: skip


def open_positions(fills: pl.DataFrame, bars: pl.DataFrame) -> pl.DataFrame:
    """Return the positions still open after the last bar, one row per symbol, with their PnL.

    They are the lots :func:`round_trips` leaves unmatched (first in, first out), so nothing
    is counted twice: ``quantity`` is signed (negative: short), ``entry_price`` the lots'
    quantity-weighted entry price, ``last_price`` the symbol's last close in ``bars`` and
    ``unrealised_pnl`` the position marked there minus its cost and the entry commission it
    carries (the exit commission is not paid yet).
    """
    if fills.is_empty():
        return pl.DataFrame(schema=OPEN_POSITION_SCHEMA)
    matched = _match(fills)
    signed, price, commission = matched.open_lots.T
    lots = pl.DataFrame(
        {
            "symbol": matched.symbols.gather(matched.codes[matched.order[matched.open_rows]]),
            "quantity": signed,
            "cost": signed * price,
            "commission": commission,
        }
    )
    last = bars.group_by("symbol").agg(pl.col("close").sort_by("ts").last().alias("last_price"))
    held = lots.group_by("symbol").agg(pl.sum("quantity", "cost", "commission"))
    frame = held.join(last.with_columns(pl.col("symbol").cast(pl.String)), on="symbol")
    return (
        frame.filter(pl.col("quantity") != 0.0)
        .sort("symbol")
        .select(
            "symbol",
            pl.when(pl.col("quantity") > 0)
            .then(pl.lit("long"))
            .otherwise(pl.lit("short"))
            .alias("direction"),
            "quantity",
            (pl.col("cost") / pl.col("quantity")).alias("entry_price"),
            "last_price",
            (
                pl.col("quantity") * pl.col("last_price") - pl.col("cost") - pl.col("commission")
            ).alias("unrealised_pnl"),
        )
        .cast(dict(OPEN_POSITION_SCHEMA))  # type: ignore[arg-type]
    )


def describe_open_positions(positions: pl.DataFrame) -> str:
    """Return one line for people: ``none``, or each open position and the unrealised PnL.

    ``positions`` is an :func:`open_positions` frame; the summary, the command line and the
    report all print this line.
    """
    if positions.is_empty():
        return "none"
    parts = [
        f"{row['symbol']} {row['direction']} {abs(row['quantity']):,.6g} "
        f"@ {row['entry_price']:,.2f} (last {row['last_price']:,.2f}, "
        f"unrealised PnL {row['unrealised_pnl']:,.2f})"
        for row in positions.iter_rows(named=True)
    ]
    if positions.height > 1:
        parts.append(f"total unrealised PnL {float(positions['unrealised_pnl'].sum()):,.2f}")
    return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class _Matched:
    """The FIFO matcher's output for fills sorted by symbol, then time (``order``)."""

    symbols: pl.Series
    codes: npt.NDArray[np.int64]
    ts: npt.NDArray[np.int64]
    order: npt.NDArray[np.int64]
    rows: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]
    open_rows: npt.NDArray[np.int64]
    open_lots: npt.NDArray[np.float64]


def _match(fills: pl.DataFrame, carried: npt.NDArray[np.bool_] | None = None) -> _Matched:
    """Match ``fills`` first in, first out; rows marked ``carried`` are open lots handed back."""
    names = fills.get_column("symbol").cast(pl.String)
    symbols = names.unique().sort()
    codes = symbols.search_sorted(names).to_numpy()
    ts = fills.get_column("ts").dt.epoch("ns").to_numpy()
    order = np.lexsort((ts, codes))  # by symbol, then time; stable, so arrival breaks ties
    quantity = fills.get_column("quantity").to_numpy()
    buy = (fills.get_column("side") == "buy").to_numpy()
    signed = np.where(buy, quantity, -quantity)[order]
    rows, values, open_rows, open_lots = round_trips_nb(
        codes[order],
        signed,
        np.ascontiguousarray(fills.get_column("price").to_numpy()[order], dtype=np.float64),
        np.ascontiguousarray(fills.get_column("commission").to_numpy()[order], dtype=np.float64),
        np.zeros(order.shape[0], dtype=np.bool_) if carried is None else carried[order],
    )
    return _Matched(symbols, codes, ts, order, rows, values, open_rows, open_lots)


def _bar_positions(
    bar_times: npt.NDArray[np.int64], ts: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Return each fill's position among the bar times (fills in time order: a linear walk)."""
    if bool((ts[1:] >= ts[:-1]).all()):
        return sorted_positions_nb(np.ascontiguousarray(bar_times, dtype=np.int64), ts)
    return np.searchsorted(bar_times, ts).astype(np.int64)


def _trades_frame(  # noqa: PLR0917
    symbols: pl.Series,
    codes: npt.NDArray[np.int64],
    entry_ns: npt.NDArray[np.int64],
    exit_ns: npt.NDArray[np.int64],
    values: npt.NDArray[np.float64],
    held: npt.NDArray[np.int64],
    multiplier: npt.NDArray[np.float64],
) -> pl.DataFrame:
    """Build the trades frame from the matched trips (signed quantity, prices, commission)."""
    signed, entry_price, exit_price, commission = values.T
    direction = np.where(signed > 0.0, 1.0, -1.0)
    closed = np.abs(signed)
    pnl = closed * (exit_price - entry_price) * direction * multiplier - commission
    frame = pl.DataFrame(
        {
            "symbol": symbols.gather(codes),
            "direction": pl.Series(signed > 0.0).replace_strict(
                {True: "long", False: "short"}, return_dtype=pl.String
            ),
            "entry_ts": pl.Series(entry_ns, dtype=pl.Int64).cast(TIMESTAMP_DTYPE),
            "exit_ts": pl.Series(exit_ns, dtype=pl.Int64).cast(TIMESTAMP_DTYPE),
            "quantity": closed,
            "entry_price": entry_price,
            "exit_price": exit_price,
            "pnl": pnl,
            "return": pnl / (closed * entry_price * multiplier),
            "commission": commission,
            "bars_held": held.astype(np.int64),
        }
    )
    return frame.cast(dict(TRADE_SCHEMA))  # type: ignore[arg-type]
