"""Long string node ids (UUIDs, 64-byte names, 1 KB ids, non-ASCII) through ``Graph.apply_columns``:
the same graph as with short ids and as NetworkX built from the same edges, including ids whose
64-bit hashes are equal (constructed from the hash's round function), which must stay apart."""

from __future__ import annotations

import random
import uuid

import networkx as nx
import numpy as np
import pyarrow as pa
import pytest

from alchemist.graph import Graph


def _graph(node_ids, src, dst, chunks=1):
    """A Graph from one node_added call and ``chunks`` edge_added calls."""
    g = Graph("g")
    g.apply_columns(pa.table({"node_id": pa.array(node_ids, pa.string())}))
    for part in np.array_split(np.arange(len(src)), chunks):
        g.apply_columns(pa.table({"source": pa.array([src[i] for i in part], pa.string()),
                                  "target": pa.array([dst[i] for i in part], pa.string())}))
    return g


def _edges(g):
    e = g.edges
    return list(zip(e["source"].to_list(), e["target"].to_list()))


def _assert_matches_networkx(g, node_ids, src, dst):
    ref = nx.MultiDiGraph()
    ref.add_nodes_from(node_ids)
    ref.add_edges_from(zip(src, dst))
    assert g.node_ids == list(ref.nodes)
    assert _edges(g) == list(zip(src, dst))  # edge rows in the order of the events
    assert sorted(_edges(g)) == sorted(ref.edges())
    rows = g.node_rows(list(ref.nodes))
    assert g.degree()[rows].tolist() == [ref.degree(x) for x in ref.nodes]


def test_uuid_ids_give_the_graph_of_short_ids():
    rng = np.random.default_rng(3)
    n, m = 3000, 20_000
    uuids = [str(uuid.UUID(int=int(x))) for x in rng.integers(0, 2**62, n)]
    short = [str(i) for i in range(n)]
    s, d = rng.integers(0, n, m), rng.integers(0, n, m)
    g_long = _graph(uuids, [uuids[i] for i in s], [uuids[i] for i in d], chunks=3)
    g_short = _graph(short, [short[i] for i in s], [short[i] for i in d], chunks=3)
    back = dict(zip(uuids, short))
    assert [back[x] for x in g_long.node_ids] == g_short.node_ids
    assert [(back[u], back[v]) for u, v in _edges(g_long)] == _edges(g_short)
    np.testing.assert_array_equal(g_long.degree(), g_short.degree())
    _assert_matches_networkx(g_long, uuids, [uuids[i] for i in s], [uuids[i] for i in d])


def _edge_case_ids():
    base = "shared-prefix-" * 3
    return (["x", "y", "é", "東", "😀"]                                    # 1-character ids (1 to 4 bytes)
            + ["a" * 1024, "a" * 1023 + "b", "b" + "a" * 1023]           # 1 KB ids differing in one byte
            + [base + str(i) for i in range(20)]                           # a 42-byte common prefix
            + ["abcdefgh", "abcdefghi", "abcdefghij" * 2, "abcdefghij" * 2 + "\x00"]  # 8-byte boundary, NUL
            + ["naïve-café-ünïcödé-identifier", "東京都-渋谷区-神南-一丁目-identifier", "Ωmega-" * 9]
            + [str(uuid.UUID(int=i)) for i in range(5)])                   # UUIDs differing in the last byte


@pytest.mark.parametrize("chunks", [1, 4])
def test_edge_case_ids_match_networkx(chunks):
    node_ids = _edge_case_ids()
    assert len(set(node_ids)) == len(node_ids)
    rng = random.Random(7)
    src = [rng.choice(node_ids) for _ in range(500)]
    dst = [rng.choice(node_ids) for _ in range(500)]
    g = _graph(node_ids, src, dst, chunks=chunks)
    _assert_matches_networkx(g, node_ids, src, dst)


def test_non_strict_graph_numbers_new_long_ids_in_order_of_first_appearance():
    ids = _edge_case_ids()
    rng = random.Random(11)
    src = [rng.choice(ids) for _ in range(300)]
    dst = [rng.choice(ids) for _ in range(300)]
    g = Graph("g", strict=False)
    g.apply_columns(pa.table({"source": pa.array(src, pa.string()), "target": pa.array(dst, pa.string())}))
    order = list(dict.fromkeys(x for pair in zip(src, dst) for x in pair))  # a0, b0, a1, b1, ...
    assert g.node_ids == order
    assert _edges(g) == list(zip(src, dst))


# ---------------------------------------------------------------------- equal hashes, different ids
_M = 2**64 - 1
_P1, _P2 = 0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F  # the table's round constants (xxHash64's primes)


def _round(h, w):
    h ^= (w * _P2) & _M
    return ((((h << 31) | (h >> 33)) & _M) * _P1) & _M


def _colliding_ids(k, seed=0):
    """``k`` different printable 16-byte ids whose 64-bit hashes are equal: for 16 bytes the hash
    is ``fmix(round(round(16 * P1, w1), w2))``, so any first word w1' and the second word
    ``w2' = (round(h0, w1) ^ round(h0, w1') ^ w2 * P2) * P2^-1`` reach the same state; w1' is
    drawn until w2' is printable ASCII."""
    rng = random.Random(seed)
    h0 = (16 * _P1) & _M
    inv = pow(_P2, -1, 2**64)
    first = bytes(rng.randrange(0x61, 0x7B) for _ in range(16))
    w1, w2 = int.from_bytes(first[:8], "little"), int.from_bytes(first[8:], "little")
    out = [first.decode()]
    while len(out) < k:
        y1 = bytes(rng.randrange(0x61, 0x7B) for _ in range(8))
        y2 = (((_round(h0, w1) ^ _round(h0, int.from_bytes(y1, "little")) ^ ((w2 * _P2) & _M)) * inv) & _M)
        tail = y2.to_bytes(8, "little")
        if all(0x20 <= c < 0x7F for c in tail):
            out.append((y1 + tail).decode())
    return out


def test_ids_with_equal_hashes_stay_different_nodes():
    from alchemist.graph._intern import hash_ids

    coll = _colliding_ids(4)
    h = hash_ids(pa.array(coll, pa.string()))
    assert len(set(coll)) == 4 and len(set(h.tolist())) == 1  # the premise: four ids, one hash
    # across calls: the first two are stored nodes, the others arrive with the edges (non-strict)
    g = Graph("g", strict=False)
    g.apply_columns(pa.table({"node_id": coll[:2]}))
    src = [coll[2], coll[0], coll[3], coll[1], coll[2]]
    dst = [coll[1], coll[3], coll[0], coll[2], coll[3]]
    g.apply_columns(pa.table({"source": src, "target": dst}))
    assert g.node_ids == [coll[0], coll[1], coll[2], coll[3]]
    assert _edges(g) == list(zip(src, dst))
    # within one call on an empty graph, mixed with ordinary ids
    g2 = Graph("g", strict=False)
    src2 = ["u1", coll[3], coll[1], "u1", coll[0]]
    dst2 = [coll[1], coll[2], coll[3], coll[0], "a-long-ordinary-id"]
    g2.apply_columns(pa.table({"source": src2, "target": dst2}))
    assert g2.node_ids == list(dict.fromkeys(x for pair in zip(src2, dst2) for x in pair))
    assert _edges(g2) == list(zip(src2, dst2))
