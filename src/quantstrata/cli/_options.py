"""Options shared by several commands, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["CatalogOption", "IntervalOption", "TimezoneOption"]

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
TimezoneOption = Annotated[
    str | None,
    typer.Option("--timezone", help="Timezone of naive timestamps in the file, e.g. UTC."),
]
