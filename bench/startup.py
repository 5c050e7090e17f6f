"""Start-up time: the CLI and ``import quantstrata`` against what they cannot avoid loading.

``python -m bench.startup [--runs 15]`` starts fresh interpreters, alternating the sides so
machine load hits both alike, and compares the median wall time of each pair:

- ``quantstrata --help`` against ``python -c "import typer, rich"`` (goal: at most 3x);
- ``python -c "import quantstrata"`` against ``import numpy, polars, pandas, pydantic``
  (goal: at most 1.3x).

It prints both medians, the ratio and whether the goal is met, and writes
``.bench-results/startup.json``. An unmet goal is reported, not an error (exit 0); a command
that fails exits 1. ``tests/integration/test_bench_startup.py`` runs it with two runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.harness import REPO_ROOT

__all__ = ["COMPARISONS", "Comparison", "main", "measure"]


@dataclass(frozen=True, slots=True)
class Comparison:
    """Our command, the baseline it is measured against, and the highest ratio allowed."""

    name: str
    ours: tuple[str, ...]
    baseline: tuple[str, ...]
    goal: float


_CLI = str(Path(sys.executable).with_name("quantstrata"))
COMPARISONS = (
    Comparison("cli_help", (_CLI, "--help"), (sys.executable, "-c", "import typer, rich"), 3.0),
    Comparison(
        "import_quantstrata",
        (sys.executable, "-c", "import quantstrata"),
        (sys.executable, "-c", "import numpy, polars, pandas, pydantic"),
        1.3,
    ),
)


def _seconds(command: Sequence[str]) -> float:
    """Run ``command`` once in a fresh process; return its wall time (it must exit 0)."""
    environment = {**os.environ, "COLUMNS": "120"}
    environment.setdefault("NUMBA_CACHE_DIR", str(REPO_ROOT / ".cache" / "numba"))
    started = time.perf_counter()
    subprocess.run(command, env=environment, capture_output=True, check=True, timeout=120)
    return time.perf_counter() - started


def measure(comparison: Comparison, runs: int) -> dict[str, float | bool | str]:
    """Return the medians of ``runs`` alternating runs of each side, their ratio and verdict."""
    ours: list[float] = []
    baseline: list[float] = []
    _seconds(comparison.ours)  # warm the file cache (and Numba's) before timing
    _seconds(comparison.baseline)
    for _ in range(runs):
        ours.append(_seconds(comparison.ours))
        baseline.append(_seconds(comparison.baseline))
    ratio = statistics.median(ours) / statistics.median(baseline)
    return {
        "name": comparison.name,
        "ours_median_seconds": statistics.median(ours),
        "baseline_median_seconds": statistics.median(baseline),
        "ratio": ratio,
        "goal": comparison.goal,
        "goal_met": ratio <= comparison.goal,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Measure every comparison, print the table and write the JSON record."""
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__)
    parser.add_argument("--runs", type=int, default=15, help="fresh runs per side (median)")
    parser.add_argument("--output-dir", type=Path, default=REPO_ROOT / ".bench-results")
    arguments = parser.parse_args(argv)
    try:
        results = [measure(comparison, max(arguments.runs, 1)) for comparison in COMPARISONS]
    except subprocess.CalledProcessError as error:
        print(f"FAILED: {' '.join(error.cmd)} exited {error.returncode}", file=sys.stderr)
        print(error.stderr.decode(errors="replace"), file=sys.stderr)
        return 1
    for comparison, result in zip(COMPARISONS, results, strict=True):
        verdict = "met" if result["goal_met"] else "NOT MET"
        print(
            f"{comparison.name:20} {' '.join(comparison.ours[1:]) or comparison.ours[0]!s:24} "
            f"{result['ours_median_seconds']:.3f} s  vs  {comparison.baseline[-1]!s:40} "
            f"{result['baseline_median_seconds']:.3f} s  ratio {result['ratio']:.2f} "
            f"(goal <= {comparison.goal}: {verdict})"
        )
    arguments.output_dir.mkdir(parents=True, exist_ok=True)
    path = arguments.output_dir / "startup.json"
    record = {
        "runs": arguments.runs,
        "comparisons": [
            {**result, "ours": list(comparison.ours), "baseline": list(comparison.baseline)}
            for comparison, result in zip(COMPARISONS, results, strict=True)
        ],
    }
    path.write_text(json.dumps(record, indent=2), encoding="utf-8")
    print(f"results written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
