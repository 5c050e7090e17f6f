"""Real prices for indicator tests: the bundled S&P 500 daily sample (1999–2018)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantstrata.data.samples import load_sample
from tests.kit.indicator_conformance import ohlcv_from_frame
from tests.kit.indicator_data import OHLCV


@pytest.fixture(scope="session")
def spx_bars() -> pd.DataFrame:
    """Return S&P 500 daily bars 1999–2018 (real data) with Open/High/Low/Close/Volume columns."""
    bars = load_sample("SPX_1d").to_pandas()
    return bars.rename(columns=str.capitalize)


@pytest.fixture(scope="session")
def spx_close(spx_bars: pd.DataFrame) -> np.ndarray:
    """Return S&P 500 daily closes as a float64 array."""
    return spx_bars["Close"].to_numpy(dtype=np.float64)


@pytest.fixture(scope="session")
def spx_ohlcv(spx_bars: pd.DataFrame) -> OHLCV:
    """Return the real S&P 500 daily bars as OHLCV arrays."""
    return ohlcv_from_frame(spx_bars)
