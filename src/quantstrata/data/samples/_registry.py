"""What each bundled sample is: its file, symbol, interval, market and where the data came from.

``scripts/bundle_samples.py`` builds the Parquet files from the source CSVs using these records,
and :mod:`quantstrata.data.samples` describes and loads them, so both read one list.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from quantstrata.model.instrument import AssetClass

__all__ = ["SAMPLES", "LabelShift", "SampleSpec"]


class LabelShift(StrEnum):
    """How a source labels its bars, when that differs from quantstrata's bar open time."""

    NONE = "none"
    MONTH_END_TO_START = "month_end_to_start"


@dataclass(frozen=True, slots=True)
class SampleSpec:
    """One bundled sample and how its source file is read."""

    name: str
    source_file: str
    symbol: str
    interval: str
    asset_class: AssetClass
    calendar: str | None
    source: str
    source_timezone: str | None = None
    label_shift: LabelShift = LabelShift.NONE

    @property
    def file_name(self) -> str:
        """The bundled Parquet file's name."""
        return f"{self.name}.parquet"


_ARCH = "Yahoo! Finance via the `arch` 8.0.0 package ({path}, NCSA licence)"
_BACKTESTING = "Yahoo! Finance via the `backtesting` 0.6.6 package (backtesting/test/{path})"

SAMPLES: tuple[SampleSpec, ...] = (
    SampleSpec(
        name="BTCUSD_1mo",
        source_file="BTCUSD_1mo.csv",
        symbol="BTCUSD",
        interval="1mo",
        asset_class=AssetClass.CRYPTO,
        calendar=None,
        source=_BACKTESTING.format(path="BTCUSD.csv"),
        label_shift=LabelShift.MONTH_END_TO_START,
    ),
    SampleSpec(
        name="EURUSD_1h",
        source_file="EURUSD_1h.csv",
        symbol="EURUSD",
        interval="1h",
        asset_class=AssetClass.FOREX,
        calendar="24/5",
        source=_BACKTESTING.format(path="EURUSD.csv"),
        source_timezone="UTC",
    ),
    SampleSpec(
        name="GOOG_1d",
        source_file="GOOG_1d.csv",
        symbol="GOOG",
        interval="1d",
        asset_class=AssetClass.EQUITY,
        calendar="XNAS",
        source=_BACKTESTING.format(path="GOOG.csv"),
    ),
    SampleSpec(
        name="IXIC_1d",
        source_file="IXIC_1d.csv.gz",
        symbol="IXIC",
        interval="1d",
        asset_class=AssetClass.INDEX,
        calendar="XNAS",
        source=_ARCH.format(path="arch/data/nasdaq"),
    ),
    SampleSpec(
        name="SPX_1d",
        source_file="SPX_1d.csv.gz",
        symbol="SPX",
        interval="1d",
        asset_class=AssetClass.INDEX,
        calendar="XNYS",
        source=_ARCH.format(path="arch/data/sp500"),
    ),
)
