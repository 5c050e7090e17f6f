"""The "Factor pipeline" section of docs/research.md runs: its Python blocks, in order."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "research.md"
_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _section() -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("## Factor pipeline")
    return text[start : text.index("\n## ", start + 1)]


def test_factor_pipeline_blocks_run_and_print():
    blocks = _BLOCK.findall(_section())
    assert len(blocks) == 2
    namespace: dict[str, object] = {"__name__": "docs_research"}
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        for block in blocks:
            exec(compile(block, str(DOC), "exec"), namespace)
    printed = output.getvalue()
    assert "126" in printed.splitlines()
    assert "weight" in printed
    assert float(printed.strip().splitlines()[-1].replace(",", "")) > 0
