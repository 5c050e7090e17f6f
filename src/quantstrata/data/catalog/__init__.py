"""The local bar catalog: hive-partitioned Parquet by interval and symbol, on any fsspec storage."""

from quantstrata.data.catalog.config import CATALOG_ENVIRONMENT_VARIABLE, CatalogConfig
from quantstrata.data.catalog.engine import Catalog, OnConflict, WriteSummary

__all__ = [
    "CATALOG_ENVIRONMENT_VARIABLE",
    "Catalog",
    "CatalogConfig",
    "OnConflict",
    "WriteSummary",
]
