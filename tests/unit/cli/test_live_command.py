"""``quantstrata live`` and ``status``: bad cash, an empty range, re-runs and the journal DSN."""

from __future__ import annotations

from pathlib import Path

import pytest

from quantstrata.cli.app import main

EXAMPLE = str(Path(__file__).resolve().parents[3] / "examples" / "sma_cross.py")
PAPER = ["live", EXAMPLE, "--data", "SPX", "--venue", "paper"]
SPRING = ["--from", "2017-06-01", "--start", "2018-01-01"]


def _run(arguments: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(arguments)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _equity(out: str) -> str:
    return next(line for line in out.splitlines() if "equity" in line).split()[-2]


def test_negative_cash_is_refused_naming_cash(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run([*PAPER, "--cash", "-5000"], capsys)
    assert code == 1
    assert "cash" in err
    assert "greater than 0" in err


def test_start_after_the_last_bar_names_the_date_and_the_option(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = _run([*PAPER, "--start", "2030-01-01"], capsys)
    assert code == 1
    assert "--start 2030-01-01 is after the last bar (2018-12-31) of SPX" in err
    assert "pick an earlier --start" in err


def test_a_rerun_resumes_after_the_last_bar_and_does_not_compound(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    journal = ["--journal", str(tmp_path / "paper.sqlite")]
    once = ["--journal", str(tmp_path / "once.sqlite")]
    code, whole, _ = _run([*PAPER, *SPRING, "--to", "2018-07-01", *once], capsys)
    assert code == 0
    code, first, _ = _run([*PAPER, *SPRING, "--to", "2018-04-01", *journal], capsys)
    assert code == 0
    assert "resumed" not in first
    code, second, _ = _run([*PAPER, *SPRING, "--to", "2018-07-01", *journal], capsys)
    assert code == 0
    assert "resumed after 2018-03-29" in second
    assert _equity(second) == _equity(whole)
    code, third, _ = _run([*PAPER, *SPRING, "--to", "2018-07-01", *journal], capsys)
    assert code == 0
    assert "nothing after 2018-06-29" in third
    assert _equity(third) == _equity(whole)


def test_a_rerun_with_other_cash_is_refused_naming_the_way_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    journal = ["--journal", str(tmp_path / "paper.sqlite")]
    assert _run([*PAPER, *SPRING, "--to", "2018-02-01", *journal], capsys)[0] == 0
    code, _, err = _run([*PAPER, *SPRING, "--to", "2018-03-01", *journal, "--cash", "5000"], capsys)
    assert code == 1
    assert "with cash 100000.0, not 5000.0" in err
    assert "--journal NEW.sqlite" in err


def test_a_dsn_with_a_password_is_refused_on_the_command_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    dsn = "postgresql://postgres:hunter2secret@127.0.0.1:5432/test"
    code, out, err = _run(["status", "--journal", dsn], capsys)
    assert code == 1
    assert "hunter2secret" not in out + err
    assert "$QUANTSTRATA_JOURNAL_DSN" in err


def test_status_reads_the_dsn_from_the_environment_and_never_shows_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # the test server trusts local connections, so the password is accepted and ignored
    dsn = "postgresql://postgres:hunter2secret@127.0.0.1:5432/test"
    monkeypatch.setenv("QUANTSTRATA_JOURNAL_DSN", dsn)
    code, out, err = _run(["status"], capsys)
    assert code == 0, err
    assert "journal records" in out
    assert "hunter2secret" not in out + err


def test_status_reads_the_dsn_from_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "dsn"
    file.write_text("postgresql://postgres:hunter2secret@127.0.0.1:5432/test\n", encoding="utf-8")
    code, out, err = _run(["status", "--journal-dsn-file", str(file)], capsys)
    assert code == 0, err
    assert "hunter2secret" not in out + err


def test_a_max_bar_delay_that_is_not_seconds_is_refused_naming_the_setting(
    capsys: pytest.CaptureFixture[str],
) -> None:
    arguments = ["live", EXAMPLE, "--venue", "sim", "--symbol", "SPX", "--max-bar-delay", "soon"]
    code, _, err = _run(arguments, capsys)
    assert code == 1
    assert "max_bar_delay" in err
