"""Run the installed ``quantstrata`` command as a user would, in a fresh process."""

from __future__ import annotations

import os
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


def test_help_lists_the_jobs():
    completed = subprocess.run(
        [*_quantstrata(), "--help"], capture_output=True, text=True, timeout=60, check=True
    )
    for word in ("data", "demo"):
        assert word in completed.stdout
