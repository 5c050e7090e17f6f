"""Data acquisition: the Parquet catalog, file importers, bundled samples, synthetic bars.

:func:`load_bars` reads bars by name (a bundled sample, a CSV/Parquet file or a catalog
symbol). The history fetchers (``fetch_<provider>_bars`` and ``fetch_<provider>_to_catalog``
for ``tickdb``, ``ccxt``, ``yfinance`` and ``alpaca``) live in :mod:`quantstrata.data.sources`.

Every re-export is lazy (:mod:`quantstrata.core._lazy`): a name's module is imported the first
time it is used, so importing one submodule (the live runtime's
:mod:`quantstrata.data.sources.backoff`, say) loads neither the catalog, pandas nor Numba, and
the HTTP client stays unloaded until a fetch.
"""

from typing import TYPE_CHECKING

from quantstrata.core._lazy import lazy_exports

if TYPE_CHECKING:
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
    from quantstrata.data.synthetic import generate_bars

_EXPORTS = {
    "BarFrame": "quantstrata.data.bar_frame",
    "Catalog": "quantstrata.data.catalog",
    "CatalogConfig": "quantstrata.data.catalog",
    "FileLayout": "quantstrata.data.importers",
    "LoadedBars": "quantstrata.data.load",
    "OnConflict": "quantstrata.data.catalog",
    "SampleInfo": "quantstrata.data.samples",
    "WriteSummary": "quantstrata.data.catalog",
    "fetch_alpaca_bars": "quantstrata.data.sources",
    "fetch_alpaca_to_catalog": "quantstrata.data.sources",
    "fetch_ccxt_bars": "quantstrata.data.sources",
    "fetch_ccxt_to_catalog": "quantstrata.data.sources",
    "fetch_tickdb_bars": "quantstrata.data.sources",
    "fetch_tickdb_to_catalog": "quantstrata.data.sources",
    "fetch_yfinance_bars": "quantstrata.data.sources",
    "fetch_yfinance_to_catalog": "quantstrata.data.sources",
    "generate_bars": "quantstrata.data.synthetic",
    "import_file": "quantstrata.data.importers",
    "load_bars": "quantstrata.data.load",
    "load_named_bars": "quantstrata.data.load",
    "load_sample": "quantstrata.data.samples",
    "load_samples_into": "quantstrata.data.samples",
    "read_bars_file": "quantstrata.data.importers",
    "sample_info": "quantstrata.data.samples",
    "sample_names": "quantstrata.data.samples",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

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
