"""The README is executed: its Python blocks run in order and print what they claim.

Convention: a ``print(...)`` line ending in ``# => text`` must print exactly ``text``; every
``print`` in a block prints one line, so outputs pair with print statements in order.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl

from quantstrata.data.samples import load_sample

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


def test_command_line_block_runs_as_written(tmp_path: Path):
    """Run every command of the README's command-line block in a scratch folder."""
    commands = [
        shlex.split(line, comments=True)
        for line in _blocks("bash")[1].strip().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert commands
    assert all(command[0] == "quantstrata" for command in commands)
    _write_prices_csv(tmp_path / "prices.csv")
    (tmp_path / "examples").symlink_to(README.parent / "examples")
    executable = shutil.which("quantstrata", path=str(Path(sys.executable).parent))
    assert executable, "the quantstrata console script is not installed next to this Python"
    environment = {**os.environ, "QUANTSTRATA_CATALOG": str(tmp_path / "catalog")}
    for command in commands:
        completed = subprocess.run(
            [executable, *command[1:]],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert completed.returncode == 0, (command, completed.stdout, completed.stderr)
    assert (tmp_path / "sma.html").is_file()


def _write_prices_csv(path: Path) -> None:
    """Write the S&P 500 sample the way Yahoo exports it (Date,Open,...,Volume)."""
    bars = load_sample("SPX_1d")
    bars.select(
        pl.col("ts").dt.strftime("%Y-%m-%d").alias("Date"),
        *(pl.col(name).alias(name.capitalize()) for name in ("open", "high", "low", "close")),
        pl.col("adj_close").alias("Adj Close"),
        pl.col("volume").alias("Volume"),
    ).write_csv(path)
