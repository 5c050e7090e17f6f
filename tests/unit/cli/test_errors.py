"""Failures on the command line: one error line, one hint, a non-zero exit, no secret."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from quantstrata.cli._errors import hint_for
from quantstrata.cli.app import main
from quantstrata.core.errors import CatalogConflictError, DataError, UnknownSymbolError
from quantstrata.data.sources import AuthenticationError

_STRATEGY = "quantstrata.strategy.examples:SmaCrossover"


def _run(arguments: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = main(arguments)
    return code, capsys.readouterr().err.splitlines()


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["data", "import", "nope.csv", "-i", "1d"], ("nope.csv", "data validate")),
        (["data", "show", "SPX", "-i", "1d"], ("SPX", "data list")),
        (["optimize", _STRATEGY, "--grid", "fast=a:b:c"], ("'a:b:c'", "--help")),
        (["optimize", _STRATEGY, "-g", "fast=5", "--walk-forward", "x"], ("IN:OUT", "--help")),
    ],
)
def test_a_failed_job_prints_one_error_line_and_one_hint(
    arguments: list[str],
    expected: tuple[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QUANTSTRATA_CATALOG", str(tmp_path / "catalog"))

    fragment, hint = expected
    code, lines = _run(arguments, capsys)

    assert code == 1
    assert len(lines) == 2, lines
    assert lines[0].startswith("error: ")
    assert fragment in lines[0]
    assert lines[1].startswith("hint: ")
    assert hint in lines[1]
    assert "--debug" in lines[1]
    assert "Traceback" not in "\n".join(lines)


@pytest.mark.parametrize(
    ("arguments", "fragment", "command"),
    [
        (["data", "import", "x.csv", "-i", "1d", "--bogus"], "--bogus", "quantstrata data import"),
        (["backtest"], "Missing argument", "quantstrata backtest"),
        (
            ["optimize", _STRATEGY, "--method", "nope", "-g", "fast=5"],
            "nope",
            "quantstrata optimize",
        ),
    ],
)
def test_a_bad_command_line_prints_one_line_and_points_at_help(
    arguments: list[str], fragment: str, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = _run(arguments, capsys)

    assert code == 2
    assert len(lines) == 2, lines
    assert lines[0].startswith("error: ")
    assert fragment in lines[0]
    assert lines[1] == f"hint: run `{command} --help` to see its arguments and options"


def test_an_unwritable_report_path_is_a_file_error_with_a_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")

    code, lines = _run(["backtest", _STRATEGY, "--report", str(blocker / "report.html")], capsys)

    assert code == 1
    assert lines[-2].startswith("error: ")
    assert str(blocker) in lines[-2]
    assert lines[-1].startswith("hint: ")
    assert "Traceback" not in "\n".join(lines)


def test_debug_shows_the_traceback_instead(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    with pytest.raises(DataError, match=r"nope\.csv"):
        main(["--debug", "data", "import", "nope.csv", "-i", "1d"])


def test_messages_are_printed_as_typed_and_without_secrets(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A file name with Rich markup and an emoji code, and a key in the environment.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TICKDB_API_KEY", "sk-live-0123456789abcdef")
    name = "[bold]x[/bold]:b:.csv"

    code, lines = _run(["data", "import", name, "-i", "1d"], capsys)

    assert code == 1
    assert name in lines[0]
    assert "sk-live-0123456789abcdef" not in "\n".join(lines)


def test_key_like_url_parameters_are_masked(capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = _run(
        ["data", "import", "https://example.test/bars.csv?apikey=sk-abcdef123456", "-i", "1d"],
        capsys,
    )

    assert code == 1
    assert "sk-abcdef123456" not in "\n".join(lines)


def test_hints_follow_the_error_class_and_file_errors() -> None:
    assert "--on-conflict" in hint_for(CatalogConflictError("x"))
    assert "data list" in hint_for(UnknownSymbolError("x"))
    assert "TICKDB_API_KEY" in hint_for(AuthenticationError("x", provider="tickdb"))
    assert "path" in hint_for(FileNotFoundError(2, os.strerror(2), "x"))
    assert "permissions" in hint_for(PermissionError(13, os.strerror(13), "x"))
    assert hint_for(RuntimeError("x")) == "read the message above"
