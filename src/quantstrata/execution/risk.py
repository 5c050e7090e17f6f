"""Pre-trade risk checks: one engine the live order manager and the backtest ask first.

:meth:`RiskEngine.check` runs every check on an order request against the account and the last
price, and raises :class:`RiskViolation` naming **every** check that failed, each with the value
found and the limit it broke, so one rejection tells the whole story. Nothing that fails reaches
a broker: the order manager journals the violation and stops there.

The engine is plain synchronous code without I/O. Time is passed in (``now``) by the caller,
which reads it from its injected clock; the engine keeps only the order-rate window and the
trading states (per symbol and global, with a kill switch).

Checks (names as they appear in :attr:`RiskFailure.check`):

- ``symbol``: the symbol is one of :attr:`RiskConfig.symbols` (when a list is configured).
- ``trading_state``: the global and the symbol's :class:`TradingState`. ``halted`` refuses
  every order; ``reducing`` refuses orders that would grow or flip the position.
- ``last_price``: a finite positive reference price is known when a check values the order
  (notional, leverage, cash reserve); market orders are valued at it.
- ``max_order_notional``: quantity × price of the order.
- ``max_position_units`` / ``max_position_notional``: the position after the order fills
  (per-symbol overrides in :attr:`RiskConfig.symbol_limits`). Reducing orders always pass.
- ``max_leverage``: gross exposure after the order over equity. Reducing orders always pass.
- ``min_cash_reserve``: cash left after a buy. Reducing orders always pass.
- ``margin``: for an order in a symbol whose instrument has a ``margin``, the initial margin of
  every position after the order (margined instruments at their initial rate, others at their
  full value) must not exceed the equity; the reason names the symbol, the margin required and
  the equity available. Reducing orders always pass. ``RiskConfig.check_margin=False`` skips it.
- ``max_daily_loss``: once the day's loss reaches the limit only reducing orders pass.
- ``order_rate``: at most ``max_orders_per_window`` accepted orders in any
  ``rate_window_seconds``; refused orders do not count.
- ``price_band``: a limit or stop price further than ``price_band`` (a fraction) from the last
  price is refused as a fat finger; so is a trailing stop whose trail starts its stop further.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from pydantic import Field

from quantstrata.core.config import FrozenConfig
from quantstrata.core.errors import ConfigError, QuantstrataError
from quantstrata.execution.margin import initial_margin, position_value
from quantstrata.model.instrument import Instrument
from quantstrata.model.orders.request import OrderRequest

__all__ = [
    "RiskAccount",
    "RiskConfig",
    "RiskEngine",
    "RiskFailure",
    "RiskViolation",
    "SymbolLimits",
    "TradingState",
    "risk_day",
]


class TradingState(StrEnum):
    """Whether new orders may trade: all of them, only position-reducing ones, or none."""

    ACTIVE = "active"
    REDUCING = "reducing"
    HALTED = "halted"

    @property
    def severity(self) -> int:
        """Order of strictness: active < reducing < halted."""
        return _SEVERITY[self]


_SEVERITY = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}

_PositiveLimit = Field(default=None, gt=0.0, allow_inf_nan=False)


class SymbolLimits(FrozenConfig):
    """Position limits for one symbol, overriding the defaults of :class:`RiskConfig`."""

    max_position_units: float | None = _PositiveLimit
    max_position_notional: float | None = _PositiveLimit


class RiskConfig(FrozenConfig):
    """Limits of the pre-trade checks; ``None`` switches a check off.

    - ``symbols``: the symbols that may trade (``None``: any).
    - ``max_position_units`` / ``max_position_notional``: largest absolute position after an
      order, in units and in quote currency, for every symbol; ``symbol_limits`` overrides them
      per symbol.
    - ``max_order_notional``: largest value of one order.
    - ``max_daily_loss``: loss since the day started (a positive amount) after which only
      reducing orders pass.
    - ``max_leverage``: largest gross exposure over equity after an order; an order past it is
      **rejected** (never cut). The ``max_leverage`` of
      :class:`~quantstrata.backtest.BacktestConfig` and :class:`~quantstrata.live.LiveConfig`
      is another limit: the sizing cap, to which target orders are *cut*.
    - ``min_cash_reserve``: cash that a buy must leave untouched.
    - ``max_orders_per_window`` orders in any ``rate_window_seconds``: the throttle.
    - ``price_band``: largest relative distance of a limit or stop price (or a trailing stop's
      trail) from the last price (``0.1`` = 10 %).
    - ``check_margin``: refuse an order in a margined instrument whose positions after it need
      more initial margin than the equity (the engine's ``instruments`` say which have one).
    """

    symbols: frozenset[str] | None = None
    max_position_units: float | None = _PositiveLimit
    max_position_notional: float | None = _PositiveLimit
    symbol_limits: Mapping[str, SymbolLimits] = Field(default_factory=dict)
    max_order_notional: float | None = _PositiveLimit
    max_daily_loss: float | None = _PositiveLimit
    max_leverage: float | None = _PositiveLimit
    min_cash_reserve: float | None = Field(default=None, ge=0.0, allow_inf_nan=False)
    max_orders_per_window: int | None = Field(default=None, gt=0)
    rate_window_seconds: float = Field(default=1.0, gt=0.0, allow_inf_nan=False)
    price_band: float | None = _PositiveLimit
    check_margin: bool = True

    @property
    def values_orders(self) -> bool:
        """Whether a check needs the order's value (then a usable last price is required)."""
        limits = (
            self.max_position_notional,
            self.max_order_notional,
            self.max_leverage,
            self.min_cash_reserve,
            *(override.max_position_notional for override in self.symbol_limits.values()),
        )
        return any(limit is not None for limit in limits)

    def position_limits(self, symbol: str) -> tuple[float | None, float | None]:
        """Return ``(max units, max notional)`` for ``symbol``, overrides first."""
        override = self.symbol_limits.get(symbol)
        units, notional = self.max_position_units, self.max_position_notional
        if override is not None:
            units = override.max_position_units or units
            notional = override.max_position_notional or notional
        return units, notional


@dataclass(frozen=True, slots=True)
class RiskAccount:
    """The account as the risk checks see it.

    ``positions`` are signed quantities by symbol and ``marks`` the prices to value them at
    (a position without a mark is valued at the order's reference price when it is the
    order's symbol, else skipped). ``daily_pnl`` is the profit since the day started (negative
    for a loss), realized and unrealized.
    """

    cash: float
    positions: Mapping[str, float] = field(default_factory=dict)
    marks: Mapping[str, float] = field(default_factory=dict)
    daily_pnl: float = 0.0

    def position(self, symbol: str) -> float:
        """Return the signed quantity held in ``symbol`` (0.0 when none)."""
        return float(self.positions.get(symbol, 0.0))


@dataclass(frozen=True, slots=True)
class RiskFailure:
    """One failed check: its name, what was found, and the limit it broke.

    A value that overflowed (an order's value beyond float range, leverage on zero equity) is
    kept as its text (``"inf"``), so the failure can be journaled and read back exactly.
    """

    check: str
    message: str
    value: float | str | None = None
    limit: float | str | None = None

    def __post_init__(self) -> None:
        """Turn non-finite numbers into text."""
        for name in ("value", "limit"):
            number = getattr(self, name)
            if isinstance(number, float) and not math.isfinite(number):
                object.__setattr__(self, name, repr(number))


class RiskViolation(QuantstrataError):  # noqa: N818 - the name the architecture uses
    """An order failed pre-trade risk checks; ``failures`` lists every failed check."""

    def __init__(self, request: OrderRequest, failures: tuple[RiskFailure, ...]) -> None:
        """Build the message from every failure, naming each check, value and limit."""
        self.request = request
        self.failures = failures
        super().__init__(
            f"order {request.side.name} {request.quantity!r} {request.symbol} {self.reason}"
        )

    @property
    def checks(self) -> tuple[str, ...]:
        """The names of the failed checks, in the order they ran."""
        return tuple(failure.check for failure in self.failures)

    @property
    def reason(self) -> str:
        """The rejection reason every environment records: each failed check, value and limit."""
        lines = "; ".join(
            f"{failure.check}: {failure.message} (value {failure.value!r}, limit {failure.limit!r})"
            for failure in self.failures
        )
        return f"refused by risk checks [{', '.join(self.checks)}]: {lines}"


def risk_day(now: datetime) -> str:
    """Return the day ``max_daily_loss`` is counted in: the UTC date of ``now``, ISO text.

    The day's loss is the equity now less the equity at the day's first risk check, in the
    live runtime and in a backtest alike.
    """
    return now.astimezone(UTC).date().isoformat()


class RiskEngine:
    """Run the pre-trade checks of :class:`RiskConfig`; hold trading states and the throttle."""

    def __init__(
        self,
        config: RiskConfig | None = None,
        instruments: Mapping[str, Instrument] | None = None,
    ) -> None:
        """Start with every symbol active and an empty order-rate window.

        ``instruments`` give the margins the ``margin`` check reads (none: no check).
        """
        self.config = config if config is not None else RiskConfig()
        self.instruments: Mapping[str, Instrument] = dict(instruments or {})
        self._global_state = TradingState.ACTIVE
        self._symbol_states: dict[str, TradingState] = {}
        self._accepted: deque[datetime] = deque()

    def __repr__(self) -> str:
        """Show the configuration and the global state."""
        return f"RiskEngine(config={self.config!r}, state={self._global_state})"

    # ------------------------------------------------------------------ trading states

    @property
    def global_state(self) -> TradingState:
        """The state every symbol is at least as strict as."""
        return self._global_state

    @property
    def symbol_states(self) -> Mapping[str, TradingState]:
        """The states set per symbol (symbols not listed are active)."""
        return dict(self._symbol_states)

    def trading_state(self, symbol: str) -> TradingState:
        """Return the effective state of ``symbol``: the stricter of its own and the global."""
        own = self._symbol_states.get(symbol, TradingState.ACTIVE)
        return max(own, self._global_state, key=lambda state: state.severity)

    def set_trading_state(self, symbol: str | None, state: TradingState) -> None:
        """Set the state of ``symbol``, or the global state when ``symbol`` is ``None``."""
        state = TradingState(state)
        if symbol is None:
            self._global_state = state
        elif state is TradingState.ACTIVE:
            self._symbol_states.pop(symbol, None)
        else:
            self._symbol_states[symbol] = state

    def kill(self) -> None:
        """Pull the kill switch: halt all trading until the global state is set again."""
        self._global_state = TradingState.HALTED

    # ------------------------------------------------------------------ checks

    def check(
        self,
        request: OrderRequest,
        account: RiskAccount,
        last_price: float | None,
        now: datetime,
    ) -> None:
        """Raise :class:`RiskViolation` naming every failed check; count the order if it passes."""
        if not isinstance(request, OrderRequest):
            raise ConfigError(f"risk checks take an OrderRequest, got {request!r}")
        if now.tzinfo is None or now.utcoffset() is None:
            raise ConfigError(f"risk check time must be timezone-aware, got {now!r}")
        failures = self.failures(request, account, last_price, now)
        if failures:
            raise RiskViolation(request, tuple(failures))
        self._accepted.append(now)

    def failures(
        self,
        request: OrderRequest,
        account: RiskAccount,
        last_price: float | None,
        now: datetime,
    ) -> list[RiskFailure]:
        """Return every failed check for ``request`` without counting it in the throttle."""
        config = self.config
        failures: list[RiskFailure] = []
        symbol = str(request.symbol)
        if config.symbols is not None and symbol not in config.symbols:
            failures.append(
                RiskFailure("symbol", "symbol is not in the configured list", symbol, None)
            )
        held = account.position(symbol)
        after = held + request.signed_quantity
        reducing = abs(after) < abs(held) and (after == 0 or (after > 0) == (held > 0))
        failures.extend(self._state_failures(symbol, reducing))
        reference = _reference_price(request, last_price)
        if reference is None and config.values_orders:
            failures.append(
                RiskFailure(
                    "last_price", "no finite positive last price to value the order", last_price
                )
            )
        failures.extend(self._value_failures(request, account, reference, after, reducing))
        failures.extend(self._band_failures(request, last_price))
        if (
            config.max_daily_loss is not None
            and -account.daily_pnl >= config.max_daily_loss
            and not reducing
        ):
            failures.append(
                RiskFailure(
                    "max_daily_loss",
                    "daily loss limit reached: only reducing orders pass",
                    -account.daily_pnl,
                    config.max_daily_loss,
                )
            )
        failures.extend(self._rate_failures(now))
        return failures

    def _state_failures(self, symbol: str, reducing: bool) -> list[RiskFailure]:
        state = self.trading_state(symbol)
        if state is TradingState.HALTED or (state is TradingState.REDUCING and not reducing):
            return [
                RiskFailure(
                    "trading_state",
                    f"trading in {symbol} is {state}"
                    + ("" if state is TradingState.HALTED else ": only reducing orders pass"),
                    str(state),
                    None,
                )
            ]
        return []

    def _value_failures(
        self,
        request: OrderRequest,
        account: RiskAccount,
        price: float | None,
        after: float,
        reducing: bool,
    ) -> list[RiskFailure]:
        config = self.config
        failures: list[RiskFailure] = []
        units_limit, notional_limit = config.position_limits(str(request.symbol))
        if not reducing and units_limit is not None and abs(after) > units_limit:
            failures.append(
                RiskFailure(
                    "max_position_units", "position after the order too large", after, units_limit
                )
            )
        if price is None:
            return failures
        notional = request.quantity * price
        if config.max_order_notional is not None and notional > config.max_order_notional:
            failures.append(
                RiskFailure(
                    "max_order_notional",
                    "order value above the limit",
                    notional,
                    config.max_order_notional,
                )
            )
        if reducing:
            return failures
        if notional_limit is not None and abs(after) * price > notional_limit:
            failures.append(
                RiskFailure(
                    "max_position_notional",
                    "position value after the order too large",
                    abs(after) * price,
                    notional_limit,
                )
            )
        failures.extend(self._account_failures(request, account, price))
        return failures

    def _account_failures(
        self, request: OrderRequest, account: RiskAccount, price: float
    ) -> list[RiskFailure]:
        config = self.config
        failures: list[RiskFailure] = []
        symbol = str(request.symbol)
        instrument = self.instruments.get(symbol)
        cash_after = account.cash - position_value(instrument, request.signed_quantity, price)
        if config.min_cash_reserve is not None and cash_after < config.min_cash_reserve:
            failures.append(
                RiskFailure(
                    "min_cash_reserve",
                    "cash after the order below the reserve",
                    cash_after,
                    config.min_cash_reserve,
                )
            )
        positions = dict(account.positions)
        positions[symbol] = account.position(symbol) + request.signed_quantity
        marks = {**account.marks, symbol: account.marks.get(symbol, price)}
        value = sum(
            position_value(self.instruments.get(s), q, marks[s])
            for s, q in positions.items()
            if s in marks
        )
        equity = cash_after + value
        failures.extend(self._margin_failures(symbol, positions, marks, equity))
        if config.max_leverage is not None:
            gross = sum(abs(q) * marks[s] for s, q in positions.items() if s in marks)
            leverage = math.inf if equity <= 0 else gross / equity
            if leverage > config.max_leverage:
                failures.append(
                    RiskFailure(
                        "max_leverage",
                        "gross exposure over equity after the order too high",
                        leverage,
                        config.max_leverage,
                    )
                )
        return failures

    def _margin_failures(
        self,
        symbol: str,
        positions: Mapping[str, float],
        marks: Mapping[str, float],
        equity: float,
    ) -> list[RiskFailure]:
        """Refuse when the positions after an order in a margined symbol need more than equity."""
        instrument = self.instruments.get(symbol)
        if not self.config.check_margin or instrument is None or instrument.margin is None:
            return []
        required = math.fsum(
            initial_margin(self.instruments.get(s), q, marks[s])
            for s, q in positions.items()
            if q != 0.0 and s in marks
        )
        if required <= equity:
            return []
        return [
            RiskFailure(
                "margin",
                f"{symbol}: initial margin {required:,.2f} required after the order, "
                f"{equity:,.2f} available (equity)",
                required,
                equity,
            )
        ]

    def _band_failures(self, request: OrderRequest, last_price: float | None) -> list[RiskFailure]:
        band = self.config.price_band
        if band is None or not _usable(last_price):
            return []
        failures = []
        for name in ("limit_price", "stop_price"):
            price = getattr(request, name)
            if price is None:
                continue
            distance = abs(price / float(last_price) - 1.0)  # type: ignore[arg-type]
            if distance > band:
                failures.append(
                    RiskFailure(
                        "price_band",
                        f"{name} {price!r} is {distance:.2%} from the last price {last_price!r}",
                        distance,
                        band,
                    )
                )
        trail = _trail_distance(request, float(last_price))  # type: ignore[arg-type]
        if trail is not None and trail > band:
            name = "trail_amount" if request.trail_amount is not None else "trail_percent"
            failures.append(
                RiskFailure(
                    "price_band",
                    f"{name} {getattr(request, name)!r} trails the stop {trail:.2%} from the "
                    f"last price {last_price!r}",
                    trail,
                    band,
                )
            )
        return failures

    def _rate_failures(self, now: datetime) -> list[RiskFailure]:
        limit = self.config.max_orders_per_window
        if limit is None:
            return []
        start = now - timedelta(seconds=self.config.rate_window_seconds)
        while self._accepted and self._accepted[0] <= start:
            self._accepted.popleft()
        if len(self._accepted) >= limit:
            return [
                RiskFailure(
                    "order_rate",
                    f"{len(self._accepted)} orders in the last "
                    f"{self.config.rate_window_seconds!r} s",
                    len(self._accepted),
                    limit,
                )
            ]
        return []


def _usable(price: float | None) -> bool:
    return (
        isinstance(price, int | float)
        and not isinstance(price, bool)
        and math.isfinite(price)
        and price > 0
    )


def _reference_price(request: OrderRequest, last_price: float | None) -> float | None:
    """Return the price to value the order at: its limit, its stop, else the last price."""
    if request.limit_price is not None:
        return request.limit_price
    if request.stop_price is not None:
        return request.stop_price
    return float(last_price) if _usable(last_price) else None  # type: ignore[arg-type]


def _trail_distance(request: OrderRequest, last_price: float) -> float | None:
    """Return how far (a fraction of ``last_price``) a trailing stop starts from it, or ``None``.

    A trailing stop has no stop price when sent: its first stop is the last price less (a
    sell) or plus (a buy) the trail, so the band measures the trail against the last price.
    """
    if request.trail_amount is not None:
        return request.trail_amount / last_price
    return request.trail_percent
