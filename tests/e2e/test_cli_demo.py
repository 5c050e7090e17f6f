"""Run the installed ``quantstrata`` command as a user would, in a fresh process."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from quantstrata.data.samples import sample_names


def _quantstrata() -> list[str]:
    installed = shutil.which("quantstrata", path=str(Path(sys.executable).parent))
    assert installed, "the quantstrata console script is not installed next to this Python"
    return [installed]


def test_demo_loads_every_sample_and_reports_validation(tmp_path: Path):
    environment = {**os.environ, "COLUMNS": "160"}
    completed = subprocess.run(
        [*_quantstrata(), "demo", "--catalog", str(tmp_path / "catalog")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=environment,
    )
    assert completed.returncode == 0, completed.stderr
    for name in sample_names():
        assert name in completed.stdout
    assert "validation against each market's calendar" in completed.stdout
    assert (tmp_path / "catalog" / "interval=1d").is_dir()
    backtest = completed.stdout.split("backtest: SMA crossover on SPX", 1)[1]
    assert "SmaCrossover(fast=10, slow=30" in backtest
    for label in ("Sharpe ratio", "Max drawdown", "Total return", "final equity"):
        assert label in backtest
    report = (tmp_path / "catalog" / "backtest-report.html").resolve()
    assert f"report written to {report}" in backtest
    assert "Backtest report" in report.read_text(encoding="utf-8")


def test_demo_without_a_catalog_keeps_only_the_report(tmp_path: Path):
    environment = {**os.environ, "COLUMNS": "160", "TMPDIR": str(tmp_path)}
    completed = subprocess.run(
        [*_quantstrata(), "demo"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=environment,
        cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stderr
    found = re.search(r"report written to (\S+\.html)", completed.stdout)
    assert found, completed.stdout
    report = Path(found.group(1))
    assert report.is_relative_to(tmp_path.resolve())
    assert "Backtest report" in report.read_text(encoding="utf-8")
    # Hidden entries are tool caches (a relative NUMBA_CACHE_DIR lands in the working folder).
    kept = sorted(path.name for path in tmp_path.iterdir() if not path.name.startswith("."))
    assert kept == [report.parent.name]


def test_help_lists_the_jobs():
    completed = subprocess.run(
        [*_quantstrata(), "--help"], capture_output=True, text=True, timeout=60, check=True
    )
    for word in ("data", "demo", "backtest"):
        assert word in completed.stdout
