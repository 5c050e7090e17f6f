"""Full-size chaos soak: ``python -m bench.stream_soak [--bars 10000]``.

Streams at least ``--bars`` 1-minute bars from the fake TickDB server (tests/kit) while it
injects a random fault every ~``--every`` seconds (disconnects, stalls, accept-then-close,
3001/3003, handshake 429, malformed, duplicate, out-of-order and late-first frames, and through
the chaos proxy: accept-then-drop and garbage before the HTTP 101, a 503, a throttled link),
then prints the counts: bars lost, duplicated or wrong, fatal stops, reconnects, delays outside
the backoff policy, memory growth. Exit code 1 when anything was lost, repeated or wrong, or the
stream stopped.
"""

from __future__ import annotations

import argparse
import sys

from tests.kit.tickdb_soak import soak


def main(argv: list[str] | None = None) -> int:
    """Run the soak and print its counts."""
    parser = argparse.ArgumentParser(prog="python -m bench.stream_soak")
    parser.add_argument("--bars", type=int, default=10_000)
    parser.add_argument("--symbols", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--every", type=float, default=2.0)
    arguments = parser.parse_args(argv)
    report = soak(
        arguments.bars, symbols=arguments.symbols, seconds=arguments.seconds, every=arguments.every
    )
    print(f"chaos soak: {report.line()}")
    bad = (
        report.lost
        or report.duplicates
        or report.wrong_values
        or report.delays_outside_policy
        or report.fatal_stops
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
