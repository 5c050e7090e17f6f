"""The local simulated venue: a real REST + WebSocket server that fills with the shared fill model.

It replays catalog data at a chosen speed and is the paper-trading venue users run without
internet, and the peer the end-to-end tests trade against. See ``docs/venue.md`` for the API.

>>> from quantstrata.venue import VenueConfig
>>> VenueConfig().host
'127.0.0.1'
"""

from __future__ import annotations

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
