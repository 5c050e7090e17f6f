"""Run the ``quantstrata`` command inside a pseudo-terminal, as a user at a shell would.

Rich draws progress bars only on a terminal; a pipe gets the results alone. This helper gives
the command a real pty (``os.openpty``) so tests can see what the user sees.
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
from pathlib import Path

__all__ = ["plain", "run_in_terminal"]

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_REPOSITORY = Path(__file__).resolve().parents[2]
_ENTRY = "import sys; from quantstrata.cli.app import main; sys.exit(main())"


def plain(text: str) -> str:
    """Return ``text`` without ANSI escape sequences."""
    return _ANSI.sub("", text)


def run_in_terminal(arguments: list[str], *, timeout: float = 120.0) -> tuple[int, str]:
    """Run ``quantstrata ARGUMENTS`` on a pty; return its exit code and everything it drew."""
    primary, secondary = os.openpty()
    environment = dict(os.environ, TERM="xterm-256color", COLUMNS="120", LINES="40")
    environment.pop("NO_COLOR", None)
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(_REPOSITORY / "src"), str(_REPOSITORY), environment.get("PYTHONPATH", "")]
    )
    process = subprocess.Popen(
        [sys.executable, "-c", _ENTRY, *arguments],
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env=environment,
        close_fds=True,
    )
    os.close(secondary)
    chunks: list[bytes] = []
    try:
        while True:
            ready, _, _ = select.select([primary], [], [], timeout)
            if not ready:
                process.kill()
                break
            try:
                data = os.read(primary, 65_536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(primary)
        process.wait(timeout=timeout)
    return process.returncode, b"".join(chunks).decode("utf-8", "replace")
