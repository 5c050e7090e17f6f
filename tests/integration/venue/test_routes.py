"""Every REST route of the venue: happy paths, errors naming the field, and the key on each."""

from __future__ import annotations

import json

import httpx
import pytest
import websockets

from quantstrata.core.secrets import Secret
from quantstrata.live import BrokerError, BrokerUnavailableError, OrderRejectedError
from quantstrata.live.brokers import VenueBroker
from quantstrata.model.identifiers import ClientOrderId
from quantstrata.model.orders import OrderRequest, TimeInForce
from tests.integration.venue.conftest import publish_bars
from tests.kit.venue import HEADERS, KEY, broker, http, market, running_venue


@pytest.mark.asyncio
async def test_every_route_refuses_a_missing_or_wrong_key() -> None:
    async with running_venue(speed="lockstep") as server, http(server) as client:
        routes = [
            (method, path)
            for path, item in server.app.openapi()["paths"].items()
            for method in item
        ]
        assert len(routes) >= 13
        for method, template in [*routes, ("get", "/openapi.json")]:
            path = template.replace("{client_order_id}", "A1").replace("{venue_order_id}", "V1")
            for headers in ({"X-API-Key": ""}, {"X-API-Key": "wrong"}):
                response = await client.request(method, path, headers=headers)
                assert response.status_code == 401, (method, path)
                # an unreadable body must not be judged before the key (422 would be an oracle)
                garbled = await client.request(
                    method,
                    path,
                    headers={**headers, "Content-Type": "application/json"},
                    content="{",
                )
                assert garbled.status_code == 401, (method, path)
                assert "invalid request" not in garbled.text
                assert "X-API-Key" in response.json()["detail"]
                assert "test-venue-key" not in response.text
        spec = await client.get("/openapi.json")
        assert spec.status_code == 200
        assert "/v1/orders" in spec.json()["paths"]
        assert (await client.get("/docs")).status_code == 404


@pytest.mark.asyncio
async def test_submit_is_idempotent_by_client_order_id() -> None:
    async with running_venue(speed="lockstep") as server, http(server) as client:
        first = await client.post("/v1/orders", json={"client_order_id": "A-1", **market(3)})
        again = await client.post("/v1/orders", json={"client_order_id": "A-1", **market(7)})
        listed = await client.get("/v1/orders", params={"status": "all"})
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == first.json()
    assert first.json()["status"] == "pending"
    assert first.json()["quantity"] == 3
    assert [order["client_order_id"] for order in listed.json()] == ["A-1"]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"client_order_id": "A1", **market(0)}, "quantity"),
        ({"client_order_id": "bad id!", **market(1)}, "client_order_id"),
        ({"client_order_id": "A1", **market(1, order_type="limit")}, "limit_price"),
        ({"client_order_id": "A1", **market(1, limit_price=10.0)}, "limit_price"),
        ({"client_order_id": "A1", **market(1, colour="red")}, "colour"),
        ({"client_order_id": "A1", **market(1, side="long")}, "side"),
        ({"client_order_id": "A1", **market(1, trail_percent=1.5)}, "trail_percent"),
        ({"client_order_id": "A1", **market(1, symbol=" SPX")}, "symbol"),
    ],
)
async def test_bad_orders_get_422_naming_the_field(body: dict[str, object], field: str) -> None:
    async with running_venue(speed="lockstep") as server, http(server) as client:
        response = await client.post("/v1/orders", json=body)
        listed = await client.get("/v1/orders", params={"status": "all"})
    assert response.status_code == 422
    assert field in response.json()["detail"]
    assert listed.json() == []


@pytest.mark.asyncio
async def test_unknown_symbol_is_a_recorded_rejection() -> None:
    async with running_venue(speed="lockstep") as server, http(server) as client:
        response = await client.post(
            "/v1/orders", json={"client_order_id": "U1", **market(1, symbol="XYZ")}
        )
        venue = broker(server)
        await venue.connect()
        with pytest.raises(OrderRejectedError, match="unknown symbol") as raised:
            await venue.submit(ClientOrderId("U2"), OrderRequest.market("XYZ", 1))
        queried = await venue.query_order(ClientOrderId("U2"))
        await venue.close()
    assert response.status_code == 201
    assert response.json()["status"] == "rejected"
    assert "XYZ" in response.json()["reason"]
    assert "XYZ" in raised.value.reason
    assert queried is not None
    assert queried.status == "rejected"


@pytest.mark.asyncio
async def test_query_cancel_and_list_orders() -> None:
    async with running_venue(speed="lockstep") as server, http(server) as client:
        created = await client.post(
            "/v1/orders",
            json={"client_order_id": "L1", **market(2, order_type="limit", limit_price=1.0)},
        )
        venue_id = created.json()["venue_order_id"]
        by_client = await client.get("/v1/orders/L1")
        by_venue = await client.get(f"/v1/orders/by-venue-id/{venue_id}")
        open_before = await client.get("/v1/orders")
        cancelled = await client.delete("/v1/orders/L1")
        cancelled_again = await client.delete("/v1/orders/L1")
        open_after = await client.get("/v1/orders")
        missing = [
            await client.get("/v1/orders/NOPE"),
            await client.get("/v1/orders/by-venue-id/V999"),
            await client.delete("/v1/orders/NOPE"),
        ]
        bad_status = await client.get("/v1/orders", params={"status": "closed"})
    assert by_client.json() == by_venue.json() == created.json()
    assert [order["client_order_id"] for order in open_before.json()] == ["L1"]
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled_again.status_code == 409
    assert "cancelled" in cancelled_again.json()["detail"]
    assert open_after.json() == []
    assert [response.status_code for response in missing] == [404, 404, 404]
    assert "NOPE" in missing[0].json()["detail"]
    assert bad_status.status_code == 422
    assert "status" in bad_status.json()["detail"]


@pytest.mark.asyncio
async def test_fills_positions_balances_account_and_klines() -> None:
    async with running_venue(speed="lockstep", cash=50_000.0) as server, http(server) as client:
        await publish_bars(server, 2)
        await client.post("/v1/orders", json={"client_order_id": "B1", **market(4)})
        published = await publish_bars(server, 3)
        fills = (await client.get("/v1/fills")).json()
        later = await client.get("/v1/fills", params={"since": "2100-01-01T00:00:00Z"})
        bad_since = await client.get("/v1/fills", params={"since": "yesterday"})
        positions = (await client.get("/v1/positions")).json()
        balances = (await client.get("/v1/balances")).json()
        account = (await client.get("/v1/account")).json()
        klines = (await client.get("/v1/klines", params={"symbol": "SPX"})).json()
        last_two = (await client.get("/v1/klines", params={"limit": 2})).json()
        before = await client.get("/v1/klines", params={"end": published[0]["ts"]})
        unknown = await client.get("/v1/klines", params={"symbol": "XYZ"})
        bad_limit = await client.get("/v1/klines", params={"limit": 0})
        status = (await client.get("/v1/status")).json()
    assert len(fills) == 1
    fill = fills[0]
    assert fill["client_order_id"] == "B1"
    # a new subscriber first gets the bar time already published (the decision bar)
    assert fill["ts"] == published[1]["ts"] > published[0]["ts"]
    assert fill["price"] == published[1]["bars"][0]["open"]
    assert later.json() == []
    assert bad_since.status_code == 422
    assert "since" in bad_since.json()["detail"]
    assert positions == [
        {
            "symbol": "SPX",
            "quantity": 4.0,
            "average_price": fill["price"],
            "realized_pnl": 0.0,
            "total_commission": 0.0,
        }
    ]
    assert balances["cash"] == pytest.approx(50_000.0 - 4 * fill["price"])
    last_close = published[-1]["bars"][0]["close"]
    assert balances["equity"] == pytest.approx(balances["cash"] + 4 * last_close)
    assert account["positions"] == {"SPX": 4.0}
    assert account["cash"] == balances["cash"]
    assert len(klines) == 4
    assert [bar["ts"] for bar in last_two] == [bar["ts"] for bar in klines[-2:]]
    assert len(before.json()) == 1
    assert unknown.status_code == 404
    assert bad_limit.status_code == 422
    assert status["bars_published"] == 4
    assert status["mode"] == "lockstep"


@pytest.mark.asyncio
async def test_stream_authenticates_by_header_or_first_message() -> None:
    async with running_venue(speed="lockstep") as server:
        with pytest.raises(websockets.exceptions.InvalidStatus):
            async with websockets.connect(server.ws_url, additional_headers={"X-API-Key": "no"}):
                pass
        async with websockets.connect(server.ws_url) as socket:
            await socket.send(json.dumps({"op": "auth", "key": "wrong"}))
            with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                await socket.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1008
        async with websockets.connect(server.ws_url) as socket:
            await socket.send(json.dumps({"op": "auth", "key": HEADERS["X-API-Key"]}))
            ready = json.loads(await socket.recv())
            await socket.send("not json")
            error = json.loads(await socket.recv())
            await socket.send(json.dumps({"op": "ping"}))
            pong = json.loads(await socket.recv())
    assert ready["type"] == "ready"
    assert ready["symbols"] == ["SPX"]
    assert error["type"] == "error"
    assert pong == {"type": "pong"}


@pytest.mark.asyncio
async def test_stream_carries_order_updates_and_bars() -> None:
    async with running_venue(speed="lockstep") as server, http(server) as client:
        async with websockets.connect(server.ws_url, additional_headers=HEADERS) as socket:
            await socket.send(json.dumps({"op": "subscribe", "channels": ["bars", "orders"]}))
            messages = [json.loads(await socket.recv()) for _ in range(2)]
            await client.post("/v1/orders", json={"client_order_id": "W1", **market(1)})
            accepted = json.loads(await socket.recv())
            await socket.send(json.dumps({"op": "ack", "ts": messages[1]["ts"]}))
            filled = json.loads(await socket.recv())
            bars = json.loads(await socket.recv())
    assert [message["type"] for message in messages] == ["ready", "bars"]
    assert accepted["event"] == "accepted"
    assert accepted["venue_order_id"] == "V1"
    assert filled["event"] == "fill"
    assert filled["fill"]["price"] == bars["bars"][0]["open"]
    assert filled["order"]["status"] == "filled"
    assert bars["type"] == "bars"
    assert bars["ts"] > messages[1]["ts"]


@pytest.mark.asyncio
async def test_fault_admin_validates_and_a_request_without_the_header_is_refused() -> None:
    async with running_venue(speed="lockstep") as server, http(server) as client:
        bad_cap = await client.put("/v1/admin/faults", json={"volume_cap": 2})
        unknown = await client.put("/v1/admin/faults", json={"meteor": True})
        kept = (await client.get("/v1/admin/faults")).json()
        set_all = await client.put("/v1/admin/faults", json={"cancel_races_fill": True})
        dropped = await client.post("/v1/admin/drop-streams")
        async with httpx.AsyncClient(base_url=server.url) as bare:
            no_header = await bare.get("/v1/admin/faults")
    assert bad_cap.status_code == 422
    assert "volume_cap" in bad_cap.json()["detail"]
    assert unknown.status_code == 422
    assert "meteor" in unknown.json()["detail"]
    assert kept["volume_cap"] is None
    assert set_all.json()["cancel_races_fill"] is True
    assert dropped.json() == {"dropped": 0}
    assert no_header.status_code == 401


@pytest.mark.asyncio
async def test_broker_errors_for_a_wrong_key_and_an_unreachable_venue() -> None:
    async with running_venue(speed="lockstep") as server:
        url = server.url
        wrong = VenueBroker(url, Secret("not-the-key"))
        with pytest.raises(BrokerError, match="401") as refused:
            await wrong.connect()
        await wrong.close()
    gone = VenueBroker(url, KEY, timeout=1.0)
    with pytest.raises(BrokerUnavailableError) as unavailable:
        await gone.connect()
    with pytest.raises(BrokerUnavailableError):
        await gone.submit(ClientOrderId("G1"), OrderRequest.market("SPX", 1))
    await gone.close()
    assert "not-the-key" not in str(refused.value)
    assert KEY.reveal() not in str(unavailable.value) + repr(gone)


@pytest.mark.asyncio
async def test_the_broker_links_two_working_orders_and_a_fok_order_is_taken() -> None:
    async with running_venue(speed="lockstep") as server, http(server) as client:
        venue = broker(server)
        await venue.connect()
        await venue.submit(ClientOrderId("B1"), OrderRequest.limit("SPX", 1, 1.0))
        await venue.submit(ClientOrderId("S1"), OrderRequest.limit("SPX", -1, 1e6))
        linked = await venue.link(ClientOrderId("B1"), ClientOrderId("S1"))
        again = await venue.link(ClientOrderId("B1"), ClientOrderId("S1"))
        unknown = await venue.link(ClientOrderId("B1"), ClientOrderId("NONE"))
        fok = OrderRequest.market("SPX", 1, time_in_force=TimeInForce.FOK)
        await venue.submit(ClientOrderId("F1"), fok)
        await venue.close()
        cancelled = await client.delete("/v1/orders/B1")
        spec = (await client.get("/openapi.json")).json()
        partner = await client.get("/v1/orders/S1")
        taken = await client.get("/v1/orders/F1")
    assert linked
    assert not again  # linked already: neither works alone
    assert not unknown
    assert cancelled.status_code == 200
    assert partner.json()["status"] == "pending"  # a cancel is no fill: the other works on
    assert "/v1/orders/link" in spec["paths"]
    assert taken.json()["time_in_force"] == "fok"
