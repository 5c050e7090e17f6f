"""Bar frames, tiny strategies and Hypothesis strategies for backtest tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
from hypothesis import strategies as st

from quantstrata.backtest import BacktestConfig
from quantstrata.backtest.config import SizeAt
from quantstrata.execution import CommissionConfig, FillConfig, FillPolicy, SlippageConfig
from quantstrata.model.bar import BAR_SCHEMA
from quantstrata.model.instrument import AssetClass, Instrument
from quantstrata.model.orders import OrderRequest
from quantstrata.strategy import BarSnapshot, EventStrategy, SignalStrategy, StrategyContext

START = datetime(2024, 1, 1, tzinfo=UTC)


def make_bars(
    rows: list[tuple[float, float, float, float]],
    *,
    symbol: str = "AAA",
    volume: float = 1_000.0,
    start_day: int = 0,
) -> pl.DataFrame:
    """Build daily bars from ``(open, high, low, close)`` rows."""
    return pl.DataFrame(
        {
            "ts": [START + timedelta(days=start_day + index) for index in range(len(rows))],
            "symbol": [symbol] * len(rows),
            "open": [row[0] for row in rows],
            "high": [row[1] for row in rows],
            "low": [row[2] for row in rows],
            "close": [row[3] for row in rows],
            "volume": [volume] * len(rows),
        },
        schema=BAR_SCHEMA,
    )


MARGIN_CALL_ROWS = [
    (100.0, 100.0, 100.0, 100.0),
    (100.0, 100.0, 100.0, 100.0),
    (100.0, 150.0, 100.0, 150.0),
    (150.0, 170.0, 150.0, 170.0),
    (175.0, 175.0, 160.0, 165.0),
    (165.0, 165.0, 160.0, 160.0),
]
"""Daily ``(open, high, low, close)`` rising against a short of 100 at 100 on 10,000 of cash:
called at the fourth close (170), liquidated at the fifth open (175); worked out by hand in
``tests/unit/backtest/test_margin_call.py``."""


def flat_bars(prices: list[float], *, symbol: str = "AAA", start_day: int = 0) -> pl.DataFrame:
    """Build bars whose open, high, low and close all equal each price."""
    return make_bars([(p, p, p, p) for p in prices], symbol=symbol, start_day=start_day)


class FixedTargets(SignalStrategy):
    """Targets from a given ``ts, symbol, target`` frame (null where absent)."""

    def __init__(self, targets: pl.DataFrame) -> None:
        super().__init__()
        self.fixed = targets

    def warmup_bars(self) -> int:
        return 0

    def targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        return bars.select("ts", "symbol").join(
            self.fixed, on=["ts", "symbol"], how="left", maintain_order="left"
        )


def constant_targets(bars: pl.DataFrame, value: float) -> FixedTargets:
    """Return a strategy holding ``value`` of equity in every symbol from the first bar."""
    return FixedTargets(bars.select("ts", "symbol", pl.lit(value).alias("target")))


class PeekingStrategy(SignalStrategy):
    """Goes long when tomorrow's close is higher: look-ahead via shift(-1)."""

    def warmup_bars(self) -> int:
        return 0

    def targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        return bars.select(
            "ts",
            "symbol",
            pl.when(pl.col("close").shift(-1) > pl.col("close"))
            .then(1.0)
            .otherwise(0.0)
            .alias("target"),
        )


class Idle(EventStrategy):
    """An event strategy that never trades."""

    def warmup_bars(self) -> int:
        return 0

    def on_bar(self, bars: BarSnapshot, context: StrategyContext) -> None:
        return


class ScriptedOrders(EventStrategy):
    """Submits the requests given for each bar index, and records callbacks."""

    def __init__(self, script: dict[int, list[OrderRequest]]) -> None:
        super().__init__()
        self.script = script
        self.fills: list[object] = []
        self.order_updates: list[object] = []
        self.ids: list[str] = []

    def warmup_bars(self) -> int:
        return 0

    def on_start(self, context: StrategyContext) -> None:
        self.index = 0

    def on_bar(self, bars: BarSnapshot, context: StrategyContext) -> None:
        for request in self.script.get(self.index, []):
            self.ids.append(context.submit(request))
        self.index += 1

    def on_fill(self, fill: object, context: StrategyContext) -> None:  # type: ignore[override]
        self.fills.append(fill)

    def on_order(self, order: object, context: StrategyContext) -> None:  # type: ignore[override]
        self.order_updates.append(order)


@st.composite
def random_bars(draw: st.DrawFn, *, symbols: tuple[str, ...] = ("AAA",)) -> pl.DataFrame:
    """Draw consistent daily bars (3 to 40 per symbol); symbols may skip days."""
    length = draw(st.integers(min_value=3, max_value=40))
    seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
    rng = np.random.default_rng(seed)
    parts = []
    for number, symbol in enumerate(symbols):
        closes = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.03, length)))
        opens = np.concatenate([[100.0], closes[:-1]]) * np.exp(rng.normal(0.0, 0.01, length))
        highs = np.maximum(opens, closes) * (1.0 + rng.uniform(0.0, 0.02, length))
        lows = np.minimum(opens, closes) * (1.0 - rng.uniform(0.0, 0.02, length))
        keep = rng.uniform(size=length) > (0.0 if number == 0 else 0.3)
        frame = make_bars(list(zip(opens, highs, lows, closes, strict=True)), symbol=symbol)
        parts.append(frame.filter(pl.Series(keep)))
    return pl.concat(parts).sort("ts", "symbol")


def trading_configs(
    symbols: tuple[str, ...], *, size_at: SizeAt | None = None
) -> st.SearchStrategy[BacktestConfig]:
    """Backtest settings across every order rule the simulations share.

    Fill policies, volume caps and lot rounding (lots of 5), commissions, slippage, shorting,
    leverage, fractional units, borrow and financing; ``size_at`` fixed, or drawn when ``None``.
    """
    return st.builds(
        lambda policy, cap, rate, slipped, short, leverage, fractional, carry, sized: (
            BacktestConfig(
                check_lookahead=False,
                size_at=sized,
                fill=FillConfig(policy=policy, volume_cap=cap[0], round_lots=cap[1]),
                commission=CommissionConfig(rate=rate, per_order=1.0 if rate else 0.0),
                slippage=SlippageConfig(fixed_basis_points=7.0 if slipped else 0.0),
                allow_short=short,
                max_leverage=leverage,
                fractional=fractional,
                borrow_rate=carry[0],
                financing_rate=carry[1],
                instruments={
                    symbol: Instrument(symbol, AssetClass.EQUITY, "USD", lot_size=5.0)
                    for symbol in symbols
                },
            )
        ),
        policy=st.sampled_from(list(FillPolicy)),
        cap=st.sampled_from([(None, False), (0.05, False), (None, True), (0.3, True)]),
        rate=st.sampled_from([0.0, 0.002]),
        slipped=st.booleans(),
        short=st.booleans(),
        leverage=st.sampled_from([0.5, 1.0, 3.0]),
        fractional=st.booleans(),
        carry=st.sampled_from([(0.0, 0.0), (0.04, 0.0), (0.0, 0.09), (0.25, 0.5)]),
        sized=st.sampled_from(list(SizeAt)) if size_at is None else st.just(size_at),
    )
