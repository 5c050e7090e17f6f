"""Domain types shared by every layer: identifiers, intervals, instruments and bars."""

from quantstrata.model.bar import BAR_COLUMNS, BAR_SCHEMA, PRICE_COLUMNS, TIMESTAMP_DTYPE, Bar
from quantstrata.model.identifiers import Symbol
from quantstrata.model.instrument import AssetClass, Instrument
from quantstrata.model.interval import Interval, IntervalUnit

__all__ = [
    "BAR_COLUMNS",
    "BAR_SCHEMA",
    "PRICE_COLUMNS",
    "TIMESTAMP_DTYPE",
    "AssetClass",
    "Bar",
    "Instrument",
    "Interval",
    "IntervalUnit",
    "Symbol",
]
