"""The futures suite: a futures backtest against the same strategy on an equity.

Issue #19's goal: a futures backtest (multiplier, margin, roll) runs within 1.3× the time of the
same strategy on an equity, i.e. a ratio (equity time / futures time) of at least
``1 / 1.3 ≈ 0.77``. The strategy is the backtest suite's SMA(10)/SMA(30) crossover on seeded
synthetic 1-minute bars, long and short (positions flip), 100 000 in cash,
with the default settings (targets sized at the decision):

- the **futures** side trades a contract worth 50 a point with 400 of initial margin per
  contract (8 % of its notional at 100) and 2.25 per contract in commission and fees
  (``per_unit`` + ``exchange_fee``);
- the **equity** side trades the same bars as a share, with the 0.1 % commission of the
  backtest suite.

Tasks: ``futures_signal`` (the compiled decision loop, 1M bars) and ``futures_event``
(``EventSmaCrossover`` through the event loop and the simulated exchange, 100k bars).

Roll hook: :func:`futures_bars` returns the bars the futures side trades. Today it is one
contract's series; a continuous contract that rolls (issue #19, continuous futures) plugs in
there (and its roll costs are then part of the futures time), leaving the equity side as is.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from bench.harness import Side, Size, Suite, Task

__all__ = ["RATIO_GOAL", "SUITE", "futures_bars"]

SIGNAL_BARS = 1_000_000
EVENT_BARS = 100_000
TINY_BARS = 2_000
SEED = 20_240_601
CASH = 100_000.0
FAST, SLOW = 10, 30
RATIO_GOAL = 1 / 1.3
"""Equity time over futures time: the futures backtest within 1.3× the equity's."""
SYMBOL = "SYN"


def _rows(full: int) -> Callable[[Size], int]:
    return lambda size: size.rows(full, tiny=TINY_BARS)


def _bars(rows: int) -> pl.DataFrame:
    from quantstrata.data.synthetic import generate_bars

    return generate_bars(symbols=SYMBOL, bars=rows, interval="1m", seed=SEED)


def futures_bars(rows: int) -> pl.DataFrame:
    """Return the bars the futures side trades (the roll hook: a continuous contract later)."""
    return _bars(rows)


def _config(*, future: bool) -> Any:
    from quantstrata.backtest import BacktestConfig
    from quantstrata.execution import CommissionConfig
    from quantstrata.model import Instrument, Margin

    if not future:
        return BacktestConfig(
            cash=CASH, commission=CommissionConfig(rate=0.001), check_lookahead=False
        )
    contract = Instrument.of(
        SYMBOL,
        "future",
        root="SY",
        expiry=date(2099, 12, 18),
        multiplier=50.0,
        margin=Margin(400.0, 300.0, basis="per_contract"),
    )
    return BacktestConfig(
        cash=CASH,
        commission=CommissionConfig(per_unit=2.0, exchange_fee=0.25),
        check_lookahead=False,
        fractional=False,
        instruments={SYMBOL: contract},
    )


def _side(label: str, *, future: bool, event: bool) -> Side:
    def setup(size: Size, _workdir: Path) -> tuple[pl.DataFrame, Any]:
        rows = size.rows(EVENT_BARS if event else SIGNAL_BARS, tiny=TINY_BARS)
        bars = futures_bars(rows) if future else _bars(rows)
        return bars, _config(future=future)

    def run(context: tuple[pl.DataFrame, Any]) -> Any:
        from quantstrata.backtest import Backtest
        from quantstrata.strategy.examples import EventSmaCrossover, SmaCrossover

        bars, config = context
        kind = EventSmaCrossover if event else SmaCrossover
        return Backtest(bars, kind(fast=FAST, slow=SLOW, allow_short=True), config).run()

    return Side(label, setup, run)  # sizes differ by design: no shared result to compare


def _task(name: str, *, event: bool) -> Task:
    loop = "EventSmaCrossover, event loop" if event else "SmaCrossover, compiled loop"
    bars = "100k" if event else "1M"
    return Task(
        name=name,
        description=f"{bars} 1-minute bars, {loop}, long/short: a future (×50, 400 margin "
        f"per contract, per-contract fees) vs the same on an equity; goal ratio >= "
        f"{RATIO_GOAL:.2f}x (within 1.3× the equity's time)",
        rows=_rows(EVENT_BARS if event else SIGNAL_BARS),
        quantstrata=_side("future", future=True, event=event),
        peer=_side("equity", future=False, event=event),
        repeat=3 if event else 5,
    )


SUITE = Suite(
    name="futures",
    description="A futures backtest (multiplier, margin) against the same strategy on an equity",
    peer="equity",
    tasks=(_task("futures_signal", event=False), _task("futures_event", event=True)),
)
"""The futures suite, registered in ``bench/__main__.py``."""
