"""Command line: ``python -m bench [suite ...] [--size full|small|tiny] [--repeat N]``.

Every suite is listed once in :data:`SUITES`; to add one, write ``bench/<name>_suite.py``
exposing ``SUITE`` and add it here. With no suite named, all of them run. Results are printed
as one table per suite and written to ``.bench-results/<suite>.json``. The exit code is 1 when
any task failed to run (an unmet goal is reported, not an error; in the backtest suite an
optional peer that is not installed, vectorbt, is reported as unavailable, not an error).

``--worker SUITE TASK SIDE`` is internal: the harness starts one such subprocess per
measurement.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path

from rich.console import Console

from bench import (
    backtest_suite,
    data_suite,
    futures_suite,
    indicators_suite,
    live_suite,
    pipeline_suite,
    regression_suite,
    research_suite,
    stream_suite,
)
from bench.harness import (
    ERROR_MARKER,
    REPO_ROOT,
    Size,
    Suite,
    render,
    run_suite,
    run_worker,
    warn_if_busy,
    write_json,
)

SUITES: tuple[Suite, ...] = (
    data_suite.SUITE,
    *indicators_suite.SUITES,
    backtest_suite.SUITE,
    futures_suite.SUITE,
    regression_suite.SUITE,
    live_suite.SUITE,
    stream_suite.SUITE,
    research_suite.SUITE,
    pipeline_suite.SUITE,
)
"""Every registered suite, in the order they run."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark quantstrata side by side with peer libraries.",
    )
    parser.add_argument(
        "suites",
        nargs="*",
        metavar="suite",
        help=f"suites to run (default: all): {', '.join(suite.name for suite in SUITES)}",
    )
    parser.add_argument(
        "--size",
        choices=[size.value for size in Size],
        default=Size.FULL.value,
        help="input size: full (the issue goals), small (about 1/20), tiny (smoke test)",
    )
    parser.add_argument("--repeat", type=int, default=None, help="timed runs per measurement")
    parser.add_argument("--task", action="append", default=[], help="run only this task")
    parser.add_argument("--list", action="store_true", help="list suites and tasks, run nothing")
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=REPO_ROOT / ".bench-results",
        help="where the JSON results go (default: .bench-results/)",
    )
    parser.add_argument(
        "--worker", nargs=3, metavar=("SUITE", "TASK", "SIDE"), help=argparse.SUPPRESS
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the suites named in ``argv`` and return the process exit code."""
    arguments = _parser().parse_args(argv)
    by_name = {suite.name: suite for suite in SUITES}
    size = Size(arguments.size)
    if arguments.worker is not None:
        suite_name, task_name, side = arguments.worker
        try:
            run_worker(by_name[suite_name].task(task_name), side, size, arguments.repeat)
        except Exception as error:
            traceback.print_exc()
            print(ERROR_MARKER + json.dumps(f"{type(error).__name__}: {error}"), flush=True)
            return 1
        return 0
    if arguments.list:
        for suite in SUITES:
            print(f"{suite.name}: {suite.description} (peer: {suite.peer})")
            for task in suite.tasks:
                goal = "" if task.goal is None else f" [goal {task.goal.text}]"
                print(f"  {task.name}{goal}: {task.description}")
        return 0
    unknown = [name for name in arguments.suites if name not in by_name]
    if unknown:
        print(
            f"unknown suite(s): {', '.join(unknown)}; known: {', '.join(by_name)}", file=sys.stderr
        )
        return 2
    console = Console(width=None if sys.stdout.isatty() else 200)
    failed = False
    for name in arguments.suites or list(by_name):
        suite = by_name[name]
        load_before = warn_if_busy(console)
        results = run_suite(suite, size, arguments.repeat, console, arguments.task)
        render(suite, size, results, console)
        if suite is backtest_suite.SUITE:
            # Its ratio goals need both sides, and an optional peer may be unavailable.
            console.print(backtest_suite.goal_table(size, results))
            failed = failed or any(backtest_suite.fatal(result) for result in results)
        else:
            failed = failed or any(result.errors for result in results)
        if suite is regression_suite.SUITE:
            console.print(regression_suite.goal_table(size, results))
        if suite is stream_suite.SUITE:
            console.print(stream_suite.goal_line(results))
        path = write_json(suite, size, results, arguments.output_dir, load_before)
        console.print(f"results written to {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
