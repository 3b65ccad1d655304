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
    _assert_same_graph_as_short_ids(rng, uuids, m)


def test_cid_ids_give_the_graph_of_short_ids():
    """CIDs as alchemist.cid writes them (``bafkr4i…``), beside the same digests under another
    codec's prefix (``bafkre…``, CIDv1 raw SHA-256) and upper-case spellings: each its own node."""
    import base64

    rng = np.random.default_rng(4)
    n, m = 1500, 12_000
    digests = [rng.integers(0, 256, 32, dtype=np.uint8).tobytes() for _ in range(n // 3)]
    cids = ["b" + base64.b32encode(b"\x01\x55\x1e\x20" + d).decode().lower().rstrip("=") for d in digests]
    sha = ["b" + base64.b32encode(b"\x01\x55\x12\x20" + d).decode().lower().rstrip("=") for d in digests]
    ids = cids + sha + [c.upper() for c in cids]
    _assert_same_graph_as_short_ids(rng, ids, m)


def test_hex_digest_ids_give_the_graph_of_short_ids():
    """SHA-256, SHA-1 and MD5 digests in hex (decoded to their digits' bytes), beside the same
    digests in upper case and the SHA-1 digests with a ``0`` appended (the same bytes, one digit
    longer): each its own node."""
    import hashlib

    rng = np.random.default_rng(5)
    n, m = 1500, 12_000
    sha256 = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(n // 5)]
    sha1 = [hashlib.sha1(str(i).encode()).hexdigest() for i in range(n // 5)]
    md5 = [hashlib.md5(str(i).encode()).hexdigest() for i in range(n // 5)]
    ids = sha256 + sha1 + md5 + [h.upper() for h in sha256] + [h + "0" for h in sha1]
    _assert_same_graph_as_short_ids(rng, ids, m)


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
_S0, _S1 = 0x2D358DCCAA6C78A5, 0x8BB84B93962EACC9  # the table's seeds for ids of more than 16 bytes
_ASCII = 0x8080808080808080  # the top bit of each byte: clear in ASCII words


def _mum(x, y):
    p = x * y
    return (p & _M) ^ (p >> 64)


def _colliding_chunks(h, rng):
    """Two different ASCII 16-byte chunks ``(u, v)`` that take the hash state ``h`` to one state,
    ``mum(u ^ S1, v ^ h)``: ``mum`` depends on the product ``x * y`` alone, so ``x * a / b`` and
    ``y * b / a`` give it again. Random ASCII chunks are drawn until a ratio keeps both words ASCII."""
    n = 1 << 20
    while True:
        u = rng.integers(0, 128, (n, 8), dtype=np.uint8).view(np.uint64).ravel()
        v = rng.integers(0, 128, (n, 8), dtype=np.uint8).view(np.uint64).ravel()
        x, y = u ^ np.uint64(_S1), v ^ np.uint64(h)
        for a, b in [(3, 2), (2, 3), (4, 3), (3, 4), (5, 4), (4, 5), (5, 3), (3, 5)]:
            ok = (x % np.uint64(b) == 0) & (y % np.uint64(a) == 0) & (x // np.uint64(b) <= np.uint64(_M // a))
            x2 = (x // np.uint64(b)) * np.uint64(a)  # exact where ok (no remainder, no overflow)
            y2 = (y // np.uint64(a)) * np.uint64(b)
            u2, v2 = x2 ^ np.uint64(_S1), y2 ^ np.uint64(h)
            hit = np.flatnonzero(ok & ((u2 & np.uint64(_ASCII)) == 0) & ((v2 & np.uint64(_ASCII)) == 0))
            if hit.shape[0]:
                i = int(hit[0])
                pair = [(int(u[i]), int(v[i])), (int(u2[i]), int(v2[i]))]
                assert _mum(pair[0][0] ^ _S1, pair[0][1] ^ h) == _mum(pair[1][0] ^ _S1, pair[1][1] ^ h)
                return pair


def _chunk(u, v):
    return (u.to_bytes(8, "little") + v.to_bytes(8, "little")).decode("ascii")


def _colliding_ids(seed=0):
    """Four different 48-byte ASCII ids whose 64-bit hashes are equal. For 48 bytes the hash is
    ``fmix(mum(c ^ S2, d ^ h2))`` over the last 16 bytes ``(c, d)``, with ``h2 = mum(w2 ^ S1, w3 ^
    h1)`` and ``h1 = mum(w0 ^ S1, w1 ^ (48 ^ S0))`` over the first two chunks: two colliding first
    chunks (one state h1) times two colliding second chunks (from h1) give four ids of one hash."""
    rng = np.random.default_rng(seed)
    h0 = 48 ^ _S0
    first = _colliding_chunks(h0, rng)
    h1 = _mum(first[0][0] ^ _S1, first[0][1] ^ h0)
    second = _colliding_chunks(h1, rng)
    return [_chunk(*p) + _chunk(*q) + "-the-same-tail!-" for p in first for q in second]


def test_ids_with_equal_hashes_stay_different_nodes():
    from alchemist.graph._intern import hash_ids

    coll = _colliding_ids()
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


def test_ids_with_equal_hashes_stay_different_nodes_when_hashed():
    """The same four ids after 256 other heads have filled the table's head dictionary: their heads
    find no room, so they are kept long, by their (equal) hashes, and told apart by their bytes."""
    from alchemist.graph._intern import hash_ids

    coll = _colliding_ids(seed=1)
    assert len(set(coll)) == 4 and len(set(hash_ids(pa.array(coll, pa.string())).tolist())) == 1
    fillers = [f"filler/{i:08d}/" + "f" * 17 for i in range(256)]  # 256 heads of 17 bytes (33-byte ids)
    g = Graph("g", strict=False)
    g.apply_columns(pa.table({"node_id": fillers + coll[:2]}))
    assert g._ids_table._heads[0][0] == 256  # the premise: the dictionary is full
    src = [coll[2], coll[0], coll[3], coll[1], coll[2], fillers[5]]
    dst = [coll[1], coll[3], coll[0], coll[2], coll[3], coll[0]]
    g.apply_columns(pa.table({"source": src, "target": dst}))
    assert g.node_ids == fillers + [coll[0], coll[1], coll[2], coll[3]]
    assert _edges(g) == list(zip(src, dst))


def _assert_same_graph_as_short_ids(rng, ids, m):
    """The graph of ``m`` random edges between ``ids`` (in 3 chunks) is the graph of the same edges
    between ``"0" … str(n-1)``: same node order, edges and degrees; and it matches NetworkX."""
    n = len(ids)
    short = [str(i) for i in range(n)]
    s, d = rng.integers(0, n, m), rng.integers(0, n, m)
    g_long = _graph(ids, [ids[i] for i in s], [ids[i] for i in d], chunks=3)
    g_short = _graph(short, [short[i] for i in s], [short[i] for i in d], chunks=3)
    back = dict(zip(ids, short))
    assert [back[x] for x in g_long.node_ids] == g_short.node_ids
    assert [(back[u], back[v]) for u, v in _edges(g_long)] == _edges(g_short)
    np.testing.assert_array_equal(g_long.degree(), g_short.degree())
    _assert_matches_networkx(g_long, ids, [ids[i] for i in s], [ids[i] for i in d])
