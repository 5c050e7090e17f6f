"""How :class:`~quantstrata.live.engine.Live` runs: symbols, journal, risk, sizing, loops."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, field_validator

from quantstrata.core.config import FrozenConfig
from quantstrata.core.errors import ConfigError
from quantstrata.execution.risk import RiskConfig
from quantstrata.execution.targets import SizingRules
from quantstrata.live.dashboard.config import DashboardConfig
from quantstrata.live.health import HealthConfig
from quantstrata.model.instrument import Instrument
from quantstrata.model.interval import Interval

__all__ = ["LiveConfig"]


class LiveConfig(FrozenConfig):
    """Settings of one live (or paper) run.

    - ``run_id``: prefix of client order ids; reuse it with the same journal to continue a run.
    - ``symbols``, ``interval``: what the strategy trades and the bars it is fed.
    - ``journal``: a SQLite file path (WAL; the default) or a ``postgresql://`` DSN.
    - ``journal_durability``: ``"process"`` (the default: each append survives this process
      being killed; order-flow entries reach the disk at the next flush, everything that
      steers the run is flushed at once) or ``"machine"`` (every append is flushed before the
      order leaves: survives a power loss, at one disk flush per order); see
      :mod:`quantstrata.live.journal`.
    - ``risk``: the pre-trade checks every order passes (:class:`RiskConfig`).
    - ``allow_short``, ``max_leverage``, ``fractional``, ``instruments``: how targets are
      sized, as in :class:`~quantstrata.backtest.BacktestConfig`.
    - ``reconcile_interval``: seconds between reconciliations with the broker (also at start).
    - ``cancel_on_shutdown``: cancel open orders on SIGINT/SIGTERM (else they keep working).
    - ``warm_up``: feed the strategy the history it needs from the feed before trading.
    - ``bar_grace``: seconds to wait for the other symbols' bars of one bar time once the feed
      has nothing more queued (0 for a replaying venue that sends a bar time at once).
    - ``sync_orders``: ask the broker about open orders before each decision, so fills that
      happened at the new bar's open are booked before the strategy decides (as in a backtest).
    - ``window``: bars kept per symbol (``None``: all, exact for every indicator).
    - ``webhook_env``: environment variable holding a Slack-compatible webhook URL for alerts.
    - ``dashboard``: serve the live dashboard while the run trades (:class:`DashboardConfig`);
      ``None`` (the default) serves nothing.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    run_id: str = Field(default="live", min_length=1, max_length=24)
    symbols: tuple[str, ...] = Field(min_length=1)
    interval: str = "1d"
    journal: str = "quantstrata-journal.sqlite"
    journal_durability: Literal["process", "machine"] = "process"
    risk: RiskConfig = Field(default_factory=RiskConfig)
    health: HealthConfig = Field(default_factory=HealthConfig)
    allow_short: bool = True
    max_leverage: float = Field(default=1.0, gt=0.0, allow_inf_nan=False)
    fractional: bool = True
    instruments: dict[str, Instrument] = Field(default_factory=dict)
    reconcile_interval: float = Field(default=60.0, gt=0.0, allow_inf_nan=False)
    cancel_on_shutdown: bool = False
    warm_up: bool = True
    bar_grace: float = Field(default=0.0, ge=0.0, allow_inf_nan=False)
    sync_orders: bool = True
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

    @property
    def uses_postgres(self) -> bool:
        """Whether the journal is a PostgreSQL DSN (else a SQLite file)."""
        return self.journal.startswith(("postgresql://", "postgres://"))

    def sizing(self, units: bool) -> SizingRules:
        """Return the sizing rules of targets (in ``units`` or fractions of equity)."""
        lots = {}
        if not self.fractional:
            lots = dict.fromkeys(self.symbols, (1.0, 0.0))
            lots.update(
                {
                    symbol: (item.lot_size, item.min_quantity)
                    for symbol, item in self.instruments.items()
                }
            )
        return SizingRules(
            units=units, allow_short=self.allow_short, max_leverage=self.max_leverage, lots=lots
        )
