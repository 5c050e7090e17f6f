"""Options shared by several commands, declared once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from quantstrata.core.config import DEFAULT_CASH

__all__ = [
    "CashOption",
    "CatalogIntervalOption",
    "CatalogOption",
    "CommissionOption",
    "EndOption",
    "IntervalOption",
    "StartOption",
    "TimezoneOption",
    "as_utc",
]

CatalogOption = Annotated[
    Path | None,
    typer.Option(
        "--catalog",
        help="Catalog root (default: $QUANTSTRATA_CATALOG or the user data directory).",
    ),
]
IntervalOption = Annotated[
    str, typer.Option("--interval", "-i", help="Bar interval, e.g. 1m, 1h, 1d.")
]
CatalogIntervalOption = Annotated[
    str | None,
    typer.Option("--interval", "-i", help="Bar interval of catalog data (default 1d)."),
]
StartOption = Annotated[datetime | None, typer.Option("--from", help="First bar time (UTC).")]
EndOption = Annotated[
    datetime | None, typer.Option("--to", help="End of the range, exclusive (UTC).")
]
CashOption = Annotated[
    float, typer.Option("--cash", help=f"Starting cash (default {DEFAULT_CASH:,.0f}).")
]
"""Starting cash of a run; every command defaults it to ``DEFAULT_CASH``."""
CommissionOption = Annotated[
    float, typer.Option("--commission", help="Commission as a fraction of traded value.")
]
TimezoneOption = Annotated[
    str | None,
    typer.Option("--timezone", help="Timezone of naive timestamps in the file, e.g. UTC."),
]


def as_utc(moment: datetime | None) -> datetime | None:
    """Read a naive command-line time as UTC (as the options' help says); keep an aware instant."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
