"""The live dashboard: a token-protected web page served by the running live runtime.

``Live(..., LiveConfig(dashboard=DashboardConfig(admin_token=Secret(...))))`` serves, on
127.0.0.1, a page with positions, open orders, fills, PnL and an equity chart that update live
(server-sent events), the health of feed, broker and journal, the risk state of each symbol,
and a kill switch (halt / reduce-only / resume) that the runtime applies through the order
manager and risk engine. A second, read-only token sees the page but cannot use the switch.
"""

from __future__ import annotations

from quantstrata.live.dashboard.app import CSRF_HEADER, create_dashboard_app
from quantstrata.live.dashboard.config import DashboardConfig
from quantstrata.live.dashboard.controls import (
    ControlAction,
    ControlError,
    ControlOutcome,
    ControlQueue,
    ControlRequest,
)
from quantstrata.live.dashboard.server import DashboardServer
from quantstrata.live.dashboard.view import Progress, RuntimeView

__all__ = [
    "CSRF_HEADER",
    "ControlAction",
    "ControlError",
    "ControlOutcome",
    "ControlQueue",
    "ControlRequest",
    "DashboardConfig",
    "DashboardServer",
    "Progress",
    "RuntimeView",
    "create_dashboard_app",
]
