"""The ``quantstrata`` command: one Typer application with a sub-command per job.

Errors print one clear line and a hint; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any, cast

import typer

from quantstrata.cli import backtest as backtest_command
from quantstrata.cli import data as data_commands
from quantstrata.cli import demo as demo_command
from quantstrata.cli import live as live_commands
from quantstrata.cli import optimize as optimize_command
from quantstrata.cli import pipeline as pipeline_command
from quantstrata.cli import stream as stream_command
from quantstrata.cli import venue as venue_commands
from quantstrata.cli._errors import report, report_usage
from quantstrata.cli._render import make_console

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
    """Run the CLI and return its exit code; errors become one readable line and a hint."""
    console = make_console(stderr=True)
    arguments = sys.argv[1:] if argv is None else argv
    debug = "--debug" in arguments
    try:
        # Outside standalone mode Click returns typer.Exit's code instead of raising it.
        outcome = app(args=arguments, prog_name="quantstrata", standalone_mode=False)
    except typer.Exit as done:
        return int(done.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        console.print("[yellow]aborted[/]")
        return 130
    except typer.TyperException as error:  # Click's own: bad option, missing argument, no args
        if type(error).__name__ == "NoArgsIsHelpError":  # `quantstrata data` alone: show help
            cast("Any", error).show()
            return int(getattr(error, "exit_code", 0))
        return report_usage(console, error)
    except Exception as error:
        if debug:
            raise
        return report(console, error)
    return outcome if isinstance(outcome, int) else 0
