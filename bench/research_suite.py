"""The research suite: parameter-sweep throughput (backtests per second) against the peers.

The workload: the SMA crossover (long-only, all-in, 0.1 % commission, next-open fills) over the
grid fast = 5:50:5 × slow = 20:200:10 with fast < slow (174 combinations) on seeded synthetic
1-minute bars (20k full, 5k small, 500 tiny with a 2 × 2 grid), ranked by Sharpe ratio. Every
timed call is end to end: workers started, bars handed over, all combinations run, results
ranked. The rate column is backtests per second. The local pool and the Dask cluster are
started before the timed calls (the pool by the warm-up call, the cluster in setup, as a user
keeps one running), so the time is the sweep itself: handing over the bars, every backtest,
collecting and ranking; the ``first`` column includes the local pool's start.

Tasks (quantstrata side first, then its peer):

- ``local_backtesting``: ``optimize(..., backend="local", workers=2)`` vs backtesting.py
  0.6's ``Backtest.optimize`` (grid, same constraint).
- ``dask_vectorbt``: ``optimize(..., backend="dask", scheduler=...)`` on a 2-worker
  ``LocalCluster`` vs vectorbt running all pairs in one broadcast ``from_signals``.
- ``scaling``: local with 2 workers vs local with 1 worker; the ratio is the 1 → 2 worker
  scaling (goal ≥ 1.7× on an idle 2-core machine).

Same-result digests compare only the number of combinations run: the peers' Sharpe ratios use
their own annualisation and sizing, so the values differ by construction.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl

from bench.harness import Side, Size, Suite, Task

__all__ = ["SUITE"]

SEED = 20_240_601
CASH = 100_000.0
RATE = 0.001
BARS = {Size.FULL: 20_000, Size.SMALL: 5_000, Size.TINY: 500}
FULL_FAST, FULL_SLOW = list(range(5, 55, 5)), list(range(20, 210, 10))
TINY_FAST, TINY_SLOW = [5, 10], [20, 30]


def _grid(size: Size) -> tuple[list[int], list[int]]:
    return (TINY_FAST, TINY_SLOW) if size is Size.TINY else (FULL_FAST, FULL_SLOW)


def _pairs(size: Size) -> list[tuple[int, int]]:
    fast, slow = _grid(size)
    return [(first, second) for first in fast for second in slow if first < second]


def _combinations(size: Size) -> int:
    return len(_pairs(size))


def _bars(size: Size) -> pl.DataFrame:
    from quantstrata.data.synthetic import generate_bars

    return generate_bars(bars=BARS[size], interval="1m", seed=SEED)


def _ohlcv(bars: pl.DataFrame) -> pd.DataFrame:
    frame = bars.select("ts", "open", "high", "low", "close", "volume").to_pandas().set_index("ts")
    frame.index = pd.DatetimeIndex(frame.index).tz_convert("UTC").tz_localize(None)
    return frame.rename(columns=str.capitalize)


def _quantstrata_side(label: str, backend: str, workers: int) -> Side:
    def setup(size: Size, _workdir: Path) -> tuple[pl.DataFrame, dict[str, list[int]], Any, Any]:
        from quantstrata.backtest import BacktestConfig
        from quantstrata.execution import CommissionConfig

        config = BacktestConfig(
            cash=CASH,
            commission=CommissionConfig(rate=RATE),
            allow_short=False,
            check_lookahead=False,
            size_at="fill",  # the peers size at the fill (docs/peer-conventions.md)
        )
        fast, slow = _grid(size)
        cluster = None
        if backend == "dask":
            from dask.distributed import LocalCluster

            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
        return _bars(size), {"fast": fast, "slow": slow}, config, cluster

    def run(context: tuple[pl.DataFrame, dict[str, list[int]], Any, Any]) -> Any:
        from quantstrata.backtest.optimize import OptimizeConfig, optimize
        from quantstrata.strategy.examples import SmaCrossover

        bars, grid, config, cluster = context
        settings = OptimizeConfig(
            backend=backend,
            workers=None if cluster is not None else workers,
            scheduler=None if cluster is None else cluster.scheduler_address,
            objective="sharpe",
        )
        return optimize(bars, SmaCrossover, grid, settings, backtest=config)

    def digest(_context: Any, result: Any) -> str:
        return f"{result.frame.height} combinations"

    return Side(label, setup, run, digest=digest)


def _peer_side(label: str, run: Callable[[Any], int]) -> Side:
    def setup(size: Size, _workdir: Path) -> tuple[pd.DataFrame, Size]:
        import warnings

        warnings.filterwarnings("ignore", "Some trades remain open", UserWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        return _ohlcv(_bars(size)), size

    return Side(label, setup, run, digest=lambda _context, count: f"{count} combinations")


def _backtesting_run(context: tuple[pd.DataFrame, Size]) -> int:
    from bench._research_peers import backtesting_optimize

    frame, size = context
    fast, slow = _grid(size)
    return backtesting_optimize(frame, fast, slow, CASH, RATE)


def _vectorbt_run(context: tuple[pd.DataFrame, Size]) -> int:
    from bench._research_peers import vectorbt_broadcast

    frame, size = context
    return vectorbt_broadcast(frame, _pairs(size), CASH, RATE)


SUITE = Suite(
    name="research",
    description="SMA parameter sweeps (backtests/s): quantstrata local and Dask vs peers",
    peer="peer",
    tasks=(
        Task(
            name="local_backtesting",
            description="174-combination grid on 20k bars: optimize on 2 local processes "
            "vs backtesting.py Backtest.optimize",
            rows=_combinations,
            quantstrata=_quantstrata_side("quantstrata local, 2 workers", "local", 2),
            peer=_peer_side("backtesting.py optimize", _backtesting_run),
            repeat=1,
        ),
        Task(
            name="dask_vectorbt",
            description="the same grid on a 2-worker Dask LocalCluster vs vectorbt broadcasting",
            rows=_combinations,
            quantstrata=_quantstrata_side("quantstrata Dask, 2 workers", "dask", 2),
            peer=_peer_side("vectorbt broadcast", _vectorbt_run),
            repeat=1,
        ),
        Task(
            name="scaling",
            description="the same grid on local processes: 2 workers vs 1 (ratio = scaling; "
            "goal >= 1.7x on an idle 2-core machine)",
            rows=_combinations,
            quantstrata=_quantstrata_side("quantstrata local, 2 workers", "local", 2),
            peer=_quantstrata_side("quantstrata local, 1 worker", "local", 1),
            repeat=1,
        ),
    ),
)
