"""``quantstrata venue serve``: run the local simulated venue on bundled, file or catalog bars.

export QUANTSTRATA_VENUE_KEY=$(python -c "import secrets; print(secrets.token_urlsafe(32))")
quantstrata venue serve --data SPX --speed lockstep --state venue.sqlite
quantstrata venue serve --data SPX,GOOG --speed 60 --commission 0.001 --port 8700

The API key comes from ``$QUANTSTRATA_VENUE_KEY``; ``--generate-key`` makes one and prints it
once on standard output instead. It never appears in logs or in the printed addresses.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from pathlib import Path
from typing import Annotated, Any

import typer

from quantstrata.cli._bar_source import load_bars
from quantstrata.cli._options import CatalogOption, EndOption, StartOption, TimezoneOption
from quantstrata.cli._render import make_console
from quantstrata.core.errors import ConfigError
from quantstrata.core.secrets import Secret
from quantstrata.execution.config import CommissionConfig, FillConfig, FillPolicy
from quantstrata.live.feeds.replay import replay_interval
from quantstrata.venue import VenueConfig, VenueServer, load_venue_config

__all__ = ["KEY_VARIABLE", "app", "serve"]

KEY_VARIABLE = "QUANTSTRATA_VENUE_KEY"

app = typer.Typer(
    name="venue",
    help="The local simulated venue: REST + WebSocket, the backtest's fill model.",
    no_args_is_help=True,
)


@app.command()
def serve(
    data: Annotated[
        list[str] | None,
        typer.Option(
            "--data",
            "-d",
            help="Symbols to replay, comma-separated or repeated: bundled samples (SPX, GOOG), "
            "files or catalog symbols. Default: SPX.",
        ),
    ] = None,
    catalog: CatalogOption = None,
    timezone: TimezoneOption = None,
    interval: Annotated[
        str | None, typer.Option("--interval", "-i", help="Bar interval (default: the data's).")
    ] = None,
    start: StartOption = None,
    end: EndOption = None,
    speed: Annotated[
        str | None,
        typer.Option("--speed", help="max, realtime, lockstep or N (realtime ×N). Default max."),
    ] = None,
    host: Annotated[str | None, typer.Option("--host", help="Address to bind.")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port; 0 picks a free one.")] = None,
    cash: Annotated[float | None, typer.Option("--cash", help="Starting cash.")] = None,
    commission: Annotated[
        float | None,
        typer.Option("--commission", help="Commission as a fraction of traded value."),
    ] = None,
    fill: Annotated[
        FillPolicy | None, typer.Option("--fill", help="When orders fill (default next_open).")
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option("--state", help="SQLite state file; a restart continues from it."),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="TOML file with a [venue] section.")
    ] = None,
    generate_key: Annotated[
        bool,
        typer.Option("--generate-key", help=f"Make a key and print it once (no ${KEY_VARIABLE})."),
    ] = False,
) -> None:
    """Serve the simulated venue until interrupted; print the bound address."""
    console = make_console()
    key = _key(generate_key, console.print)
    settings = _settings(
        config,
        speed=speed,
        host=host,
        port=port,
        cash=cash,
        commission=commission,
        fill=fill,
        state=state,
    )
    names = [name.strip() for value in (data or ["SPX"]) for name in value.split(",")]
    loaded = load_bars(
        [name for name in names if name], interval=interval, catalog=catalog, start=start, end=end,
        timezone=timezone,
    )  # fmt: skip
    step = interval or replay_interval(loaded.bars)
    if settings.calendar is None and loaded.calendar is not None:  # the data's, as a backtest
        settings = VenueConfig.build(**{**settings.model_dump(), "calendar": loaded.calendar})
    server = VenueServer(loaded.bars, settings, key, interval=step)

    async def run() -> None:
        await server.start()
        console.print(
            f"venue listening on {server.url} (stream {server.ws_url}); "
            f"{', '.join(loaded.sources)} at {step}, speed {settings.speed}",
            highlight=False,
            soft_wrap=True,
        )
        await server.serve_forever()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        # uvicorn shut down gracefully (state file closed), then re-raised the interrupt
        console.print("venue stopped", highlight=False)


def _key(generate: bool, show: Any) -> Secret:
    if generate:
        text = secrets.token_urlsafe(32)
        show(f"API key (shown once): {text}", highlight=False, soft_wrap=True)
        return Secret(text)
    text = os.environ.get(KEY_VARIABLE, "")
    if not text:
        raise ConfigError(
            f"set {KEY_VARIABLE} to the venue's API key (or pass --generate-key), e.g. export "
            f'{KEY_VARIABLE}=$(python -c "import secrets; print(secrets.token_urlsafe(32))")'
        )
    return Secret(text)


def _settings(config: Path | None, **options: Any) -> VenueConfig:
    base = load_venue_config(config) if config is not None else VenueConfig()
    values = base.model_dump()
    commission = options.pop("commission")
    fill = options.pop("fill")
    values.update({name: value for name, value in options.items() if value is not None})
    if commission is not None:
        values["commission"] = CommissionConfig.build(
            **{**base.commission.model_dump(), "rate": commission}
        )
    if fill is not None:
        values["fill"] = FillConfig.build(**{**base.fill.model_dump(), "policy": fill})
    return VenueConfig.build(**values)
