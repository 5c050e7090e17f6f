"""Text rendering of performance metrics: aligned lines for the terminal, cells for HTML."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from quantstrata.analytics.labels import PERCENT_METRICS, RATIO_METRICS, metric_label

__all__ = ["format_duration", "format_metric", "format_moment", "render_metrics"]


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


def format_metric(name: str, value: object) -> str:
    """Format one metric: fractions as percentages, ratios to two places, durations in days."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, datetime):
        return format_moment(value)
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if name in PERCENT_METRICS:
        return f"{value * 100:.2f} %"
    if name in RATIO_METRICS:
        return f"{value:.2f}"
    if name == "turnover":
        return f"{value:.2f}×"
    if name == "periods_per_year":
        return f"{value:g}"
    return f"{value:,.2f}"


def format_moment(value: object) -> str:
    """Format an instant as ``YYYY-MM-DD HH:MM:SS UTC`` (a naive one as it is)."""
    if not isinstance(value, datetime):
        return str(value)
    if value.tzinfo is None:
        return value.isoformat(sep=" ")
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def format_duration(value: object) -> str:
    """Format a duration as ``N days HH:MM[:SS]``, dropping the parts that are zero."""
    if not isinstance(value, timedelta):
        return str(value)
    seconds = int(value.total_seconds())
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    clock = f"{hours:02d}:{rest // 60:02d}" + (f":{rest % 60:02d}" if rest % 60 else "")
    if days and not rest and not hours:
        return f"{sign}{days:,} day{'s' if days != 1 else ''}"
    if days:
        return f"{sign}{days:,} day{'s' if days != 1 else ''} {clock}"
    return f"{sign}{clock}"
