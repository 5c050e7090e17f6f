"""Command-level figures that must look right: annualisation, cash, open positions, formats."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from quantstrata.analytics import periods_per_year
from quantstrata.cli.app import main
from quantstrata.core.config import DEFAULT_CASH

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
    # averages short enough for the five sessions (a longer warm-up is refused by name)
    output = _run(
        ["backtest", str(EXAMPLES / "sma_cross.py"), "--data", "SPX", "--from", "2018-12-20",
         "--to", "2018-12-28", "-p", "fast=2", "-p", "slow=3",
         "--report", str(tmp_path / "r.html")],
        capsys,
    )  # fmt: skip

    assert float(_row(output, "Periods per year")) == round(periods_per_year("1d", "XNYS"), 1)


def test_optimize_prints_total_return_as_backtest_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    strategy = str(EXAMPLES / "sma_cross.py")
    backtest = _run(
        ["backtest", strategy, "--data", "SPX", *YEAR_2015, "-p", "fast=10", "-p", "slow=50",
         "--report", str(tmp_path / "r.html")],
        capsys,
    )  # fmt: skip

    swept = _run(
        ["optimize", strategy, "--data", "SPX", *YEAR_2015, "--grid", "fast=10",
         "--grid", "slow=50", "--backend", "serial", "--report", str(tmp_path / "o.html")],
        capsys,
    )  # fmt: skip

    header = next(line for line in swept.splitlines() if "total_return" in line)
    row = next(line for line in swept.splitlines() if re.match(r"[│|]\s*0\s*[│|]", line))
    cells = dict(zip(re.split(r"\s*[│┃|]\s*", header), re.split(r"\s*[│|]\s*", row), strict=True))
    assert cells["total_return"] == _row(backtest, "Total return")


@pytest.mark.parametrize(
    "command",
    [
        ["backtest", str(EXAMPLES / "sma_cross.py"), "--data", "SPX", *YEAR_2015],
        ["pipeline", str(EXAMPLES / "momentum_pipeline.py"), "--synthetic", "12", "--years", "1",
         "-p", "lookback=40", "-p", "skip=5", "-p", "top=4", "-p", "liquid=10"],
        ["optimize", str(EXAMPLES / "sma_cross.py"), "--data", "SPX", *YEAR_2015,
         "--grid", "fast=10", "--grid", "slow=50", "--backend", "serial"],
    ],
    ids=["backtest", "pipeline", "optimize"],
)  # fmt: skip
def test_every_command_starts_with_the_one_cash_default_and_prints_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    output = _run([*command, "--report", str(tmp_path / "r.html")], capsys)

    assert f"starting cash {DEFAULT_CASH:,.2f}" in output


def test_report_names_the_users_class_and_file_and_when_the_run_started(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(EXAMPLES.parent)
    report = tmp_path / "r.html"
    before = datetime.now(UTC).replace(microsecond=0)

    _run(["backtest", "examples/sma_cross.py", "--data", "SPX", *YEAR_2015,
          "--report", str(report)], capsys)  # fmt: skip

    page = report.read_text(encoding="utf-8")
    assert "<title>Backtest report: SmaCross (examples/sma_cross.py)</title>" in page
    started = re.search(r"<th>Run started</th><td>([^<]+) UTC</td>", page)
    assert started, page[:2000]
    moment = datetime.strptime(started.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    assert before <= moment <= datetime.now(UTC)
    assert "<th>Period</th><td>2015-01-02 00:00:00 UTC → 2015-12-31" in page


ALWAYS_LONG = """
import polars as pl

from quantstrata.strategy import SignalStrategy


class AlwaysLong(SignalStrategy):
    def warmup_bars(self) -> int:
        return 0

    def targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        return bars.select("ts", "symbol", target=pl.lit(1.0))
"""


def test_buy_and_hold_shows_its_open_position_and_unrealised_pnl(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    strategy = tmp_path / "always_long.py"
    strategy.write_text(ALWAYS_LONG, encoding="utf-8")
    report = tmp_path / "r.html"

    output = _run(
        ["backtest", str(strategy), "--data", "SPX", *YEAR_2015, "--report", str(report)], capsys
    )

    final = re.search(r"final equity ([\d,]+\.\d\d)", output)
    pnl = re.search(r"open at the end: SPX long [\d,.]+ @ [\d,.]+ \(last [\d,.]+, "
                    r"unrealised PnL (-?[\d,]+\.\d\d)\)", output)  # fmt: skip
    assert final, output
    assert pnl, output
    gain = float(final.group(1).replace(",", "")) - DEFAULT_CASH
    assert float(pnl.group(1).replace(",", "")) == pytest.approx(gain, abs=0.01)
    assert "trades 0 (closed)" in output
    assert f"unrealised PnL {pnl.group(1)}" in report.read_text(encoding="utf-8")
