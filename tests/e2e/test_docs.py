"""The documentation site is executed: every code block of every page runs as written.

Conventions (``docs/index.md`` states them for writers):

- ```` ```python ```` blocks of one page run in order in one namespace, in a scratch folder that
  is on ``sys.path``; a block titled ``title="name.py"`` is first saved there as that file. A
  ``print(...)`` line ending in ``# => text`` must print exactly ``text``; a block with such
  claims prints one line per ``print``, so outputs pair with statements in order.
- ```` ```console ```` blocks: a line starting ``$ `` is a command (a trailing ``\\`` continues
  it), run verbatim by ``bash`` with this Python's ``bin`` folder first on ``PATH``, in the
  page's scratch folder where ``examples/`` is the repository's; it must exit 0. Every other
  non-empty line is output the commands must print (compared with runs of spaces squeezed).
- ```` ```bash ```` blocks run whole, the same way, with ``set -euo pipefail``.
- A block preceded by ``<!-- not run: why -->`` is shown and not run; the reason is required.
- A page holding ``<!-- docs-test: fake-tickdb -->`` runs with ``TICKDB_API_KEY``,
  ``TICKDB_BASE_URL`` and ``TICKDB_WS_URL`` pointing at the fake TickDB server of the test kit.
- Other fences (``text``, formulas, diagrams) are not code and must name their language.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
import textwrap
import types
from dataclasses import dataclass
from pathlib import Path

import pytest

from quantstrata.model.orders import IGNORED, TRANSITIONS, OrderStatus
from quantstrata.model.orders.events import OrderEventKind
from tests.kit.tickdb_server import FakeTickDB

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
RUNNABLE = {"python", "console", "bash"}
NOT_CODE = {"text", "yaml", "toml", "json"}
_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,})(?P<info>[^\n`]*)\n"
    r"(?P<body>.*?)^(?P=indent)(?P=fence)[ \t]*$",
    re.DOTALL | re.MULTILINE,
)
_NOT_RUN = re.compile(r"<!--\s*not run:\s*(?P<why>.*?)\s*-->\s*$")
_TITLE = re.compile(r'title="(?P<name>[^"]+)"')
_FAKE_TICKDB = "<!-- docs-test: fake-tickdb -->"
TICKDB_TRADES = 9_006  # trades the fake has released: a day of 1m bars for each symbol
_CLAIM = re.compile(r"#\s*=>\s*(?P<expected>.+?)\s*$")
# backtesting.py 0.6.6 on pandas 3: see docs/peer-conventions.md, "Library warnings".
_PEER_WARNINGS = "ignore:DatetimeIndex.dayofweek is deprecated:DeprecationWarning"
# vectorbt's own moving-average kernel takes a reflected list; Numba warns when it compiles it
# (only on a cold Numba cache, as in CI).
_VECTORBT_WARNINGS = "ignore:(?s).*reflected list.*ma_cache_nb:numba.NumbaPendingDeprecationWarning"


@dataclass(frozen=True)
class Block:
    """One fenced block of a page: its language, its text, where it starts, why it is not run."""

    page: Path
    line: int
    language: str
    body: str
    not_run: str | None
    title: str | None

    def __str__(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line} ({self.language})"


def _blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    blocks = []
    for match in _FENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = _NOT_RUN.search(before)
        language = match["info"].strip().split(" ")[0].strip("{.")
        body = textwrap.dedent(match["body"])
        why = marker["why"] if marker else None
        title = _TITLE.search(match["info"])
        blocks.append(Block(page, line, language, body, why, title["name"] if title else None))
    return blocks


def _pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def _pages_with_code() -> list[Path]:
    return [
        page
        for page in _pages()
        if any(b.language in RUNNABLE and b.not_run is None for b in _blocks(page))
    ]


def test_every_block_names_its_language_and_every_skip_says_why():
    unnamed = [str(b) for page in _pages() for b in _blocks(page) if not b.language]
    assert unnamed == [], "fences need a language (python, console, bash, text, …)"
    unknown = [
        str(b)
        for page in _pages()
        for b in _blocks(page)
        if b.language and b.language not in RUNNABLE | NOT_CODE
    ]
    assert unknown == []
    skipped = [b for page in _pages() for b in _blocks(page) if b.not_run is not None]
    assert all(len(b.not_run or "") >= 20 for b in skipped), [str(b) for b in skipped]
    # shown-only blocks stay exceptions (13: the IB page's run against a real Gateway)
    assert len(skipped) <= 13, [str(b) for b in skipped]


@pytest.mark.filterwarnings(_PEER_WARNINGS)
@pytest.mark.filterwarnings(_VECTORBT_WARNINGS)
@pytest.mark.parametrize("page", _pages_with_code(), ids=lambda page: str(page.relative_to(DOCS)))
def test_page_code_runs_as_written(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("QUANTSTRATA_CATALOG", str(tmp_path / "catalog"))
    # A real module, as a script has: backtrader and dataclasses look classes up by module.
    module = types.ModuleType("docs_page")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    namespace = module.__dict__
    with contextlib.ExitStack() as servers:
        if _FAKE_TICKDB in page.read_text(encoding="utf-8"):
            tickdb = servers.enter_context(
                FakeTickDB(released=TICKDB_TRADES, streaming=True, trades_per_second=300)
            )
            monkeypatch.setenv("TICKDB_API_KEY", tickdb.api_key)
            monkeypatch.setenv("TICKDB_BASE_URL", tickdb.url)
            monkeypatch.setenv("TICKDB_WS_URL", tickdb.ws_url)
        ran = _run_page(page, namespace, tmp_path)
    assert ran > 0


def _run_page(page: Path, namespace: dict[str, object], folder: Path) -> int:
    ran = 0
    for block in _blocks(page):
        if block.not_run is not None or block.language not in RUNNABLE:
            continue
        if block.language == "python":
            if block.title and block.title.endswith(".py"):
                (folder / block.title).write_text(block.body, encoding="utf-8")
            _run_python(block, namespace)
        elif block.language == "console":
            _run_console(block, folder)
        else:
            _run_shell(block, block.body, folder)
        ran += 1
    return ran


def _run_python(block: Block, namespace: dict[str, object]) -> None:
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(compile(block.body, str(block), "exec"), namespace)
    statements = [line for line in block.body.splitlines() if line.strip().startswith("print(")]
    claims = [_CLAIM.search(statement) for statement in statements]
    if not any(claims):
        return
    printed = output.getvalue().splitlines()
    assert len(printed) == len(statements), (str(block), printed, statements)
    for shown, statement, claim in zip(printed, statements, claims, strict=True):
        if claim:
            assert shown == claim["expected"], (str(block), statement)


def _run_console(block: Block, folder: Path) -> None:
    commands: list[str] = []
    expected: list[str] = []
    continued = False
    for line in block.body.splitlines():
        if continued:
            commands[-1] += "\n" + line
        elif line.startswith("$ "):
            commands.append(line[2:])
        elif line.strip():
            expected.append(line)
        continued = line.rstrip().endswith("\\")
    assert commands, f"{block}: a console block needs at least one '$ ' command"
    printed = "".join(_run_shell(block, command, folder) for command in commands)
    for line in expected:
        assert _squeeze(line) in _squeeze(printed), (str(block), line, printed)


def _run_shell(block: Block, script: str, folder: Path) -> str:
    binaries = str(Path(sys.executable).parent)
    assert shutil.which("quantstrata", path=binaries), "quantstrata is not installed here"
    environment = {
        **os.environ,
        "PATH": binaries + os.pathsep + os.environ.get("PATH", ""),
        "COLUMNS": "120",
        "NO_COLOR": "1",
    }
    completed = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + script],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, (str(block), script, completed.stdout, completed.stderr)
    return completed.stdout


def _squeeze(text: str) -> str:
    return re.sub(r"[ \t]+", " ", text).strip()


# the order state table -----------------------------------------------------------------------

ORDER_STATES = DOCS / "order-states.md"
_TABLE = re.compile(r"<!-- table:start -->\n(?P<table>.*?)<!-- table:end -->", re.DOTALL)


def render_order_state_table() -> str:
    """Render ``TRANSITIONS`` and ``IGNORED`` as the page's Markdown table, status by event."""
    events = list(OrderEventKind)
    lines = [
        "| status \\ event | " + " | ".join(f"`{event}`" for event in events) + " |",
        "| --- | " + " | ".join("---" for _ in events) + " |",
    ]
    for status in OrderStatus:
        cells = []
        for event in events:
            target = TRANSITIONS.get((status, event))
            if target is not None:
                cells.append(f"**{target}**" if target is not status else f"{target} ↺")
            elif (status, event) in IGNORED:
                cells.append("·")
            else:
                cells.append("✗")
        lines.append(f"| `{status}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def test_order_state_page_shows_the_transition_table_of_the_code():
    match = _TABLE.search(ORDER_STATES.read_text(encoding="utf-8"))
    assert match, "docs/order-states.md lost its table markers"
    expected = render_order_state_table()
    assert match["table"] == expected, "regenerate the table:\n" + expected


def test_quickstart_installs_the_way_make_demo_does():
    """The one block the quickstart does not run is the install; it must match the Makefile's."""
    install = next(b for b in _blocks(DOCS / "quickstart.md") if b.language == "console")
    assert install.not_run is not None
    commands = [line[2:] for line in install.body.splitlines() if line.startswith("$ ")]
    assert commands == ["python3 -m venv .venv", ". .venv/bin/activate", "pip install -e ."]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "PYTHON ?= python3" in makefile
    assert "VENV   ?= .venv" in makefile
    assert "$(PYTHON) -m venv $(VENV)" in makefile
    assert "pip install --quiet -e .\n" in makefile
