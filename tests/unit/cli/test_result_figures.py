"""Command-level figures that must look right: annualisation, cash, open positions, formats."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from quantstrata.analytics import periods_per_year
from quantstrata.cli.app import main

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
YEAR_2015 = ["--from", "2015-01-01", "--to", "2016-01-01"]


def _run(arguments: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = main(arguments)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def _row(output: str, label: str) -> str:
    found = re.search(rf"{re.escape(label)}\s*│\s*(.+?)\s*│", output)
    assert found, output
    return found.group(1)


@pytest.mark.parametrize("data", [["SPX"], ["SPX", "IXIC"]], ids=["one", "two"])
def test_periods_per_year_follow_the_calendar_whatever_the_symbol_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: list[str]
) -> None:
    sources = [option for name in data for option in ("--data", name)]

    output = _run(
        ["backtest", str(EXAMPLES / "sma_cross.py"), *sources, *YEAR_2015,
         "--report", str(tmp_path / "r.html")],
        capsys,
    )  # fmt: skip

    assert float(_row(output, "Periods per year")) == round(periods_per_year("1d", "XNYS"), 1)


def test_a_short_daily_range_over_a_holiday_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = _run(
        ["backtest", str(EXAMPLES / "sma_cross.py"), "--data", "SPX", "--from", "2018-12-20",
         "--to", "2018-12-28", "--report", str(tmp_path / "r.html")],
        capsys,
    )  # fmt: skip

    assert float(_row(output, "Periods per year")) == round(periods_per_year("1d", "XNYS"), 1)
