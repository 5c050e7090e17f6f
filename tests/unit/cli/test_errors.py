"""Failures on the command line: one error line, one hint, a non-zero exit, no secret."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import typer.main

from quantstrata.cli._errors import _HINTS, hint_for
from quantstrata.cli.app import app, main
from quantstrata.core.errors import (
    BarValidationError,
    CatalogConflictError,
    DataError,
    SchemaError,
    TimezoneError,
    UnknownSymbolError,
)
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


_OPTION = re.compile(r"(?<![\w-])--[a-z][a-z-]*")
_FILE_READERS = (
    ("backtest",),
    ("optimize",),
    ("pipeline",),
    ("live",),
    ("venue", "serve"),
    ("data", "import"),
    ("data", "validate"),
)


def _sub_command(group: Any, name: str) -> Any:
    """Resolve ``name`` as a run would (the root group imports a command when resolved)."""
    _, command, _ = group.resolve_command(typer.Context(group), [name])
    return command


def _command(path: tuple[str, ...]) -> Any:
    """Return the Click command at ``path`` (Typer builds a group of groups and commands)."""
    command: Any = typer.main.get_command(app)
    for name in path:
        command = _sub_command(command, name)
    return command


def _options(command: Any) -> set[str]:
    """Return every option name of ``command`` and, for a group, of its sub-commands."""
    names = {option for param in command.params for option in (*param.opts, *param.secondary_opts)}
    for name in list(getattr(command, "commands", {})):
        names |= _options(_sub_command(command, name))
    return names


def test_every_hint_names_only_options_that_a_command_has() -> None:
    known = _options(_command(())) | {"--help"}

    named = {option for hint in _HINTS.values() for option in _OPTION.findall(hint)}

    assert named, "the hints name options"
    assert named <= known, sorted(named - known)


@pytest.mark.parametrize("path", _FILE_READERS, ids=" ".join)
@pytest.mark.parametrize(
    "error",
    [TimezoneError("x"), SchemaError("x"), BarValidationError("x"), DataError("x")],
    ids=lambda error: type(error).__name__,
)
def test_file_reading_commands_have_the_options_their_data_hints_name(
    path: tuple[str, ...], error: DataError
) -> None:
    command = _command(path)
    options = _options(command)
    hint = hint_for(error)

    # A hint may run another command (`quantstrata data validate PATH`); options outside such a
    # quoted command must be the command's own.
    outside_quotes = re.sub(r"`[^`]*`", "", hint)
    assert set(_OPTION.findall(outside_quotes)) <= options, (path, hint)
