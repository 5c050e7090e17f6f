"""Backtest tasks in five currencies against the same portfolio in one (issue #19's goal).

Five symbols of 1-minute bars, the same SMA 10/30 crossover on each: once with every symbol in
USD, once with the symbols settling in USD, EUR, GBP, JPY and CHF valued in USD through FX bars
(``EUR/USD``, ``GBP/USD``, ``USD/JPY``, ``USD/CHF``; the last two inverted). The ratio is the
one-currency time over the five-currency time; the goal is the five-currency run within 1.5×
(a ratio ≥ 1/1.5). A run in several currencies goes through the event loop (the simulated
exchange), so the event strategy compares like with like; the signal task shows what a signal
strategy pays for leaving its compiled loop.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from bench.harness import Side, Size, Task

__all__ = ["CURRENCY_RATIO_GOAL", "currency_tasks"]

BARS_PER_SYMBOL = 20_000
TINY_BARS = 400
SEED = 20_261_207
CASH = 1_000_000.0
CURRENCY_RATIO_GOAL = 1.0 / 1.5
_CURRENCIES = ("USD", "EUR", "GBP", "JPY", "CHF")
_PAIRS = {"EUR": "EUR/USD", "GBP": "GBP/USD", "JPY": "USD/JPY", "CHF": "USD/CHF"}
_LEVELS = {"EUR/USD": 1.1, "GBP/USD": 1.3, "USD/JPY": 150.0, "USD/CHF": 0.9}
_SYMBOLS = tuple(f"S{currency}" for currency in _CURRENCIES)


def _inputs(size: Size, *, currencies: bool) -> tuple[pl.DataFrame, Any, pl.DataFrame | None]:
    from quantstrata.backtest import BacktestConfig
    from quantstrata.data.synthetic import generate_bars
    from quantstrata.model.instrument import Instrument

    rows = size.rows(BARS_PER_SYMBOL, tiny=TINY_BARS)
    bars = generate_bars(symbols=list(_SYMBOLS), bars=rows, interval="1m", seed=SEED)
    instruments = {
        symbol: Instrument.of(symbol, "crypto", quote_currency=currency if currencies else "USD")
        for symbol, currency in zip(_SYMBOLS, _CURRENCIES, strict=True)
    }
    config = BacktestConfig(
        cash=CASH, base_currency="USD", instruments=instruments, check_lookahead=False
    )
    if not currencies:
        return bars, config, None
    fx = pl.concat(
        generate_bars(
            symbols=pair, bars=rows, interval="1m", seed=SEED + index, start_price=_LEVELS[pair],
            volatility=0.05,
        )
        for index, pair in enumerate(_PAIRS.values())
    )  # fmt: skip
    return bars, config, fx


def _side(label: str, *, currencies: bool, event: bool) -> Side:
    def setup(size: Size, _workdir: Path) -> tuple[pl.DataFrame, Any, pl.DataFrame | None]:
        return _inputs(size, currencies=currencies)

    def run(context: tuple[pl.DataFrame, Any, pl.DataFrame | None]) -> Any:
        from quantstrata.backtest import Backtest
        from quantstrata.strategy.examples import EventSmaCrossover, SmaCrossover

        bars, config, fx = context
        strategy = (EventSmaCrossover if event else SmaCrossover)(fast=10, slow=30)
        return Backtest(bars, strategy, config, fx=fx).run()

    return Side(label, setup, run)


def currency_tasks() -> tuple[Task, ...]:
    """Return the five-currency tasks (event strategy, signal strategy)."""
    rows = lambda size: size.rows(BARS_PER_SYMBOL, tiny=TINY_BARS) * len(_SYMBOLS)  # noqa: E731
    goal = f"goal ratio >= {CURRENCY_RATIO_GOAL:.3g}x (five currencies within 1.5x of one)"
    return tuple(
        Task(
            name=f"{style}_five_currencies",
            description=f"5 x 20k 1-minute bars, {style} SMA 10/30 crossover: five settlement "
            f"currencies valued in USD with FX bars vs the same in USD; {goal}",
            rows=rows,
            quantstrata=_side("five currencies", currencies=True, event=style == "event"),
            peer=_side("one currency", currencies=False, event=style == "event"),
            repeat=3,
        )
        for style in ("event", "signal")
    )
