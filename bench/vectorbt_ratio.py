"""The two goals against vectorbt in one process: the default and the compiled path, same bars.

``python -m bench.vectorbt_ratio --bars 1000000 --rounds 3`` runs, in turns in one process after
a warm-up round, the default path (the user's Polars strategy of ``examples/sma_cross.py`` with
the default config: look-ahead check on), the compiled path (``SmaCrossover``, check off, sized
at the fill) and vectorbt's ``Portfolio.from_signals`` on a tz-naive index (the bench task's own
run), and prints the median wall and CPU time of each and the ratios to vectorbt (goals: 2x and
4x). CPU time sums every thread: on a shared machine it is steadier than wall time. The bench
tasks ``backtest/polars_vectorbt`` and ``backtest/signal_vectorbt`` measure the same in fresh
processes (wall time, best of 5).
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable

from bench import backtest_suite as suite
from bench.lookahead_cost import time_interleaved

__all__ = ["main"]


def main() -> None:
    """Measure and print both paths and vectorbt, and the ratios."""
    from quantstrata.backtest import Backtest, BacktestConfig
    from quantstrata.cli._strategy_source import load_strategy_class
    from quantstrata.execution import CommissionConfig
    from quantstrata.strategy.examples import SmaCrossover

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=suite.SIGNAL_BARS)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    bars = suite._bars(arguments.bars)
    user = load_strategy_class(str(suite._SMA_CROSS_FILE))(fast=suite.FAST, slow=suite.SLOW)
    compiled = SmaCrossover(fast=suite.FAST, slow=suite.SLOW, allow_short=False)
    defaults = BacktestConfig(cash=suite.SIGNAL_CASH, commission=CommissionConfig(rate=suite.RATE))
    fill = suite._config(fractional=True, check_lookahead=False, cash=suite.SIGNAL_CASH)
    peer = suite.Inputs(bars=suite._ohlcv(bars), rows=arguments.bars)
    calls: dict[str, Callable[[], object]] = {
        "default path": lambda: Backtest(bars, user, defaults).run().trades,
        "compiled path": lambda: Backtest(bars, compiled, fill).run().trades,
        "vectorbt": lambda: suite._vectorbt_run(peer),
    }
    wall, cpu = time_interleaved(calls, arguments.rounds)
    goals = {"default path": suite.DEFAULT_RATIO_GOAL, "compiled path": suite.COMPILED_RATIO_GOAL}
    for label, times in (("wall", wall), ("CPU", cpu)):
        median = {name: statistics.median(values) for name, values in times.items()}
        parts = [
            f"{name} {seconds * 1e3:.1f} ms ({arguments.bars / seconds / 1e6:.2f}M bars/s"
            + (
                f", {median['vectorbt'] / seconds:.2f}x, goal {goals[name]:g}x)"
                if name in goals
                else ")"
            )
            for name, seconds in median.items()
        ]
        print(
            f"{arguments.bars:,} bars, median of {arguments.rounds}, {label}: " + "; ".join(parts)
        )


if __name__ == "__main__":
    main()
