"""What one live run did: :class:`LiveSummary`, returned by :meth:`~quantstrata.live.Live.run`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from quantstrata.model.orders import Fill

__all__ = ["LiveSummary"]


@dataclass(frozen=True, slots=True)
class LiveSummary:
    """What one run did, for the CLI and tests.

    ``cash``, ``positions`` and ``equity`` (cash plus positions at the last closes seen) are the
    account at the end; ``fills`` the fills booked during this run, oldest first;
    ``resumed_after`` the last bar time an earlier run on the same journal had handled
    (``None`` for a fresh journal); ``late_bars`` the bar times too late to trade on (seen by
    the strategy, not traded); ``dropped_bars`` the bars dropped as repeats or out of order;
    ``feed_restarts`` how often the feed was restarted after a stop.
    """

    run_id: str
    bar_times: int
    orders_sent: int
    risk_rejections: int
    cash: float
    positions: dict[str, float]
    stopped_by: str
    reconciliations: int = 0
    late_bars: int = 0
    alerts: tuple[str, ...] = field(default=())
    equity: float = 0.0
    fills: tuple[Fill, ...] = field(default=())
    resumed_after: datetime | None = None
    dropped_bars: int = 0
    feed_restarts: int = 0
