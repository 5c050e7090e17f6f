"""Source lines of ``src/quantstrata`` at a commit and now, with other issues' files set apart.

``python -m bench.source_lines [--base REV] [--apart PATH ...]`` prints the ``*.py`` line count
under ``src/quantstrata`` at ``--base`` (default ``239ca42``, the commit before the simulated
exchange of issue #15), in the working tree, and the net change of the ``--apart`` files (by
default those of the Interactive Brokers adapter, #20, and the look-ahead check, #17), so that a
closing note can say what one issue's own change did to the total.
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

SRC = "src/quantstrata"
BASE = "239ca42"
APART = (
    "live/brokers/ib.py",
    "live/brokers/_ib_link.py",
    "live/brokers/_ib_mapping.py",
    "live/feeds/ib.py",
    "cli/_ib.py",
    "strategy/lookahead.py",
)
"""The files other issues added or rewrote since :data:`BASE` (#20 and #17)."""

ROOT = Path(__file__).resolve().parent.parent


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout


def lines_at(rev: str) -> dict[str, int]:
    """Line count of every ``*.py`` file under :data:`SRC` at ``rev``, keyed by path in it."""
    names = _git("ls-tree", "-r", "--name-only", rev, "--", SRC).split()
    names = [name for name in names if name.endswith(".py")]
    return {name[len(SRC) + 1 :]: _git("show", f"{rev}:{name}").count("\n") for name in names}


def lines_now() -> dict[str, int]:
    """Line count of every ``*.py`` file under :data:`SRC` in the working tree."""
    src = ROOT / SRC
    return {
        p.relative_to(src).as_posix(): p.read_text(encoding="utf-8").count("\n")
        for p in sorted(src.rglob("*.py"))
    }


def main(argv: list[str] | None = None) -> None:
    """Print the totals, the set-apart files' net change and the change without them."""
    parser = argparse.ArgumentParser(prog="python -m bench.source_lines")
    parser.add_argument("--base", default=BASE, help=f"the commit to compare with ({BASE})")
    parser.add_argument("--apart", nargs="*", default=APART, help="paths under src/quantstrata")
    args = parser.parse_args(argv)
    before, now = lines_at(args.base), lines_now()
    total_before, total_now = sum(before.values()), sum(now.values())
    apart = sum(now.get(p, 0) - before.get(p, 0) for p in args.apart)
    print(f"{SRC} at {args.base}: {total_before:,} lines")
    print(f"{SRC} now: {total_now:,} lines ({total_now - total_before:+,})")
    for path in args.apart:
        print(f"  {path}: {now.get(path, 0) - before.get(path, 0):+,}")
    print(f"set apart: {apart:+,}; the rest: {total_now - total_before - apart:+,}")


if __name__ == "__main__":
    main()
