"""Collaboration over real WebSockets: two gateway instances over one nats-server, real
``websockets`` clients; presence, cursors and selections cross instances through NATS."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
import time

import msgspec
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from alchemist.gateway import GatewaySettings
from alchemist.gateway.collab import COLLAB_SUBJECT, HUB_KEY, CollabLimits, collab_subject, decode_event

pytestmark = pytest.mark.integration

KEYS = {"k-writer": {"subject": "wendy", "read": ["*"], "write": ["g1"]},
        "k-reader": {"subject": "rita", "read": ["g1"]}}


async def frame_where(ws, predicate, timeout: float = 15.0) -> dict:
    """The next frame (decoded) that satisfies ``predicate``, skipping the others."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("no matching frame arrived")
        frame = json.loads(await asyncio.wait_for(ws.recv(), left))
        if predicate(frame):
            return frame


def of(kind, **fields):
    return lambda f: f.get("type") == kind and all(f.get(k) == v for k, v in fields.items())


def test_two_instances_share_presence_cursor_and_selection(gateway_factory):
    one, two = gateway_factory(), gateway_factory()
    assert one.app.state.gateway.instance_id != two.app.state.gateway.instance_id

    async def scenario():
        async with connect(one.ws_url + "/ws/graphs/g1?user=ana&name=Ana&color=%23e6194b") as ana:
            welcome = await frame_where(ana, of("welcome"))
            assert welcome["peers"] == [] and welcome["user"] == {"id": "anonymous:ana", "name": "Ana",
                                                                   "color": "#e6194b"}
            async with connect(two.ws_url + "/ws/graphs/g1?user=bo&name=Bo") as bo:
                # the newcomer on the other instance is welcomed with Ana (from the presence bucket)
                hello = await frame_where(bo, of("welcome"))
                assert [p["user"]["name"] for p in hello["peers"]] == ["Ana"]
                assert hello["peers"][0]["session"] == welcome["session"]
                joined = await frame_where(ana, of("join"))
                assert joined["user"]["name"] == "Bo" and joined["session"] == hello["session"]
                assert joined["instance"] == two.app.state.gateway.instance_id

                await bo.send(json.dumps({"type": "cursor_moved", "x": 1.5, "y": -2.25}))
                cursor = await frame_where(ana, of("cursor_moved"))
                assert (cursor["x"], cursor["y"], cursor["user"]["name"]) == (1.5, -2.25, "Bo")

                await ana.send(json.dumps({"type": "selection_changed", "node_ids": ["a", "b", "a"]}))
                selection = await frame_where(bo, of("selection_changed"))
                assert selection["node_ids"] == ["a", "b"] and selection["user"]["id"] == "anonymous:ana"

                # a third client joining late sees Ana's selection and Bo's cursor in its welcome
                async with connect(one.ws_url + "/ws/graphs/g1?user=cy") as cy:
                    late = await frame_where(cy, of("welcome"))
                    peers = {p["user"]["name"]: p for p in late["peers"]}
                    assert set(peers) == {"Ana", "Bo"}
                    assert peers["Ana"]["node_ids"] == ["a", "b"]
                    assert (peers["Bo"]["x"], peers["Bo"]["y"]) == (1.5, -2.25)
                    assert late["user"]["color"].startswith("#") and len(late["user"]["color"]) == 7
            left = await frame_where(ana, of("leave", session=hello["session"]))
            assert left["user"]["name"] == "Bo"

    asyncio.run(scenario())


def test_events_travel_on_the_documented_nats_subject(gateway, conn):
    """What GraphQL's collaboratorActivity reads: CollaborationEvent JSON on alchemist.collab.<graph>."""
    import nats

    assert collab_subject("g7") == COLLAB_SUBJECT.format(graph_id="g7") == "alchemist.collab.g7"

    async def scenario():
        nc = await nats.connect(conn.options.servers[0])
        seen: list = []

        async def note(msg):
            seen.append(decode_event(msg.data))

        await nc.subscribe("alchemist.collab.g7", cb=note)
        await nc.flush()
        async with connect(gateway.ws_url + "/ws/graphs/g7?name=Dee") as ws:
            await frame_where(ws, of("welcome"))
            await ws.send(json.dumps({"type": "cursor_moved", "x": 3.0, "y": 4.0}))
            deadline = time.monotonic() + 10
            while not any(e.type == "cursor_moved" for e in seen) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        deadline = time.monotonic() + 10
        while not any(e.type == "leave" for e in seen) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await nc.close()
        return seen

    seen = asyncio.run(scenario())
    assert [e.type for e in seen] == ["join", "cursor_moved", "leave"]
    assert {e.graph_id for e in seen} == {"g7"} and {e.user.name for e in seen} == {"Dee"}
    assert (seen[1].x, seen[1].y) == (3.0, 4.0)


def test_malformed_and_oversized_frames_get_error_frames_and_the_socket_stays_usable(gateway_factory):
    gw = gateway_factory()
    limit = CollabLimits().max_frame_bytes

    async def scenario():
        async with connect(gw.ws_url + "/ws/graphs/g2?user=ana", max_size=None) as ana, \
                connect(gw.ws_url + "/ws/graphs/g2?user=bo") as bo:
            await frame_where(ana, of("welcome"))
            await frame_where(bo, of("welcome"))
            bad = ["not json", "[1, 2]", json.dumps({"type": "cursor_moved", "x": "left", "y": 0}),
                   json.dumps({"type": "cursor_moved", "x": 1e308 * 10, "y": 0}).replace("Infinity", "1e999"),
                   json.dumps({"type": "teleport"}), json.dumps({"type": "cursor_moved", "x": 1, "y": 2, "z": 3}),
                   json.dumps({"type": "selection_changed", "node_ids": [1, 2]})]
            for text in bad:
                await ana.send(text)
                error = await frame_where(ana, of("error"))
                assert error["code"] == "invalid_message", (text, error)
            huge = json.dumps({"type": "selection_changed", "node_ids": ["n" * 100] * (limit // 100 + 10)})
            assert len(huge) > limit
            await ana.send(huge)
            error = await frame_where(ana, of("error"))
            assert error["code"] == "too_large" and str(limit) in error["message"]
            await ana.send(b'{"type": "ping"}')  # a binary frame with JSON is read too
            assert (await frame_where(ana, lambda f: True))["type"] == "pong"
            await ana.send(json.dumps({"type": "join", "name": "Ana B", "color": "red"}))
            assert "color" in (await frame_where(ana, of("error")))["message"]
            await ana.send(json.dumps({"type": "join", "name": "Ana B", "color": "#112233"}))
            renamed = await frame_where(bo, lambda f: f["type"] == "join" and f["user"]["name"] != "anonymous:ana")
            assert renamed["user"] == {"id": "anonymous:ana", "name": "Ana B", "color": "#112233"}
            await ana.send(json.dumps({"type": "cursor_moved", "x": 7.0, "y": 8.0}))
            cursor = await frame_where(bo, of("cursor_moved"))
            assert (cursor["x"], cursor["y"], cursor["user"]["name"]) == (7.0, 8.0, "Ana B")

    asyncio.run(scenario())


def test_unauthorized_and_forbidden_clients_are_refused(gateway_factory):
    gw = gateway_factory(GatewaySettings(api_keys=KEYS))

    async def status_of(url, **kw):
        try:
            async with connect(url, **kw):
                return 101
        except InvalidStatus as exc:
            return exc.response.status_code

    async def scenario():
        assert await status_of(gw.ws_url + "/ws/graphs/g1") == 401
        assert await status_of(gw.ws_url + "/ws/graphs/g1?token=wrong") == 401
        assert await status_of(gw.ws_url + "/ws/graphs/g2", additional_headers={"X-API-Key": "k-reader"}) == 403
        assert await status_of(gw.ws_url + "/ws/graphs/g.1", additional_headers={"X-API-Key": "k-writer"}) == 400
        # a reader joins (token in the query, as a browser does) but may not share a selection
        async with connect(gw.ws_url + "/ws/graphs/g1?token=k-reader") as rita, \
                connect(gw.ws_url + "/ws/graphs/g1", additional_headers={"X-API-Key": "k-writer"}) as wendy:
            welcome = await frame_where(rita, of("welcome"))
            assert welcome["user"]["id"] == "rita" and welcome["can_write"] is False
            assert (await frame_where(wendy, of("welcome")))["can_write"] is True
            await rita.send(json.dumps({"type": "selection_changed", "node_ids": ["a"]}))
            error = await frame_where(rita, of("error"))
            assert error["code"] == "forbidden" and "rita" in error["message"]
            await rita.send(json.dumps({"type": "cursor_moved", "x": 1.0, "y": 1.0}))  # reading is enough
            assert (await frame_where(wendy, of("cursor_moved")))["user"]["id"] == "rita"
            await wendy.send(json.dumps({"type": "selection_changed", "node_ids": ["b"]}))
            assert (await frame_where(rita, of("selection_changed")))["node_ids"] == ["b"]

    asyncio.run(scenario())


def test_cursor_updates_are_throttled_and_the_last_position_arrives(gateway_factory):
    gw = gateway_factory()
    rate = CollabLimits().cursor_rate

    async def scenario():
        # Bo connects only once Ana is welcomed: a join that lands before Ana's own join is done
        # reaches her in her welcome's peers, not as a join frame
        async with connect(gw.ws_url + "/ws/graphs/g3?user=ana") as ana:
            await frame_where(ana, of("welcome"))
            async with connect(gw.ws_url + "/ws/graphs/g3?user=bo") as bo:
                await frame_where(bo, of("welcome"))
                await frame_where(ana, of("join"))
                return await cursors(ana, bo)

    async def cursors(ana, bo):
        start = time.monotonic()
        for i in range(200):
            await bo.send(json.dumps({"type": "cursor_moved", "x": float(i), "y": 0.0}))
        sent = time.monotonic() - start
        received = []
        while not received or received[-1] != 199.0:
            received.append((await frame_where(ana, of("cursor_moved")))["x"])
        span = time.monotonic() - start
        return received, sent, span

    received, sent, span = asyncio.run(scenario())
    assert received == sorted(received) and received[-1] == 199.0  # in order, the last one delivered
    # at most one per 1/rate seconds over the whole span (plus the first and the trailing one)
    assert len(received) <= math.ceil(span * rate) + 2 < 200


def test_collaboration_event_json_round_trip():
    from alchemist.gateway.collab import CollaborationEvent, User

    data = b'{"type":"selection_changed","graph_id":"g","session":"s","user":{"id":"u","name":"U",' \
           b'"color":"#000000"},"timestamp":"2026-01-01T00:00:00.000Z","node_ids":["a"]}'
    event = decode_event(data)
    assert event == CollaborationEvent("selection_changed", "g", "s", User("u", "U", "#000000"),
                                       "2026-01-01T00:00:00.000Z", node_ids=["a"])
    with pytest.raises(msgspec.ValidationError):
        decode_event(b'{"type":"join"}')


@dataclasses.dataclass(frozen=True)
class QuickSettings(GatewaySettings):
    """Settings with the collaboration limits the gateway reads (``collab_limits``), here short ones."""

    collab_limits: CollabLimits = CollabLimits(presence_ttl_s=2.0, heartbeat_s=0.5)


def test_the_sessions_of_an_instance_that_died_expire_from_presence(gateway_factory):
    one, two = gateway_factory(QuickSettings()), gateway_factory(QuickSettings())
    hub_two = two.app.state.gateway.extras[HUB_KEY]

    async def silent(*args, **kwargs):
        return None

    async def scenario():
        async with connect(one.ws_url + "/ws/graphs/g5?user=ana") as ana:
            await frame_where(ana, of("welcome"))
            async with connect(two.ws_url + "/ws/graphs/g5?user=bo") as bo:
                bo_session = (await frame_where(bo, of("welcome")))["session"]
                await frame_where(ana, of("join", session=bo_session))
                # instance two dies: no more heartbeats, no leave, its presence key left to expire
                hub_two.stop_heartbeat()
                hub_two.publish = silent
                hub_two.kv.delete = silent
            left = await frame_where(ana, of("leave", session=bo_session), timeout=20)
            assert left["user"]["id"] == "anonymous:bo"
            # a newcomer is not told about Bo any more
            async with connect(one.ws_url + "/ws/graphs/g5?user=cy") as cy:
                assert [p["user"]["id"] for p in (await frame_where(cy, of("welcome")))["peers"]] == ["anonymous:ana"]

    asyncio.run(scenario())
