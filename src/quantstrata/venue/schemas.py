"""The venue's wire format: typed request and response bodies of the REST API.

The OpenAPI spec (``GET /openapi.json``) is generated from these models. Clients (the live
layer's ``VenueBroker`` and ``VenueFeed``) speak the same JSON without importing this module.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from quantstrata.core.errors import QuantstrataError
from quantstrata.model.codec import request_from_json
from quantstrata.model.orders import OrderRequest

__all__ = [
    "CLIENT_ORDER_ID_PATTERN",
    "AccountOut",
    "BalanceOut",
    "BarOut",
    "DroppedOut",
    "ErrorOut",
    "FillOut",
    "LinkOrders",
    "LinkedOut",
    "OrderOut",
    "PositionOut",
    "StatusOut",
    "SubmitOrder",
]

CLIENT_ORDER_ID_PATTERN = r"^[A-Za-z0-9_-]{1,36}$"
_LIMIT = 1e12
Side = Literal["buy", "sell"]
OrderTypeName = Literal["market", "limit", "stop", "stop_limit", "trailing_stop"]
TimeInForceName = Literal["gtc", "day", "ioc", "fok"]
StatusName = Literal[
    "sending",
    "unknown",
    "pending",
    "partial",
    "pending_cancel",
    "filled",
    "cancelled",
    "rejected",
    "expired",
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SubmitOrder(_Body):
    """A new order. ``client_order_id`` makes the submit idempotent: resending returns it."""

    client_order_id: str = Field(pattern=CLIENT_ORDER_ID_PATTERN)
    symbol: str = Field(min_length=1, max_length=64)
    side: Side
    quantity: float = Field(gt=0.0, le=_LIMIT, allow_inf_nan=False)
    order_type: OrderTypeName = "market"
    limit_price: float | None = Field(default=None, gt=0.0, le=_LIMIT, allow_inf_nan=False)
    stop_price: float | None = Field(default=None, gt=0.0, le=_LIMIT, allow_inf_nan=False)
    trail_amount: float | None = Field(default=None, gt=0.0, le=_LIMIT, allow_inf_nan=False)
    trail_percent: float | None = Field(default=None, gt=0.0, lt=1.0, allow_inf_nan=False)
    time_in_force: TimeInForceName = "gtc"
    reduce_only: bool = False

    @model_validator(mode="after")
    def _valid_request(self) -> Self:
        self.to_request()
        return self

    def to_request(self) -> OrderRequest:
        """Return the order request; raise ``ValueError`` naming the field when it is invalid."""
        try:
            return request_from_json(self.model_dump())
        except QuantstrataError as error:
            raise ValueError(str(error)) from None


class LinkOrders(_Body):
    """Two working orders to link one-cancels-other: a fill of either cancels the other.

    ``bracket``: they are a bracket's exits, ``first`` the stop-loss (a stop order) and
    ``second`` the take-profit (a limit order); they then work as one bracket, whose rule decides
    which exit a bar reaches first (the backtest's).
    """

    first: str = Field(pattern=CLIENT_ORDER_ID_PATTERN)
    second: str = Field(pattern=CLIENT_ORDER_ID_PATTERN)
    bracket: bool = False


class LinkedOut(_Body):
    """Whether the two orders are linked now (both were working alone)."""

    linked: bool


class FillOut(_Body):
    """One execution."""

    trade_id: str
    client_order_id: str
    venue_order_id: str | None
    symbol: str
    side: Side
    quantity: float
    price: float
    commission: float
    liquidity: Literal["maker", "taker"]
    ts: str


class OrderOut(_Body):
    """An order as the venue holds it, with every fill so far."""

    client_order_id: str
    venue_order_id: str | None
    symbol: str
    side: Side
    quantity: float
    order_type: OrderTypeName
    limit_price: float | None
    stop_price: float | None
    trail_amount: float | None
    trail_percent: float | None
    time_in_force: TimeInForceName
    reduce_only: bool
    status: StatusName
    filled_quantity: float
    average_fill_price: float | None
    reason: str
    created_at: str
    updated_at: str
    fills: list[FillOut]


class PositionOut(_Body):
    """A position: signed quantity, average entry price, realized PnL net of commissions."""

    symbol: str
    quantity: float
    average_price: float
    realized_pnl: float
    total_commission: float


class BalanceOut(_Body):
    """Cash, and equity with positions marked at their latest closes, at venue time."""

    cash: float
    equity: float
    as_of: str


class AccountOut(_Body):
    """Cash and signed position quantities by symbol, in one consistent read."""

    cash: float
    equity: float
    positions: dict[str, float]
    as_of: str
    balances: dict[str, float] = {}
    """Cash per currency, in that currency (``cash`` is the base currency's)."""


class BarOut(_Body):
    """A closed bar (``ts`` is its open time, UTC)."""

    ts: str
    symbol: str
    open: float
    high: float
    low: float
    close: float
    volume: float


class StatusOut(_Body):
    """The replay's settings and progress."""

    symbols: list[str]
    interval: str
    speed: str
    mode: Literal["max", "realtime", "lockstep"]
    fill_policy: str
    bars_total: int
    bars_published: int
    last_ts: str | None
    next_ts: str | None
    finished: bool
    subscribers: int


class DroppedOut(_Body):
    """How many WebSocket connections a drop closed."""

    dropped: int


class ErrorOut(_Body):
    """An error: ``detail`` says what was wrong, naming the field."""

    detail: str
