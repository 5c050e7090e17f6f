"""How the live dashboard is served: address, the two tokens, how often it pushes."""

from __future__ import annotations

from pydantic import ConfigDict, Field, model_validator

from quantstrata.core.config import FrozenConfig
from quantstrata.core.secrets import Secret

__all__ = ["DEFAULT_HOST", "DashboardConfig"]

DEFAULT_HOST = "127.0.0.1"


class DashboardConfig(FrozenConfig):
    """Settings of the web dashboard a live run serves beside its trading loop.

    - ``host``, ``port``: where it listens (``127.0.0.1`` and a free port by default; the bound
      address is :attr:`~quantstrata.live.dashboard.DashboardServer.url`).
    - ``admin_token``: sees everything and may use the kill switch (halt / reduce-only / resume).
    - ``viewer_token``: optional; sees everything, changes nothing.
    - ``push_interval``: seconds between the snapshots pushed to open pages.
    - ``recent_fills``, ``recent_alerts``, ``equity_points``: how much history the page keeps.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    host: str = Field(default=DEFAULT_HOST, min_length=1)
    port: int = Field(default=0, ge=0, le=65_535)
    admin_token: Secret
    viewer_token: Secret | None = None
    push_interval: float = Field(default=0.5, gt=0.0, le=60.0, allow_inf_nan=False)
    recent_fills: int = Field(default=50, ge=1, le=10_000)
    recent_alerts: int = Field(default=20, ge=1, le=10_000)
    equity_points: int = Field(default=2_000, ge=2, le=100_000)

    @model_validator(mode="after")
    def _distinct_tokens(self) -> DashboardConfig:
        if self.viewer_token is not None and self.viewer_token == self.admin_token:
            raise ValueError("viewer_token must differ from admin_token")
        return self
