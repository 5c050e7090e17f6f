"""Bars/s of SMA 10/30 sized at the decision (compiled, or replayed) and sized at the fill.

One process, the same bars for every run: ``python -m bench.size_at_figures [rows ...]``. The
replay is the path the decision default took before it was compiled (forced here by turning the
compiled path off), for before/after figures.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from quantstrata.backtest import Backtest, BacktestConfig, engine
from quantstrata.data.synthetic import generate_bars
from quantstrata.execution import CommissionConfig
from quantstrata.strategy.examples import SmaCrossover


def _best(call: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    if repeat > 1:
        call()  # warm (compilation, caches); a single slow run is its own warm-up
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return min(times), result


def main(sizes: list[int]) -> None:
    """Print bars/s for each size and path."""
    compiled = engine.compiled_decisions
    for rows in sizes:
        bars = generate_bars(bars=rows, interval="1m", seed=7)
        strategy = SmaCrossover(fast=10, slow=30, allow_short=False)
        for check in (True, False):
            runs: dict[str, float] = {}
            for name, size_at, replay in (
                ("decision, compiled", "decision", False),
                ("decision, replay (before)", "decision", True),
                ("fill", "fill", False),
            ):
                config = BacktestConfig(
                    commission=CommissionConfig(rate=0.001), check_lookahead=check, size_at=size_at
                )
                off = (lambda _config: False) if replay else compiled
                engine.compiled_decisions = off  # type: ignore[assignment]
                repeat = 1 if replay and rows > 200_000 else 3
                run = Backtest(bars, strategy, config).run
                seconds, result = _best(run, repeat)
                runs[name] = seconds
                equity = result.equity["equity"][-1]
                print(
                    f"{rows:>9,} bars  check {'on ' if check else 'off'}  {name:<26} "
                    f"{seconds * 1e3:9.1f} ms  {rows / seconds / 1e6:7.2f}M bars/s  "
                    f"final equity {equity:.6f}",
                    flush=True,
                )
        engine.compiled_decisions = compiled  # type: ignore[assignment]


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [100_000, 1_000_000])
