"""Run ``quantstrata pipeline`` as a user would: the installed command, a fresh process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_pipeline_command_on_a_synthetic_universe_prints_metrics_weights_and_a_report(
    tmp_path: Path,
):
    installed = shutil.which("quantstrata", path=str(Path(sys.executable).parent))
    assert installed, "the quantstrata console script is not installed next to this Python"
    report = tmp_path / "momentum.html"
    completed = subprocess.run(
        [installed, "pipeline", str(EXAMPLES / "momentum_pipeline.py"), "--synthetic", "60",
         "--years", "2", "--param", "top=10", "--param", "liquid=40", "--commission", "0.001",
         "--report", str(report)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "COLUMNS": "160"},
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    for label in ("Sharpe ratio", "Max drawdown", "final equity", "10 held"):
        assert label in completed.stdout
    assert f"report written to {report.resolve()}" in completed.stdout
    assert "Backtest report" in report.read_text(encoding="utf-8")
