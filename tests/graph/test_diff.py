"""Graph.diff / alchemist.graph.diff (issue 20, seed 003 §7.1): a hand-built pair whose answer is
written out, and random graphs with random mutations checked against NetworkX graphs that receive
the same mutations (set differences of the node and edge ids, attribute dicts compared)."""

from __future__ import annotations

import random

import networkx as nx
import polars as pl
import pytest

from alchemist import Graph, new_event
from alchemist.errors import GraphError
from alchemist.graph import GraphDiff, diff


def _events(gid, items):
    return [new_event(kind, gid, payload, timestamp=k) for k, (kind, payload) in enumerate(items)]


# ---------------------------------------------------------------------- a pair built by hand
def _pair():
    base = [
        ("node_added", {"node_id": "a", "label": "Person", "properties": {"age": 31, "city": "Oslo"}}),
        ("node_added", {"node_id": "b", "label": "Person", "properties": {"age": 40}}),
        ("node_added", {"node_id": "c", "label": "Place"}),
        ("node_added", {"node_id": "d"}),
        ("edge_added", {"edge_id": "ab", "source": "a", "target": "b", "relationship": "knows", "weight": 1.0}),
        ("edge_added", {"edge_id": "bc", "source": "b", "target": "c", "relationship": "lives", "weight": 2.0}),
        ("edge_added", {"edge_id": "cd", "source": "c", "target": "d", "weight": 1.0}),
    ]
    changes = [
        ("node_updated", {"node_id": "a", "properties": {"age": 32}}),          # a: age 31 -> 32
        ("node_updated", {"node_id": "b", "label": "Person"}),                 # b: the same label: no change
        ("node_updated", {"node_id": "c", "label": "City", "properties": {"pop": 5}}),  # c: label, new property
        ("edge_removed", {"edge_id": "cd"}),
        ("node_removed", {"node_id": "d"}),
        ("node_added", {"node_id": "e", "label": "Person", "properties": {"age": 7}}),
        ("edge_added", {"edge_id": "ae", "source": "a", "target": "e", "relationship": "parent", "weight": 1.0}),
        ("edge_updated", {"edge_id": "ab", "weight": 3.0}),
        ("edge_updated", {"edge_id": "bc", "weight": 2.0}),                     # the same weight: no change
    ]
    g = Graph("g", directed=True)
    g.apply(_events("g", base))
    v = g.version
    g.apply(_events("g", changes))
    return g, v


def test_hand_built_pair():
    g, v = _pair()
    d = g.diff(v)
    assert isinstance(d, GraphDiff)
    assert d.counts == {"nodes_added": 1, "nodes_removed": 1, "nodes_changed": 2,
                        "edges_added": 1, "edges_removed": 1, "edges_changed": 1}
    assert d.nodes_added["id"].to_list() == ["e"] and d.nodes_added["age"].to_list() == [7]
    assert d.nodes_removed["id"].to_list() == ["d"]
    changed = {r["id"]: r for r in d.nodes_changed.iter_rows(named=True)}
    assert set(changed) == {"a", "c"}
    assert changed["a"]["changed"] == ["age"] and (changed["a"]["age_before"], changed["a"]["age_after"]) == (31, 32)
    assert changed["c"]["changed"] == ["label", "pop"]
    assert (changed["c"]["label_before"], changed["c"]["label_after"]) == ("Place", "City")
    assert (changed["c"]["pop_before"], changed["c"]["pop_after"]) == (None, 5)
    assert d.edges_added.select("id", "source", "target", "relationship").rows() == [("ae", "a", "e", "parent")]
    assert d.edges_removed["id"].to_list() == ["cd"]
    assert d.edges_changed.select("id", "changed", "weight_before", "weight_after").rows() == [
        ("ab", ["weight"], 1.0, 3.0)]
    # the same through the module function, on the two states, and through Graph.diff(other)
    assert diff(g.at(v), g).counts == d.counts
    assert g.at(v).diff(g).counts == d.counts
    # between two versions given both ways, and with nothing changed
    assert g.diff(v, g.version).counts == d.counts
    assert not g.diff(g.version) and g.diff(g.version).counts == dict.fromkeys(d.counts, 0)
    # the summary and the dict
    assert repr(d) == "<GraphDiff 'g' v7 → 'g' v16: nodes +1 −1 ~2, edges +1 −1 ~1>"
    out = d.to_dict()
    assert out["counts"] == d.counts
    assert out["nodes"]["changed"] == [{"id": "a", "changes": {"age": [31, 32]}},
                                       {"id": "c", "changes": {"label": ["Place", "City"], "pop": [None, 5]}}]
    assert out["nodes"]["removed"] == [{"id": "d", "label": ""}]
    assert out["edges"]["changed"] == [{"id": "ab", "changes": {"weight": [1.0, 3.0]}}]


def test_diff_by_time():
    g, v = _pair()
    # events carry timestamps 0, 1, ... per batch: the base batch's last is at 6 s; at 3 s a, b, c, d exist
    d = g.diff("1970-01-01T00:00:03Z")
    assert d.nodes_removed.height == 1  # d
    assert sorted(d.nodes_added["id"].to_list()) == ["e"]


def test_values_compare_as_json():
    a, b = Graph("g"), Graph("g")
    a.apply(_events("g", [
        ("node_added", {"node_id": "n1", "properties": {"x": 1, "tags": ["p", "q"]}}),
        ("node_added", {"node_id": "n2", "properties": {"x": 2.5, "flag": True}}),
        ("node_added", {"node_id": "n3", "properties": {"x": 3, "mixed": 1}}),
    ]))
    b.apply(_events("g", [
        ("node_added", {"node_id": "n1", "properties": {"x": 1.0, "tags": ["p", "q"]}}),   # 1 == 1.0: unchanged
        ("node_added", {"node_id": "n2", "properties": {"x": 2.5, "flag": 1}}),            # True is not 1
        ("node_added", {"node_id": "n3", "properties": {"x": 3, "mixed": "1"}}),           # 1 is not "1"
    ]))
    d = diff(a, b)
    assert dict(zip(d.nodes_changed["id"].to_list(), d.nodes_changed["changed"].to_list())) == {
        "n2": ["flag"], "n3": ["mixed"]}
    b2 = Graph("g")
    b2.apply(_events("g", [("node_added", {"node_id": "n1", "properties": {"x": 1, "tags": ["p", "r"]}})]))
    assert diff(a, b2).nodes_changed["changed"].to_list() == [["tags"]]


def test_empty_graphs_and_errors():
    empty = Graph("g")
    full = Graph.from_edges([("a", "b")], graph_id="g")
    d = diff(empty, full)
    assert d.counts["nodes_added"] == 2 and d.counts["edges_added"] == 1 and d.counts["nodes_removed"] == 0
    assert diff(full, empty).counts["edges_removed"] == 1
    assert not diff(empty, Graph("g"))
    with pytest.raises(GraphError, match="is not a Graph"):
        diff(full, nx.Graph())
    with pytest.raises(GraphError, match="edges_by='ends'"):
        diff(full, full, edges_by="ends")
    with pytest.raises(GraphError, match="needs another Graph"):
        full.diff()


# ---------------------------------------------------------------------- random graphs against NetworkX
def _random_history(seed: int, n: int = 300, m: int = 900):
    """Events of a random graph, then of random mutations, and the two NetworkX graphs (keyed by
    edge id) that the same operations give."""
    rng = random.Random(seed)
    labels = ["A", "B", "C", ""]
    nxg = nx.MultiDiGraph()
    base = []
    for i in range(n):
        props = {}
        if rng.random() < 0.6:
            props["score"] = round(rng.random(), 3)
        if rng.random() < 0.3:
            props["kind"] = rng.choice(["x", "y"])
        label = rng.choice(labels)
        base.append(("node_added", {"node_id": f"n{i}", "label": label, "properties": props}))
        nxg.add_node(f"n{i}", label=label, **props)
    for k in range(m):
        u, v = rng.sample(range(n), 2)
        rel, w = rng.choice(["r", "s", ""]), float(rng.randint(1, 4))
        base.append(("edge_added", {"edge_id": f"x{k}", "source": f"n{u}", "target": f"n{v}", "relationship": rel,
                                    "weight": w}))
        nxg.add_edge(f"n{u}", f"n{v}", key=f"x{k}", relationship=rel, weight=w)
    before = nxg.copy()
    changes = []
    nodes = list(nxg.nodes)
    for node in rng.sample(nodes, 40):  # label or property updates, some to the value it has already
        payload = {"node_id": node}
        if rng.random() < 0.5:
            payload["label"] = rng.choice(labels)
            nxg.nodes[node]["label"] = payload["label"]
        else:
            payload["properties"] = {"score": rng.choice([round(rng.random(), 3), nxg.nodes[node].get("score", 0.5)])}
            nxg.nodes[node].update(payload["properties"])
        changes.append(("node_updated", payload))
    for node in rng.sample(nodes, 15):  # removals, each edge first
        for u, v, key in list(nxg.in_edges(node, keys=True)) + list(nxg.out_edges(node, keys=True)):
            if nxg.has_edge(u, v, key):
                changes.append(("edge_removed", {"edge_id": key}))
                nxg.remove_edge(u, v, key)
        changes.append(("node_removed", {"node_id": node}))
        nxg.remove_node(node)
    for i in range(n, n + 25):  # new nodes
        props = {"score": round(rng.random(), 3)} if rng.random() < 0.5 else {}
        changes.append(("node_added", {"node_id": f"n{i}", "label": "A", "properties": props}))
        nxg.add_node(f"n{i}", label="A", **props)
    live = list(nxg.nodes)
    for k in range(m, m + 60):  # new edges
        u, v = rng.sample(live, 2)
        changes.append(("edge_added", {"edge_id": f"x{k}", "source": u, "target": v, "relationship": "r",
                                       "weight": 1.0}))
        nxg.add_edge(u, v, key=f"x{k}", relationship="r", weight=1.0)
    edges = list(nxg.edges(keys=True))
    for u, v, key in rng.sample(edges, 40):  # weight updates (some to the same weight), then removals
        w = float(rng.choice([1, 2, 3, 4]))
        changes.append(("edge_updated", {"edge_id": key, "weight": w}))
        nxg.edges[u, v, key]["weight"] = w
    for u, v, key in rng.sample(list(nxg.edges(keys=True)), 30):
        changes.append(("edge_removed", {"edge_id": key}))
        nxg.remove_edge(u, v, key)
    return base, changes, before, nxg


def _nx_nodes(G):
    return {n: {"label": d.get("label", ""), **{k: v for k, v in d.items() if k != "label"}} for n, d in G.nodes(data=True)}


def _nx_edges(G):
    return {key: {"source": u, "target": v, **d} for u, v, key, d in G.edges(keys=True, data=True)}


def _expected(before, after, table):
    old, new = table(before), table(after)
    return (set(new) - set(old), set(old) - set(new),
            {k for k in set(old) & set(new) if old[k] != new[k]}, old, new)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_mutations_against_networkx(seed):
    base, changes, nx_before, nx_after = _random_history(seed)
    g = Graph("g", directed=True)
    g.apply(_events("g", base))
    v = g.version
    g.apply(_events("g", changes))
    separate_before = Graph("g", directed=True)
    separate_before.apply(_events("g", base))
    for d in (g.diff(v), diff(separate_before, g)):
        added, removed, changed, old, new = _expected(nx_before, nx_after, _nx_nodes)
        assert set(d.nodes_added["id"].to_list()) == added
        assert set(d.nodes_removed["id"].to_list()) == removed
        assert set(d.nodes_changed["id"].to_list()) == changed
        assert changed  # the mutations changed something (the test could not pass by finding nothing)
        for row in d.nodes_changed.iter_rows(named=True):  # what changed, with its values, per NetworkX
            n = row["id"]
            keys = {k for k in set(old[n]) | set(new[n]) if old[n].get(k) != new[n].get(k)}
            assert set(row["changed"]) == keys
            for k in keys:
                assert (row[f"{k}_before"], row[f"{k}_after"]) == (old[n].get(k), new[n].get(k))
        added, removed, changed, old, new = _expected(nx_before, nx_after, _nx_edges)
        assert set(d.edges_added["id"].to_list()) == added
        assert set(d.edges_removed["id"].to_list()) == removed
        assert set(d.edges_changed["id"].to_list()) == changed and changed
        for row in d.edges_changed.iter_rows(named=True):
            e = row["id"]
            assert set(row["changed"]) == {k for k in old[e] if old[e][k] != new[e][k]} == {"weight"}
            assert (row["weight_before"], row["weight_after"]) == (old[e]["weight"], new[e]["weight"])
        # the rows of added and removed nodes carry their attributes
        after_nodes, before_nodes = _nx_nodes(nx_after), _nx_nodes(nx_before)
        for frame, table in ((d.nodes_added, after_nodes), (d.nodes_removed, before_nodes)):
            for row in frame.iter_rows(named=True):
                assert {k: v for k, v in row.items() if v is not None and k != "id"} == table[row["id"]]


def test_edges_by_endpoints_against_networkx():
    rng = random.Random(7)
    pairs = {tuple(sorted(rng.sample(range(200), 2))) for _ in range(600)}
    first = [(f"v{u}", f"v{v}") for u, v in sorted(pairs)]
    second = [e for e in first if rng.random() > 0.1] + [(f"v{u}", f"v{v}") for u, v in
                                                        {tuple(sorted(rng.sample(range(200), 2))) for _ in range(50)}
                                                        if (f"v{u}", f"v{v}") not in set(first)]
    rng.shuffle(second)
    second = [(v, u) if rng.random() < 0.5 else (u, v) for u, v in second]  # undirected: either end first
    a, b = Graph.from_edges(first), Graph.from_edges(second)
    d = diff(a, b, edges_by="endpoints")
    A, B = nx.Graph(first), nx.Graph(second)
    key = lambda u, v: tuple(sorted((u, v)))  # noqa: E731
    ea, eb = {key(*e) for e in A.edges}, {key(*e) for e in B.edges}
    assert set(zip(*d.edges_added.select("source", "target").to_dict(as_series=False).values())) == eb - ea
    assert set(zip(*d.edges_removed.select("source", "target").to_dict(as_series=False).values())) == ea - eb
    assert d.edges_changed.height == 0 and d.edges_added.height == len(eb - ea) > 0
    assert set(d.nodes_added["id"].to_list()) == set(B) - set(A)
    assert set(d.nodes_removed["id"].to_list()) == set(A) - set(B)
    # by id, the same two graphs look very different: ids e0, e1, ... name other edges
    assert diff(a, b).edges_changed.height > 0
    assert "occurrence" in d.edges_added.columns and d.edges_added.schema["occurrence"] == pl.Int64
