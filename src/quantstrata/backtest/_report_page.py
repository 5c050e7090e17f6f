"""The report page: one HTML document with plotly.js inline, written atomically.

Figures travel as JSON inside ``<script type="application/json" data-plotly-figure="ID">``
blocks and one small loader script draws each into the ``<div id="ID">`` beside it. That
keeps the page free of generated element ids (so the same result gives the same bytes), and
lets tests read every figure back with :func:`json.loads`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from html import escape
from pathlib import Path

from plotly.offline import get_plotlyjs  # type: ignore[import-untyped]

__all__ = ["Figure", "Section", "render_page", "write_atomically"]

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  margin: 0 auto; max-width: 1200px; padding: 1rem 2rem; color: #222; }
h1 { font-size: 1.6rem; margin-bottom: 0.5rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.9rem; }
th, td { padding: 0.2rem 0.6rem; border-bottom: 1px solid #eee; text-align: left; }
table.metrics td, table.trades td { text-align: right; font-variant-numeric: tabular-nums; }
table.trades td:nth-child(2), table.trades td:nth-child(3) { text-align: left; }
table.trades td, table.trades th { white-space: nowrap; }
table.key-value td { font-family: ui-monospace, Menlo, Consolas, monospace;
  word-break: break-all; }
tr.gap td { text-align: center; color: #777; font-style: italic; }
caption { text-align: left; color: #555; padding-bottom: 0.3rem; }
p.note { color: #777; font-size: 0.85rem; }
.chart { width: 100%; margin-bottom: 1rem; }
"""

_LOADER = """
(function () {
  "use strict";
  var config = { displaylogo: false, responsive: true };
  var blocks = document.querySelectorAll("script[data-plotly-figure]");
  Array.prototype.forEach.call(blocks, function (block) {
    var figure = JSON.parse(block.textContent);
    Plotly.newPlot(block.getAttribute("data-plotly-figure"), figure.data, figure.layout, config);
  });
})();
"""


@dataclass(frozen=True, slots=True)
class Figure:
    """A figure to draw: the element id (``[a-z0-9-]``) and Plotly JSON from the figures module."""

    identifier: str
    json_text: str


@dataclass(frozen=True, slots=True)
class Section:
    """One titled part of the page: figures first, then pre-rendered (escaped) HTML."""

    identifier: str
    title: str
    figures: tuple[Figure, ...] = ()
    html: str = ""


def render_page(title: str, header: str, sections: tuple[Section, ...], generator: str) -> str:
    """Return the whole document; ``header`` and section HTML must already be escaped."""
    body = "\n".join(_section(section) for section in sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="{escape(generator)}">\n'
        f"<title>{escape(title)}</title>\n"
        f"<style>{_STYLE}</style>\n"
        f'<script type="text/javascript">{get_plotlyjs()}</script>\n'
        "</head>\n<body>\n"
        f"{header}\n{body}\n"
        f'<script type="text/javascript">{_LOADER}</script>\n'
        "</body>\n</html>\n"
    )


def write_atomically(path: Path, text: str) -> Path:
    """Write ``text`` as UTF-8 next to ``path`` then rename it over ``path``; return the path.

    A reader never sees a half-written report, and a failed write leaves no temporary file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        Path(temporary).chmod(0o644)  # mkstemp makes 0600; a report is meant to be shared
        Path(temporary).replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            Path(temporary).unlink()
        raise
    return path


def _section(section: Section) -> str:
    parts = [f'<section id="{section.identifier}">', f"<h2>{escape(section.title)}</h2>"]
    for figure in section.figures:
        parts.append(f'<div id="{figure.identifier}" class="chart"></div>')
        parts.append(
            f'<script type="application/json" data-plotly-figure="{figure.identifier}">'
            f"{_script_safe(figure.json_text)}</script>"
        )
    if section.html:
        parts.append(section.html)
    parts.append("</section>")
    return "\n".join(parts)


def _script_safe(json_text: str) -> str:
    """Escape ``<``, ``>`` and ``&`` as JSON unicode escapes so no text can end the script."""
    return json_text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
