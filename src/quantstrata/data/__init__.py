"""Data acquisition: the Parquet catalog, file importers, bundled samples, synthetic bars."""

from quantstrata.data.bar_frame import BarFrame
from quantstrata.data.catalog import Catalog, CatalogConfig, OnConflict, WriteSummary
from quantstrata.data.importers import FileLayout, import_file, read_bars_file
from quantstrata.data.samples import (
    SampleInfo,
    load_sample,
    load_samples_into,
    sample_info,
    sample_names,
)
from quantstrata.data.synthetic import generate_bars

__all__ = [
    "BarFrame",
    "Catalog",
    "CatalogConfig",
    "FileLayout",
    "OnConflict",
    "SampleInfo",
    "WriteSummary",
    "generate_bars",
    "import_file",
    "load_sample",
    "load_samples_into",
    "read_bars_file",
    "sample_info",
    "sample_names",
]
