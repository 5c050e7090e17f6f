"""The benchmark still runs: ``python -m bench data|backtest --size tiny`` reports every task.

A smoke test that the bench does not rot as the code under it changes; it asserts nothing about
speed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench import backtest_suite, pipeline_suite
from bench.data_suite import SUITE

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_data_suite_runs_at_tiny_size(tmp_path: Path) -> None:
    environment = {**os.environ, "TMPDIR": str(tmp_path), "COLUMNS": "200"}

    completed = subprocess.run(
        [sys.executable, "-m", "bench", "data", "--size", "tiny", "--output-dir", str(tmp_path)],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr
    for task in SUITE.tasks:
        assert task.name in completed.stdout
    assert "FAILED" not in completed.stdout
    record = json.loads((tmp_path / "data.json").read_text(encoding="utf-8"))
    assert [entry["task"] for entry in record["tasks"]] == [task.name for task in SUITE.tasks]
    assert all(entry["same_result"] for entry in record["tasks"])


def _run_bench(arguments: list[str], tmp_path: Path, python_path: str | None = None) -> str:
    environment = {**os.environ, "TMPDIR": str(tmp_path), "COLUMNS": "200"}
    if python_path is not None:
        environment["PYTHONPATH"] = python_path
    completed = subprocess.run(
        [sys.executable, "-m", "bench", *arguments, "--output-dir", str(tmp_path)],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


def test_backtest_suite_runs_at_tiny_size(tmp_path: Path) -> None:
    stdout = _run_bench(["backtest", "--size", "tiny"], tmp_path)

    for task in backtest_suite.SUITE.tasks:
        assert task.name in stdout
    assert "FAILED" not in stdout
    record = json.loads((tmp_path / "backtest.json").read_text(encoding="utf-8"))
    names = [task.name for task in backtest_suite.SUITE.tasks]
    assert [entry["task"] for entry in record["tasks"]] == names
    assert all(entry["same_result"] for entry in record["tasks"])


def test_backtest_suite_reports_a_missing_vectorbt_without_failing(tmp_path: Path) -> None:
    shadow = tmp_path / "shadow"
    (shadow / "vectorbt").mkdir(parents=True)
    (shadow / "vectorbt" / "__init__.py").write_text(
        "raise ImportError('hidden by the smoke test')\n", encoding="utf-8"
    )

    stdout = _run_bench(
        ["backtest", "--size", "tiny", "--task", "signal_vectorbt"], tmp_path, str(shadow)
    )

    assert "unavailable: vectorbt does not import" in stdout
    record = json.loads((tmp_path / "backtest.json").read_text(encoding="utf-8"))
    (entry,) = record["tasks"]
    assert entry["quantstrata"] is not None
    assert entry["peer"] is None
    assert list(entry["errors"]) == ["vectorbt"]
    assert entry["errors"]["vectorbt"].startswith("PeerUnavailableError: unavailable:")


def test_pipeline_suite_runs_at_tiny_size_and_agrees_with_vectorbt(tmp_path: Path) -> None:
    stdout = _run_bench(["pipeline", "--size", "tiny"], tmp_path)

    assert "FAILED" not in stdout
    record = json.loads((tmp_path / "pipeline.json").read_text(encoding="utf-8"))
    names = [task.name for task in pipeline_suite.SUITE.tasks]
    assert [entry["task"] for entry in record["tasks"]] == names
    assert all(entry["same_result"] for entry in record["tasks"])
