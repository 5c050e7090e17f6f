"""The look-ahead check's share of a backtest, wall and CPU time, on/off calls interleaved.

``python -m bench.lookahead_cost --bars 1000000 --rounds 9 --strategy polars`` runs the same
backtest (SMA 10/30, next-open fills, 0.1 % commission) with the check off and on, in turns in one
process, and the check alone on the run's own targets; it prints the best of each. CPU time sums
every thread, so on a shared machine it is steadier than wall time, which counts the waits of
Polars' small queries for a core. ``polars`` is the user's strategy of ``examples/sma_cross.py``,
``compiled`` the bundled ``SmaCrossover``. The bench task ``backtest/polars_lookahead`` measures
the same in fresh processes (wall time only).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["main", "time_interleaved"]

_SMA_CROSS_FILE = Path(__file__).resolve().parent.parent / "examples" / "sma_cross.py"


def main() -> None:
    """Measure and print the check's share of the run."""
    from quantstrata.backtest import Backtest, BacktestConfig
    from quantstrata.cli._strategy_source import load_strategy_class
    from quantstrata.data.synthetic import generate_bars
    from quantstrata.execution import CommissionConfig
    from quantstrata.strategy import check_no_lookahead
    from quantstrata.strategy.examples import SmaCrossover

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--strategy", choices=("polars", "compiled"), default="polars")
    arguments = parser.parse_args()
    bars = generate_bars(bars=arguments.bars, interval="1m", seed=20_240_601)
    if arguments.strategy == "polars":
        strategy = load_strategy_class(str(_SMA_CROSS_FILE))(fast=10, slow=30)
    else:
        strategy = SmaCrossover(fast=10, slow=30, allow_short=False)
    commission = CommissionConfig(rate=0.001)
    configs = {on: BacktestConfig(commission=commission, check_lookahead=on) for on in (1, 0)}
    full = strategy.compute_targets(bars)
    calls: dict[str, Callable[[], object]] = {
        "off": lambda: Backtest(bars, strategy, configs[0]).run(),
        "on": lambda: Backtest(bars, strategy, configs[1]).run(),
        "check": lambda: check_no_lookahead(strategy, bars, targets=full),
    }
    wall, cpu = time_interleaved(calls, arguments.rounds)
    rows = arguments.bars
    for label, times in (("wall", wall), ("CPU", cpu)):
        off, on, check = (min(times[name]) for name in ("off", "on", "check"))
        print(
            f"{arguments.strategy}, {rows:,} bars, best of {arguments.rounds}, {label}: check off "
            f"{off * 1e3:.1f} ms ({rows / off / 1e6:.2f}M bars/s), on {on * 1e3:.1f} ms "
            f"({rows / on / 1e6:.2f}M bars/s); the check alone {check * 1e3:.1f} ms, "
            f"{check / (off + check):.1%} of a checked run"
        )


def time_interleaved(
    calls: dict[str, Callable[[], object]], rounds: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Run ``calls`` in turns, ``rounds`` times after a warm-up round; return wall and CPU times."""
    wall: dict[str, list[float]] = {name: [] for name in calls}
    cpu: dict[str, list[float]] = {name: [] for name in calls}
    for round_ in range(rounds + 1):  # the first round warms up
        for name, call in calls.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            call()
            if round_:
                wall[name].append(time.perf_counter() - started)
                cpu[name].append(time.process_time() - started_cpu)
    return wall, cpu


if __name__ == "__main__":
    main()
