"""A venue restarted on its state file continues where it stopped."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from quantstrata.core.errors import ConfigError
from quantstrata.venue import VenueConfig, VenueServer
from tests.integration.venue.conftest import publish_bars
from tests.kit.venue import KEY, http, market, running_venue, spx


@pytest.mark.asyncio
async def test_restart_keeps_orders_fills_positions_cash_and_replay_position(
    tmp_path: Path,
) -> None:
    state = tmp_path / "venue.sqlite"
    async with running_venue(speed="lockstep", state=state) as server, http(server) as client:
        await publish_bars(server, 2)
        await client.post("/v1/orders", json={"client_order_id": "M1", **market(5)})
        limit = market(-5, order_type="limit", limit_price=1e6)
        await client.post("/v1/orders", json={"client_order_id": "L1", **limit})
        first = await publish_bars(server, 3)
        before = {
            path: (await client.get(path)).json()
            for path in ("/v1/orders?status=all", "/v1/fills", "/v1/positions", "/v1/account")
        }
        status_before = (await client.get("/v1/status")).json()

    async with running_venue(speed="lockstep", state=state) as server, http(server) as client:
        after = {path: (await client.get(path)).json() for path in before}
        status_after = (await client.get("/v1/status")).json()
        again = await client.post("/v1/orders", json={"client_order_id": "M1", **market(5)})
        new = await client.post("/v1/orders", json={"client_order_id": "N1", **market(1)})
        resumed = await publish_bars(server, 2)
        fills = (await client.get("/v1/fills")).json()

    assert after == before
    assert len(before["/v1/fills"]) == 1
    assert [o["status"] for o in before["/v1/orders?status=all"]] == ["filled", "pending"]
    assert status_after["bars_published"] == status_before["bars_published"] == 4
    assert again.status_code == 200
    assert new.json()["venue_order_id"] == "V3"
    assert resumed[0]["ts"] == first[-1]["ts"]  # the last bar is offered again, then the next
    assert resumed[1]["ts"] == status_before["next_ts"]
    assert fills[-1]["client_order_id"] == "N1"
    assert fills[-1]["ts"] == resumed[1]["ts"]


def test_a_state_file_of_other_data_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "venue.sqlite"
    VenueServer(spx(), VenueConfig(state=state), KEY).venue.close()
    other = spx().with_columns(symbol=pl.lit("OTHER"))
    with pytest.raises(ConfigError, match="state file"):
        VenueServer(other, VenueConfig(state=state), KEY)
