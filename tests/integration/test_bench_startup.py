"""The start-up bench still runs: ``python -m bench.startup --runs 1`` (it asserts no speed)."""

from __future__ import annotations

import json
from pathlib import Path

from bench.startup import COMPARISONS
from tests.kit.bench_runs import run_bench


def test_startup_bench_reports_each_ratio_against_its_goal(tmp_path: Path) -> None:
    stdout = run_bench(["bench.startup", "--runs", "1", "--output-dir", str(tmp_path)], tmp_path)

    record = json.loads((tmp_path / "startup.json").read_text(encoding="utf-8"))
    assert [entry["name"] for entry in record["comparisons"]] == [c.name for c in COMPARISONS]
    for comparison, entry in zip(COMPARISONS, record["comparisons"], strict=True):
        assert comparison.name in stdout
        assert entry["ratio"] > 0
        assert entry["goal"] == comparison.goal
        assert entry["goal_met"] == (entry["ratio"] <= comparison.goal)
