"""GraphQL at /graphql against real gateways (uvicorn) over a real nats-server: queries, mutations,
optimistic concurrency, time travel, paths, auth, and two instances over one CIM."""

from __future__ import annotations

import httpx
import networkx as nx
import pytest

from alchemist.gateway.settings import GatewaySettings

pytestmark = pytest.mark.integration


def gql_post(gw, query, variables=None, headers=None):
    response = httpx.post(gw.url + "/graphql", json={"query": query, "variables": variables or {}},
                          headers=headers or {}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def refusal(gw, query, variables, headers):
    """The code of a refusal: HTTP 401/403 from the gateway's middleware, or the GraphQL error's."""
    response = httpx.post(gw.url + "/graphql", json={"query": query, "variables": variables}, headers=headers,
                          timeout=60)
    if response.status_code in (401, 403):
        return {401: "UNAUTHENTICATED", 403: "FORBIDDEN"}[response.status_code]
    assert response.status_code == 200 and response.json()["data"] is None, response.text
    return response.json()["errors"][0]["extensions"]["code"]


def ok(gw, query, variables=None, headers=None):
    body = gql_post(gw, query, variables, headers)
    assert "errors" not in body, body
    return body["data"]


CREATE = "mutation($id: ID!, $directed: Boolean!) { createGraph(input: {id: $id, name: \"Test\", directed: $directed}) { id version name directed } }"
ADD = "mutation($g: ID!, $id: ID!, $v: Int) { addNode(graphId: $g, input: {id: $id, label: \"Person\", properties: {age: 3}}, expectedVersion: $v) { id nodeId label properties degree version } }"
EDGE = "mutation($g: ID!, $s: ID!, $t: ID!, $w: Float!) { createEdge(input: {graphId: $g, source: $s, target: $t, weight: $w}) { edgeId sourceId targetId weight version } }"


def build(gw, graph_id, edges, directed=False):
    ok(gw, CREATE, {"id": graph_id, "directed": directed})
    for node in dict.fromkeys(x for e in edges for x in e[:2]):
        ok(gw, ADD, {"g": graph_id, "id": node})
    version = None
    for s, t, *w in edges:
        version = ok(gw, EDGE, {"g": graph_id, "s": s, "t": t, "w": float(w[0]) if w else 1.0})["createEdge"]["version"]
    return version


def test_mutations_publish_events_with_the_actor_and_queries_read_them(gateway, conn):
    data = ok(gateway, CREATE, {"id": "g1", "directed": False})["createGraph"]
    assert data == {"id": "g1", "version": 1, "name": "Test", "directed": False}
    node = ok(gateway, ADD, {"g": "g1", "id": "a", "v": 1})["addNode"]
    assert node == {"id": "g1/a", "nodeId": "a", "label": "Person", "properties": {"age": 3}, "degree": 0,
                    "version": 2}
    ok(gateway, ADD, {"g": "g1", "id": "b"})
    edge = ok(gateway, EDGE, {"g": "g1", "s": "a", "t": "b", "w": 2.5})["createEdge"]
    assert (edge["sourceId"], edge["targetId"], edge["weight"], edge["version"]) == ("a", "b", 2.5, 4)
    updated = ok(gateway, 'mutation { updateNode(id: "g1/b", input: {label: "Robot", properties: {k: "v"}}) '
                          '{ label properties } }')["updateNode"]
    assert updated == {"label": "Robot", "properties": {"age": 3, "k": "v"}}  # merged

    events = conn.events("g1")  # the stream is the audit log
    assert [e.event_type for e in events] == ["graph_created", "node_added", "node_added", "edge_added",
                                              "node_updated"]
    assert {e.metadata["actor"] for e in events} == {"anonymous"}
    assert all(b.previous_cid == a.cid for a, b in zip(events, events[1:]))  # chained
    graph = conn.graph("g1", live=False)
    assert graph.node("b") == {"id": "b", "label": "Robot", "age": 3, "k": "v"}

    data = ok(gateway, '{ graph(id: "g1") { id version nodeCount edgeCount eventCount directed '
                       'nodes(first: 1) { totalCount pageInfo { hasNextPage endCursor } edges { node { nodeId degree '
                       'neighbors { nodeId } } } } } }')["graph"]
    assert (data["version"], data["nodeCount"], data["edgeCount"], data["eventCount"]) == (5, 2, 1, 5)
    assert data["nodes"]["totalCount"] == 2 and data["nodes"]["pageInfo"]["hasNextPage"]
    assert data["nodes"]["edges"][0]["node"] == {"nodeId": "a", "degree": 1, "neighbors": [{"nodeId": "b"}]}
    after = data["nodes"]["pageInfo"]["endCursor"]
    rest = ok(gateway, "query($a: String) { nodes(graphId: \"g1\", first: 5, after: $a) { edges { node { nodeId } } "
                       "pageInfo { hasNextPage hasPreviousPage } } }", {"a": after})["nodes"]
    assert [e["node"]["nodeId"] for e in rest["edges"]] == ["b"]
    assert rest["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": True}

    assert ok(gateway, 'mutation { removeEdge(id: "g1/' + edge_id(conn, "g1") + '") }')["removeEdge"] is True
    assert ok(gateway, 'mutation { removeNode(id: "g1/a") }')["removeNode"] is True
    assert conn.graph("g1", live=False).node_ids == ["b"]
    assert ok(gateway, '{ node(id: "g1/a") { id } }')["node"] is None
    assert ok(gateway, '{ graph(id: "nope") { id } }')["graph"] is None
    assert ok(gateway, '{ node(id: "nope/a") { id } }')["node"] is None


def edge_id(conn, graph_id):
    return conn.graph(graph_id, live=False).edge_ids[0]


def test_a_stale_expected_version_is_a_conflict_and_writes_nothing(gateway, conn):
    ok(gateway, CREATE, {"id": "g2", "directed": True})
    ok(gateway, ADD, {"g": "g2", "id": "a", "v": 1})
    body = gql_post(gateway, ADD, {"g": "g2", "id": "b", "v": 1})  # someone else wrote version 2
    error = body["errors"][0]
    assert error["extensions"] == {"code": "VERSION_CONFLICT", "expectedVersion": 1, "actualVersion": 2}
    assert "expectedVersion 1" in error["message"]
    assert [e.event_type for e in conn.events("g2")] == ["graph_created", "node_added"]
    again = gql_post(gateway, CREATE, {"id": "g2", "directed": False})  # an id that exists
    assert again["errors"][0]["extensions"]["code"] == "VERSION_CONFLICT"
    duplicate = gql_post(gateway, ADD, {"g": "g2", "id": "a"})  # a node that exists: checked before publishing
    assert duplicate["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    missing = gql_post(gateway, EDGE, {"g": "g2", "s": "a", "t": "zz", "w": 1.0})
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert len(conn.events("g2")) == 2


def test_time_travel_returns_the_graph_as_it_was(gateway, conn):
    build(gateway, "tt", [("a", "b"), ("b", "c")])
    version_after_b = conn.events("tt")[2].sequence  # graph_created, node a, node b
    ok(gateway, 'mutation { removeNode(id: "tt/a") }')
    past = ok(gateway, "query($v: Int) { graph(id: \"tt\", version: $v) { version nodeCount edgeCount "
                       "nodes(first: 10) { edges { node { nodeId } } } } }", {"v": version_after_b})["graph"]
    expected = conn.graph_at("tt", sequence=version_after_b)
    assert past["version"] == version_after_b
    assert (past["nodeCount"], past["edgeCount"]) == (expected.number_of_nodes(), expected.number_of_edges()) == (2, 0)
    assert [e["node"]["nodeId"] for e in past["nodes"]["edges"]] == expected.node_ids == ["a", "b"]
    now = ok(gateway, '{ graph(id: "tt") { nodeCount edgeCount } }')["graph"]
    assert now == {"nodeCount": 2, "edgeCount": 1}  # b, c and the edge b-c


def test_find_path_matches_networkx(gateway, conn):
    import random

    rng = random.Random(7)
    G = nx.gnm_random_graph(60, 150, seed=7)
    edges = [(f"n{u}", f"n{v}", rng.choice([1, 2, 5])) for u, v in G.edges()]
    build(gateway, "paths", edges)
    H = nx.Graph()
    H.add_weighted_edges_from(edges)
    query = ("query($a: ID!, $b: ID!, $w: Boolean!) { findPath(from: $a, to: $b, graphId: \"paths\", maxDepth: 50, "
             "weighted: $w) { nodeIds length totalWeight nodes { nodeId } } }")
    checked = 0
    for a, b in [("n0", "n59"), ("n3", "n41"), ("n10", "n22"), ("n7", "n8")]:
        if a not in H or b not in H or not nx.has_path(H, a, b):
            continue
        hops = ok(gateway, query, {"a": a, "b": b, "w": False})["findPath"]
        assert hops["length"] == nx.shortest_path_length(H, a, b)
        path = hops["nodeIds"]
        assert path[0] == a and path[-1] == b and all(H.has_edge(u, v) for u, v in zip(path, path[1:]))
        assert [n["nodeId"] for n in hops["nodes"]] == path
        weighted = ok(gateway, query, {"a": a, "b": b, "w": True})["findPath"]
        assert weighted["totalWeight"] == pytest.approx(nx.dijkstra_path_length(H, a, b))
        checked += 1
    assert checked >= 3
    short = ok(gateway, 'query { findPath(from: "paths/n0", to: "paths/n59", maxDepth: 1) { length } }')
    assert short["findPath"] is None or nx.shortest_path_length(H, "n0", "n59") <= 1


def test_statistics_clusters_and_search(gateway, conn):
    two_triangles = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "e"), ("e", "f"), ("f", "d")]
    build(gateway, "tri", two_triangles)
    stats = ok(gateway, '{ graphStatistics(id: "tri") { nodeCount edgeCount density components '
                        'degree { max mean } } }')["graphStatistics"]
    H = nx.Graph(two_triangles)
    assert stats["nodeCount"] == 6 and stats["edgeCount"] == 7 and stats["components"] == 1
    assert stats["density"] == pytest.approx(nx.density(H))
    assert stats["degree"] == {"max": 3.0, "mean": pytest.approx(14 / 6)}
    clusters = ok(gateway, '{ clusterAnalysis(graphId: "tri", algorithm: LOUVAIN) { id size modularity members } }')
    parts = [set(c["members"]) for c in clusters["clusterAnalysis"]]
    assert sorted(map(sorted, parts)) == [["a", "b", "c"], ["d", "e", "f"]]
    assert clusters["clusterAnalysis"][0]["modularity"] == pytest.approx(
        nx.community.modularity(H, [{"a", "b", "c"}, {"d", "e", "f"}]))
    found = ok(gateway, '{ searchNodes(query: "PERSON", limit: 3, graphId: "tri") { id } }')["searchNodes"]
    assert [n["id"] for n in found] == ["tri/a", "tri/b", "tri/c"]  # every node's label is Person: row order
    assert ok(gateway, '{ searchNodes(query: "e") { nodeId } }')["searchNodes"][0]["nodeId"] == "e"  # exact id first
    listing = ok(gateway, '{ graphs(filter: {idContains: "TR"}) { totalCount edges { node { id name nodeCount } } } }')
    assert listing["graphs"] == {"totalCount": 1, "edges": [{"node": {"id": "tri", "name": "Test", "nodeCount": 6}}]}


def test_graph_listing_pages_with_cursors(gateway):
    for graph_id in ("p1", "p2", "p3"):
        ok(gateway, CREATE, {"id": graph_id, "directed": False})
    seen, after = [], None
    while True:
        page = ok(gateway, "query($a: String) { graphs(pagination: {first: 2, after: $a}) { totalCount "
                           "pageInfo { hasNextPage endCursor } edges { node { id version } } } }", {"a": after})["graphs"]
        assert page["totalCount"] == 3
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ["p1", "p2", "p3"]


def test_hostile_queries_are_refused_before_they_run(gateway_factory):
    gw = gateway_factory(GatewaySettings(graphql_max_depth=6, max_page_size=100, graphql_max_complexity=500))
    ok(gw, CREATE, {"id": "h", "directed": False})
    deep = "{ graph(id: \"h\") { nodes { edges { node { neighbors { neighbors { neighbors { neighbors { id } } } } } } } } }"
    error = gql_post(gw, deep)["errors"][0]
    assert error["extensions"]["code"] == "QUERY_REJECTED" and error["extensions"]["limit"] == "graphql_max_depth"
    assert "graphql_max_depth is 6" in error["message"]
    huge = gql_post(gw, '{ nodes(graphId: "h", first: 100000) { totalCount } }')
    assert huge["errors"][0]["extensions"]["code"] == "QUERY_REJECTED"
    assert "max_page_size of 100" in huge["errors"][0]["message"]
    costly = gql_post(gw, '{ nodes(graphId: "h", first: 100) { edges { node { neighbors(first: 100) { id } } } } }')
    assert costly["errors"][0]["extensions"]["limit"] == "graphql_max_complexity" and costly["data"] is None
    aliases = "{ " + " ".join(f"a{i}: graph(id: \"h\") {{ id }}" for i in range(40)) + " }"
    refused = gql_post(gw, aliases)["errors"][0]
    assert refused["extensions"]["limit"] == "graphql_max_aliases" and "40 aliases" in refused["message"]
    assert ok(gw, '{ graph(id: "h") { nodeCount } }')["graph"]["nodeCount"] == 0  # the server still answers


def test_credentials_are_required_and_writes_authorized_per_graph(gateway_factory, conn):
    keys = {"reader-key": {"subject": "rita", "read": ["*"]},
            "writer-key": {"subject": "walt", "read": ["*"], "write": ["mine"]}}
    gw = gateway_factory(GatewaySettings(api_keys=keys, rate_limit=None))
    for headers in ({}, {"X-API-Key": "guess"}):  # the HTTP middleware answers 401, or the resolver refuses
        assert refusal(gw, CREATE, {"id": "mine", "directed": False}, headers) == "UNAUTHENTICATED"
    denied = gql_post(gw, CREATE, {"id": "mine", "directed": False}, {"X-API-Key": "reader-key"})
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert conn.aggregate_sequence("mine") == 0  # nothing written
    ok(gw, CREATE, {"id": "mine", "directed": False}, {"Authorization": "Bearer writer-key"})
    other = gql_post(gw, CREATE, {"id": "theirs", "directed": False}, {"X-API-Key": "writer-key"})
    assert other["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert ok(gw, '{ graph(id: "mine") { version } }', headers={"X-API-Key": "reader-key"})["graph"]["version"] == 1
    assert conn.events("mine")[0].metadata == {"actor": "walt"}


def test_two_instances_over_one_cim_serve_the_same_graph(gateway_factory):
    first, second = gateway_factory(), gateway_factory()
    ok(first, CREATE, {"id": "shared", "directed": True})
    ok(second, ADD, {"g": "shared", "id": "x", "v": 1})  # written through the second instance
    ok(first, ADD, {"g": "shared", "id": "y", "v": 2})  # the first sees version 2 at once
    query = '{ graph(id: "shared") { version nodes { edges { node { nodeId } } } } }'
    one, two = ok(first, query)["graph"], ok(second, query)["graph"]
    assert one == two == {"version": 3, "nodes": {"edges": [{"node": {"nodeId": "x"}}, {"node": {"nodeId": "y"}}]}}


def test_import_graph_from_graphml_text(gateway, conn, tmp_path):
    G = nx.karate_club_graph()
    path = tmp_path / "karate.graphml"
    nx.write_graphml(G, path)
    result = ok(gateway, "mutation($d: String!) { importGraph(source: {graphId: \"karate\", data: $d, "
                         "format: \"graphml\"}) { graphId nodeCount edgeCount events version } }",
                {"d": path.read_text()})["importGraph"]
    assert (result["nodeCount"], result["edgeCount"]) == (34, 78)
    assert result["events"] == 1 + 34 + 78
    graph = conn.graph("karate", live=False)
    assert graph.number_of_nodes() == 34 and graph.number_of_edges() == 78 and graph.rejected == []
    stats = ok(gateway, '{ graphStatistics(id: "karate") { edgeCount components } }')["graphStatistics"]
    assert stats == {"edgeCount": 78, "components": nx.number_connected_components(G)}


def test_a_resolver_over_the_time_limit_is_a_timeout_error(gateway_factory, conn, tmp_path):
    edges = tmp_path / "ring.txt"
    edges.write_text("".join(f"{i} {(i + 1) % 3000}\n{i} {(i * 7 + 3) % 3000}\n" for i in range(3000)))
    conn.import_graph(edges, graph_id="slow", directed=False)
    gw = gateway_factory(GatewaySettings(request_timeout_s=0.002))
    body = gql_post(gw, '{ clusterAnalysis(graphId: "slow", algorithm: LOUVAIN) { size } }')
    error = body["errors"][0]
    assert error["extensions"]["code"] == "TIMEOUT" and "request_timeout_s" in error["message"]
    assert body["data"] is None
