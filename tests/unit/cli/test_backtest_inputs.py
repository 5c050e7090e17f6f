"""``quantstrata backtest`` on doubtful input: hints that work, short ranges, no stray files."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from quantstrata.cli.app import main
from quantstrata.data.samples import load_sample
from quantstrata.strategy.examples import SmaCrossover

ALWAYS_LONG = """
import polars as pl

from quantstrata.strategy import SignalStrategy


class AlwaysLong(SignalStrategy):
    def warmup_bars(self) -> int:
        return 0

    def targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        return bars.select("ts", "symbol", target=pl.lit(1.0))
"""

NO_WARMUP = """
import polars as pl

from quantstrata.strategy import SignalStrategy


class Forgetful(SignalStrategy):
    def targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        return bars.select("ts", "symbol", target=pl.lit(1.0))
"""

BROKEN_SYNTAX = """
import polars as pl

def targets(bars:
    return bars
"""

FAILING_AT_IMPORT = """
import polars as pl

LOOKBACK = undefined_name + 1
"""


def _run(arguments: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(arguments)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _naive_hourly_csv(tmp_path: Path) -> Path:
    lines = ["time,open,high,low,close,volume"]
    lines += [f"2024-01-02 {hour:02d}:00:00,1,2,0.5,1.5,100" for hour in range(10)]
    return _file(tmp_path, "ACME_1h.csv", "\n".join(lines) + "\n")


def test_a_naive_csv_hints_at_timezone_and_backtest_takes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    strategy = _file(tmp_path, "always_long.py", ALWAYS_LONG)
    arguments = ["backtest", str(strategy), "--data", str(_naive_hourly_csv(tmp_path))]

    code, _, err = _run(arguments, capsys)
    assert code == 1
    assert "--timezone" in err

    code, out, err = _run([*arguments, "--timezone", "America/New_York"], capsys)
    assert code == 0, err
    assert "10 bars" in out


def test_timezone_places_the_bars_in_that_zone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    strategy = _file(tmp_path, "always_long.py", ALWAYS_LONG)
    csv = _naive_hourly_csv(tmp_path)
    arguments = ["backtest", str(strategy), "--data", str(csv), "--timezone", "Asia/Tokyo"]

    code, out, err = _run([*arguments, "--from", "2024-01-01T20:00:00"], capsys)

    # 00:00 to 09:00 in Tokyo are 15:00 to 24:00 UTC of the day before: 05:00 on are kept.
    assert code == 0, err
    assert "5 bars" in out


def test_a_class_without_warmup_bars_is_named_with_what_it_lacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    strategy = _file(tmp_path, "forgetful.py", NO_WARMUP)

    code, _, err = _run(["backtest", str(strategy)], capsys)

    assert code == 1
    assert "defines no strategy class" not in err
    assert "Forgetful" in err
    assert "warmup_bars()" in err
    assert "SignalStrategy" in err
    assert "fix the setting named above" not in err


def test_a_syntax_error_names_the_file_and_line_and_hints_at_syntax(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    strategy = _file(tmp_path, "broken.py", BROKEN_SYNTAX)

    code, _, err = _run(["backtest", str(strategy)], capsys)

    assert code == 1
    error, hint = err.splitlines()
    assert f"{strategy}:4" in error
    assert "syntax" in hint
    assert "fix the setting named above" not in hint


def test_an_exception_while_importing_the_file_names_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    strategy = _file(tmp_path, "failing.py", FAILING_AT_IMPORT)

    code, _, err = _run(["backtest", str(strategy)], capsys)

    assert code == 1
    assert f"{strategy}:4" in err
    assert "NameError" in err
    assert "unexpected" not in err


def _spx_bars_between(start: str, end: str) -> int:
    bars = load_sample("SPX_1d")
    lower = datetime.fromisoformat(start).replace(tzinfo=UTC)
    upper = datetime.fromisoformat(end).replace(tzinfo=UTC)
    return bars.filter((pl.col("ts") >= lower) & (pl.col("ts") < upper)).height


def test_a_range_shorter_than_the_warm_up_is_refused_naming_both(
    capsys: pytest.CaptureFixture[str],
) -> None:
    bars = _spx_bars_between("2015-12-01", "2016-01-01")
    arguments = ["backtest", "quantstrata.strategy.examples:SmaCrossover", "-p", "slow=50"]

    code, out, err = _run([*arguments, "--from", "2015-12-01", "--to", "2016-01-01"], capsys)

    assert code == 1
    assert out == ""
    assert f"warm-up of {SmaCrossover(slow=50).warmup_bars()} bars" in err
    assert f"{bars} bars" in err
    assert "--from" in err


def test_a_range_barely_longer_than_the_warm_up_warns_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bars = _spx_bars_between("2015-09-01", "2016-01-01")
    arguments = ["backtest", "quantstrata.strategy.examples:SmaCrossover", "-p", "slow=50"]

    code, out, err = _run([*arguments, "--from", "2015-09-01", "--to", "2016-01-01"], capsys)

    assert code == 0, err
    assert "warning:" in err
    assert f"warm-up of {SmaCrossover(slow=50).warmup_bars()} bars" in err
    assert f"{bars} bars" in err
    assert "--from" in err
    assert "warning" not in out


def test_without_report_no_file_is_written_and_the_option_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    strategy = _file(tmp_path, "always_long.py", ALWAYS_LONG)

    code, out, err = _run(["backtest", str(strategy), "--from", "2015-01-01"], capsys)

    assert code == 0, err
    assert list(tmp_path.glob("*.html")) == []
    assert "--report PATH" in out


def test_with_report_the_file_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    strategy = _file(tmp_path, "always_long.py", ALWAYS_LONG)
    report = tmp_path / "out.html"

    code, out, err = _run(
        ["backtest", str(strategy), "--from", "2015-01-01", "--report", str(report)], capsys
    )

    assert code == 0, err
    assert "Backtest report" in report.read_text(encoding="utf-8")
    assert "--report PATH" not in out
