"""The column-wise event path across calls: the graph's persistent id table (ids resolved against
rows of earlier calls, of per-event adds, of removed and re-added nodes) and the all-edges fast
path, against a plain-Python model of the same events and NetworkX degrees."""

from __future__ import annotations

import random

import networkx as nx
import numpy as np
import pyarrow as pa
import pytest

from alchemist.errors import DuplicateIdError, InvalidEventError, NodeNotFoundError
from alchemist.events import new_event
from alchemist.graph import Graph


class Model:
    """node_added / edge_added / node_removed semantics in plain Python."""

    def __init__(self, strict=True):
        self.strict = strict
        self.nodes: dict[str, None] = {}   # live ids, in order of addition
        self.edges: dict[str, tuple] = {}  # live edges: id -> (source, target, weight)
        self.n_rows = 0                    # edge rows ever added (implicit ids e<row>)

    def add_node(self, x):
        assert x not in self.nodes
        self.nodes[x] = None

    def add_edge(self, u, v, w=1.0):
        for x in (u, v):
            if x not in self.nodes:
                assert not self.strict
                self.nodes[x] = None
        self.edges[f"e{self.n_rows}"] = (u, v, w)
        self.n_rows += 1

    def remove_node(self, x):
        del self.nodes[x]
        self.edges = {e: t for e, t in self.edges.items() if x not in t[:2]}


def check(g: Graph, model: Model):
    assert sorted(g.node_ids) == sorted(model.nodes)
    edges = g.edges
    got = sorted(zip(edges["id"].to_list(), edges["source"].to_list(), edges["target"].to_list(),
                     edges["weight"].to_list()))
    assert got == sorted((e, *t) for e, t in model.edges.items())
    ref = nx.MultiGraph()
    ref.add_nodes_from(model.nodes)
    ref.add_edges_from((u, v) for u, v, _ in model.edges.values())
    rows = g.node_rows(list(model.nodes))
    assert g.degree()[rows].tolist() == [ref.degree(x) for x in model.nodes]


def ids(rng, k, start=0):
    """Short ids and ids longer than 8 bytes, mixed."""
    return [f"n{i}" if i % 3 else f"a-long-node-identifier-{i}" for i in range(start, start + k)]


def edge_table(rng, pool, m):
    src = [rng.choice(pool) for _ in range(m)]
    dst = [rng.choice(pool) for _ in range(m)]
    w = [rng.random() for _ in range(m)]
    return pa.table({"source": src, "target": dst, "weight": w}), list(zip(src, dst, w))


def test_edges_across_calls_resolve_against_earlier_rows():
    rng = random.Random(1)
    g, model = Graph("g"), Model()
    first = ids(rng, 300)
    g.apply_columns(pa.table({"node_id": first}))
    for x in first:
        model.add_node(x)
    for _ in range(3):  # several all-edges calls: every endpoint is a row of an earlier call
        table, rows = edge_table(rng, first, 500)
        g.apply_columns(table)
        for u, v, w in rows:
            model.add_edge(u, v, w)
    more = ids(rng, 200, start=300)  # a second node call, then edges over both
    g.apply_columns(pa.table({"node_id": more}))
    for x in more:
        model.add_node(x)
    table, rows = edge_table(rng, first + more, 700)
    g.apply_columns(table)
    for u, v, w in rows:
        model.add_edge(u, v, w)
    check(g, model)


def test_per_event_adds_and_removals_then_bulk():
    rng = random.Random(2)
    g, model = Graph("g"), Model()
    pool = ids(rng, 60)
    g.apply_columns(pa.table({"node_id": pool[:40]}))
    for x in pool[:40]:
        model.add_node(x)
    g.apply_columns(edge_table(rng, pool[:40], 10)[0].slice(0, 0))  # an empty call changes nothing
    # per-event: 20 more nodes (the table catches up), a removal, and a re-add of the same id
    for x in pool[40:]:
        g.apply(new_event("node_added", "g", {"node_id": x}))
        model.add_node(x)
    table, rows = edge_table(rng, pool, 200)
    g.apply_columns(table)
    for u, v, w in rows:
        model.add_edge(u, v, w)
    for x in (pool[3], pool[45]):
        g.apply(new_event("node_removed", "g", {"node_id": x}))
        model.remove_node(x)
    with pytest.raises(NodeNotFoundError, match=repr(pool[3])):
        g.apply_columns(pa.table({"source": [pool[0]], "target": [pool[3]]}))
    g.apply_columns(pa.table({"node_id": [pool[3]]}))  # re-added: a new row, the old one stays dead
    model.add_node(pool[3])
    table, rows = edge_table(rng, [x for x in pool if x != pool[45]], 300)
    g.apply_columns(table)
    for u, v, w in rows:
        model.add_edge(u, v, w)
    check(g, model)


def test_a_failed_call_changes_nothing_and_the_next_one_works():
    g, model = Graph("g"), Model()
    g.apply_columns(pa.table({"node_id": ["a", "b", "a-long-node-identifier"]}))
    for x in ("a", "b", "a-long-node-identifier"):
        model.add_node(x)
    before = (g.version, g.number_of_nodes(), g.number_of_edges())
    bad = pa.table({"source": ["a", "new-long-identifier", "b"], "target": ["b", "a", "ghost"]})
    with pytest.raises(NodeNotFoundError, match="row 1: edge 'e1' refers to unknown node 'new-long-identifier'"):
        g.apply_columns(bad)
    with pytest.raises(InvalidEventError, match="row 1"):
        g.apply_columns(pa.table({"source": ["a", "b"], "target": ["b", "a"], "weight": [1.0, np.nan]}))
    with pytest.raises(InvalidEventError, match="row 0: a node id, source or target is null"):
        g.apply_columns(pa.table({"source": pa.array([None, "a"], pa.string()), "target": ["a", "b"]}))
    with pytest.raises(DuplicateIdError, match="row 2: node 'c' already exists"):
        g.apply_columns(pa.table({"node_id": ["c", "d", "c"]}))
    with pytest.raises(DuplicateIdError, match="row 0: node 'a' already exists"):
        g.apply_columns(pa.table({"node_id": ["a"]}))
    assert (g.version, g.number_of_nodes(), g.number_of_edges()) == before
    # the ids the failed calls saw are not nodes: they are new again, in order
    g.apply_columns(pa.table({"node_id": ["d", "new-long-identifier", "c"]}))
    for x in ("d", "new-long-identifier", "c"):
        model.add_node(x)
    g.apply_columns(pa.table({"source": ["new-long-identifier", "c"], "target": ["a-long-node-identifier", "d"]}))
    model.add_edge("new-long-identifier", "a-long-node-identifier")
    model.add_edge("c", "d")
    check(g, model)
    assert g.node_ids == ["a", "b", "a-long-node-identifier", "d", "new-long-identifier", "c"]


def test_mixed_call_and_non_strict_endpoints():
    rng = random.Random(3)
    g, model = Graph("g", strict=False), Model(strict=False)
    kinds, node_id, src, dst = [], [], [], []
    pool = ids(rng, 50)
    for i in range(400):  # node_added rows interleaved with edges, some edges ahead of their nodes
        if i % 5 == 0 and pool:
            x = pool.pop()
            if x in model.nodes:
                continue
            kinds.append("node_added"), node_id.append(x), src.append(None), dst.append(None)
            model.add_node(x)
        else:
            u, v = f"n{rng.randrange(1, 80, 3)}", f"n{rng.randrange(2, 80, 3)}"
            kinds.append("edge_added"), node_id.append(None), src.append(u), dst.append(v)
            model.add_edge(u, v)
    g.apply_columns(pa.table({"event_type": kinds, "node_id": pa.array(node_id, pa.string()),
                              "source": pa.array(src, pa.string()), "target": pa.array(dst, pa.string())}))
    check(g, model)
    assert g.node_ids == list(model.nodes)  # rows in order of first appearance


def test_at_and_subgraph_then_bulk():
    rng = random.Random(4)
    g = Graph("g")
    pool = ids(rng, 30)
    g.apply_columns(pa.table({"node_id": pool}))
    table, rows = edge_table(rng, pool, 100)
    g.apply_columns(table)
    past = g.at(version=20)  # the first 20 nodes
    past.apply_columns(pa.table({"source": [pool[0], pool[19]], "target": [pool[1], pool[0]]}))
    assert past.number_of_edges() == 2
    with pytest.raises(NodeNotFoundError, match=repr(pool[25])):
        past.apply_columns(pa.table({"source": [pool[0]], "target": [pool[25]]}))
    sub = g.subgraph(pool[10:20])
    sub.apply_columns(pa.table({"source": [pool[10]], "target": [pool[19]]}))
    ref = nx.MultiGraph()
    ref.add_nodes_from(pool[10:20])
    ref.add_edges_from((u, v) for u, v, _ in rows if u in ref and v in ref)
    ref.add_edge(pool[10], pool[19])
    assert sub.number_of_edges() == ref.number_of_edges()
    assert sub.degree()[sub.node_rows(pool[10:20])].tolist() == [ref.degree(x) for x in pool[10:20]]


def test_chunked_columns_and_default_weights():
    g = Graph("g")
    g.apply_columns(pa.table({"node_id": pa.chunked_array([["a", "b"], ["c"]])}))
    g.apply_columns(pa.table({"source": pa.chunked_array([["a"], ["b", "c"]]),
                              "target": pa.chunked_array([["b", "c"], ["a"]])}))
    e = g.edges
    assert list(zip(e["source"].to_list(), e["target"].to_list(), e["weight"].to_list())) == [
        ("a", "b", 1.0), ("b", "c", 1.0), ("c", "a", 1.0)]
    assert g._edge_added.view().tolist() == [4, 5, 6] and g.version == 6


def test_explicit_edge_ids_across_calls():
    g = Graph("g")
    g.apply_columns(pa.table({"node_id": list("abcde")}))
    ids = pa.array(["x1", "x2", "e5", None], pa.string())
    g.apply_columns(pa.table({"edge_id": ids, "source": list("abcd"), "target": list("bcde")}))
    expected = {"x1": ("a", "b"), "x2": ("b", "c"), "e5": ("c", "d"), "e3": ("d", "e")}
    state = (g.version, g.number_of_edges())
    with pytest.raises(DuplicateIdError, match="row 0: edge 'x1' already exists"):
        g.apply_columns(pa.table({"edge_id": ["x1"], "source": ["a"], "target": ["b"]}))
    with pytest.raises(DuplicateIdError, match="row 2: edge 'y' already exists"):
        g.apply_columns(pa.table({"edge_id": ["y", "z", "y"], "source": list("abc"), "target": list("bcd")}))
    with pytest.raises(DuplicateIdError, match="row 1: edge 'e5' already exists"):  # row 5 would be e5
        g.apply_columns(pa.table({"source": ["a", "b"], "target": ["b", "c"]}))
    with pytest.raises(DuplicateIdError, match="row 1: edge 'e4' already exists"):  # row 4 keeps e4
        g.apply_columns(pa.table({"edge_id": [None, "e4"], "source": ["a", "b"], "target": ["b", "c"]}))
    assert (g.version, g.number_of_edges()) == state
    g.apply(new_event("edge_removed", "g", {"edge_id": "x1"}))  # x1 is free again
    del expected["x1"]
    g.apply_columns(pa.table({"edge_id": ["x1", "q"], "source": ["e", "a"], "target": ["a", "e"]}))
    expected.update(x1=("e", "a"), q=("a", "e"))
    edges = g.edges
    assert dict(zip(edges["id"].to_list(), zip(edges["source"].to_list(), edges["target"].to_list()))) == expected
    assert sorted(g.edge_ids) == sorted(expected)
    assert g.has_edge_id("e5") and g.has_edge_id("e3") and not g.has_edge_id("e2")
    past = g.at(version=9)  # the five nodes and the first four edges
    assert sorted(past.edge_ids) == ["e3", "e5", "x1", "x2"]
    assert past.edge("x1")["source"] == "a"


def test_many_explicit_edge_ids_match_a_dict():
    rng = random.Random(5)
    pool = ids(rng, 40)
    g = Graph("g")
    g.apply_columns(pa.table({"node_id": pool}))
    model: dict[str, tuple] = {}
    for call in range(3):  # the second and third calls check against the ids of the earlier ones
        names = [f"edge-{call}-{i}" if i % 2 else f"x{call}{i}" for i in range(3000)]
        table, rows = edge_table(rng, pool, 3000)
        g.apply_columns(table.append_column("edge_id", pa.array(names)))
        model.update((e, (u, v)) for e, (u, v, _) in zip(names, rows))
        with pytest.raises(DuplicateIdError, match=f"row 1: edge '{names[7]}' already exists"):
            g.apply_columns(pa.table({"edge_id": ["fresh", names[7]], "source": pool[:2], "target": pool[:2]}))
    assert g.number_of_edges() == len(model)
    assert all(g.edge(e)["source"] == u and g.edge(e)["target"] == v for e, (u, v) in model.items())


def test_hash_collisions_fall_back_to_an_exact_check(monkeypatch):
    import alchemist.graph._intern as intern

    monkeypatch.setattr(intern, "hash_ids", lambda strings: np.zeros(len(strings), np.uint64))  # all collide
    g = Graph("g")
    g.apply_columns(pa.table({"node_id": ["a", "b"]}))
    g.apply_columns(pa.table({"edge_id": ["p", "q"], "source": ["a", "b"], "target": ["b", "a"]}))
    g.apply_columns(pa.table({"edge_id": ["r"], "source": ["a"], "target": ["a"]}))
    assert sorted(g.edge_ids) == ["p", "q", "r"]
    with pytest.raises(DuplicateIdError, match="row 1: edge 'q' already exists"):
        g.apply_columns(pa.table({"edge_id": ["s", "q"], "source": ["a", "b"], "target": ["b", "a"]}))
    assert g.number_of_edges() == 3


def _shaped_ids(shape, k):
    """``k`` ids of one shape: CIDs (random digests), UUIDs, 64-byte ids of a shared head, 138-byte
    ids (hashed: a head over 112 bytes), SHA-256 hex digests, or the first four and short ids, mixed."""
    import base64
    import uuid

    rng = np.random.default_rng(4)
    cids = ["b" + base64.b32encode(b"\x01\x55\x1e\x20" + rng.integers(0, 256, 32, dtype=np.uint8).tobytes())
            .decode().lower().rstrip("=") for _ in range(k)]
    uuids = [str(uuid.UUID(int=int(x))) for x in rng.integers(0, 2**62, k)]
    headed = [f"{'organisation-unit/department/team/member-record/':x<50}{i:014d}" for i in range(k)]
    hashed = [f"{i:08d}" + "h" * 130 for i in range(k)]
    if shape == "hex":  # SHA-256 digests (decoded to their digits' bytes)
        import hashlib

        return [hashlib.sha256(str(i).encode()).hexdigest() for i in range(k)]
    if shape == "mixed":
        return [(cids, uuids, headed, hashed, [f"n{i}" for i in range(k)])[i % 5][i] for i in range(k)]
    return {"CID": cids, "UUID": uuids, "headed": headed, "hashed": hashed}[shape]


@pytest.mark.parametrize("shape", ["CID", "UUID", "headed", "hashed", "hex", "mixed"])
def test_removed_and_readded_long_ids_match_a_model(shape):
    """Long ids through bulk adds, per-event adds (rows appended to the id table without lookup),
    removals and re-adds (per event and in bulk: new rows, the old ones skipped), against a model."""
    rng = random.Random(5)
    g, model = Graph("g"), Model()
    pool = _shaped_ids(shape, 60)
    g.apply_columns(pa.table({"node_id": pool[:40]}))
    for x in pool[40:50]:
        g.apply(new_event("node_added", "g", {"node_id": x}))
    for x in pool[:50]:
        model.add_node(x)
    table, rows = edge_table(rng, pool[:50], 200)
    g.apply_columns(table)
    for u, v, w in rows:
        model.add_edge(u, v, w)
    for x in (pool[3], pool[7], pool[44], pool[46]):
        g.apply(new_event("node_removed", "g", {"node_id": x}))
        model.remove_node(x)
    g.apply_columns(pa.table({"node_id": [pool[3], pool[44]] + pool[50:55]}))  # re-added in bulk, and new ids
    g.apply(new_event("node_added", "g", {"node_id": pool[7]}))                # re-added per event
    for x in [pool[3], pool[44]] + pool[50:55] + [pool[7]]:
        model.add_node(x)
    g.apply_columns(pa.table({"node_id": pool[55:]}))
    for x in pool[55:]:
        model.add_node(x)
    with pytest.raises(NodeNotFoundError, match=repr(pool[46])):
        g.apply_columns(pa.table({"source": [pool[0]], "target": [pool[46]]}))
    table, rows = edge_table(rng, [x for x in pool if x != pool[46]], 300)
    g.apply_columns(table)
    for u, v, w in rows:
        model.add_edge(u, v, w)
    check(g, model)


@pytest.mark.parametrize("case", ["all of a", "some of a", "all of b", "mixed", "sliced columns"])
def test_slot_strings_are_the_strings_of_the_slots(case):
    """The new ids of a call, by their first slots (2k: a[k], 2k + 1: b[k]), against a list model;
    a node_added column of new ids is returned as it is."""
    from alchemist.graph._common import slot_strings

    rng = np.random.default_rng(15)
    a_list = [f"a{i}" for i in range(60)]
    b_list = [f"b{i}" for i in range(60)]
    a, b = pa.array(a_list), pa.array(b_list)
    if case == "sliced columns":
        a, b = pa.array(["x"] * 5 + a_list).slice(5), pa.array(["y"] * 3 + b_list).slice(3)
    slots = {"all of a": np.arange(60) * 2, "some of a": np.sort(rng.choice(60, 20, replace=False)) * 2,
             "all of b": np.arange(60) * 2 + 1}.get(case, np.sort(rng.choice(120, 50, replace=False)))
    model = [a_list[s // 2] if s % 2 == 0 else b_list[s // 2] for s in slots]
    assert slot_strings(a, b, slots).to_pylist() == model
