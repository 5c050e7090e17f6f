"""The benchmark still runs: ``python -m bench data|backtest|pipeline --size tiny``.

A smoke test that the bench does not rot as the code under it changes; it asserts nothing about
speed.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench import backtest_suite, data_suite, pipeline_suite
from tests.kit.bench_runs import run_bench, suite_record


def _bench(arguments: list[str], tmp_path: Path, python_path: str | None = None) -> str:
    return run_bench(["bench", *arguments, "--output-dir", str(tmp_path)], tmp_path, python_path)


def test_data_suite_runs_at_tiny_size(tmp_path: Path) -> None:
    stdout = _bench(["data", "--size", "tiny"], tmp_path)

    for task in data_suite.SUITE.tasks:
        assert task.name in stdout
    assert "FAILED" not in stdout
    suite_record(data_suite.SUITE, tmp_path)


def test_backtest_suite_runs_at_tiny_size(tmp_path: Path) -> None:
    stdout = _bench(["backtest", "--size", "tiny"], tmp_path)

    for task in backtest_suite.SUITE.tasks:
        assert task.name in stdout
    assert "FAILED" not in stdout
    suite_record(backtest_suite.SUITE, tmp_path)


def test_backtest_suite_reports_a_missing_vectorbt_without_failing(tmp_path: Path) -> None:
    shadow = tmp_path / "shadow"
    (shadow / "vectorbt").mkdir(parents=True)
    (shadow / "vectorbt" / "__init__.py").write_text(
        "raise ImportError('hidden by the smoke test')\n", encoding="utf-8"
    )

    stdout = _bench(
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
    stdout = _bench(["pipeline", "--size", "tiny"], tmp_path)

    assert "FAILED" not in stdout
    suite_record(pipeline_suite.SUITE, tmp_path)


def test_regression_suite_runs_the_code_before_issue_15(tmp_path: Path) -> None:
    """One task of the regression suite: the old commit loads next to today's code, same run."""
    stdout = _bench(
        ["regression", "--size", "tiny", "--repeat", "1", "--task", "event_fill"], tmp_path
    )

    assert "FAILED" not in stdout
    assert "regression goals" in stdout
    record = json.loads((tmp_path / "regression.json").read_text())
    (entry,) = record["tasks"]
    assert entry["task"] == "event_fill"
    assert entry["same_result"] is True
    assert entry["peer"]["median_seconds"] > 0.0
