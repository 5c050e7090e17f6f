"""The command table: every command listed, loaded when it runs, ``--debug`` anywhere."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.core import TyperGroup

from quantstrata.cli.app import COMMANDS, app, main, split_debug


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_listed_summary_is_the_first_line_of_the_commands_own_help(name: str) -> None:
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    context = typer.Context(group)

    _, command, _ = group.resolve_command(context, [name])

    assert command is not None
    assert command.name == name
    assert (command.help or "").strip().splitlines()[0] == COMMANDS[name][1]


def test_root_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0

    shown = capsys.readouterr().out
    for name, (_, summary) in COMMANDS.items():
        assert name in shown
        assert summary.split()[0] in shown
    assert "--debug" in shown


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--debug", "backtest", "x.py"], (True, ["backtest", "x.py"])),
        (["backtest", "x.py", "--debug"], (True, ["backtest", "x.py"])),
        (["backtest", "x.py"], (False, ["backtest", "x.py"])),
        (["backtest", "--", "--debug"], (False, ["backtest", "--", "--debug"])),
    ],
)
def test_split_debug_takes_the_flag_from_any_position_before_a_double_dash(
    arguments: list[str], expected: tuple[bool, list[str]]
) -> None:
    assert split_debug(arguments) == expected


def test_debug_after_the_sub_command_shows_the_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    with pytest.raises(Exception, match=r"missing\.py") as raised:
        main(["backtest", str(tmp_path / "missing.py"), "--debug"])

    assert "No such option" not in str(raised.value)


def test_an_error_without_debug_is_one_line_and_a_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["backtest", str(tmp_path / "missing.py")]) == 1

    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("error: ")
    assert "--debug" in lines[1]
