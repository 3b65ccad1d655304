"""The O(n + m) CPU paths of the analytics (issue 18): counting-sort adjacency, union–find and
Tarjan components, PageRank's cached pull adjacency, queue-based Louvain with refinement —
each against NetworkX (components identical as sets, PageRank within 1e-6 per node) or an
independent computation (argsort, scipy, modularity invariance under aggregation)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from alchemist.events import new_event
from alchemist.graph import (
    Graph,
    connected_components,
    louvain,
    modularity,
    pagerank,
    read_graph,
    strongly_connected_components,
)
from alchemist.graph import _analytics_kernels as kernels
from alchemist.graph import _graph_kernels as gk
from alchemist.graph import _louvain_kernels as louvain_kernels
from alchemist.graph.csr import build_csr
from tests.conftest import shared_path


def _random_multigraph(seed, n=300, m=700, directed=True):
    """Ids "0"…"n-1" (all present, some isolated), parallel edges, self-loops, random weights."""
    rng = np.random.default_rng(seed)
    src = rng.integers(0, n, m)
    dst = np.where(rng.random(m) < 0.3, src, rng.integers(0, n, m))  # self-loops
    dst = np.where(rng.random(m) < 0.6, (src + rng.integers(1, 4, m)) % n, dst)  # local chains → big SCCs
    src = np.concatenate([src, src[:50]])  # parallel edges
    dst = np.concatenate([dst, dst[:50]])
    w = rng.uniform(0.5, 3.0, src.shape[0])
    g = Graph.from_arrays(src, dst, w, node_ids=[str(i) for i in range(n + 20)], directed=directed)
    G = (nx.MultiDiGraph if directed else nx.MultiGraph)()
    G.add_nodes_from(g.node_ids)
    G.add_weighted_edges_from((str(a), str(b), float(x)) for a, b, x in zip(src, dst, w))
    return g, G


def _as_sets(g, labels):
    return {frozenset(g.node_ids[i] for i in np.flatnonzero(labels == c)) for c in np.unique(labels)}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_components_are_networkx_sets_and_numbered_by_size(seed):
    g, G = _random_multigraph(seed)
    weak = connected_components(g)
    strong = strongly_connected_components(g)
    assert _as_sets(g, weak) == {frozenset(c) for c in nx.weakly_connected_components(G)}
    assert _as_sets(g, strong) == {frozenset(c) for c in nx.strongly_connected_components(G)}
    for labels in (weak, strong):
        sizes = np.bincount(labels)
        assert (np.diff(sizes) <= 0).all()
        # ties in size are numbered by first row
        first = np.array([np.flatnonzero(labels == c)[0] for c in range(sizes.shape[0])])
        same = sizes[1:] == sizes[:-1]
        assert (first[1:][same] > first[:-1][same]).all()


def test_components_of_real_directed_graphs():
    path = shared_path("snap_graphs/wiki-Vote.txt")
    g, G = read_graph(path, directed=True), nx.read_edgelist(path, create_using=nx.DiGraph, comments="#")
    assert _as_sets(g, strongly_connected_components(g)) == {frozenset(c) for c in nx.strongly_connected_components(G)}
    assert _as_sets(g, connected_components(g)) == {frozenset(c) for c in nx.weakly_connected_components(G)}


def test_deep_chain_does_not_recurse():
    # a 200 000-node directed cycle plus a tail: one SCC of 200 000 and one singleton
    n = 200_000
    src = np.arange(n + 1)
    dst = np.concatenate([(np.arange(n) + 1) % n, [0]])
    g = Graph.from_arrays(src, dst, directed=True)
    labels = strongly_connected_components(g)
    assert np.bincount(labels).tolist() == [n, 1]


def test_counting_sorts_match_stable_argsort():
    rng = np.random.default_rng(3)
    n = 1000
    rows, cols = rng.integers(0, n, 20_000), rng.integers(0, n, 20_000)
    indptr, order = gk.group_by_row(rows, n)
    assert (order == np.argsort(rows, kind="stable")).all()
    assert (indptr == np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))])).all()


@pytest.mark.parametrize("directed", [True, False])
@pytest.mark.parametrize("m", [300, 60_000])
def test_build_csr_is_the_stable_sort_of_the_entries(directed, m):
    # self-loops and parallel edges (in both directions): the entries of each row sorted by
    # neighbour, ties in the order of the concatenated (forward, then reversed) entries, as a
    # stable argsort of that concatenation gives
    rng = np.random.default_rng(m)
    n = 500
    src = rng.integers(0, n, m)
    dst = np.where(rng.random(m) < 0.1, src, rng.integers(0, n, m))
    src = np.concatenate([src, dst[:40], src[:40]])
    dst = np.concatenate([dst, src[:40], dst[:40]])
    w = rng.random(src.shape[0])
    eid = np.arange(src.shape[0])
    keep = src != dst
    rows = src if directed else np.concatenate([src, dst[keep]])
    cols = dst if directed else np.concatenate([dst, src[keep]])
    ee = eid if directed else np.concatenate([eid, eid[keep]])
    order = np.argsort(rows * n + cols, kind="stable")
    indptr, indices, weights, edge = build_csr(src, dst, w, n, directed)
    assert indptr.tolist() == np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))]).tolist()
    assert indices.tolist() == cols[order].tolist()
    assert edge.tolist() == ee[order].tolist()
    assert np.array_equal(weights, w[ee[order]])


@pytest.mark.parametrize("chunks", [1, 3])
@pytest.mark.parametrize("both", [True, False])
def test_pull_adjacency_rows_hold_the_same_entries_as_scipy(both, chunks):
    import scipy.sparse as sp

    rng = np.random.default_rng(5)
    n, m = 200, 3000
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    w = rng.random(m)
    indptr, cols, weights = gk.adjacency(src, dst, w, n, both, True, chunks)
    ours = sp.csr_matrix((weights, cols, indptr), shape=(n, n)).toarray()
    keep = src != dst
    r = np.concatenate([src, dst[keep]]) if both else src
    c = np.concatenate([dst, src[keep]]) if both else dst
    theirs = sp.coo_matrix((np.concatenate([w, w[keep]]) if both else w, (r, c)), shape=(n, n)).toarray()
    assert np.allclose(ours, theirs, rtol=0, atol=1e-12)
    # the same entries in the same order whatever the number of slices; no weights when not asked
    one = gk.adjacency(src, dst, w, n, both, False, 1)
    assert np.array_equal(one[0], indptr) and np.array_equal(one[1], cols) and one[2].shape == (0,)


@pytest.mark.parametrize("directed", [True, False])
def test_pagerank_weighted_multigraph_matches_networkx(directed):
    g, G = _random_multigraph(4, directed=directed)
    order = g.node_ids
    for weight in ("weight", None):
        theirs = nx.pagerank(G, weight=weight)
        assert np.allclose(pagerank(g, weight=weight), [theirs[v] for v in order], atol=1e-6)
    p = np.linspace(1, 2, len(order))
    theirs = nx.pagerank(G, personalization=dict(zip(order, p)))
    assert np.allclose(pagerank(g, personalization=p), [theirs[v] for v in order], atol=1e-6)


def test_pagerank_cache_follows_changes():
    g = Graph.from_edges([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")], directed=True)
    first = pagerank(g)
    assert np.array_equal(pagerank(g), first)  # the cached adjacency gives the same answer
    g.apply(new_event("edge_added", g.graph_id, {"edge_id": "x", "source": "d", "target": "a", "weight": 5.0}))
    G = nx.MultiDiGraph([("a", "b", {"weight": 1.0}), ("b", "c", {"weight": 1.0}), ("c", "a", {"weight": 1.0}),
                         ("c", "d", {"weight": 1.0}), ("d", "a", {"weight": 5.0})])
    theirs = nx.pagerank(G)
    assert np.allclose(pagerank(g), [theirs[v] for v in g.node_ids], atol=1e-6)


def test_louvain_beats_or_matches_networkx_on_real_graphs():
    for name, directed in (("facebook_combined.txt", False), ("CA-GrQc.txt", False)):
        path = shared_path(f"snap_graphs/{name}")
        G = nx.read_edgelist(path, comments="#")
        G.remove_edges_from(list(nx.selfloop_edges(G)))
        g = Graph.from_networkx(G)
        ours = louvain(g, seed=0)
        q_ours = modularity(g, ours)
        assert q_ours == pytest.approx(nx.community.modularity(G, _as_sets(g, ours)), abs=1e-12)
        q_nx = nx.community.modularity(G, nx.community.louvain_communities(G, seed=0))
        assert q_ours >= q_nx - 0.005


def test_louvain_aggregation_keeps_modularity():
    g, G = _random_multigraph(5, directed=False)
    src, dst, w = g.edge_index()
    n = g.number_of_nodes()
    indptr, order = gk.group_by_row(np.concatenate([src, dst]), n)
    indices = np.concatenate([dst, src])[order]
    data = np.concatenate([w, w])[order]
    labels = np.random.default_rng(0).integers(0, 12, n)
    optr, oind, odata, k = louvain_kernels.louvain_aggregate(indptr, indices, data, labels, 12)
    # modularity of the singleton partition of the aggregate = modularity of labels on the graph
    m2 = data.sum()
    inner = sum(odata[j] for c in range(12) for j in range(optr[c], optr[c + 1]) if oind[j] == c)
    q = inner / m2 - ((k / m2) ** 2).sum()
    theirs = nx.community.modularity(G, _as_sets(g, labels))
    assert q == pytest.approx(theirs, abs=1e-12)
    assert k == pytest.approx(np.bincount(labels, weights=np.bincount(src, w, n) + np.bincount(dst, w, n), minlength=12))



@pytest.mark.parametrize("directed", [True, False])
def test_build_csr_beyond_packed_keys_gives_the_kernels_answer(directed, monkeypatch):
    # keys that would not fit the packed int64 take NumPy's stable sort: the same four arrays
    from alchemist.graph import csr

    rng = np.random.default_rng(9)
    src, dst = rng.integers(0, 50, 400), rng.integers(0, 50, 400)
    dst[:30] = src[:30]  # self-loops
    w = rng.random(400)
    kernel = build_csr(src, dst, w, 50, directed)
    monkeypatch.setattr(csr, "PACKED_BITS", 4)
    fallback = build_csr(src, dst, w, 50, directed)
    for a, b in zip(kernel, fallback):
        assert a.dtype == b.dtype and np.array_equal(a, b)
