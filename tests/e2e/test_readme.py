"""The README is executed: its Python blocks run in order and print what they claim.

Convention: a ``print(...)`` line ending in ``# => text`` must print exactly ``text``; every
``print`` in a block prints one line, so outputs pair with print statements in order.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
_BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.DOTALL)
_CLAIM = re.compile(r"#\s*=>\s*(?P<expected>.+?)\s*$")


def _blocks(language: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    return [body for lang, body in _BLOCK.findall(text) if lang == language]


def test_readme_opens_with_exactly_the_two_commands():
    first = _blocks("bash")[0].strip().splitlines()
    assert [line.split("#")[0].strip() for line in first] == ["make demo", "make test"]


def test_python_blocks_run_and_print_what_they_claim():
    namespace: dict[str, object] = {}
    checked = 0
    for block in _blocks("python"):
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            exec(compile(block, str(README), "exec"), namespace)
        printed = output.getvalue().splitlines()
        prints = [line for line in block.splitlines() if line.strip().startswith("print(")]
        assert len(printed) == len(prints), (printed, prints)
        for shown, statement in zip(printed, prints, strict=True):
            claim = _CLAIM.search(statement)
            if claim:
                assert shown == claim["expected"], statement
                checked += 1
    assert checked >= 8


@pytest.mark.parametrize("command", ["validate", "import", "list", "show"])
def test_cli_commands_named_in_the_readme_exist(command: str):
    from quantstrata.cli.data import app

    assert command in {item.name for item in app.registered_commands}
