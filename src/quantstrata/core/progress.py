"""The one progress bar of long jobs (fetch, import, optimise, walk-forward): done, time, ETA."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

__all__ = ["progress_bar"]


def progress_bar(console: Console, *, transient: bool, disable: bool = False) -> Progress:
    """Return a bar of done/total, elapsed time and ETA drawn on ``console``.

    ``transient`` removes it when the job ends; ``disable`` draws nothing (output to a pipe).
    """
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=console,
        transient=transient,
        disable=disable,
    )
