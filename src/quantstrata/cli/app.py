"""The ``quantstrata`` command: one Typer application with a sub-command per job.

The command table names where each command lives; a command's module (and the backtester, the
live runtime or the venue's web server behind it) is imported only when that command runs or
shows its own help, so ``quantstrata --help`` starts in a fraction of a second.

Errors print one clear line and a hint; ``--debug``, anywhere on the command line, shows the
traceback instead.
"""

from __future__ import annotations

import importlib
import sys
from typing import Annotated, Any, cast

import typer
from typer.core import TyperCommand, TyperGroup

from quantstrata.cli._errors import report, report_usage
from quantstrata.cli._render import make_console

__all__ = ["COMMANDS", "app", "main"]

DEBUG_FLAG = "--debug"

#: Each command: ``module:attribute`` of its function (or sub-application), and the line that
#: ``quantstrata --help`` lists (the first line of its own help; a test keeps the two equal).
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": (
        "quantstrata.cli.demo:demo",
        "Load the bundled samples into a catalog, validate them and summarise the result.",
    ),
    "backtest": (
        "quantstrata.cli.backtest:backtest",
        "Backtest a strategy on bundled, file or catalog bars; print metrics, write the report.",
    ),
    "live": (
        "quantstrata.cli.live:live",
        "Trade a strategy live on the paper broker or the simulated venue until the feed ends.",
    ),
    "status": (
        "quantstrata.cli.live:status",
        "Show a run's positions, open orders, cash and alarms, read from its journal.",
    ),
    "stream": (
        "quantstrata.cli.stream:stream",
        "Print each closed bar of a live stream as it completes (Ctrl-C to stop).",
    ),
    "optimize": (
        "quantstrata.cli.optimize:optimize",
        "Search a strategy's parameters; print the best candidates and write the heatmap report.",
    ),
    "pipeline": (
        "quantstrata.cli.pipeline:pipeline",
        "Backtest a pipeline strategy; print metrics and the last weights, write the report.",
    ),
    "data": ("quantstrata.cli.data:app", "Import, inspect and validate bar data."),
    "venue": (
        "quantstrata.cli.venue:app",
        "The local simulated venue: REST + WebSocket, the backtest's fill model.",
    ),
}


class _Pending(TyperCommand):
    """A command not imported yet: enough to list it in ``--help``; :meth:`load` imports it."""

    def __init__(self, name: str, target: str, summary: str) -> None:
        super().__init__(name, short_help=summary)
        self.target = target

    def load(self) -> TyperCommand | TyperGroup:
        """Import the command's module and build its command (a group for a sub-application)."""
        module_name, _, attribute = self.target.partition(":")
        target = getattr(importlib.import_module(module_name), attribute)
        if isinstance(target, typer.Typer):
            command: TyperCommand | TyperGroup = typer.main.get_group(target)
        else:
            single = typer.Typer(add_completion=False)
            single.command(name=self.name)(target)
            command = cast("TyperCommand", typer.main.get_command(single))
        command.name = self.name
        return command


class _LazyGroup(TyperGroup):
    """The root group: lists every command, imports one only when it is resolved to run."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, (target, summary) in COMMANDS.items():
            self.commands[name] = _Pending(name, target, summary)

    # ctx and the command are Click's types, which Typer vendors from 0.29 on: typed loosely.
    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[str | None, Any, list[str]]:
        """Load the named command on first use, then resolve as Typer does."""
        pending = self.commands.get(args[0]) if args else None
        if isinstance(pending, _Pending):
            self.commands[args[0]] = pending.load()
        return super().resolve_command(ctx, args)


app = typer.Typer(
    name="quantstrata",
    cls=_LazyGroup,
    help="From market data to live trading in one stack.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    debug: Annotated[
        bool,
        typer.Option(DEBUG_FLAG, help="Show tracebacks on errors (anywhere on the command line)."),
    ] = False,
) -> None:
    """Run quantstrata's jobs: data, backtests, live trading, the venue, the demo."""
    # main() takes --debug out of the arguments before Typer parses them, so it works after a
    # sub-command too; the option is declared here for --help.
    del debug


def split_debug(arguments: list[str]) -> tuple[bool, list[str]]:
    """Return whether ``--debug`` was given (before any ``--``) and the arguments without it."""
    end = arguments.index("--") if "--" in arguments else len(arguments)
    head = [argument for argument in arguments[:end] if argument != DEBUG_FLAG]
    return len(head) < end, head + arguments[end:]


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code; errors become one readable line and a hint."""
    console = make_console(stderr=True)
    debug, arguments = split_debug(sys.argv[1:] if argv is None else argv)
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
