"""Every public error type of every layer, in one place to catch them from.

All errors quantstrata raises on purpose derive from :class:`QuantstrataError`, so
``except qs.errors.QuantstrataError`` catches any of them; the others narrow it down:

- configuration and data (``quantstrata.core``): :class:`ConfigError`, :class:`DataError`,
  :class:`SchemaError`, :class:`TimezoneError`, :class:`BarValidationError`,
  :class:`UnknownSymbolError`, :class:`CatalogError`, :class:`CatalogConflictError`,
  :class:`MissingDependencyError` (an optional package is not installed);
- providers and streams (``quantstrata.data``): :class:`ProviderError` and its
  :class:`AuthenticationError`, :class:`RateLimitedError`, :class:`RequestRejectedError`,
  :class:`ProviderUnavailableError`; :class:`StreamClosedError`, :class:`StreamProtocolError`;
- orders and positions (``quantstrata.model``): :class:`InvalidOrderError`,
  :class:`OrderStateError`, :class:`InvalidTransitionError`, :class:`OverfillError`,
  :class:`PositionError`;
- strategies (``quantstrata.strategy``): :class:`LookAheadError`;
- backtests (``quantstrata.backtest``): :class:`StreamedBacktestError` (what cannot stream);
- risk (``quantstrata.execution``): :class:`RiskViolation`;
- the simulated exchange (``quantstrata.exchange``): :class:`MissingRateError` (no FX rate to
  value a currency in the base at a bar);
- live trading (``quantstrata.live``): :class:`BrokerError` and its
  :class:`BrokerUnavailableError`, :class:`OrderRejectedError`,
  :class:`SubmitOutcomeUnknownError`, :class:`CcxtAuthenticationError`; :class:`JournalError`,
  :class:`ControlError`, :class:`WebhookDeliveryError`.

Each error still lives in the module of the layer that raises it; this module only re-exports
them. The base errors are imported at once; the others when first used, so importing this
module costs nothing of the layers (the live runtime's server and network packages stay
unloaded until a live error is asked for).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from quantstrata.core._lazy import lazy_exports
from quantstrata.core.errors import (
    BarValidationError,
    CatalogConflictError,
    CatalogError,
    ConfigError,
    DataError,
    MissingDependencyError,
    QuantstrataError,
    SchemaError,
    TimezoneError,
    UnknownSymbolError,
)

if TYPE_CHECKING:
    from quantstrata.backtest.stream import StreamedBacktestError
    from quantstrata.data.sources.errors import (
        AuthenticationError,
        ProviderError,
        ProviderUnavailableError,
        RateLimitedError,
        RequestRejectedError,
    )
    from quantstrata.data.stream.client import StreamClosedError
    from quantstrata.data.stream.resilience import StreamProtocolError
    from quantstrata.exchange._currency import MissingRateError
    from quantstrata.execution.risk import RiskViolation
    from quantstrata.live._ccxt import CcxtAuthenticationError
    from quantstrata.live.alerts import WebhookDeliveryError
    from quantstrata.live.broker import (
        BrokerError,
        BrokerUnavailableError,
        OrderRejectedError,
        SubmitOutcomeUnknownError,
    )
    from quantstrata.live.dashboard.controls import ControlError
    from quantstrata.live.journal.entries import JournalError
    from quantstrata.model.orders import (
        InvalidOrderError,
        InvalidTransitionError,
        OrderStateError,
        OverfillError,
    )
    from quantstrata.model.position import PositionError
    from quantstrata.strategy.lookahead import LookAheadError

__all__ = [
    "AuthenticationError",
    "BarValidationError",
    "BrokerError",
    "BrokerUnavailableError",
    "CatalogConflictError",
    "CatalogError",
    "CcxtAuthenticationError",
    "ConfigError",
    "ControlError",
    "DataError",
    "InvalidOrderError",
    "InvalidTransitionError",
    "JournalError",
    "LookAheadError",
    "MissingDependencyError",
    "MissingRateError",
    "OrderRejectedError",
    "OrderStateError",
    "OverfillError",
    "PositionError",
    "ProviderError",
    "ProviderUnavailableError",
    "QuantstrataError",
    "RateLimitedError",
    "RequestRejectedError",
    "RiskViolation",
    "SchemaError",
    "StreamClosedError",
    "StreamProtocolError",
    "StreamedBacktestError",
    "SubmitOutcomeUnknownError",
    "TimezoneError",
    "UnknownSymbolError",
    "WebhookDeliveryError",
]

_LAZY: dict[str, str] = {
    "AuthenticationError": "quantstrata.data.sources.errors",
    "ProviderError": "quantstrata.data.sources.errors",
    "ProviderUnavailableError": "quantstrata.data.sources.errors",
    "RateLimitedError": "quantstrata.data.sources.errors",
    "RequestRejectedError": "quantstrata.data.sources.errors",
    "StreamClosedError": "quantstrata.data.stream.client",
    "StreamProtocolError": "quantstrata.data.stream.resilience",
    "RiskViolation": "quantstrata.execution.risk",
    "MissingRateError": "quantstrata.exchange._currency",
    "StreamedBacktestError": "quantstrata.backtest.stream",
    "CcxtAuthenticationError": "quantstrata.live._ccxt",
    "WebhookDeliveryError": "quantstrata.live.alerts",
    "BrokerError": "quantstrata.live.broker",
    "BrokerUnavailableError": "quantstrata.live.broker",
    "OrderRejectedError": "quantstrata.live.broker",
    "SubmitOutcomeUnknownError": "quantstrata.live.broker",
    "ControlError": "quantstrata.live.dashboard.controls",
    "JournalError": "quantstrata.live.journal.entries",
    "InvalidOrderError": "quantstrata.model.orders",
    "InvalidTransitionError": "quantstrata.model.orders",
    "OrderStateError": "quantstrata.model.orders",
    "OverfillError": "quantstrata.model.orders",
    "PositionError": "quantstrata.model.position",
    "LookAheadError": "quantstrata.strategy.lookahead",
}
"""Where each error not imported at once lives (name -> defining module)."""


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
