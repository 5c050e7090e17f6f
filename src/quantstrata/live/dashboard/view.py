"""What the dashboard shows: one JSON snapshot of the running live runtime.

:class:`RuntimeView` reads the order manager's state (the fold of the journal), the risk
engine's trading states, the health monitor and the alert history, and keeps the two series
the state does not: recent fills as they are booked and the equity after each bar time. It
only reads, on the runtime's event loop; nothing here changes trading.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from quantstrata.execution.risk import TradingState
from quantstrata.live.alerts import AlertRouter
from quantstrata.live.dashboard.config import DashboardConfig
from quantstrata.live.health import HealthMonitor
from quantstrata.live.orders import OrderManager
from quantstrata.live.reconcile import ReconcileReport
from quantstrata.model.codec import iso
from quantstrata.model.orders import Fill, Order

__all__ = ["Progress", "RuntimeView"]


@dataclass(slots=True)
class Progress:
    """Counters the runtime updates as it trades."""

    bar_times: int = 0
    orders_sent: int = 0
    risk_rejections: int = 0
    last_bar: datetime | None = None
    status: str = "starting"


class RuntimeView:
    """Build the dashboard's snapshots from the runtime's parts."""

    def __init__(
        self,
        manager: OrderManager,
        health: HealthMonitor,
        alerts: AlertRouter,
        symbols: tuple[str, ...],
        prices: Callable[[], Mapping[str, float]],
        *,
        config: DashboardConfig | None = None,
    ) -> None:
        """Keep the parts; history (sized by ``config``) starts empty."""
        self.manager = manager
        self.health = health
        self.alerts = alerts
        self.symbols = symbols
        self.prices = prices
        self.recent_alerts = 20 if config is None else config.recent_alerts
        self.progress = Progress()
        self.fills: deque[Fill] = deque(maxlen=50 if config is None else config.recent_fills)
        self.equity: deque[tuple[str, float]] = deque(
            maxlen=2_000 if config is None else config.equity_points
        )
        self.start_equity: float | None = None
        self.fill_count = 0
        self.reconciliations = 0
        self.last_reconciliation: ReconcileReport | None = None

    def fill_booked(self, fill: Fill) -> None:
        """Note a fill the order manager just booked."""
        self.fills.append(fill)
        self.fill_count += 1

    def reconciled(self, report: ReconcileReport) -> None:
        """Note the outcome of a reconciliation with the broker."""
        self.reconciliations += 1
        self.last_reconciliation = report

    def bar_done(self, ts: datetime) -> None:
        """Record the equity after the bar time ``ts`` was handled."""
        equity = self.account_equity()
        if self.start_equity is None:
            self.start_equity = equity
        self.equity.append((iso(ts), equity))
        self.progress.bar_times += 1
        self.progress.last_bar = ts

    def account_equity(self) -> float:
        """Return cash plus every position valued at its last price (average price if none)."""
        marks = self.prices()
        value = self.manager.state.cash
        for symbol, position in self.manager.positions.items():
            value += position.market_value(marks.get(str(symbol), position.average_price))
        return value

    def snapshot(self) -> dict[str, Any]:
        """Return everything the page shows, as JSON-ready values (non-finite numbers: null)."""
        snapshot: dict[str, Any] = _finite(self._snapshot())
        return snapshot

    def _snapshot(self) -> dict[str, Any]:
        return {
            "run_id": self.manager.run_id,
            "broker": self.manager.broker.name,
            "now": iso(self.manager.clock.now()),
            "status": self.progress.status,
            "last_bar": None if self.progress.last_bar is None else iso(self.progress.last_bar),
            "account": self._account(),
            "positions": self._positions(),
            "orders": [_order(order) for order in self.manager.state.open_orders()][::-1],
            "fills": [_fill(fill) for fill in reversed(self.fills)],
            "equity": list(self.equity),
            "health": self._health(),
            "risk": self._risk(),
            "counters": {
                "bar_times": self.progress.bar_times,
                "orders_sent": self.progress.orders_sent,
                "risk_rejections": self.progress.risk_rejections,
                "fills": self.fill_count,
                "alerts": len(self.alerts.history),
            },
            "alerts": [
                {
                    "level": alert.level.value,
                    "title": alert.title,
                    "detail": alert.detail,
                    "ts": iso(alert.ts),
                    "source": alert.source,
                    "symbol": alert.symbol,
                }
                for alert in self.alerts.history[-self.recent_alerts :][::-1]
            ],
        }

    def _account(self) -> dict[str, float | None]:
        marks = self.prices()
        positions = self.manager.positions.items()
        realized = sum(position.realized_pnl for _, position in positions)
        unrealized = sum(
            position.unrealized_pnl(marks[str(symbol)])
            for symbol, position in positions
            if str(symbol) in marks and not position.is_flat
        )
        exposure = sum(
            abs(position.market_value(marks.get(str(symbol), position.average_price)))
            for symbol, position in positions
        )
        equity = self.account_equity()
        start = self.start_equity
        return {
            "cash": self.manager.state.cash,
            "equity": equity,
            "start_equity": start,
            "pnl": None if start is None else equity - start,
            "realized_pnl": realized,
            "unrealized_pnl": unrealized,
            "exposure": exposure,
        }

    def _positions(self) -> list[dict[str, Any]]:
        marks = self.prices()
        rows = []
        for symbol, position in sorted(self.manager.positions.items()):
            mark = marks.get(str(symbol))
            rows.append(
                {
                    "symbol": str(symbol),
                    "quantity": position.quantity,
                    "average_price": position.average_price,
                    "mark": mark,
                    "market_value": None if mark is None else position.market_value(mark),
                    "unrealized_pnl": None if mark is None else position.unrealized_pnl(mark),
                    "realized_pnl": position.realized_pnl,
                }
            )
        return rows

    def _health(self) -> list[dict[str, Any]]:
        report = self.health.evaluate()
        rows = [
            {
                "component": item.component.value,
                "symbol": item.symbol,
                "state": item.state.value,
                "detail": item.detail,
            }
            for item in report.components
        ]
        rows.append(self._reconciler())
        return rows

    def _reconciler(self) -> dict[str, Any]:
        """Judge the reconciler: ok, degraded (query failed) or down (mismatches found)."""
        report = self.last_reconciliation
        row: dict[str, Any] = {"component": "reconciler", "symbol": None}
        if report is None:
            return {**row, "state": "degraded", "detail": "not run yet"}
        count = self.reconciliations
        when = report.ts.strftime("%Y-%m-%d %H:%M:%S %Z")
        runs = f"{count} run{'s' if count != 1 else ''}, last {when}"
        if report.skipped:
            return {**row, "state": "degraded", "detail": f"{runs}: skipped ({report.reason})"}
        if report.mismatches:
            kinds = ", ".join(sorted({mismatch.kind for mismatch in report.mismatches}))
            found = len(report.mismatches)
            return {**row, "state": "down", "detail": f"{runs}: {found} mismatches ({kinds})"}
        return {**row, "state": "ok", "detail": f"{runs}: in agreement with the broker"}

    def _risk(self) -> dict[str, Any]:
        risk = self.manager.risk
        trading = self.manager.state.trading
        global_state = risk.global_state if risk is not None else trading.get(None)
        own_states = risk.symbol_states if risk is not None else {}
        rows = []
        for symbol in self.symbols:
            own = own_states.get(symbol, TradingState.ACTIVE)
            effective = risk.trading_state(symbol) if risk is not None else own
            units, notional = risk.config.position_limits(symbol) if risk else (None, None)
            rows.append(
                {
                    "symbol": symbol,
                    "state": own.value,
                    "effective": effective.value,
                    "position": self.manager.state.position(symbol).quantity,
                    "max_position_units": units,
                    "max_position_notional": notional,
                }
            )
        return {
            "global": (global_state or TradingState.ACTIVE).value,
            "symbols": rows,
            "rejections": self.manager.state.rejections,
        }


def _finite(value: Any) -> Any:
    """Return ``value`` with every NaN or infinity replaced by ``None`` (JSON has neither)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def _order(order: Order) -> dict[str, Any]:
    request = order.request
    return {
        "order_id": str(order.order_id),
        "symbol": str(order.symbol),
        "side": order.side.name.lower(),
        "type": request.order_type.name.lower(),
        "quantity": order.quantity,
        "filled": order.filled_quantity,
        "limit_price": request.limit_price,
        "stop_price": request.stop_price,
        "status": order.status.value,
        "created_at": iso(order.created_at),
    }


def _fill(fill: Fill) -> dict[str, Any]:
    return {
        "trade_id": str(fill.trade_id),
        "order_id": str(fill.order_id),
        "ts": iso(fill.ts),
        "symbol": str(fill.symbol),
        "side": fill.side.name.lower(),
        "quantity": fill.quantity,
        "price": fill.price,
        "commission": fill.commission,
    }
