"""What was run, on what, with which settings: the :class:`RunRecord` of a backtest."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import polars as pl
import xxhash

from quantstrata.core.errors import ConfigError

__all__ = ["RunRecord", "fingerprint"]


@dataclass(frozen=True, slots=True)
class RunRecord:
    """The provenance of one backtest, enough to reproduce it.

    ``data_fingerprint`` is the :func:`fingerprint` of the input bars (sorted canonical frame);
    ``strategy`` the strategy's class as :func:`~quantstrata.strategy.origin.strategy_label`
    names it (``module.Class``, or ``Class (file.py)`` for a class loaded from a file) and
    ``parameters`` its parameter values; ``config`` the
    :class:`~quantstrata.backtest.config.BacktestConfig` as plain values and ``fill_policy`` its
    fill policy. ``started_at`` is when the run started, from the injected clock;
    ``first_bar`` and ``last_bar`` are the data range it covered (bar open times).
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
    first_bar: datetime
    last_bar: datetime

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
    """Return a SHA-256 hex digest identifying the contents of ``bars``, stable across runs.

    The digest covers every column's name, type, length, null positions and values: numbers
    and times as their raw buffers, strings run-length encoded (a sorted bar frame repeats each
    symbol in long runs). The buffers are condensed with XXH3-128, which reads gigabytes a
    second, and the condensed parts are hashed with SHA-256.
    """
    digest = hashlib.sha256()
    for series in bars.iter_columns():
        digest.update(f"{series.name}\x00{series.dtype}\x00{series.len()}\x00".encode())
        for part in _column_parts(series):
            digest.update(xxhash.xxh3_128_digest(part))
    return digest.hexdigest()


def _column_parts(series: pl.Series) -> list[bytes | memoryview]:
    """Return the byte buffers that together determine ``series``'s values."""
    parts: list[bytes | memoryview] = []
    if series.null_count():
        parts.append(np.ascontiguousarray(series.is_null().to_numpy()).data)
    dtype = series.dtype
    if isinstance(dtype, pl.Categorical | pl.Enum):
        series, dtype = series.cast(pl.String), pl.String()
    if dtype == pl.String:
        lengths, values = _runs(series.fill_null(""))
        parts.append(lengths.data)
        parts.append(np.ascontiguousarray(values.str.len_bytes().cast(pl.Int64).to_numpy()).data)
        parts.append(values.str.join("").item().encode())
    elif dtype.is_numeric() or dtype.is_temporal() or dtype == pl.Boolean:
        physical = series.to_physical()
        if physical.null_count():
            physical = physical.fill_null(0)
        parts.append(np.ascontiguousarray(physical.to_numpy()).data)
    else:
        parts.append(series.to_frame().write_ipc(None, compression="uncompressed").getvalue())
    return parts


def _runs(strings: pl.Series) -> tuple[np.ndarray, pl.Series]:
    """Return the run lengths and run values of ``strings`` (one run when all are equal)."""
    if bool((strings == strings[0]).all()):
        return np.array([strings.len()], dtype=np.int64), strings.head(1)
    runs = strings.rle().struct.unnest()
    lengths = np.ascontiguousarray(runs.get_column("len").cast(pl.Int64).to_numpy())
    return lengths, runs.get_column("value")
