"""The local simulated venue: a real REST + WebSocket server that fills with the shared fill model.

It replays catalog data at a chosen speed and is the paper-trading venue users run without
internet, and the peer the end-to-end tests trade against. See ``docs/venue.md`` for the API.

>>> from quantstrata.venue import VenueConfig
>>> VenueConfig().host
'127.0.0.1'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from quantstrata.core._lazy import lazy_exports

if TYPE_CHECKING:
    from quantstrata.venue.app import API_KEY_HEADER, create_venue_app
    from quantstrata.venue.book import VenueBook
    from quantstrata.venue.config import (
        DEFAULT_HOST,
        FaultConfig,
        ReplayMode,
        VenueConfig,
        load_venue_config,
        parse_speed,
    )
    from quantstrata.venue.engine import Venue
    from quantstrata.venue.server import VenueServer

# Each public name and its module, imported on first use (quantstrata.core._lazy).
_EXPORTS = {
    "API_KEY_HEADER": "quantstrata.venue.app",
    "DEFAULT_HOST": "quantstrata.venue.config",
    "FaultConfig": "quantstrata.venue.config",
    "ReplayMode": "quantstrata.venue.config",
    "Venue": "quantstrata.venue.engine",
    "VenueBook": "quantstrata.venue.book",
    "VenueConfig": "quantstrata.venue.config",
    "VenueServer": "quantstrata.venue.server",
    "create_venue_app": "quantstrata.venue.app",
    "load_venue_config": "quantstrata.venue.config",
    "parse_speed": "quantstrata.venue.config",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "API_KEY_HEADER",
    "DEFAULT_HOST",
    "FaultConfig",
    "ReplayMode",
    "Venue",
    "VenueBook",
    "VenueConfig",
    "VenueServer",
    "create_venue_app",
    "load_venue_config",
    "parse_speed",
]
