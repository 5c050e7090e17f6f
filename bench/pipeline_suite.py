"""The pipeline suite: a factor-pipeline backtest over a large universe against vectorbt.

The workload: :class:`~quantstrata.strategy.examples.MomentumPipeline` (universe: the 300
symbols with the highest 20-day dollar volume; hold the 50 with the best 126-to-21-day momentum
among those closing above 5, equally weighted; rebalanced at each NYSE month end) on seeded
synthetic daily bars: 500 symbols × 10 years (2,520 sessions) at full size, 100 × 10 years
small, 20 × 2 years tiny. 1 M starting cash, 0.05 % commission, decisions at the close filled at
the next open, one shared cash account.

Tasks (quantstrata side first, then its peer):

- ``momentum_vectorbt``: ``Backtest(bars, MomentumPipeline(), config).run()`` (pipeline
  weights, the multi-asset simulation, metrics; the look-ahead check off, as vectorbt has none)
  vs the same weights computed with pandas on wide frames and traded by vectorbt's
  ``Portfolio.from_orders`` (``targetpercent`` sizes at the next open, ``cash_sharing``,
  ``call_seq="auto"`` so sales fund purchases), then its final value, orders, round trips,
  Sharpe ratio and drawdown (quantstrata's result holds those and the rest of its metrics).
- ``momentum_checked``: the same quantstrata run with the look-ahead check on (the default)
  vs the unchecked run: the ratio is the check's price.

Setup (not timed) builds the bars: the long frame for quantstrata, wide ``close``/``open``/
``volume`` frames for vectorbt. Both sides trade only a weight that differs from the symbol's
previous target (quantstrata's rule), so the digests (rebalances, orders, final equity to three
significant digits) can agree; the sides size orders differently at the margin (quantstrata
from the equity marked at the fill price, vectorbt from its group value), so equity differs in
the fifth digit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

from bench.harness import Side, Size, Suite, Task

__all__ = ["SUITE"]

SEED = 20_240_601
CASH = 1_000_000.0
RATE = 0.0005
SHAPES = {Size.FULL: (500, 10.0), Size.SMALL: (100, 10.0), Size.TINY: (20, 2.0)}
LOOKBACK, SKIP, TOP, LIQUID, MIN_PRICE, ADV_WINDOW = 126, 21, 50, 300, 5.0, 20


def _shape(size: Size) -> tuple[int, float]:
    return SHAPES[size]


def _rows(size: Size) -> int:
    symbols, years = _shape(size)
    return symbols * round(years * 252)


def _bars(size: Size) -> pl.DataFrame:
    from quantstrata.cli.pipeline import synthetic_universe

    symbols, years = _shape(size)
    return synthetic_universe(symbols, years, SEED)


def _digest(rebalances: int, orders: int, final_equity: float) -> str:
    return f"{rebalances} rebalances, {orders} orders, equity {final_equity:.3g}"


def _quantstrata_side(label: str, *, check_lookahead: bool) -> Side:
    def setup(size: Size, _workdir: Path) -> tuple[pl.DataFrame, Any, Any]:
        from quantstrata.backtest import BacktestConfig
        from quantstrata.execution import CommissionConfig
        from quantstrata.strategy.examples import MomentumPipeline

        config = BacktestConfig(
            cash=CASH,
            commission=CommissionConfig(rate=RATE),
            calendar="XNYS",
            check_lookahead=check_lookahead,
            size_at="fill",  # vectorbt's targetpercent sizes at the next open, the fill
        )
        strategy = MomentumPipeline(
            lookback=LOOKBACK, skip=SKIP, top=TOP, liquid=LIQUID, min_price=MIN_PRICE
        )
        return _bars(size), strategy, config

    def run(context: tuple[pl.DataFrame, Any, Any]) -> Any:
        from quantstrata.backtest import Backtest

        bars, strategy, config = context
        return Backtest(bars, strategy, config).run()

    def digest(context: tuple[pl.DataFrame, Any, Any], result: Any) -> str:
        bars, strategy, _config = context
        rebalances = strategy.pipeline().rebalances(bars)["ts"].n_unique()
        return _digest(rebalances, result.orders.height, result.final_equity)

    return Side(label, setup, run, digest=digest)


def _wide(bars: pl.DataFrame, column: str) -> pd.DataFrame:
    frame = bars.pivot(on="symbol", index="ts", values=column).sort("ts").to_pandas()
    frame = frame.set_index("ts")
    frame.index = pd.DatetimeIndex(frame.index).tz_convert("UTC").tz_localize(None)
    return frame[sorted(frame.columns)]


def _month_ends(index: pd.DatetimeIndex) -> np.ndarray:
    """Return which rows of ``index`` (NYSE sessions) are the last session of their month."""
    import warnings

    import exchange_calendars as xcals

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        calendar = xcals.get_calendar("XNYS")
        end = (index[-1] + pd.offsets.MonthEnd(0)).date()
        sessions = calendar.sessions_in_range(str(index[0].date()), str(end))
    last = pd.Series(sessions, index=sessions).groupby(sessions.to_period("M")).max()
    return np.asarray(index.isin(pd.DatetimeIndex(last.to_numpy())))


def _peer_setup(size: Size, _workdir: Path) -> dict[str, Any]:
    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    bars = _bars(size)
    frames: dict[str, Any] = {name: _wide(bars, name) for name in ("open", "close", "volume")}
    frames["month_end"] = _month_ends(frames["close"].index)
    return frames


def _pandas_weights(
    close: pd.DataFrame, volume: pd.DataFrame, month_end: np.ndarray
) -> pd.DataFrame:
    """Return the momentum pipeline's weights at every month end (NaN on other rows)."""
    score = close.shift(SKIP) / close.shift(LOOKBACK) - 1.0
    dollars = (close * volume).rolling(ADV_WINDOW).mean()
    liquid = dollars.rank(axis=1, ascending=False, method="first") <= LIQUID
    eligible = score.where(liquid & (close > MIN_PRICE))
    chosen = eligible.rank(axis=1, ascending=False, method="first") <= TOP
    weights = chosen.astype(float).div(chosen.sum(axis=1).replace(0, np.nan), axis=0).fillna(0.0)
    weights.loc[~month_end] = np.nan
    return weights


def _vectorbt_run(context: dict[str, Any]) -> tuple[int, int, float]:
    import vectorbt as vbt

    close, opens = context["close"], context["open"]
    decided = _pandas_weights(close, context["volume"], context["month_end"])
    held = decided.ffill().fillna(0.0)
    previous = held.shift(1).fillna(0.0)
    orders = decided.where(decided.notna() & (decided != previous))
    portfolio = vbt.Portfolio.from_orders(
        close,
        size=orders.shift(1),
        size_type="targetpercent",
        price=opens,
        fees=RATE,
        init_cash=CASH,
        cash_sharing=True,
        group_by=True,
        call_seq="auto",
        freq="1D",
    )
    final_value = float(np.asarray(portfolio.final_value()))
    count = int(np.asarray(portfolio.orders.count()).sum())
    # what quantstrata's result holds too: round trips, Sharpe ratio, drawdown
    portfolio.trades.count()
    portfolio.sharpe_ratio()
    portfolio.max_drawdown()
    rebalances = int(decided.notna().any(axis=1).sum())
    return rebalances, count, final_value


SUITE = Suite(
    name="pipeline",
    description="factor pipeline backtest (500 symbols x 10 years daily): quantstrata vs vectorbt",
    peer="vectorbt",
    tasks=(
        Task(
            name="momentum_vectorbt",
            description="monthly momentum pipeline, 500 symbols x 2,520 sessions: pipeline + "
            "multi-asset backtest vs pandas weights + vectorbt from_orders (shared cash)",
            rows=_rows,
            quantstrata=_quantstrata_side("quantstrata Backtest", check_lookahead=False),
            peer=Side(
                "vectorbt from_orders",
                _peer_setup,
                _vectorbt_run,
                digest=lambda _context, result: _digest(*result),
            ),
            repeat=3,
        ),
        Task(
            name="momentum_checked",
            description="the same backtest with the look-ahead check on vs off "
            "(ratio = what the check costs)",
            rows=_rows,
            quantstrata=_quantstrata_side("quantstrata, check on", check_lookahead=True),
            peer=_quantstrata_side("quantstrata, check off", check_lookahead=False),
            repeat=3,
        ),
    ),
)
