"""One vectorbt run of :mod:`bench.catalog_scale`'s shape, in a process with a capped address space.

``python -m bench._vectorbt_scale BARS SYMBOLS LIMIT_BYTES`` sets ``RLIMIT_AS`` to
``LIMIT_BYTES`` first (so a run too large for the machine fails with MemoryError instead of
taking it down), builds ``BARS`` × ``SYMBOLS`` seeded random-walk closes, and runs
``Portfolio.from_signals`` with one shared cash pool on the SMA 50/200 crossover (entries
where the fast average crosses above, exits below, each entry buying 1/SYMBOLS of the
starting cash, 0.05 % fees). It prints the seconds of the
vectorbt part (averages, signals, portfolio, its final value) and the peak RSS as JSON.
"""

from __future__ import annotations

import json
import resource
import sys
import time


def main(argv: list[str]) -> int:
    """Run once with the given shape and address-space limit."""
    bars, symbols, limit = int(argv[0]), int(argv[1]), int(argv[2])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import numpy as np  # after the limit: the imports count against it
    import pandas as pd
    import vectorbt as vbt

    generator = np.random.default_rng(7)
    steps = generator.normal(0.0, 0.0005, size=(bars, symbols))
    close = pd.DataFrame(100.0 * np.exp(np.cumsum(steps, axis=0)),
                         index=pd.date_range("2020-01-01", periods=bars, freq="min"))  # fmt: skip
    del steps
    began = time.perf_counter()
    fast = vbt.MA.run(close, 50)
    slow = vbt.MA.run(close, 200)
    entries = fast.ma_crossed_above(slow)
    exits = fast.ma_crossed_below(slow)
    portfolio = vbt.Portfolio.from_signals(
        close, entries, exits, size=10_000_000.0 / symbols, size_type="value", fees=0.0005,
        init_cash=10_000_000.0, cash_sharing=True, group_by=True, call_seq="auto",
    )  # fmt: skip
    value = float(np.asarray(portfolio.final_value()).ravel()[0])
    seconds = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "peak_rss": peak, "final_value": value}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
