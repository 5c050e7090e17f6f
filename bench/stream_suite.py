"""The stream suite: TickDB stream client end to end (frame → parse → bar) vs a raw receive loop.

Both sides connect to the same local WebSocket feed (``127.0.0.1``, started in ``setup``) that
answers the subscribe command and then sends ``messages`` trade frames as fast as it can. The
peer is the bare ``websockets`` loop that only counts frames; quantstrata parses every frame,
de-duplicates trades and builds 1-minute bars (six trades a bar), so the ratio (peer time over
quantstrata time) is the share of raw throughput the client keeps. Goals: ratio >= 0.5 and
>= 50k messages/s. The first, partly seen bar is a gap; its backfill returns no rows here
(no REST in this measurement).
"""

from __future__ import annotations

import asyncio
import atexit
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from bench.harness import Goal, Side, Size, Suite, Task

__all__ = ["RATIO_GOAL", "SUITE", "goal_line"]

MESSAGES = 500_000
TRADES_PER_BAR = 6
RATIO_GOAL = 0.5
RATE_GOAL = 50_000
START_MS = 1_699_999_980_000
STEP_MS = 10_000
KEY = "bench-key"


@dataclass
class _Feed:
    port: int
    messages: int


def _frames(count: int) -> list[str]:
    frames = []
    for index in range(count):
        trade = {
            "id": str(index),
            "price": f"{100 + (index * 37) % 200 / 100:.2f}",
            "quantity": str(index % 5 + 1),
            "side": "buy",
            "timestamp": START_MS + index * STEP_MS,
        }
        frames.append(
            json.dumps({"cmd": "trade", "data": {"symbol": "BTCUSDT", "trades": [trade]}})
        )
    return frames


def _frame_bytes(text: str) -> bytes:
    """Encode one unmasked server text frame (RFC 6455) so the feed is never the bottleneck."""
    payload = text.encode()
    length = len(payload)
    if length < 126:
        return bytes([0x81, length]) + payload
    return bytes([0x81, 126]) + length.to_bytes(2, "big") + payload


def serve_feed(count: int) -> None:
    """Run the feed (in its own process): print the port, then serve until killed."""
    from websockets.asyncio.server import ServerConnection, serve

    blob = b"".join(_frame_bytes(frame) for frame in _frames(count))

    async def handler(connection: ServerConnection) -> None:
        async for message in connection:
            request = json.loads(message)
            if request.get("cmd") == "ping":
                await connection.send('{"cmd":"pong","code":0,"message":"pong","data":{}}')
            elif request.get("cmd") == "subscribe":
                answer = {"channel": "trade", "symbols": ["BTCUSDT"]}
                await connection.send(json.dumps({"cmd": "subscribe", "code": 0, "data": answer}))
                for offset in range(0, len(blob), 1 << 20):
                    connection.transport.write(blob[offset : offset + (1 << 20)])
                    await asyncio.sleep(0)

    async def main() -> None:
        async with serve(handler, "127.0.0.1", 0, compression=None, ping_interval=None) as server:
            print(next(iter(server.sockets)).getsockname()[1], flush=True)
            await asyncio.Future()

    asyncio.run(main())


def _start_feed(size: Size, _: Path) -> _Feed:
    count = size.rows(MESSAGES, tiny=6_000)
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.stream_suite", str(count)],
        stdout=subprocess.PIPE,
        text=True,
    )
    atexit.register(process.kill)
    line = process.stdout.readline() if process.stdout is not None else ""
    return _Feed(int(line), count)


async def _no_rest(*_: object) -> pl.DataFrame:
    from quantstrata.model.bar import BAR_SCHEMA

    return pl.DataFrame(schema=BAR_SCHEMA)


def _client_run(feed: _Feed) -> int:
    from quantstrata.core.secrets import Secret
    from quantstrata.data.stream import StreamConfig, TickDBStream

    expected = feed.messages // TRADES_PER_BAR - 1  # the last bar stays open

    async def main() -> int:
        config = StreamConfig(
            url=f"ws://127.0.0.1:{feed.port}/v1/realtime",
            # The feed writes every frame at once, so a pong waits behind the whole backlog:
            # heartbeats long enough not to count that as a dead connection.
            heartbeat_seconds=600.0,
            stale_after_seconds=600.0,
            protocol_ping_seconds=None,
            late_tolerance_ms=0,
            queue_size=100_000,
        )
        stream = TickDBStream(Secret(KEY), ["BTCUSDT"], "1m", _no_rest, config=config)
        bars = 0
        async for _ in stream.bars():
            bars += 1
            if bars >= expected - 1:  # the first, partial bar arrives as a gap with no rows
                break
        await stream.close()
        return stream.counters.messages

    return asyncio.run(main())


def _raw_run(feed: _Feed) -> int:
    from websockets.asyncio.client import connect

    async def main() -> int:
        received = 0
        async with connect(
            f"ws://127.0.0.1:{feed.port}/v1/realtime?api_key={KEY}",
            compression=None,
            ping_interval=None,
            proxy=None,
            max_queue=64,
        ) as socket:
            await socket.send(json.dumps({"cmd": "subscribe", "data": {"channel": "trade"}}))
            async for _ in socket:
                received += 1
                if received > feed.messages:  # the acknowledgement plus every trade frame
                    break
        return received

    return asyncio.run(main())


def _digest(feed: _Feed, received: int) -> str:
    complete = received >= feed.messages - 2 * TRADES_PER_BAR  # the client stops at the last bar
    return f"{feed.messages} trade frames sent, {'all' if complete else 'NOT all'} read"


SUITE = Suite(
    name="stream",
    description="TickDB stream client (parse → bar) vs a raw websockets receive loop, same feed",
    peer="websockets (raw receive loop)",
    tasks=(
        Task(
            name="parse_to_bar",
            description=f"{MESSAGES:,} trade frames over local WebSocket; goals >= "
            f"{RATE_GOAL:,} msgs/s and ratio >= {RATIO_GOAL} of raw",
            rows=lambda size: size.rows(MESSAGES, tiny=6_000),
            quantstrata=Side("quantstrata TickDBStream", _start_feed, _client_run, _digest),
            peer=Side("raw websockets loop", _start_feed, _raw_run, _digest),
            goal=Goal.rate(RATE_GOAL),
            repeat=3,
        ),
    ),
)


def goal_line(results: list[Any]) -> str:
    """Return one line stating the ratio goal (quantstrata throughput over raw)."""
    parts = []
    for result in results:
        ratio = result.ratio
        if ratio is None:
            parts.append(f"{result.task.name}: ratio unavailable")
        else:
            verdict = "met" if ratio >= RATIO_GOAL else "NOT met"
            parts.append(
                f"{result.task.name}: quantstrata keeps {ratio:.2f} of raw throughput "
                f"(goal >= {RATIO_GOAL}: {verdict})"
            )
    return "; ".join(parts)


if __name__ == "__main__":
    serve_feed(int(sys.argv[1]))
