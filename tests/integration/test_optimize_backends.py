"""Local worker processes and Dask give the serial results bit for bit; Ctrl-C keeps results.

The Dask tests start real ``LocalCluster`` s with two worker processes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import polars as pl
import pytest
from dask.distributed import LocalCluster

from quantstrata.backtest import BacktestConfig
from quantstrata.backtest.optimize import OptimizeConfig, WalkForwardConfig, optimize
from quantstrata.backtest.optimize.walkforward import walk_forward
from quantstrata.data.synthetic import generate_bars
from quantstrata.strategy.examples import SmaCrossover

CONFIG = BacktestConfig(check_lookahead=False)
GRID = {"fast": [3, 5, 8, 13], "slow": [10, 21, 34]}
WALK = WalkForwardConfig(in_sample=400, out_of_sample=200)
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bars() -> pl.DataFrame:
    return generate_bars(bars=1_200, seed=21)


@pytest.fixture(scope="module")
def serial(bars: pl.DataFrame) -> pl.DataFrame:
    return optimize(
        bars, SmaCrossover, GRID, OptimizeConfig(backend="serial"), backtest=CONFIG
    ).frame


def test_local_processes_equal_the_serial_run(bars: pl.DataFrame, serial: pl.DataFrame) -> None:
    config = OptimizeConfig(backend="local", workers=2, chunk_size=2)

    local = optimize(bars, SmaCrossover, GRID, config, backtest=CONFIG)

    assert local.frame.equals(serial)
    assert not local.interrupted


def test_default_dask_local_cluster_equals_the_serial_run(
    bars: pl.DataFrame, serial: pl.DataFrame
) -> None:
    config = OptimizeConfig(backend="dask", workers=2, chunk_size=3)

    distributed = optimize(bars, SmaCrossover, GRID, config, backtest=CONFIG)

    assert distributed.frame.equals(serial)


def test_walk_forward_on_a_scheduler_address_equals_the_serial_run(bars: pl.DataFrame) -> None:
    reference = walk_forward(
        bars, SmaCrossover, GRID, WALK, OptimizeConfig(backend="serial"), backtest=CONFIG
    )
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        config = OptimizeConfig(backend="dask", scheduler=cluster.scheduler_address)
        distributed = walk_forward(bars, SmaCrossover, GRID, WALK, config, backtest=CONFIG)

    assert distributed.windows.equals(reference.windows)
    assert distributed.equity.equals(reference.equity)


def test_walk_forward_on_local_processes_equals_the_serial_run(bars: pl.DataFrame) -> None:
    reference = walk_forward(
        bars, SmaCrossover, GRID, WALK, OptimizeConfig(backend="serial"), backtest=CONFIG
    )

    local = walk_forward(
        bars, SmaCrossover, GRID, WALK, OptimizeConfig(backend="local", workers=2), backtest=CONFIG
    )

    assert local.windows.equals(reference.windows)
    assert local.equity.equals(reference.equity)


_INTERRUPTED_SCRIPT = """
import os
from pathlib import Path
from quantstrata.backtest import BacktestConfig
from quantstrata.backtest.optimize import OptimizeConfig, optimize
from quantstrata.data.synthetic import generate_bars
from quantstrata.strategy.examples import SmaCrossover

def sharpe_marking_progress(result):
    # runs in a worker: tells the test that backtests are finishing
    Path(os.environ["SWEEP_MARKER"]).touch()
    return result.metrics.sharpe

def main():
    bars = generate_bars(bars=3_000, seed=1)
    grid = {"fast": list(range(2, 60)), "slow": list(range(61, 121))}
    config = OptimizeConfig(backend="local", workers=2, chunk_size=1)
    print("started", flush=True)
    result = optimize(bars, SmaCrossover, grid, config,
                      backtest=BacktestConfig(check_lookahead=False),
                      objective=sharpe_marking_progress)
    print("interrupted", result.interrupted, result.frame.height, result.planned, flush=True)

if __name__ == "__main__":
    main()
"""


@pytest.mark.slow
def test_ctrl_c_stops_the_workers_and_returns_the_results_so_far(tmp_path: Path) -> None:
    script = tmp_path / "sweep.py"
    script.write_text(textwrap.dedent(_INTERRUPTED_SCRIPT), encoding="utf-8")
    marker = tmp_path / "a-backtest-finished"
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "src"), str(REPO_ROOT)]),
        "SWEEP_MARKER": str(marker),
    }
    process = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "started"
    deadline = time.monotonic() + 300
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3)  # let the finished backtests' rows reach the parent
    process.send_signal(signal.SIGINT)
    output, errors = process.communicate(timeout=120)

    assert process.returncode == 0, errors
    word, interrupted, height, planned = output.split()
    assert (word, interrupted) == ("interrupted", "True")
    assert 0 < int(height) < int(planned) == 58 * 60


def test_the_overfitting_pass_on_local_processes_equals_the_serial_one(bars: pl.DataFrame) -> None:
    result = optimize(bars, SmaCrossover, GRID, OptimizeConfig(backend="serial"), backtest=CONFIG)

    serial_pbo = result.overfitting(bars, partitions=4)
    local_pbo = result.overfitting(
        bars, partitions=4, config=OptimizeConfig(backend="local", workers=2)
    )

    assert local_pbo.pbo == serial_pbo.pbo
    assert local_pbo.logits.tolist() == serial_pbo.logits.tolist()
