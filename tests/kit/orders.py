"""Build order-domain values for tests, and the expected order transitions written as a grid.

The grid below is written by hand from the order rules (docs of
``quantstrata.model.orders.transitions``), independently of the module's table, so tests can
compare one with the other instead of reading the table back.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from quantstrata.model.identifiers import ClientOrderId, Symbol, TradeId, VenueOrderId
from quantstrata.model.orders.enums import OrderSide, OrderStatus, OrderType
from quantstrata.model.orders.events import OrderEventKind, Submitted
from quantstrata.model.orders.fill import Fill, Liquidity
from quantstrata.model.orders.order import Order
from quantstrata.model.orders.request import OrderRequest

__all__ = [
    "EXPECTED_TRANSITIONS",
    "IGNORED_MARK",
    "ILLEGAL_MARK",
    "ORDER_ID",
    "START",
    "SYMBOL",
    "at",
    "make_fill",
    "make_request",
    "submitted_order",
]

ORDER_ID = ClientOrderId("order-1")
SYMBOL = Symbol("BTC/USDT")
START = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
IGNORED_MARK = "="
ILLEGAL_MARK = "X"

_STATUS_CODES = {
    "SND": OrderStatus.SENDING,
    "UNK": OrderStatus.UNKNOWN,
    "PND": OrderStatus.PENDING,
    "PRT": OrderStatus.PARTIAL,
    "PCX": OrderStatus.PENDING_CANCEL,
    "FIL": OrderStatus.FILLED,
    "CXL": OrderStatus.CANCELLED,
    "REJ": OrderStatus.REJECTED,
    "EXP": OrderStatus.EXPIRED,
}

_KIND_CODES = {
    "SUB": OrderEventKind.SUBMITTED,
    "ACK": OrderEventKind.ACCEPTED,
    "REJ": OrderEventKind.REJECTED,
    "PFL": OrderEventKind.PARTIAL_FILL,
    "FIL": OrderEventKind.FILL,
    "CRQ": OrderEventKind.CANCEL_REQUESTED,
    "CRJ": OrderEventKind.CANCEL_REJECTED,
    "CXL": OrderEventKind.CANCELLED,
    "EXP": OrderEventKind.EXPIRED,
    "TMO": OrderEventKind.TIMED_OUT,
    "RFD": OrderEventKind.RESOLVED_FOUND,
    "RNF": OrderEventKind.RESOLVED_NOT_FOUND,
}

# Rows: status before. Columns: event kind. Cells: status after, "=" ignored, "X" illegal.
_GRID = """
      SUB  ACK  REJ  PFL  FIL  CRQ  CRJ  CXL  EXP  TMO  RFD  RNF
SND   X    PND  REJ  PRT  FIL  X    X    CXL  EXP  UNK  X    X
UNK   X    PND  REJ  PRT  FIL  X    X    CXL  EXP  =    PND  REJ
PND   X    =    REJ  PRT  FIL  PCX  =    CXL  EXP  =    =    =
PRT   X    PRT  X    PRT  FIL  PCX  =    CXL  EXP  =    =    =
PCX   X    PCX  REJ  PCX  FIL  =    PND  CXL  EXP  =    =    =
FIL   X    =    =    X    X    =    =    =    =    =    =    =
CXL   X    =    =    CXL  CXL  =    =    =    =    =    =    =
REJ   X    X    =    X    X    =    =    =    =    =    =    =
EXP   X    =    =    EXP  EXP  =    =    =    =    =    =    =
"""


def _parse_grid(grid: str) -> dict[tuple[OrderStatus, OrderEventKind], OrderStatus | str]:
    header, *rows = [line.split() for line in grid.strip().splitlines()]
    kinds = [_KIND_CODES[code] for code in header]
    expected: dict[tuple[OrderStatus, OrderEventKind], OrderStatus | str] = {}
    for code, *cells in rows:
        if len(cells) != len(kinds):
            raise ValueError(f"grid row {code} has {len(cells)} cells for {len(kinds)} kinds")
        for kind, cell in zip(kinds, cells, strict=True):
            outcome = cell if cell in (IGNORED_MARK, ILLEGAL_MARK) else _STATUS_CODES[cell]
            expected[(_STATUS_CODES[code], kind)] = outcome
    return expected


EXPECTED_TRANSITIONS = _parse_grid(_GRID)
"""``(status, kind) -> status after``, or ``"="`` (ignored) or ``"X"`` (illegal)."""


def at(seconds: float) -> datetime:
    """Return a time ``seconds`` after :data:`START`."""
    return START + timedelta(seconds=seconds)


def make_request(
    quantity: float = 10.0, side: OrderSide = OrderSide.BUY, limit_price: float = 100.0
) -> OrderRequest:
    """Return a limit order request for :data:`SYMBOL`."""
    return OrderRequest(SYMBOL, side, quantity, OrderType.LIMIT, limit_price=limit_price)


def make_fill(
    trade: str,
    quantity: float,
    price: float = 100.0,
    *,
    side: OrderSide = OrderSide.BUY,
    commission: float = 0.0,
    seconds: float = 1.0,
    order_id: str = ORDER_ID,
    symbol: str = SYMBOL,
    venue_order_id: str | None = None,
) -> Fill:
    """Return a taker fill of :data:`ORDER_ID` with trade id ``trade``."""
    return Fill(
        ClientOrderId(order_id),
        TradeId(trade),
        Symbol(symbol),
        side,
        quantity,
        price,
        commission,
        at(seconds),
        Liquidity.TAKER,
        None if venue_order_id is None else VenueOrderId(venue_order_id),
    )


def submitted_order(quantity: float = 10.0, side: OrderSide = OrderSide.BUY) -> Order:
    """Return a fresh order in ``SENDING`` for :data:`ORDER_ID`."""
    return Order.submit(Submitted(ORDER_ID, START, make_request(quantity, side)))
