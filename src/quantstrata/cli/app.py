"""The ``quantstrata`` command: one Typer application with a sub-command per job.

Errors print one clear line and a hint; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from quantstrata.cli import backtest as backtest_command
from quantstrata.cli import data as data_commands
from quantstrata.cli import demo as demo_command
from quantstrata.cli import live as live_commands
from quantstrata.cli import optimize as optimize_command
from quantstrata.cli import pipeline as pipeline_command
from quantstrata.cli import stream as stream_command
from quantstrata.cli import venue as venue_commands
from quantstrata.cli._render import make_console
from quantstrata.core.errors import QuantstrataError

__all__ = ["app", "main"]

app = typer.Typer(
    name="quantstrata",
    help="From market data to live trading in one stack.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(data_commands.app, name="data")
app.add_typer(venue_commands.app, name="venue")
app.command(name="demo")(demo_command.demo)
app.command(name="backtest")(backtest_command.backtest)
app.command(name="live")(live_commands.live)
app.command(name="status")(live_commands.status)
app.command(name="stream")(stream_command.stream)
app.command(name="optimize")(optimize_command.optimize)
app.command(name="pipeline")(pipeline_command.pipeline)


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    """Run quantstrata's jobs: data, backtests, live trading, the venue, the demo."""
    # main() reads --debug itself, before Typer runs, so every error path honours it.
    del debug


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code; errors become one readable line."""
    console = make_console(stderr=True)
    arguments = sys.argv[1:] if argv is None else argv
    debug = "--debug" in arguments
    try:
        # Outside standalone mode Click returns typer.Exit's code instead of raising it.
        outcome = app(args=arguments, standalone_mode=False)
    except QuantstrataError as error:
        if debug:
            raise
        console.print(f"[bold red]error:[/] {error}", highlight=False, markup=True)
        console.print(f"[dim]hint: {_hint(error)}; add --debug for the traceback[/]")
        return 1
    except typer.Exit as done:
        return int(done.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        console.print("[yellow]aborted[/]")
        return 130
    except Exception as error:  # a click usage error, for instance
        exit_code = getattr(error, "exit_code", None)
        if hasattr(error, "show") and exit_code is not None:
            error.show()
            return int(exit_code)
        raise
    return outcome if isinstance(outcome, int) else 0


def _hint(error: QuantstrataError) -> str:
    name = type(error).__name__
    hints = {
        "TimezoneError": "pass --timezone with the zone the timestamps were recorded in",
        "BarValidationError": "run `quantstrata data validate PATH` to see every bad row",
        "CatalogConflictError": "pass --on-conflict overwrite or keep to decide which bars win",
        "UnknownSymbolError": "run `quantstrata data list` to see what the catalog holds",
        "SchemaError": "check the file's columns (time, open, high, low, close, volume)",
        "ConfigError": "fix the setting named above; `--help` on the command lists its options",
        "AuthenticationError": "set TICKDB_API_KEY to a valid key for your plan",
        "LookAheadError": "compute each bar's target from that bar and earlier ones only",
    }
    return hints.get(name, "see the message above")
