"""Text rendering of performance metrics: one aligned line per metric."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from quantstrata.analytics.labels import PERCENT_METRICS, metric_label

__all__ = ["render_metrics"]


def render_metrics(values: dict[str, object]) -> str:
    """Return ``label  value`` lines, labels padded to one width, fractions as percentages."""
    width = max(len(metric_label(name)) for name in values)
    return "\n".join(
        f"{metric_label(name):<{width}}  {_format_value(name, value)}"
        for name, value in values.items()
    )


def _format_value(name: str, value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, timedelta):
        # Whole seconds: an average of durations carries meaningless microseconds.
        return str(timedelta(seconds=round(value.total_seconds())))
    if isinstance(value, float):
        if name in PERCENT_METRICS:
            return f"{value * 100:.2f} %"
        return f"{value:,.1f}" if abs(value) >= 10_000 else f"{value:.4g}"
    return str(value)
