"""How the command line reports a failure: one clear line, one hint, no traceback, no secret.

``quantstrata`` errors say what and where already; this module adds the hint that says what to
do next. User mistakes outside our errors (a missing or unreadable file, a bad option) get the
same two lines; anything else is a bug, reported as one line that asks for ``--debug``. Every
message passes through :func:`~quantstrata.core.secrets.redact` and is printed as plain text
(no Rich markup or emoji codes, so ``[x]`` and ``:b:`` in a message survive as typed).
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.text import Text

from quantstrata.core.errors import QuantstrataError
from quantstrata.core.secrets import redact

__all__ = ["EXIT_ERROR", "EXIT_USAGE", "hint_for", "report", "report_usage"]

EXIT_ERROR = 1
"""Exit code of a failed job."""
EXIT_USAGE = 2
"""Exit code of a command line that could not be parsed (as Click uses)."""

_HINTS = {
    "TimezoneError": "pass --timezone with the zone the timestamps were recorded in",
    "BarValidationError": (
        "run `quantstrata data validate PATH` to see every bad row; "
        "`quantstrata data import --policy drop` (or repair) imports the rest"
    ),
    "CatalogConflictError": "pass --on-conflict overwrite or keep to decide which bars win",
    "UnknownSymbolError": "run `quantstrata data list` to see what the catalog holds",
    "SchemaError": "check the file's columns (time, open, high, low, close, volume)",
    "StrategySyntaxError": "fix the Python syntax at the file:line named above",
    "StrategyFileError": "fix the strategy file or class named above, or name another one",
    "ConfigError": "fix the setting named above; `--help` on the command lists its options",
    "AuthenticationError": "set TICKDB_API_KEY to a valid key for your plan",
    "RateLimitedError": "wait a minute and retry, or pass --plan with your plan's name",
    "ProviderUnavailableError": "the provider is down or unreachable; retry later",
    "ProviderError": "check --base-url and --plan; add --debug to see the request that failed",
    "LookAheadError": "compute each bar's target from that bar and earlier ones only",
    "RiskViolation": "the order breaks the risk limits named above; change the order or limits",
    "JournalError": "the journal file is damaged or from another run; pass a fresh --journal",
    "BrokerError": "check that the venue is running and reachable (`quantstrata venue serve`)",
    "InvalidOrderError": "fix the order field named above",
    "CatalogError": "check --catalog (or $QUANTSTRATA_CATALOG) points at a readable catalog",
    "DataError": "check the data named above; `quantstrata data validate PATH` lists bad rows",
}
_FILE_HINTS = {
    FileNotFoundError: "check the path; relative paths start from the current directory",
    IsADirectoryError: "pass a file, not a directory",
    NotADirectoryError: "a part of the path is a file, not a directory",
    PermissionError: "check the file's permissions, or choose a path you can write",
}


def hint_for(error: BaseException) -> str:
    """Return what to do next about ``error``: the hint of its nearest known class."""
    if isinstance(error, OSError):
        for kind, file_hint in _FILE_HINTS.items():
            if isinstance(error, kind):
                return file_hint
        return "check the path and that the disk or network is available"
    for ancestor in type(error).__mro__:
        hint = _HINTS.get(ancestor.__name__)
        if hint is not None:
            return hint
    return "read the message above"


def report(console: Console, error: BaseException) -> int:
    """Print ``error`` as one line and a hint on ``console``; return the exit code to use."""
    if isinstance(error, QuantstrataError):
        message = str(error)
    elif isinstance(error, OSError):
        message = _file_message(error)
    else:  # a bug: say so, briefly; --debug shows where
        message = f"unexpected {type(error).__name__}: {error}"
    _print(console, "error", message, "bold red")
    _print(console, "hint", f"{hint_for(error)}; add --debug for the traceback", "dim")
    return EXIT_ERROR


def report_usage(console: Console, error: typer.TyperException) -> int:
    """Print a command-line mistake (bad option, missing argument) as one line and a hint."""
    context = getattr(error, "ctx", None)
    command = getattr(context, "command_path", None) or "quantstrata"
    _print(console, "error", error.format_message(), "bold red")
    _print(console, "hint", f"run `{command} --help` to see its arguments and options", "dim")
    return int(getattr(error, "exit_code", EXIT_USAGE))


def _file_message(error: OSError) -> str:
    reason = error.strerror or type(error).__name__
    if error.filename is None:
        return reason.lower()
    return f"{reason.lower()}: {error.filename}"


def _print(console: Console, label: str, message: str, style: str) -> None:
    """Print ``label: message`` on one line (a multi-line message is joined with "; ")."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    line = Text(f"{label}: ", style=style)
    line.append(redact("; ".join(lines)), style="dim" if label == "hint" else "")
    console.print(line, soft_wrap=True, emoji=False, highlight=False)
