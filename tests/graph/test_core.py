"""The event-sourced Graph: apply, idempotency, atomicity, collect, bulk path, time travel,
constructors and interop. Expected values are hand counts or NetworkX."""

from __future__ import annotations

import math
import random

import networkx as nx
import numpy as np
import polars as pl
import pytest

from alchemist.errors import (
    DuplicateIdError,
    EdgeNotFoundError,
    GraphError,
    InvalidEventError,
    NodeNotFoundError,
)
from alchemist.events import new_event
from alchemist.graph import EdgeList, Graph, read_edge_list, read_graph


def ev(kind, payload, t=0, gid="g", **kw):
    return new_event(kind, gid, payload, timestamp=t, **kw)


def node(i, t=0, **props):
    return ev("node_added", {"node_id": str(i), "label": "person", "properties": props}, t)


def edge(eid, u, v, w=1.0, t=0, rel="knows"):
    return ev("edge_added", {"edge_id": eid, "source": str(u), "target": str(v), "weight": w, "relationship": rel}, t)


def state(g: Graph):
    """Everything observable about a graph's content, for equality checks."""
    nodes = g.nodes.drop("first_seen").sort("id")
    edges = g.edges.drop("timestamp").sort("id")
    return nodes.to_dicts(), edges.to_dicts(), g.number_of_nodes(), g.number_of_edges()


def random_stream(n_events: int, seed: int):
    """A valid random stream of adds, updates and removals, with increasing timestamps."""
    rng = random.Random(seed)
    events, live_nodes, live_edges = [ev("graph_created", {"name": "r"}, 0)], [], []
    counter = 0
    for t in range(1, n_events):
        r = rng.random()
        if r < 0.3 or len(live_nodes) < 2:
            nid = f"n{counter}"
            counter += 1
            live_nodes.append(nid)
            events.append(ev("node_added", {"node_id": nid, "label": rng.choice(["a", "b"]),
                                            "properties": {"k": rng.randint(0, 9)}}, t))
        elif r < 0.7:
            eid = f"x{counter}"
            counter += 1
            u, v = rng.choice(live_nodes), rng.choice(live_nodes)
            live_edges.append((eid, u, v))
            events.append(ev("edge_added", {"edge_id": eid, "source": u, "target": v, "weight": rng.random()}, t))
        elif r < 0.8 and live_edges:
            eid, *_ = live_edges[rng.randrange(len(live_edges))]
            events.append(ev("edge_updated", {"edge_id": eid, "weight": 5.0, "relationship": "upd"}, t))
        elif r < 0.87 and live_edges:
            eid, *_ = live_edges.pop(rng.randrange(len(live_edges)))
            events.append(ev("edge_removed", {"edge_id": eid}, t))
        elif r < 0.93:
            nid = rng.choice(live_nodes)
            events.append(ev("node_updated", {"node_id": nid, "label": "changed", "properties": {"k": "s"}}, t))
        else:
            nid = live_nodes.pop(rng.randrange(len(live_nodes)))
            live_edges = [e for e in live_edges if nid not in (e[1], e[2])]
            events.append(ev("node_removed", {"node_id": nid}, t))
    return events


# ---------------------------------------------------------------------------- apply
def test_add_update_remove_by_hand():
    g = Graph("g")
    g.apply([node("a", color="red"), node("b"), node("c"), edge("ab", "a", "b", 2.0), edge("bc", "b", "c")])
    assert (g.number_of_nodes(), g.number_of_edges(), g.version) == (3, 2, 5)
    assert g.node("a") == {"id": "a", "label": "person", "color": "red"}
    g.apply(ev("edge_updated", {"edge_id": "ab", "weight": 7.0, "relationship": "likes"}))
    assert g.edge("ab")["weight"] == 7.0 and g.edge("ab")["relationship"] == "likes"
    g.apply(ev("node_updated", {"node_id": "a", "label": "admin", "properties": {"color": "blue", "age": 3}}))
    assert g.node("a") == {"id": "a", "label": "admin", "color": "blue", "age": 3}
    g.apply(ev("node_removed", {"node_id": "b"}))  # removes both edges of b
    assert (g.number_of_nodes(), g.number_of_edges()) == (2, 0)
    assert g.node_ids == ["a", "c"] and g.node_row("c") == 1
    with pytest.raises(NodeNotFoundError, match="'b'"):
        g.node_row("b")


def test_idempotent_by_event_id():
    events = [node("a"), node("b"), edge("ab", "a", "b")]
    g = Graph("g")
    g.apply(events)
    result = g.apply(events + [node("c")])
    assert (result.applied, result.duplicates) == (1, 3)
    assert (g.number_of_nodes(), g.number_of_edges(), g.version) == (3, 1, 4)


@pytest.mark.parametrize("size", [3, 200])  # per-event path and column-wise path
def test_atomic_on_bad_batch(size):
    g = Graph("g")
    g.apply(node("seed"))
    good = [node(f"n{i}") for i in range(size)]
    bad = edge("bad", "n0", "ghost")
    with pytest.raises(NodeNotFoundError, match="ghost"):
        g.apply(good + [bad] + [node("late")])
    assert (g.number_of_nodes(), g.number_of_edges(), g.version) == (1, 0, 1)
    with pytest.raises(DuplicateIdError, match="'n1'"):
        g.apply(good + [node("n1")])
    assert g.number_of_nodes() == 1
    with pytest.raises(InvalidEventError, match="finite"):
        g.apply(good + [edge("nan", "n0", "n1", w=float("nan"))])
    assert g.number_of_nodes() == 1


@pytest.mark.parametrize("size", [3, 200])
def test_collect_skips_bad_events(size):
    g = Graph("g")
    good = [node(f"n{i}") for i in range(size)]
    bad1 = edge("e1", "n0", "ghost")
    bad2 = ev("edge_removed", {"edge_id": "nope"})
    result = g.apply(good + [bad1, edge("ok", "n0", "n1"), bad2], errors="collect")
    assert [e for e, _ in result] == [bad1, bad2]
    assert isinstance(result[0][1], NodeNotFoundError) and isinstance(result[1][1], EdgeNotFoundError)
    assert result.applied == size + 1 and g.number_of_edges() == 1


def test_bulk_path_equals_event_by_event():
    events = [ev("graph_created", {"directed": True})]
    events += [node(i, t=i, score=i * 0.5) for i in range(100)]
    events += [edge(f"x{i}", i % 100, (i * 7) % 100, w=i + 0.25, t=100 + i) for i in range(300)]
    one = Graph("g")
    for e in events:
        one.apply(e)
    bulk = Graph("g")
    bulk.apply(events)
    assert state(one) == state(bulk)
    assert one.version == bulk.version == len(events) and bulk.directed
    assert np.array_equal(one.nodes["first_seen"].to_numpy(), bulk.nodes["first_seen"].to_numpy())
    for v in (0, 50, 150, 401):
        assert state(one.at(version=v)) == state(bulk.at(version=v))


def test_apply_columns_equals_events():
    events = [node(i) for i in range(50)] + [edge(f"x{i}", i % 50, (3 * i) % 50, w=0.5 + i) for i in range(120)]
    ref = Graph("g")
    ref.apply(events)
    nodes = pl.DataFrame({"event_type": "node_added", "node_id": [str(i) for i in range(50)], "label": "person"})
    edges = pl.DataFrame({"event_type": "edge_added", "edge_id": [f"x{i}" for i in range(120)],
                          "source": [str(i % 50) for i in range(120)], "target": [str((3 * i) % 50) for i in range(120)],
                          "weight": [0.5 + i for i in range(120)], "relationship": "knows"})
    g = Graph("g")
    g.apply_columns(nodes)
    g.apply_columns(edges.to_pandas())
    assert state(g) == state(ref)


def test_apply_columns_properties_are_typed_and_ids_idempotent():
    g = Graph("g", strict=False)
    table = {"event_id": ["a1", "a2", "a3"], "source": ["p", "q", "r"], "target": ["q", "r", "p"],
             "since": [2001, None, 2003], "score": [0.5, 1.5, None]}
    g.apply_columns(table)
    again = g.apply_columns(table)
    assert (again.applied, again.duplicates) == (0, 3)
    edges = g.edges
    assert edges["since"].dtype == pl.Int64 and edges["since"].to_list() == [2001, None, 2003]
    assert edges["score"].dtype == pl.Float64
    with pytest.raises(NodeNotFoundError, match="'zz'"):
        Graph("g").apply_columns({"source": ["zz"], "target": ["p"]})
    with pytest.raises(InvalidEventError, match="row 1"):
        Graph("g", strict=False).apply_columns({"source": ["a", "b"], "target": ["b", "c"], "weight": [1.0, math.inf]})


def test_edge_id_rules():
    g = Graph.from_edges([("a", "b"), ("b", "c")])  # ids e0, e1 stored implicitly
    with pytest.raises(DuplicateIdError, match="'e1'"):
        g.apply(ev("edge_added", {"edge_id": "e1", "source": "a", "target": "c"}, gid="graph"))
    g.apply(ev("edge_added", {"edge_id": "e7", "source": "a", "target": "c"}, gid="graph"))  # explicit e7 at row 2
    assert g.edge_ids == ["e0", "e1", "e7"] and g.has_edge_id("e7") and not g.has_edge_id("e2")
    g.apply(ev("edge_removed", {"edge_id": "e0"}, gid="graph"))
    assert g.edge_ids == ["e1", "e7"]


# ---------------------------------------------------------------------------- time travel
def test_at_version_equals_prefix_replay():
    events = random_stream(400, seed=3)
    g = Graph("g")
    g.apply(events)
    for v in (0, 1, 37, 150, 151, 299, 400):
        direct = Graph("g")
        direct.apply(events[:v])
        past = g.at(version=v)
        assert past.version == v
        assert state(past) == state(direct), v
        # the past graph is a full graph: its own history agrees too
        if v > 40:
            assert state(past.at(version=30)) == state(g.at(version=30))


def test_at_timestamp_and_sequence():
    events = [node(i, t=1000 + i) for i in range(10)]
    g = Graph("g")
    g.apply(events)
    assert g.at(timestamp=1004.5).number_of_nodes() == 5
    assert g.at(timestamp="1970-01-01T00:16:44Z").number_of_nodes() == 5  # 1004 s
    assert g.at(timestamp=0).number_of_nodes() == 0
    seq = Graph("g")
    import msgspec

    seq.apply([msgspec.structs.replace(e, sequence=100 + 2 * i) for i, e in enumerate(events)])
    assert seq.at(sequence=105).number_of_nodes() == 3  # sequences 100, 102, 104
    assert seq.last_sequence == 118
    with pytest.raises(GraphError, match="outside"):
        g.at(version=11)
    with pytest.raises(GraphError, match="exactly one"):
        g.at()


def test_at_on_bulk_loaded_edge_list(shared_data):
    path = shared_data("snap_graphs/email-Eu-core.txt.gz")
    g = read_graph(path, directed=True)
    edges = read_edge_list(path)
    k = 500
    direct = Graph.from_edges(list(zip(edges.source[:k], edges.target[:k])), graph_id="email-Eu-core", directed=True)
    past = g.at(version=direct.version)
    assert (past.number_of_nodes(), past.number_of_edges()) == (direct.number_of_nodes(), direct.number_of_edges())
    assert past.node_ids == direct.node_ids
    assert np.array_equal(past.edge_index()[0], direct.edge_index()[0])


# ---------------------------------------------------------------------------- constructors
def test_from_edge_list_equals_event_replay(shared_data):
    from alchemist.cim.replay import edge_list_events

    path = shared_data("snap_graphs/email-Eu-core.txt.gz")
    edges = read_edge_list(path)
    bulk = Graph.from_edge_list(edges, graph_id="eu", directed=True)
    replayed = Graph("eu", directed=True)
    events = list(edge_list_events(edges, "eu", directed=True))
    replayed.apply(events)
    assert bulk.version == replayed.version == len(events)
    assert bulk.node_ids == replayed.node_ids
    assert bulk.edge_ids == replayed.edge_ids
    for a, b in zip(bulk.edge_index(), replayed.edge_index()):
        assert np.array_equal(a, b)
    # and NetworkX agrees on the sizes (SOURCE.md: 1,005 nodes, 25,571 edges)
    G = nx.read_edgelist(path, create_using=nx.MultiDiGraph, nodetype=str)
    assert (bulk.number_of_nodes(), bulk.number_of_edges()) == (G.number_of_nodes(), G.number_of_edges()) == (1005, 25571)


def _same_graph(a, b):
    """Field by field: ids, ends, weights, times, versions, history, metadata."""
    assert (a.graph_id, a.directed, a.version, a.last_timestamp) == (b.graph_id, b.directed, b.version, b.last_timestamp)
    assert a.node_ids == b.node_ids and a.edge_ids == b.edge_ids
    for x, y in zip(a.edge_index(), b.edge_index()):
        assert x.dtype == y.dtype and np.array_equal(x, y)
    for col in ("_node_time", "_node_added", "_edge_time", "_edge_added", "_vtime", "_node_removed", "_edge_removed"):
        assert np.array_equal(getattr(a, col).view(), getattr(b, col).view(), equal_nan=True), col
    assert a.nodes.equals(b.nodes) and a.edges.equals(b.edges)
    assert a._undo == b._undo
    for v in (1, 2, 40, a.version // 2):
        assert a.at(v).node_ids == b.at(v).node_ids and a.at(v).edge_ids == b.at(v).edge_ids


def test_from_codes_equals_from_edge_list_and_event_replay(shared_data):
    from alchemist.cim.replay import edge_list_events
    from alchemist.graph.convert import from_codes

    edges = read_edge_list(shared_data("temporal_graphs/CollegeMsg.txt.gz"))
    n = 3000
    src, dst = edges.source[:n].astype(str), edges.target[:n].astype(str)
    seconds = np.asarray(edges.third[:n], dtype=np.float64)
    # codes in an order of our own (sorted ids), not the order of first appearance
    names, inverse = np.unique(np.concatenate([src, dst]), return_inverse=True)
    g = from_codes(Graph, inverse[:n], inverse[n:], list(names), seconds, graph_id="msg", directed=True)
    sub = EdgeList(src.astype(object), dst.astype(object), seconds, "msg")
    listed = Graph.from_edge_list(sub, graph_id="msg", directed=True)
    replayed = Graph("msg", directed=True)
    for event in edge_list_events(sub, "msg", directed=True):  # one by one: the per-event path
        replayed.apply([event])
    _same_graph(g, listed)
    _same_graph(g, replayed)
    first = [x for pair in zip(src, dst) for x in pair]
    assert g.node_ids == list(dict.fromkeys(first))  # order of first appearance, source before target
    assert g.version == 1 + len(g.node_ids) + n


def test_from_codes_checks_its_input():
    from alchemist.errors import DuplicateIdError
    from alchemist.graph.convert import from_codes

    with pytest.raises(GraphError, match="outside"):
        from_codes(Graph, np.array([0, 3]), np.array([1, 0]), ["a", "b"])
    with pytest.raises(GraphError, match="used by no edge"):
        from_codes(Graph, np.array([0]), np.array([1]), ["a", "b", "c"])
    with pytest.raises(DuplicateIdError, match="'a'"):
        from_codes(Graph, np.array([0]), np.array([1]), ["a", "a"])
    loop = from_codes(Graph, np.array([0, 0]), np.array([0, 1]), ["x", "y"])  # a self-loop first
    assert loop.node_ids == ["x", "y"] and loop.version == 5 and loop._node_added.view().tolist() == [2, 4]


def test_from_arrays_and_node_ids():
    g = Graph.from_arrays([0, 1, 2], [1, 2, 0], node_ids=["x", "y", "z", "lonely"])
    assert g.node_ids == ["x", "y", "z", "lonely"] and g.degree().tolist() == [2, 2, 2, 0]
    with pytest.raises(GraphError, match="outside"):
        Graph.from_arrays([0, 5], [1, 2], node_ids=["a", "b", "c"])


def test_networkx_round_trip(shared_data):
    G = nx.read_gml(shared_data("networkx_builtin_graphs/les_miserables.gml"))
    g = Graph.from_networkx(G)
    assert (g.number_of_nodes(), g.number_of_edges()) == (G.number_of_nodes(), G.number_of_edges())
    H = g.to_networkx()
    assert set(H.nodes) == set(G.nodes)
    assert {frozenset(e) for e in H.edges} == {frozenset(e) for e in G.edges}
    for u, v, d in G.edges(data=True):
        assert H[u][v]["weight"] == pytest.approx(d.get("weight", 1.0))
    # degrees agree with NetworkX in row order
    assert g.degree().tolist() == [G.degree(n) for n in g.node_ids]


def test_networkx_round_trip_multidigraph_with_attributes():
    G = nx.MultiDiGraph()
    G.add_node(1, label="one", size=3)
    G.add_node(2)
    G.add_node(3)  # isolated
    G.add_edge(1, 2, weight=2.0, type="r")
    G.add_edge(1, 2, weight=3.0)
    G.add_edge(2, 2)  # self-loop
    g = Graph.from_networkx(G)
    assert g.directed and g.number_of_edges() == 3 and g.number_of_nodes() == 3
    H = g.to_networkx()
    assert isinstance(H, nx.MultiDiGraph)
    assert H.nodes["1"] == {"label": "one", "size": 3}
    assert sorted(d["weight"] for *_, d in H.edges(data=True)) == [1.0, 2.0, 3.0]
    assert g.degree().tolist() == [G.out_degree(n) for n in (1, 2, 3)]


def test_csr_matches_scipy():
    import scipy.sparse as sp

    g = Graph.from_edges([("a", "b", 2.0), ("b", "c", 1.0), ("c", "c", 4.0), ("a", "b", 0.5)])
    indptr, indices, weights = g.csr()
    src, dst, w = g.edge_index()
    A = sp.coo_matrix((w, (src, dst)), shape=(3, 3)).tocsr()
    A = A + sp.triu(A, 1).T + sp.tril(A, -1).T  # undirected: mirror the off-diagonal
    B = sp.csr_matrix((weights, indices, indptr), shape=(3, 3))
    assert np.allclose(A.toarray(), B.toarray())
    assert g.degree().tolist() == [2, 3, 3]  # NetworkX: a 2 parallel, b 3, c 1 + self-loop 2
