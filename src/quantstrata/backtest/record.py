"""What was run, on what, with which settings: the :class:`RunRecord` of a backtest."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from quantstrata.core.errors import ConfigError

__all__ = ["RunRecord", "fingerprint"]


@dataclass(frozen=True, slots=True)
class RunRecord:
    """The provenance of one backtest, enough to reproduce it.

    ``data_fingerprint`` is the SHA-256 of the input bars' Arrow IPC bytes (sorted canonical
    frame); ``strategy`` the strategy's qualified class name and ``parameters`` its parameter
    values; ``config`` the :class:`~quantstrata.backtest.config.BacktestConfig` as plain
    values and ``fill_policy`` its fill policy; ``started_at`` comes from the injected clock.
    """

    data_fingerprint: str
    strategy: str
    parameters: dict[str, Any] = field(hash=False)
    config: dict[str, Any] = field(hash=False)
    fill_policy: str
    package_version: str
    started_at: datetime
    bars: int
    symbols: tuple[str, ...]

    def __post_init__(self) -> None:
        """Check the fingerprint is a SHA-256 digest and the time is timezone-aware."""
        if len(self.data_fingerprint) != 64:
            raise ConfigError(
                f"data_fingerprint must be a SHA-256 hex digest: {self.data_fingerprint!r}"
            )
        if self.started_at.tzinfo is None or self.started_at.utcoffset() is None:
            raise ConfigError(f"started_at must be timezone-aware, got {self.started_at!r}")
        if self.bars < 1:
            raise ConfigError(f"a run covers at least one bar, got {self.bars}")
        object.__setattr__(self, "symbols", tuple(self.symbols))


def fingerprint(bars: pl.DataFrame) -> str:
    """Return the SHA-256 hex digest of ``bars`` written as Arrow IPC (uncompressed)."""
    return hashlib.sha256(bars.write_ipc(None, compression="uncompressed").getvalue()).hexdigest()
