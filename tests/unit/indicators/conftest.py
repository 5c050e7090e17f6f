"""Real closing prices for indicator tests, read from the bundled sample data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

_SPX = Path(__file__).resolve().parents[2] / "kit" / "data" / "SPX_1d.csv.gz"


@pytest.fixture(scope="session")
def spx_bars() -> pd.DataFrame:
    """Return S&P 500 daily bars 1999–2018 (real data) as a pandas frame."""
    return pd.read_csv(_SPX)


@pytest.fixture(scope="session")
def spx_close(spx_bars: pd.DataFrame) -> np.ndarray:
    """Return S&P 500 daily closes as a float64 array."""
    return spx_bars["Close"].to_numpy(dtype=np.float64)
