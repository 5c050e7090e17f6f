"""Find the bars a user names with ``--data``: a bundled sample, a file or a catalog symbol.

The search itself is :func:`quantstrata.data.load_named_bars` (the one home of the rule); this
module adds what only the command line has: the option names in messages and naive
``--from``/``--to`` times read as UTC, as the options' help says.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from quantstrata.cli._options import as_utc
from quantstrata.core.errors import ConfigError
from quantstrata.data.load import LoadedBars, load_named_bars

__all__ = ["LoadedBars", "load_bars"]


def load_bars(
    names: list[str],
    *,
    interval: str | None,
    catalog: Path | None,
    start: datetime | None,
    end: datetime | None,
    timezone: str | None = None,
) -> LoadedBars:
    """Read every named source, keep ``start <= ts < end`` and stack them into one frame.

    ``timezone`` places a file's naive timestamps (samples and the catalog are UTC already).
    """
    if not names:
        raise ConfigError("--data needs at least one sample, file or catalog symbol")
    lower, upper = as_utc(start), as_utc(end)
    if lower is not None and upper is not None and lower >= upper:
        raise ConfigError(f"--from {lower} must be before --to {upper}")
    return load_named_bars(
        names, interval=interval, catalog=catalog, start=lower, end=upper, timezone=timezone
    )
