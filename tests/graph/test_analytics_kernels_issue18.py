"""Kernels tuned for small graphs (issue 18): Rem's union–find, Tarjan without on-stack flags,
the degree-ordered triangle count and the serial PageRank path — each against an independent
computation (scipy.sparse.csgraph, NetworkX)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components as scipy_components

from alchemist.graph import Graph, clustering, connected_components, pagerank, strongly_connected_components


def _same_partition(a, b):
    """Two labellings are the same partition when the pairs (a, b) are one-to-one."""
    pairs = np.unique(np.stack([a, b]), axis=1)
    return pairs.shape[1] == np.unique(a).shape[0] == np.unique(b).shape[0]


@pytest.mark.parametrize("seed", range(12))
def test_components_match_scipy_on_random_graphs(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    m = int(rng.integers(0, 3 * n))
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    g = Graph.from_arrays(src, dst, node_ids=[str(i) for i in range(n)], directed=True)
    A = sp.coo_matrix((np.ones(m), (src, dst)), shape=(n, n)).tocsr()
    _, weak = scipy_components(A, directed=True, connection="weak")
    _, strong = scipy_components(A, directed=True, connection="strong")
    assert _same_partition(connected_components(g), weak)
    assert _same_partition(strongly_connected_components(g), strong)


@pytest.mark.parametrize("n_chunks", [1, 3, 8])
def test_triangles_on_a_clustered_real_graph_match_networkx(n_chunks):
    # ego-Facebook: clustering 0.6, so the count runs without its branch for most nodes
    from alchemist.graph import _analytics_kernels as kernels
    from alchemist.graph.csr import build_csr
    from tests.conftest import shared_path

    G = nx.read_edgelist(shared_path("snap_graphs/facebook_combined.txt"), nodetype=int)
    g = Graph.from_networkx(G)
    src, dst, _ = g.edge_index()
    indptr, indices, _, _ = build_csr(src, dst, np.ones(src.shape[0]), g.number_of_nodes(), False)
    theirs = nx.triangles(G)
    ours = kernels.triangle_kernel(indptr, indices, n_chunks)
    assert ours.tolist() == [float(theirs[v]) for v in (int(i) for i in g.node_ids)]


@pytest.mark.parametrize("p", [0.02, 0.3, 0.9])
def test_clustering_matches_networkx_at_every_density(p):
    # sparse (the branch), middling and dense (no branch) graphs, with both kinds of node mixed
    G = nx.gnp_random_graph(150, p, seed=7)
    G.add_edges_from(nx.complete_graph(range(150, 180)).edges)
    G.add_edge(0, 150)
    g = Graph.from_networkx(G)
    theirs = nx.clustering(G)
    assert np.allclose(clustering(g), [theirs[int(v)] for v in g.node_ids], rtol=0, atol=1e-12)


def test_parallel_and_serial_pagerank_kernels_match_networkx():
    # wiki-Vote (directed, dangling nodes): the parallel kernel (large graphs) and the serial one
    # (small graphs, the unit-weight branch) on the same pull adjacency, against NetworkX
    from alchemist.graph import _analytics_cpu as cpu
    from alchemist.graph import _analytics_kernels as kernels
    from alchemist.graph import read_graph
    from tests.conftest import shared_path

    path = shared_path("snap_graphs/wiki-Vote.txt")
    g = read_graph(path, directed=True)
    G = nx.read_edgelist(path, create_using=nx.DiGraph, comments="#")
    theirs = nx.pagerank(G)
    expected = np.array([theirs[v] for v in g.node_ids])
    n = g.number_of_nodes()
    indptr, cols, w, out_w, unit = cpu.pull_adjacency(g, np.ones(g.number_of_edges()))
    assert unit and w.shape == (0,)  # no weights kept when all are 1
    ones = np.ones(cols.shape[0])
    p = np.full(n, 1.0 / n)
    x_par, it_par, _ = kernels.pagerank_kernel(indptr, cols, w, out_w, p, 0.85, 1e-6, 100)
    x_pw, it_pw, _ = kernels.pagerank_kernel(indptr, cols, ones, out_w, p, 0.85, 1e-6, 100)
    x_ser, it_ser, _ = kernels.pagerank_serial(indptr, cols, w, out_w, p, 0.85, 1e-6, 100, True)
    x_w, it_w, _ = kernels.pagerank_serial(indptr, cols, ones, out_w, p, 0.85, 1e-6, 100, False)
    assert it_par == it_pw == it_ser == it_w
    for x in (x_par, x_pw, x_ser, x_w):
        assert np.allclose(x, expected, rtol=0, atol=1e-6)


def test_strong_components_follow_changes_to_the_graph():
    from alchemist.events import new_event

    g = Graph.from_edges([("a", "b"), ("b", "c"), ("c", "d")], directed=True)
    assert strongly_connected_components(g).tolist() == [0, 1, 2, 3]
    g.apply(new_event("edge_added", g.graph_id, {"edge_id": "x", "source": "d", "target": "b"}))
    G = nx.DiGraph([("a", "b"), ("b", "c"), ("c", "d"), ("d", "b")])
    assert _same_partition(strongly_connected_components(g),
                           np.array([min(i for i, c in enumerate(nx.strongly_connected_components(G)) if v in c)
                                     for v in g.node_ids]))
