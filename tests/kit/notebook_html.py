"""Read back what a ``_repr_html_`` produced: tables, metric rows, sparklines, text and tags."""

from __future__ import annotations

from html.parser import HTMLParser

__all__ = ["NotebookHtml", "read_html"]

_VOID = {"br", "hr", "img", "input", "meta", "link", "polyline"}


class NotebookHtml(HTMLParser):
    """Collect tables by id, ``data-metric`` rows, sparkline points and every tag seen."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.metrics: dict[str, str] = {}
        self.sparklines: list[list[tuple[float, float]]] = []
        self.problems: list[str] = []
        self.stack: list[str] = []
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._metric: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags.append(tag)
        if tag == "polyline":
            pairs = (values.get("points") or "").split()
            self.sparklines.append([tuple(map(float, pair.split(","))) for pair in pairs])  # type: ignore[misc]
        if tag in _VOID:
            return
        self.stack.append(tag)
        if tag == "table":
            self._table = values.get("id") or f"table-{len(self.tables)}"
            self.tables[self._table] = []
        elif tag == "tr":
            self._row = []
            self._metric = values.get("data-metric")
        elif tag in {"td", "th"}:
            self._cell = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()
        if tag in {"td", "th"} and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            self.tables[self._table].append(self._row)
            if self._metric is not None and len(self._row) == 2:
                self.metrics[self._metric] = self._row[1]
            self._row = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def read_html(text: str) -> NotebookHtml:
    """Parse ``text``; fail when elements do not nest or a script or stylesheet slipped in."""
    page = NotebookHtml()
    page.feed(text)
    page.close()
    assert page.problems == []
    assert page.stack == []
    assert not {"script", "link", "style", "iframe", "img"} & set(page.tags)
    return page
