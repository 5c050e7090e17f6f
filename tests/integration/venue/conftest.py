"""Helpers shared by the venue's integration tests."""

from __future__ import annotations

import json
from typing import Any

import websockets

from quantstrata.venue import VenueServer
from tests.kit.venue import HEADERS


async def publish_bars(server: VenueServer, count: int) -> list[dict[str, Any]]:
    """Drive a lockstep venue ``count`` bar times forward with a raw WebSocket client."""
    seen: list[dict[str, Any]] = []
    async with websockets.connect(server.ws_url, additional_headers=HEADERS) as socket:
        await socket.send(json.dumps({"op": "subscribe", "channels": ["bars"]}))
        while len(seen) < count:
            message = json.loads(await socket.recv())
            if message["type"] == "bars":
                seen.append(message)
                if len(seen) < count:
                    await socket.send(json.dumps({"op": "ack", "ts": message["ts"]}))
    return seen
