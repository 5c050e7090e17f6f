"""Real market data shipped with quantstrata, for examples, demos and tests.

Five canonical bar frames (zstd Parquet inside the package): the S&P 500 and NASDAQ Composite
indices and Alphabet (GOOG) daily, EUR/USD hourly and Bitcoin monthly. See ``PROVENANCE.md`` next
to the files for where they come from and the timestamp conventions applied.

>>> from quantstrata.data.samples import load_sample
>>> load_sample("spx_1d").columns[:3]
['ts', 'symbol', 'open']
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from typing import TYPE_CHECKING

import polars as pl

from quantstrata.core.errors import ConfigError, UnknownSymbolError
from quantstrata.data.samples._registry import SAMPLES, SampleSpec
from quantstrata.model.instrument import AssetClass
from quantstrata.model.interval import Interval

if TYPE_CHECKING:
    from quantstrata.data.catalog import Catalog, WriteSummary

__all__ = ["SampleInfo", "load_sample", "load_samples_into", "sample_info", "sample_names"]


@dataclass(frozen=True, slots=True)
class SampleInfo:
    """What a bundled sample holds.

    ``calendar`` is the exchange-calendars code of the market (``None`` for 24/7 crypto);
    ``first`` and ``last`` are the open times of the first and last bars.
    """

    name: str
    symbol: str
    interval: Interval
    asset_class: AssetClass
    calendar: str | None
    source: str
    rows: int
    first: datetime
    last: datetime

    def __post_init__(self) -> None:
        """Check the row count and the time range agree."""
        if self.rows < 1 or self.first > self.last:
            raise ConfigError(f"sample {self.name}: inconsistent rows or time range")


def sample_names() -> tuple[str, ...]:
    """Return the names of the bundled samples, e.g. ``"SPX_1d"``, sorted."""
    return tuple(sorted(spec.name for spec in SAMPLES))


def sample_info(name: str) -> SampleInfo:
    """Describe the sample ``name`` (case-insensitive)."""
    spec = _spec(name)
    summary = (
        pl.scan_parquet(_source(spec))
        .select(pl.len(), pl.col("ts").min().alias("first"), pl.col("ts").max().alias("last"))
        .collect()
        .row(0, named=True)
    )
    return SampleInfo(
        name=spec.name,
        symbol=spec.symbol,
        interval=Interval.parse(spec.interval),
        asset_class=spec.asset_class,
        calendar=spec.calendar,
        source=spec.source,
        rows=summary["len"],
        first=summary["first"],
        last=summary["last"],
    )


def load_sample(name: str) -> pl.DataFrame:
    """Return the sample ``name`` (case-insensitive) as a canonical bar frame sorted by ``ts``."""
    return pl.read_parquet(_source(_spec(name)))


def load_samples_into(catalog: Catalog) -> list[WriteSummary]:
    """Write every sample into ``catalog`` at its interval; samples already there are skipped."""
    return [
        catalog.write(load_sample(spec.name), interval=spec.interval, on_conflict="raise")
        for spec in sorted(SAMPLES, key=lambda spec: spec.name)
    ]


def _spec(name: str) -> SampleSpec:
    wanted = str(name).strip().lower()
    for spec in SAMPLES:
        if spec.name.lower() == wanted:
            return spec
    raise UnknownSymbolError(
        f"no bundled sample named {name!r}; the samples are: {', '.join(sample_names())}"
    )


def _source(spec: SampleSpec) -> bytes:
    """Read the sample's bytes through importlib.resources, so it works from a wheel or a zip."""
    return (files(__name__) / spec.file_name).read_bytes()
