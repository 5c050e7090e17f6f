"""RSI mean reversion on Alphabet (GOOG): buy oversold, sell overbought, leave at the middle.

The strategy is :class:`quantstrata.strategy.examples.RsiMeanReversion`, re-exported here so
``quantstrata backtest examples/rsi_mean_reversion.py`` finds it. Run it::

    python examples/rsi_mean_reversion.py
    quantstrata backtest examples/rsi_mean_reversion.py --data GOOG --param period=10
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from quantstrata.backtest import Backtest, BacktestConfig
from quantstrata.data.samples import load_sample
from quantstrata.execution.config import CommissionConfig
from quantstrata.strategy.examples import RsiMeanReversion

__all__ = ["RsiMeanReversion"]


def main() -> None:
    """Backtest long-only RSI(14) 30/70 on GOOG with 0.1 % commission; print and report."""
    bars = load_sample("GOOG_1d")
    strategy = RsiMeanReversion(period=14, oversold=30.0, overbought=70.0, allow_short=False)
    config = BacktestConfig(calendar="XNAS", commission=CommissionConfig(rate=0.001))
    result = Backtest(bars, strategy, config).run()
    print(result.summary())
    folder = Path(tempfile.mkdtemp(prefix="quantstrata-example-"))
    print(f"report: {result.to_html(folder / 'rsi_mean_reversion.html')}")


if __name__ == "__main__":
    main()
