"""Domain types shared by every layer: identifiers, intervals, instruments, bars, orders, positions.

Order events, the transition table and the order value live in :mod:`quantstrata.model.orders`.
"""

from quantstrata.model.bar import BAR_COLUMNS, BAR_SCHEMA, PRICE_COLUMNS, TIMESTAMP_DTYPE, Bar
from quantstrata.model.identifiers import ClientOrderId, Symbol, TradeId, VenueOrderId
from quantstrata.model.instrument import AssetClass, Instrument
from quantstrata.model.interval import Interval, IntervalUnit
from quantstrata.model.margin import REG_T, Margin, MarginBasis
from quantstrata.model.orders import (
    Bracket,
    Fill,
    OneCancelsOther,
    Order,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from quantstrata.model.position import Position

__all__ = [
    "BAR_COLUMNS",
    "BAR_SCHEMA",
    "PRICE_COLUMNS",
    "REG_T",
    "TIMESTAMP_DTYPE",
    "AssetClass",
    "Bar",
    "Bracket",
    "ClientOrderId",
    "Fill",
    "Instrument",
    "Interval",
    "IntervalUnit",
    "Margin",
    "MarginBasis",
    "OneCancelsOther",
    "Order",
    "OrderRequest",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "Position",
    "Symbol",
    "TimeInForce",
    "TradeId",
    "VenueOrderId",
]
