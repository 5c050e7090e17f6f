"""Run a bench module as ``make bench`` does, at a tiny size, and read what it recorded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.harness import Suite

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_bench(arguments: list[str], tmp_path: Path, python_path: str | None = None) -> str:
    """Run ``python -m <arguments>`` from the repository with temp files in ``tmp_path``.

    Assert it exits 0 (showing its output when not) and return its standard output.
    """
    environment = {**os.environ, "TMPDIR": str(tmp_path), "COLUMNS": "200"}
    if python_path is not None:
        environment["PYTHONPATH"] = python_path
    completed = subprocess.run(
        [sys.executable, "-m", *arguments],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=540,  # under pytest-timeout's 600 s; the backtest suite is 14 processes
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


def suite_record(suite: Suite, tmp_path: Path) -> dict[str, Any]:
    """Return the JSON record ``suite`` wrote into ``tmp_path``, checked task by task.

    Its tasks are the suite's, in order, and no task's two sides gave different results (a task
    comparing two settings that differ by design, such as sizing at the decision or at the fill,
    compares no result: ``None``).
    """
    record: dict[str, Any] = json.loads(
        (tmp_path / f"{suite.name}.json").read_text(encoding="utf-8")
    )
    assert [entry["task"] for entry in record["tasks"]] == [task.name for task in suite.tasks]
    assert all(entry["same_result"] is not False for entry in record["tasks"])
    assert any(entry["same_result"] for entry in record["tasks"])
    return record
