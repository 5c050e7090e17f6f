"""The local simulated venue: a real REST + WebSocket server that fills with the shared fill model.

It replays catalog data at a chosen speed and is the paper-trading venue users run without
internet, and the peer the end-to-end tests trade against.
"""

from __future__ import annotations

__all__: list[str] = []
