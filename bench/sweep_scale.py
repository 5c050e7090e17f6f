"""The sweep at scale: 1,000 SMA-crossover combinations on 1M bars, parallel against serial.

``python -m bench.sweep_scale [--bars 1000000] [--combinations 1000] [--workers 2]`` runs the
same grid three times on one seeded synthetic 1-minute series:

1. serially in this process (the reference);
2. on local worker processes (the bars handed over once);
3. the top candidate alone, through ``OptimizationResult.rerun_best``.

It prints each run's time and backtests per second, checks that the parallel frame equals the
serial frame exactly (every column, every row, same order) and that the top candidate re-run
alone gives the same metrics as its row, and exits 1 if either check fails. The suite runs it
at a reduced size (``tests/integration/test_sweep_scale.py``); ``make bench`` at full size.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from quantstrata.backtest import BacktestConfig
from quantstrata.backtest.optimize import OptimizationResult, OptimizeConfig, optimize
from quantstrata.backtest.optimize._tasks import metric_values
from quantstrata.data.synthetic import generate_bars
from quantstrata.execution import CommissionConfig
from quantstrata.strategy.examples import SmaCrossover

__all__ = ["SweepReport", "grid", "main", "run_sweep"]

SEED = 20_241_124
CONFIG = BacktestConfig(
    cash=100_000.0,
    commission=CommissionConfig(rate=0.001),
    allow_short=False,
    check_lookahead=False,
    size_at="fill",  # the compiled signal loop, as the research suite's peer comparison runs
)


@dataclass(frozen=True, slots=True)
class SweepReport:
    """What one scaled sweep measured and checked."""

    bars: int
    combinations: int
    serial_seconds: float
    parallel_seconds: float
    workers: int
    same_frame: bool
    rerun_matches: bool
    best: dict[str, int]

    def lines(self) -> list[str]:
        """Describe the run for the terminal."""
        serial_rate = self.combinations / self.serial_seconds
        parallel_rate = self.combinations / self.parallel_seconds
        speedup = self.serial_seconds / self.parallel_seconds
        return [
            f"sweep: {self.combinations:,} SMA combinations on {self.bars:,} bars",
            f"  serial            {self.serial_seconds:8.1f} s   {serial_rate:8.2f} backtests/s",
            (
                f"  local, {self.workers} workers  {self.parallel_seconds:8.1f} s   "
                f"{parallel_rate:8.2f} backtests/s   ({speedup:.2f}×)"
            ),
            f"  parallel frame equals the serial frame exactly: {self.same_frame}",
            f"  best {self.best} re-run alone gives the same metrics: {self.rerun_matches}",
        ]


def grid(combinations: int) -> dict[str, list[int]]:
    """Return a fast × slow grid with exactly ``combinations`` pairs, every fast < every slow."""
    fast_count = max(1, math.isqrt(combinations))
    while combinations % fast_count:
        fast_count -= 1
    slow_count = combinations // fast_count
    fast = list(range(2, 2 + fast_count))
    slow = list(range(fast[-1] + 1, fast[-1] + 1 + 2 * slow_count, 2))
    return {"fast": fast, "slow": slow}


def run_sweep(bars: int, combinations: int, workers: int) -> SweepReport:
    """Run the serial, parallel and re-run steps and compare them."""
    frame = generate_bars(bars=bars, seed=SEED)
    space = grid(combinations)
    serial, serial_seconds = _timed(frame, space, OptimizeConfig(backend="serial"))
    local_config = OptimizeConfig(backend="local", workers=workers)
    parallel, parallel_seconds = _timed(frame, space, local_config)
    return SweepReport(
        bars=bars,
        combinations=parallel.frame.height,
        serial_seconds=serial_seconds,
        parallel_seconds=parallel_seconds,
        workers=workers,
        same_frame=parallel.frame.equals(serial.frame),
        rerun_matches=_rerun_matches(parallel, frame),
        best={name: int(value) for name, value in parallel.best.items()},
    )


def _timed(
    frame: pl.DataFrame, space: dict[str, list[int]], config: OptimizeConfig
) -> tuple[OptimizationResult, float]:
    began = time.perf_counter()
    result = optimize(frame, SmaCrossover, space, config, backtest=CONFIG)
    return result, time.perf_counter() - began


def _rerun_matches(result: OptimizationResult, frame: pl.DataFrame) -> bool:
    alone = result.rerun_best(frame)
    row = result.frame.row(0, named=True)
    values = metric_values(alone.metrics, alone.final_equity)
    return all(_same(values[name], row[name]) for name in values)


def _same(first: object, second: object) -> bool:
    if isinstance(first, float) and isinstance(second, float):
        return first == second or (math.isnan(first) and math.isnan(second))
    return first == second


def main(argv: Sequence[str] | None = None) -> int:
    """Run the scaled sweep from the command line; exit 1 when a check fails."""
    parser = argparse.ArgumentParser(prog="python -m bench.sweep_scale", description=__doc__)
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--combinations", type=int, default=1_000)
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args(argv)
    report = run_sweep(options.bars, options.combinations, options.workers)
    print("\n".join(report.lines()))
    return 0 if report.same_frame and report.rerun_matches else 1


if __name__ == "__main__":
    sys.exit(main())
