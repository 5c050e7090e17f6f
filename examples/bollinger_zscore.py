"""Bollinger-band z-score reversion on the NASDAQ Composite: fade 2σ moves back to the mean.

The strategy is :class:`quantstrata.strategy.examples.BollingerZScore`, re-exported here so
``quantstrata backtest examples/bollinger_zscore.py`` finds it. Run it::

    python examples/bollinger_zscore.py
    quantstrata backtest examples/bollinger_zscore.py --data IXIC --param entry=2.5
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from quantstrata.backtest import Backtest, BacktestConfig
from quantstrata.data.samples import load_sample
from quantstrata.strategy.examples import BollingerZScore

__all__ = ["BollingerZScore"]


def main() -> None:
    """Backtest a 20-bar, 2σ band strategy on the IXIC sample; print metrics, write the report."""
    bars = load_sample("IXIC_1d")
    strategy = BollingerZScore(period=20, entry=2.0, exit=0.0)
    result = Backtest(bars, strategy, BacktestConfig(calendar="XNAS")).run()
    print(result.summary())
    folder = Path(tempfile.mkdtemp(prefix="quantstrata-example-"))
    print(f"report: {result.to_html(folder / 'bollinger_zscore.html')}")


if __name__ == "__main__":
    main()
