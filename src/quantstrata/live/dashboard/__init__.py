"""The live dashboard: a token-protected web page served by the running live runtime.

``Live(..., LiveConfig(dashboard=DashboardConfig(admin_token=Secret(...))))`` serves, on
127.0.0.1, a page with positions, open orders, fills, PnL and an equity chart that update live
(server-sent events), the health of feed, broker and journal, the risk state of each symbol,
and a kill switch (halt / reduce-only / resume) that the runtime applies through the order
manager and risk engine. A second, read-only token sees the page but cannot use the switch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from quantstrata.core._lazy import lazy_exports

if TYPE_CHECKING:
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

# Each public name and its module, imported on first use (quantstrata.core._lazy).
_EXPORTS = {
    "CSRF_HEADER": "quantstrata.live.dashboard.app",
    "ControlAction": "quantstrata.live.dashboard.controls",
    "ControlError": "quantstrata.live.dashboard.controls",
    "ControlOutcome": "quantstrata.live.dashboard.controls",
    "ControlQueue": "quantstrata.live.dashboard.controls",
    "ControlRequest": "quantstrata.live.dashboard.controls",
    "DashboardConfig": "quantstrata.live.dashboard.config",
    "DashboardServer": "quantstrata.live.dashboard.server",
    "Progress": "quantstrata.live.dashboard.view",
    "RuntimeView": "quantstrata.live.dashboard.view",
    "create_dashboard_app": "quantstrata.live.dashboard.app",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

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
