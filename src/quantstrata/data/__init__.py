"""Data acquisition: the Parquet catalog, file importers, bundled samples, synthetic bars.

:func:`load_bars` reads bars by name (a bundled sample, a CSV/Parquet file or a catalog
symbol). The history fetchers (``fetch_<provider>_bars`` and ``fetch_<provider>_to_catalog``
for ``tickdb``, ``ccxt``, ``yfinance`` and ``alpaca``) live in :mod:`quantstrata.data.sources`
and are re-exported here; they are imported when first used, so the HTTP client stays unloaded
until a fetch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from quantstrata.data.bar_frame import BarFrame
from quantstrata.data.catalog import Catalog, CatalogConfig, OnConflict, WriteSummary
from quantstrata.data.importers import FileLayout, import_file, read_bars_file
from quantstrata.data.load import LoadedBars, load_bars, load_named_bars
from quantstrata.data.samples import (
    SampleInfo,
    load_sample,
    load_samples_into,
    sample_info,
    sample_names,
)
from quantstrata.data.synthetic import generate_bars

if TYPE_CHECKING:
    from quantstrata.data.sources import (
        fetch_alpaca_bars,
        fetch_alpaca_to_catalog,
        fetch_ccxt_bars,
        fetch_ccxt_to_catalog,
        fetch_tickdb_bars,
        fetch_tickdb_to_catalog,
        fetch_yfinance_bars,
        fetch_yfinance_to_catalog,
    )

__all__ = [
    "BarFrame",
    "Catalog",
    "CatalogConfig",
    "FileLayout",
    "LoadedBars",
    "OnConflict",
    "SampleInfo",
    "WriteSummary",
    "fetch_alpaca_bars",
    "fetch_alpaca_to_catalog",
    "fetch_ccxt_bars",
    "fetch_ccxt_to_catalog",
    "fetch_tickdb_bars",
    "fetch_tickdb_to_catalog",
    "fetch_yfinance_bars",
    "fetch_yfinance_to_catalog",
    "generate_bars",
    "import_file",
    "load_bars",
    "load_named_bars",
    "load_sample",
    "load_samples_into",
    "read_bars_file",
    "sample_info",
    "sample_names",
]

_FETCHERS = frozenset(
    {
        "fetch_alpaca_bars",
        "fetch_alpaca_to_catalog",
        "fetch_ccxt_bars",
        "fetch_ccxt_to_catalog",
        "fetch_tickdb_bars",
        "fetch_tickdb_to_catalog",
        "fetch_yfinance_bars",
        "fetch_yfinance_to_catalog",
    }
)


def __getattr__(name: str) -> Any:
    """Import a fetcher from :mod:`quantstrata.data.sources` when first used (PEP 562)."""
    if name not in _FETCHERS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module("quantstrata.data.sources"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """List every public name, the fetchers not imported yet included."""
    return sorted(set(globals()) | set(__all__))
