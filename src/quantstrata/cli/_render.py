"""Rich rendering shared by the commands: frames as tables, progress bars with an ETA."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from quantstrata.core.progress import progress_bar as core_progress_bar

if TYPE_CHECKING:
    import polars as pl

__all__ = ["format_cell", "frame_table", "make_console", "print_frame", "progress_bar"]

_PIPE_WIDTH = 200


def make_console(*, stderr: bool = False) -> Console:
    """Return a console; output to a pipe or file is wide so tables are not wrapped."""
    console = Console(stderr=stderr)
    if not console.is_terminal:
        console.width = max(console.width, _PIPE_WIDTH)
    return console


def format_cell(value: Any) -> str:
    """Format one cell: floats compactly, datetimes in ISO form, nulls as a dash."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.6g}" if abs(value) < 1e15 else f"{value:.6e}"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value)


def frame_table(frame: pl.DataFrame, title: str | None = None) -> Table:
    """Return a Rich table showing every row and column of ``frame``."""
    table = Table(title=title, show_lines=False, header_style="bold")
    for name, dtype in frame.schema.items():
        table.add_column(name, justify="right" if dtype.is_numeric() else "left")
    for row in frame.iter_rows():
        table.add_row(*(format_cell(value) for value in row))
    return table


def print_frame(console: Console, frame: pl.DataFrame, title: str | None = None) -> None:
    """Print ``frame`` as a table on ``console``."""
    console.print(frame_table(frame, title))


def progress_bar(console: Console) -> Progress:
    """Return a progress bar (done/total, elapsed, ETA) drawn on ``console`` while in a terminal.

    Output to a pipe or file stays clean: the bar is disabled there, so logs and scripts see
    only the result lines. The bar is transient: it disappears when the job ends.
    """
    return core_progress_bar(console, transient=True, disable=not console.is_terminal)
