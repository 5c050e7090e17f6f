"""The TWS API wire protocol, as much of it as the fake TWS speaks (server side).

Framing, from IB's TWS API documentation ("Message Protocol") and ``ib_async``'s client:

- The client opens with ``b"API\\0"`` then one length-prefixed message ``v<min>..<max>`` (the
  range of protocol versions it speaks). The server answers one message of two fields: the
  version it chose and its connection time (``YYYYMMDD HH:MM:SS <zone>``).
- Every later message is a 4-byte big-endian length, then the fields, each a string ended by
  ``\\0``. The first field is the message id (IB's ``OUT``/``IN`` message tables).

The encoders below write the incoming messages (server to client) field by field in the order
IB documents for :data:`SERVER_VERSION`; :class:`PlaceOrder` reads the ``PLACE_ORDER`` request
the same way. Only the fields the fake uses have names; the rest are written empty (IB's
"unset").
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = [
    "SERVER_VERSION",
    "Contract",
    "Decoder",
    "In",
    "OrderView",
    "Out",
    "PlaceOrder",
    "frame",
    "ib_time",
]

SERVER_VERSION = 176
"""The protocol version the fake answers with (TWS/Gateway 10.19 speaks 176)."""

UNSET = ""


class Out:
    """Ids of the messages a client sends (IB's ``OUT`` table)."""

    PLACE_ORDER = 3
    CANCEL_ORDER = 4
    REQ_OPEN_ORDERS = 5
    REQ_ACCOUNT_UPDATES = 6
    REQ_EXECUTIONS = 7
    REQ_IDS = 8
    REQ_CONTRACT_DATA = 9
    REQ_AUTO_OPEN_ORDERS = 15
    REQ_ALL_OPEN_ORDERS = 16
    REQ_HISTORICAL_DATA = 20
    CANCEL_HISTORICAL_DATA = 25
    REQ_CURRENT_TIME = 49
    REQ_REAL_TIME_BARS = 50
    CANCEL_REAL_TIME_BARS = 51
    REQ_GLOBAL_CANCEL = 58
    REQ_MARKET_DATA_TYPE = 59
    REQ_POSITIONS = 61
    CANCEL_POSITIONS = 64
    START_API = 71
    REQ_ACCOUNT_UPDATES_MULTI = 76
    CANCEL_ACCOUNT_UPDATES_MULTI = 77
    REQ_COMPLETED_ORDERS = 99


class In:
    """Ids of the messages a server sends (IB's ``IN`` table)."""

    ORDER_STATUS = 3
    ERR_MSG = 4
    OPEN_ORDER = 5
    ACCT_VALUE = 6
    PORTFOLIO_VALUE = 7
    ACCT_UPDATE_TIME = 8
    NEXT_VALID_ID = 9
    CONTRACT_DATA = 10
    EXECUTION_DATA = 11
    MANAGED_ACCTS = 15
    HISTORICAL_DATA = 17
    CURRENT_TIME = 49
    REAL_TIME_BARS = 50
    COMPLETED_ORDER = 101
    CONTRACT_DATA_END = 52
    OPEN_ORDER_END = 53
    ACCT_DOWNLOAD_END = 54
    EXECUTION_DATA_END = 55
    COMMISSION_REPORT = 59
    POSITION_DATA = 61
    POSITION_END = 62
    ACCOUNT_UPDATE_MULTI = 73
    ACCOUNT_UPDATE_MULTI_END = 74
    COMPLETED_ORDERS_END = 102


def frame(fields: Sequence[object]) -> bytes:
    """Return ``fields`` as one message: length prefix, each field ended by ``\\0``."""
    body = b"".join(_text(value).encode() + b"\0" for value in fields)
    return struct.pack(">I", len(body)) + body


def _text(value: object) -> str:
    if value is None:
        return UNSET
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return repr(value)
    return str(value)


def ib_time(moment: datetime) -> str:
    """Return ``moment`` as IB writes times in executions: ``YYYYMMDD HH:MM:SS UTC``."""
    return moment.astimezone(UTC).strftime("%Y%m%d %H:%M:%S") + " UTC"


class Decoder:
    """Split a byte stream into messages (lists of fields); feed it bytes as they arrive."""

    def __init__(self) -> None:
        self._buffer = b""
        self.greeted = False

    def feed(self, data: bytes) -> Iterator[list[str]]:
        """Yield each complete message in ``data`` (the handshake's ``API\\0`` is dropped)."""
        self._buffer += data
        if not self.greeted:
            if len(self._buffer) < 4:
                return
            if not self._buffer.startswith(b"API\0"):
                raise ValueError(f"not a TWS API client: {self._buffer[:4]!r}")
            self._buffer = self._buffer[4:]
            self.greeted = True
        while len(self._buffer) >= 4:
            end = 4 + struct.unpack(">I", self._buffer[:4])[0]
            if len(self._buffer) < end:
                return
            message = self._buffer[4:end].decode()
            self._buffer = self._buffer[end:]
            fields = message.split("\0")
            if fields and fields[-1] == "":
                fields.pop()
            yield fields


@dataclass(frozen=True, slots=True)
class Contract:
    """A stock contract as the fake lists it (``conId`` is stable per symbol)."""

    con_id: int
    symbol: str
    exchange: str = "SMART"
    primary_exchange: str = "NASDAQ"
    currency: str = "USD"
    sec_type: str = "STK"

    def short(self) -> list[object]:
        """The 12 contract fields of ``PLACE_ORDER``/``POSITION``/``EXECUTION_DATA``."""
        return [
            self.con_id,
            self.symbol,
            self.sec_type,
            "",  # lastTradeDateOrContractMonth
            0.0,  # strike
            "",  # right
            "",  # multiplier
            self.exchange,
            self.currency,
            self.symbol,  # localSymbol
            "NMS",  # tradingClass
        ]

    def details(self, request_id: int) -> list[object]:
        """A ``CONTRACT_DATA`` message (server version >= 164: no version field)."""
        return [
            In.CONTRACT_DATA,
            request_id,
            self.symbol,
            self.sec_type,
            "",  # lastTradeDate
            0.0,  # strike
            "",  # right
            self.exchange,
            self.currency,
            self.symbol,  # localSymbol
            "NMS",  # marketName
            "NMS",  # tradingClass
            self.con_id,
            0.01,  # minTick
            "",  # multiplier
            "ACTIVETIM,LMT,MKT,STP,STPLMT,TRAIL",  # orderTypes
            f"SMART,{self.primary_exchange}",  # validExchanges
            1,  # priceMagnifier
            0,  # underConId
            f"{self.symbol} INC",  # longName
            self.primary_exchange,
            "",  # contractMonth
            "",  # industry
            "",  # category
            "",  # subcategory
            "US/Eastern",  # timeZoneId
            "",  # tradingHours
            "",  # liquidHours
            "",  # evRule
            "",  # evMultiplier
            0,  # secIdList count
            1,  # aggGroup
            "",  # underSymbol
            "",  # underSecType
            "26,26",  # marketRuleIds
            "",  # realExpirationDate
            "COMMON",  # stockType
            "0.0001",  # minSize
            "0.0001",  # sizeIncrement
            "100",  # suggestedSizeIncrement
        ]


class _Reader:
    """Read a request's fields in order, by name; the names document the layout."""

    def __init__(self, fields: Sequence[str]) -> None:
        self._fields = list(fields)
        self._at = 0
        self.named: dict[str, str] = {}

    def take(self, *names: str) -> None:
        for name in names:
            self.named[name] = self._fields[self._at] if self._at < len(self._fields) else ""
            self._at += 1


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    """The fields of a ``PLACE_ORDER`` request (server version 176) the fake acts on."""

    order_id: int
    con_id: int
    symbol: str
    action: str
    quantity: float
    order_type: str
    limit_price: float | None
    aux_price: float | None
    tif: str
    oca_group: str
    account: str
    order_ref: str
    transmit: bool
    parent_id: int
    oca_type: int
    trail_stop_price: float | None
    trailing_percent: float | None

    @classmethod
    def parse(cls, fields: Sequence[str]) -> PlaceOrder:
        """Read a ``PLACE_ORDER`` message (``fields[0]`` is its id)."""
        read = _Reader(fields)
        read.take("msg", "orderId", "conId", "symbol", "secType", "expiry", "strike", "right")
        read.take("multiplier", "exchange", "primaryExchange", "currency", "localSymbol")
        read.take("tradingClass", "secIdType", "secId", "action", "totalQuantity", "orderType")
        read.take("lmtPrice", "auxPrice", "tif", "ocaGroup", "account", "openClose", "origin")
        read.take("orderRef", "transmit", "parentId", "blockOrder", "sweepToFill")
        read.take("displaySize", "triggerMethod", "outsideRth", "hidden", "sharesAllocation")
        read.take("discretionaryAmt", "goodAfterTime", "goodTillDate", "faGroup", "faMethod")
        read.take("faPercentage", "faProfile", "modelCode", "shortSaleSlot")
        read.take("designatedLocation", "exemptCode", "ocaType", "rule80A", "settlingFirm")
        read.take("allOrNone", "minQty", "percentOffset", "eTradeOnly", "firmQuoteOnly")
        read.take("nbboPriceCap", "auctionStrategy", "startingPrice", "stockRefPrice", "delta")
        read.take("stockRangeLower", "stockRangeUpper", "overridePercentageConstraints")
        read.take("volatility", "volatilityType", "deltaNeutralOrderType")
        read.take("deltaNeutralAuxPrice")
        if read.named["deltaNeutralOrderType"]:
            read.take(*(f"deltaNeutral{index}" for index in range(8)))
        read.take("continuousUpdate", "referencePriceType", "trailStopPrice", "trailingPercent")
        named = read.named
        return cls(
            order_id=int(named["orderId"]),
            con_id=int(named["conId"] or 0),
            symbol=named["symbol"],
            action=named["action"],
            quantity=float(named["totalQuantity"]),
            order_type=named["orderType"],
            limit_price=_price(named["lmtPrice"]),
            aux_price=_price(named["auxPrice"]),
            tif=named["tif"] or "DAY",
            oca_group=named["ocaGroup"],
            account=named["account"],
            order_ref=named["orderRef"],
            transmit=named["transmit"] != "0",
            parent_id=int(named["parentId"] or 0),
            oca_type=int(named["ocaType"] or 0),
            trail_stop_price=_price(named["trailStopPrice"]),
            trailing_percent=_price(named["trailingPercent"]),
        )


def _price(text: str) -> float | None:
    """IB writes an unset price as an empty field (or its huge ``UNSET_DOUBLE``)."""
    if not text:
        return None
    value = float(text)
    return None if value >= 1e300 else value


@dataclass(frozen=True, slots=True)
class OrderView:
    """What an ``OPEN_ORDER`` message says about one order."""

    order_id: int
    contract: Contract
    action: str
    quantity: float
    order_type: str
    limit_price: float | None
    aux_price: float | None
    tif: str
    oca_group: str
    account: str
    order_ref: str
    client_id: int
    perm_id: int
    parent_id: int
    oca_type: int
    trail_stop_price: float | None
    trailing_percent: float | None
    status: str

    def open_order(self) -> list[object]:
        """The ``OPEN_ORDER`` message (server version 176: no version field)."""
        head: list[object] = [In.OPEN_ORDER, self.order_id]
        head += [self.contract.con_id, self.contract.symbol, self.contract.sec_type]
        head += ["", 0.0, "", "", self.contract.exchange, self.contract.currency]
        head += [self.contract.symbol, "NMS"]
        head += [self.action, self.quantity, self.order_type, self.limit_price, self.aux_price]
        head += [self.tif, self.oca_group, self.account, "O", 0, self.order_ref]
        head += [self.client_id, self.perm_id, 0, 0, 0.0, "", "", "", "", "", ""]
        # modelCode .. deltaNeutralAuxPrice (29 fields)
        body: list[object] = ["", "", "", None, "", 0, "", -1, 0, None, None, None, None, None]
        body += [None, 0, 0, 0, None, self.oca_type, 0, 0, None, self.parent_id, 0, None, None]
        body += ["", None]
        # continuousUpdate .. comboLegsDescrip, no legs, no order legs, no smart params
        tail: list[object] = [0, None, self.trail_stop_price, self.trailing_percent, None, None]
        tail += ["", 0, 0, 0, None, None, None, ""]  # scale sizes/increment, hedgeType
        tail += [0, "", "", 0, 0, ""]  # optOutSmartRouting .. dncPresent, algoStrategy
        tail += [0, 0, self.status, *([""] * 14), 0, 0]  # solicited .. randomizePrice
        tail += [0]  # conditions
        tail += ["", None, self.trail_stop_price, None, None, None, None, 0, "", "", "", None]
        tail += [0, 0, None, 0]  # dontUseAutoPriceForHedge .. usePriceMgmtAlgo
        tail += ["", 0, 0]  # duration, postToAts, autoCancelParent
        tail += [None, None, None, None, None]  # minTradeQty .. midOffsetAtHalf
        return head + body + tail

    def completed_order(self, filled: float) -> list[object]:
        """The ``COMPLETED_ORDER`` message of a finished order (no order id, no client id)."""
        head: list[object] = [In.COMPLETED_ORDER, *self.contract.short()]
        head += [self.action, self.quantity, self.order_type, self.limit_price, self.aux_price]
        head += [self.tif, self.oca_group, self.account, "O", 0, self.order_ref, self.perm_id]
        head += [0, 0, 0.0, "", "", "", "", ""]  # outsideRth .. faPercentage, faProfile
        # modelCode .. deltaNeutralAuxPrice (23 fields)
        body: list[object] = ["", "", "", None, "", 0, "", -1, None, None, None, None, None]
        body += [None, 0, 0, None, self.oca_type, 0, None, None, "", None]
        tail: list[object] = [0, None, self.trail_stop_price, self.trailing_percent, "", 0, 0, 0]
        tail += [None, None, None, ""]  # scale sizes and increment, hedgeType
        tail += ["", "", 0, 0, ""]  # clearingAccount .. dncPresent, algoStrategy
        tail += [0, self.status, 0, 0, 0]  # solicited, status, randomize size/price, conditions
        tail += [self.trail_stop_price, None, None, 0, 0, "", filled, 0, 0, "", 0, 0]
        tail += [0, "", self.status]  # parentPermId, completedTime, completedStatus
        tail += [None, None, None, None, None]  # minTradeQty .. midOffsetAtHalf
        return head + body + tail
