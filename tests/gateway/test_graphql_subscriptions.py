"""GraphQL subscriptions over WebSocket (graphql-transport-ws, the gql client) and the layout job,
against real gateways over a real nats-server."""

from __future__ import annotations

import asyncio
import json

import pytest
from gql import Client, GraphQLRequest
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

pytestmark = pytest.mark.integration

UPDATES = """subscription($g: ID!, $after: Int) {
  graphUpdates(graphId: $g, afterVersion: $after) { graphId eventType version actor payload }
}"""


async def execute(url, query, variables=None, headers=None):
    async with Client(transport=HTTPXAsyncTransport(url=url + "/graphql", headers=headers, timeout=60),
                      fetch_schema_from_transport=False) as session:
        return await session.execute(GraphQLRequest(query, variable_values=variables or {}))


async def collect(ws_url, query, variables, n, *, headers=None, init_payload=None, timeout=30.0):
    out = []
    transport = WebsocketsTransport(url=ws_url + "/graphql", headers=headers, init_payload=init_payload)
    async with Client(transport=transport, fetch_schema_from_transport=False) as session:
        async def take():
            async for item in session.subscribe(GraphQLRequest(query, variable_values=variables)):
                out.append(item)
                if len(out) >= n:
                    return
        await asyncio.wait_for(take(), timeout)
    return out


def test_a_subscriber_sees_the_events_of_mutations_made_through_another_instance(gateway_factory):
    first, second = gateway_factory(), gateway_factory()

    async def scenario():
        created = await execute(first.url, 'mutation { createGraph(input: {id: "live", name: "L"}) { version } }')
        version = created["createGraph"]["version"]
        listener = asyncio.create_task(collect(second.ws_url, UPDATES, {"g": "live", "after": version}, 2))
        await execute(first.url, 'mutation { addNode(graphId: "live", input: {id: "a", label: "X"}) { id } }')
        await execute(first.url, 'mutation { addNode(graphId: "live", input: {id: "b"}) { id } }')
        return version, await listener

    version, updates = asyncio.run(scenario())
    got = [u["graphUpdates"] for u in updates]
    assert [(u["eventType"], u["payload"]["node_id"], u["actor"]) for u in got] == [
        ("node_added", "a", "anonymous"), ("node_added", "b", "anonymous")]
    assert [u["version"] for u in got] == [version + 1, version + 2] and {u["graphId"] for u in got} == {"live"}


def test_apply_layout_answers_a_job_and_the_positions_arrive_as_an_event(gateway, conn):
    import networkx as nx

    async def scenario():
        await execute(gateway.url, 'mutation { createGraph(input: {id: "lay"}) { id } }')
        for i in range(6):
            await execute(gateway.url, 'mutation($i: ID!) { addNode(graphId: "lay", input: {id: $i}) { id } }',
                          {"i": f"n{i}"})
        for i in range(6):
            await execute(gateway.url, 'mutation($s: ID!, $t: ID!) { createEdge(input: {graphId: "lay", source: $s, '
                                       'target: $t}) { edgeId } }', {"s": f"n{i}", "t": f"n{(i + 1) % 6}"})
        version = (await execute(gateway.url, '{ graph(id: "lay") { version } }'))["graph"]["version"]
        listener = asyncio.create_task(collect(gateway.ws_url, UPDATES, {"g": "lay", "after": version}, 1,
                                               timeout=120))
        job = (await execute(gateway.url, 'mutation($v: Int) { applyLayout(graphId: "lay", algorithm: FORCE_ATLAS2, '
                                          'iterations: 50, expectedVersion: $v) { id status version } }',
                             {"v": version}))["applyLayout"]
        update = (await listener)[0]["graphUpdates"]
        status = (await execute(gateway.url, 'query($id: ID!) { layoutJob(id: $id) { status eventVersion } }',
                                {"id": job["id"]}))["layoutJob"]
        positions = (await execute(gateway.url, '{ nodes(graphId: "lay") { edges { node { nodeId position { x y } } } } }'))
        return version, job, update, status, positions

    version, job, update, status, positions = asyncio.run(scenario())
    assert job["status"] == "QUEUED" and job["version"] == version
    assert update["eventType"] == "layout_applied" and update["payload"]["job_id"] == job["id"]
    assert sorted(update["payload"]["positions"]) == [f"n{i}" for i in range(6)]
    assert status == {"status": "DONE", "eventVersion": update["version"]}
    served = {e["node"]["nodeId"]: (e["node"]["position"]["x"], e["node"]["position"]["y"])
              for e in positions["nodes"]["edges"]}
    event_positions = update["payload"]["positions"]  # the graph keeps float32 positions
    assert served == {k: pytest.approx(tuple(v), rel=1e-6) for k, v in event_positions.items()}
    # a ring laid out by ForceAtlas2: neighbours closer than the nodes across the ring
    ring = nx.cycle_graph([f"n{i}" for i in range(6)])
    dist = lambda a, b: ((served[a][0] - served[b][0]) ** 2 + (served[a][1] - served[b][1]) ** 2) ** 0.5  # noqa: E731
    assert max(dist(a, b) for a, b in ring.edges()) < min(dist(f"n{i}", f"n{i + 3}") for i in range(3))
    assert conn.events("lay")[-1].metadata == {"actor": "anonymous"}


def test_collaborator_activity_and_ai_insights_come_from_their_nats_subjects(gateway, conn):
    from alchemist.gateway.graphql_api.subscriptions import collaboration_subject

    async def scenario():
        await execute(gateway.url, 'mutation { createGraph(input: {id: "co"}) { id } }')
        collab = asyncio.create_task(collect(gateway.ws_url, 'subscription { collaboratorActivity(graphId: "co") '
                                                               '{ kind user payload } }', {}, 1))
        insights = asyncio.create_task(collect(gateway.ws_url, 'subscription { aiInsights(graphId: "co") '
                                                                 '{ kind agent result } }', {}, 1))
        body = {"type": "cursor_moved", "graph_id": "co", "session": "s1", "timestamp": "2026-01-01T00:00:00Z",
                "user": {"id": "ana", "name": "Ana", "color": "#e6194b"}, "x": 1.5, "y": -2.0}
        insight = {"insight_id": "i1", "agent": "analysis", "kind": "communities", "graph_id": "co",
                   "result": {"modularity": 0.4}}
        other = dict(insight, graph_id="elsewhere", insight_id="i0")
        for _ in range(100):  # until both subscriptions are in place (core NATS has no replay)
            await asyncio.sleep(0.1)
            conn.run(conn.nc.publish(collaboration_subject("co"), json.dumps(body).encode()))
            conn.run(conn.nc.publish("ai.insights.graph", json.dumps(other).encode()))
            conn.run(conn.nc.publish("ai.insights.graph", json.dumps(insight).encode()))
            if collab.done() and insights.done():
                break
        return (await collab)[0]["collaboratorActivity"], (await insights)[0]["aiInsights"]

    activity, insight = asyncio.run(scenario())
    assert activity["kind"] == "cursor_moved" and activity["user"] == "ana"
    assert (activity["payload"]["x"], activity["payload"]["y"]) == (1.5, -2.0)
    assert insight == {"kind": "communities", "agent": "analysis", "result": {"modularity": 0.4}}


def test_a_subscription_needs_read_access(gateway_factory):
    from alchemist.gateway.settings import GatewaySettings

    gw = gateway_factory(GatewaySettings(api_keys={"k": {"subject": "ana", "read": ["mine"]}}, rate_limit=None))

    async def scenario():
        try:
            await collect(gw.ws_url, UPDATES, {"g": "secret"}, 1, headers={"X-API-Key": "k"}, timeout=20)
        except Exception as exc:  # noqa: BLE001 - gql raises TransportQueryError with the GraphQL error
            return exc
        return None

    error = asyncio.run(scenario())
    assert error is not None and "FORBIDDEN" in repr(getattr(error, "errors", error))
