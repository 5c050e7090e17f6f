"""How :class:`~quantstrata.live.engine.Live` runs: symbols, journal, risk, sizing, loops."""

from __future__ import annotations

from datetime import timedelta
from pathlib import PurePath
from typing import Annotated, Literal

from pydantic import Field, field_serializer, field_validator

from quantstrata.core.errors import ConfigError
from quantstrata.core.secrets import Secret, SecretUrl
from quantstrata.exchange.config import OrderRules
from quantstrata.execution.risk import RiskConfig
from quantstrata.execution.targets import SizingRules
from quantstrata.live.dashboard.config import DashboardConfig
from quantstrata.live.health import HealthConfig
from quantstrata.model.interval import Interval

__all__ = ["POSTGRES_SCHEMES", "LiveConfig"]

_Seconds = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
"""How a PostgreSQL journal DSN starts (anything else is a SQLite file path)."""


class LiveConfig(OrderRules):
    """Settings of one live (or paper) run.

    - ``run_id``: prefix of client order ids; reuse it with the same journal to continue a run.
    - ``symbols``, ``interval``: what the strategy trades and the bars it is fed.
    - ``journal``: a SQLite file path (WAL; the default) or a ``postgresql://`` DSN, held as a
      :class:`~quantstrata.core.secrets.SecretUrl`: the repr, ``model_dump`` and
      ``model_dump_json`` show it as ``postgresql://user:***@host/db``.
    - ``journal_durability``: ``"process"`` (the default: each append survives this process
      being killed; order-flow entries reach the disk at the next flush, everything that
      steers the run is flushed at once) or ``"machine"`` (every append is flushed before the
      order leaves: survives a power loss, at one disk flush per order); see
      :mod:`quantstrata.live.journal`.
    - ``risk``: the pre-trade checks every order passes (:class:`RiskConfig`).
    - ``allow_short``, ``max_leverage``, ``fractional``, ``instruments``: how targets are
      sized, the backtest's :class:`~quantstrata.exchange.config.OrderRules`; ``max_leverage``
      caps the gross exposure a *target* may build (the order is cut to the cap and its tag
      says so), while ``risk.max_leverage`` rejects any order past its own limit.
    - ``round_lots``: round target orders to whole lots even when ``fractional`` (what a
      backtest's ``fill.round_lots`` does).
    - ``reconcile_interval``: seconds between reconciliations with the broker (also at start).
    - ``cancel_on_shutdown``: cancel open orders on SIGINT/SIGTERM (else they keep working).
    - ``warm_up``: feed the strategy the history it needs from the feed before trading.
    - ``bar_grace``: seconds to wait for the other symbols' bars of one bar time once the feed
      has nothing more queued (0 for a replaying venue that sends a bar time at once).
    - ``sync_orders``: ask the broker about open orders before each decision, so fills that
      happened at the new bar's open are booked before the strategy decides (as in a backtest).
    - ``max_bar_delay``: seconds after its close past which a bar of a realtime feed is too
      late to trade on: the strategy still sees it (its state stays right), its orders and
      cancels are dropped and its targets wait for the next bar on time, as during warm-up;
      counted in ``LiveSummary.late_bars``, alerted, and the feed's health is degraded until a
      bar comes on time. ``"interval"`` (the default): one bar interval; ``None``: trade every
      bar however late. Replayed feeds (paper, the venue) are never late.
    - ``feed_restart_base`` / ``feed_restart_cap``: the backoff (seconds, full jitter) before
      the runtime restarts a feed that stopped (a refused key, an ended stream), after the
      last bar time handled.
    - ``window``: bars kept per symbol (``None``: all, exact for every indicator).
    - ``webhook_env``: environment variable holding a Slack-compatible webhook URL for alerts.
    - ``dashboard``: serve the live dashboard while the run trades (:class:`DashboardConfig`);
      ``None`` (the default) serves nothing.
    """

    run_id: str = Field(default="live", min_length=1, max_length=24)
    symbols: tuple[str, ...] = Field(min_length=1)
    interval: str = "1d"
    journal: str | SecretUrl = "quantstrata-journal.sqlite"
    journal_durability: Literal["process", "machine"] = "process"
    risk: RiskConfig = Field(default_factory=RiskConfig)
    health: HealthConfig = Field(default_factory=HealthConfig)
    round_lots: bool = False
    reconcile_interval: float = Field(default=60.0, gt=0.0, allow_inf_nan=False)
    cancel_on_shutdown: bool = False
    warm_up: bool = True
    bar_grace: float = Field(default=0.0, ge=0.0, allow_inf_nan=False)
    sync_orders: bool = True
    max_bar_delay: _Seconds | Literal["interval"] | None = "interval"
    feed_restart_base: float = Field(default=1.0, gt=0.0, allow_inf_nan=False)
    feed_restart_cap: float = Field(default=60.0, gt=0.0, allow_inf_nan=False)
    window: int | None = Field(default=None, ge=1)
    webhook_env: str | None = None
    dashboard: DashboardConfig | None = None

    @field_validator("interval")
    @classmethod
    def _known_interval(cls, value: str) -> str:
        try:
            Interval.parse(value)
        except (ConfigError, ValueError) as error:
            raise ValueError(str(error)) from None
        return value

    @field_validator("journal", mode="before")
    @classmethod
    def _secret_dsn(cls, value: object) -> object:
        """Hold a PostgreSQL DSN as a secret URL, so no repr or dump shows its password."""
        if isinstance(value, Secret) and not isinstance(value, SecretUrl):
            value = value.reveal()
        if isinstance(value, PurePath):
            value = str(value)
        if isinstance(value, str) and value.startswith(POSTGRES_SCHEMES):
            return SecretUrl(value)
        return value

    @field_serializer("journal")
    def _masked_journal(self, value: str | SecretUrl) -> str:
        return str(value)

    def bar_delay_limit(self) -> timedelta | None:
        """Return how late past its close a bar may arrive and still be traded (``None``: any)."""
        if self.max_bar_delay is None:
            return None
        if self.max_bar_delay == "interval":
            interval = Interval.parse(self.interval)
            return interval.duration if interval.is_fixed else None
        return timedelta(seconds=self.max_bar_delay)

    @property
    def uses_postgres(self) -> bool:
        """Whether the journal is a PostgreSQL DSN (else a SQLite file)."""
        return isinstance(self.journal, SecretUrl)

    def rounds_lots(self) -> bool:
        """Whether target orders are rounded to whole lots even when ``fractional``."""
        return self.round_lots

    def sizing(self, units: bool) -> SizingRules:
        """Return the sizing rules of targets (in ``units`` or fractions of equity)."""
        lots = {symbol: self.lot_size(symbol) for symbol in {*self.symbols, *self.instruments}}
        return SizingRules(
            units=units,
            allow_short=self.allow_short,
            max_leverage=self.max_leverage,
            lots=lots,
            terms=self.contract_terms(),
        )
