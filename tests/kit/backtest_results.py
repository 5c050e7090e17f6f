"""Contract-shaped fake backtest results, built from real bundled bars and hand-made trades.

The report only needs the frames and the record described in the backtest results contract,
so these fakes let its tests run without the engine. Fills are at the open of the chosen
bars; the equity curve is replayed bar by bar from those fills with a plain loop, so cash,
positions, trades and metrics all agree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import polars as pl

from quantstrata.analytics import PerformanceMetrics, compute_metrics
from quantstrata.data.samples import load_sample

TS = pl.Datetime("ns", "UTC")
STARTED_AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@dataclass(frozen=True)
class TradeSpec:
    """One round trip: opened at the open of bar ``entry_row`` and closed at ``exit_row``.

    Rows count within the symbol's own bars, sorted by time.
    """

    symbol: str
    direction: str
    entry_row: int
    exit_row: int
    quantity: float


@dataclass(frozen=True)
class FakeRunRecord:
    """The run record fields of the contract."""

    data_fingerprint: str
    strategy: str
    parameters: dict[str, Any]
    config: dict[str, Any]
    fill_policy: str
    package_version: str
    started_at: datetime
    bars: int
    symbols: tuple[str, ...]


@dataclass(frozen=True)
class FakeResult:
    """The frames, metrics and record of a backtest result, as the contract shapes them."""

    equity: pl.DataFrame
    positions: pl.DataFrame
    fills: pl.DataFrame
    trades: pl.DataFrame
    metrics: PerformanceMetrics
    record: FakeRunRecord
    bars: pl.DataFrame = field(repr=False)


def spx_bars(start: datetime = datetime(2016, 1, 1, tzinfo=UTC)) -> pl.DataFrame:
    """Return the real S&P 500 daily bars from ``start`` (2016 on: about 750 bars)."""
    return load_sample("SPX_1d").filter(pl.col("ts") >= start)


def two_symbol_bars(start: datetime = datetime(2017, 1, 1, tzinfo=UTC)) -> pl.DataFrame:
    """Return the real S&P 500 and NASDAQ Composite daily bars from ``start``, stacked."""
    frames = [load_sample(name).filter(pl.col("ts") >= start) for name in ("SPX_1d", "IXIC_1d")]
    columns = ["ts", "symbol", "open", "high", "low", "close", "volume"]
    return pl.concat([frame.select(columns) for frame in frames]).sort("ts", "symbol")


def default_trades(symbol: str = "SPX") -> list[TradeSpec]:
    """Return five non-overlapping round trips, long and short, winners and losers."""
    return [
        TradeSpec(symbol, "long", 10, 40, 10.0),
        TradeSpec(symbol, "short", 60, 90, 5.0),
        TradeSpec(symbol, "long", 120, 200, 8.0),
        TradeSpec(symbol, "short", 250, 262, 10.0),
        TradeSpec(symbol, "long", 300, 480, 12.0),
    ]


def many_trades(symbol: str, count: int, rows: int) -> list[TradeSpec]:
    """Return ``count`` alternating long/short two-bar round trips spread over ``rows`` bars."""
    step = rows // count
    return [
        TradeSpec(
            symbol, "long" if index % 2 == 0 else "short", index * step, index * step + 1, 1.0
        )
        for index in range(count)
    ]


def build_result(
    bars: pl.DataFrame | None = None,
    trades: Sequence[TradeSpec] | None = None,
    *,
    config: Mapping[str, Any] | None = None,
    parameters: Mapping[str, Any] | None = None,
    initial_cash: float = 100_000.0,
    commission: float = 1.0,
) -> FakeResult:
    """Return a contract-shaped result for ``trades`` on ``bars`` (defaults: SPX from 2016)."""
    frame = (spx_bars() if bars is None else bars).sort("ts", "symbol")
    specs = list(default_trades() if trades is None else trades)
    by_symbol = {
        symbol: frame.filter(pl.col("symbol") == symbol).sort("ts")
        for symbol in sorted(frame["symbol"].unique().to_list())
    }
    fills = _fills(specs, by_symbol, commission)
    equity, positions = _replay(frame, fills, initial_cash)
    trade_frame = _trades(specs, by_symbol, commission)
    metrics = compute_metrics(
        equity.select("ts", "equity"),
        trades=trade_frame.rename({"entry_ts": "entry_time", "exit_ts": "exit_time"}),
        positions=positions.select("ts", "symbol", pl.col("quantity").alias("position"), "price"),
    )
    record = FakeRunRecord(
        data_fingerprint=hashlib.sha256(frame.write_ipc(None).getvalue()).hexdigest(),
        strategy="tests.kit.backtest_results.HandMadeTrades",
        parameters=dict(parameters if parameters is not None else {"fast": 10, "slow": 50}),
        config=dict(config if config is not None else {"initial_cash": initial_cash}),
        fill_policy="next_open",
        package_version="0.1.0",
        started_at=STARTED_AT,
        bars=frame.height,
        symbols=tuple(by_symbol),
    )
    return FakeResult(equity, positions, fills, trade_frame, metrics, record, frame)


def _fills(
    specs: Sequence[TradeSpec], by_symbol: Mapping[str, pl.DataFrame], commission: float
) -> pl.DataFrame:
    rows = []
    for number, spec in enumerate(specs):
        bars = by_symbol[spec.symbol]
        opening, closing = ("buy", "sell") if spec.direction == "long" else ("sell", "buy")
        for leg, (row, side) in enumerate(((spec.entry_row, opening), (spec.exit_row, closing))):
            rows.append(
                {
                    "ts": bars["ts"][row],
                    "order_id": f"order-{number}-{leg}",
                    "trade_id": f"fill-{number}-{leg}",
                    "symbol": spec.symbol,
                    "side": side,
                    "quantity": spec.quantity,
                    "price": float(bars["open"][row]),
                    "commission": commission,
                    "liquidity": "taker",
                }
            )
    schema = {
        "ts": TS,
        "order_id": pl.String,
        "trade_id": pl.String,
        "symbol": pl.String,
        "side": pl.String,
        "quantity": pl.Float64,
        "price": pl.Float64,
        "commission": pl.Float64,
        "liquidity": pl.String,
    }
    return pl.DataFrame(rows, schema=schema).sort("ts", "order_id")


def _replay(
    bars: pl.DataFrame, fills: pl.DataFrame, initial_cash: float
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Replay fills bar by bar: fill at the open, then mark every position at its last close."""
    pending: dict[Any, list[dict[str, Any]]] = {}
    for fill in fills.iter_rows(named=True):
        pending.setdefault(fill["ts"], []).append(fill)
    cash, held, last_close = initial_cash, dict[str, float](), dict[str, float]()
    curve, positions = [], []
    peak = 0.0
    for ts, group in bars.group_by("ts", maintain_order=True):
        for fill in pending.get(ts[0], []):
            signed = fill["quantity"] if fill["side"] == "buy" else -fill["quantity"]
            cash -= signed * fill["price"] + fill["commission"]
            held[fill["symbol"]] = held.get(fill["symbol"], 0.0) + signed
        for symbol, close in group.select("symbol", "close").iter_rows():
            last_close[symbol] = close
            quantity = held.get(symbol, 0.0)
            positions.append((ts[0], symbol, quantity, close, quantity * close))
        values = [quantity * last_close[symbol] for symbol, quantity in held.items()]
        equity = cash + sum(values)
        peak = max(peak, equity)
        gross = sum(abs(value) for value in values) / equity
        curve.append((ts[0], cash, sum(values), equity, 1.0 - equity / peak, gross))
    equity_schema = ["ts", "cash", "positions_value", "equity", "drawdown", "gross_exposure"]
    position_schema = ["ts", "symbol", "quantity", "price", "value"]
    equity_frame = pl.DataFrame(curve, schema=equity_schema, orient="row")
    position_frame = pl.DataFrame(positions, schema=position_schema, orient="row")
    return (
        equity_frame.with_columns(pl.col("ts").cast(TS)),
        position_frame.with_columns(pl.col("ts").cast(TS)),
    )


def _trades(
    specs: Sequence[TradeSpec], by_symbol: Mapping[str, pl.DataFrame], commission: float
) -> pl.DataFrame:
    rows = []
    for spec in specs:
        bars = by_symbol[spec.symbol]
        entry, exit_ = float(bars["open"][spec.entry_row]), float(bars["open"][spec.exit_row])
        sign = 1.0 if spec.direction == "long" else -1.0
        pnl = sign * (exit_ - entry) * spec.quantity - 2.0 * commission
        rows.append(
            {
                "symbol": spec.symbol,
                "direction": spec.direction,
                "entry_ts": bars["ts"][spec.entry_row],
                "exit_ts": bars["ts"][spec.exit_row],
                "quantity": spec.quantity,
                "entry_price": entry,
                "exit_price": exit_,
                "pnl": pnl,
                "return": pnl / (entry * spec.quantity),
                "commission": 2.0 * commission,
                "bars_held": spec.exit_row - spec.entry_row,
            }
        )
    schema = {
        "symbol": pl.String,
        "direction": pl.String,
        "entry_ts": TS,
        "exit_ts": TS,
        "quantity": pl.Float64,
        "entry_price": pl.Float64,
        "exit_price": pl.Float64,
        "pnl": pl.Float64,
        "return": pl.Float64,
        "commission": pl.Float64,
        "bars_held": pl.Int64,
    }
    return pl.DataFrame(rows, schema=schema).sort("exit_ts", "symbol")
