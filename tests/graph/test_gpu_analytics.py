"""The CUDA path of the graph analytics under Numba's CUDA simulator, against the CPU path and NetworkX.

Run with ``NUMBA_ENABLE_CUDASIM=1 pytest -m cudasim`` (``make test`` does); the simulator runs
every CUDA thread as a Python thread, so the graphs are small (≤ 60 nodes, a few hundred edges).

Stated tolerances (CUDA vs CPU): PageRank 1e-6 per node, relative; components identical labels
(both numbered by decreasing size, ties by first row); BFS and SSSP lengths exactly equal;
clustering 1e-12 (the triangle counts are equal); Louvain modularity within 0.02.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from alchemist.graph import (
    Graph,
    average_clustering,
    clustering,
    connected_components,
    louvain,
    modularity,
    pagerank,
    shortest_path_length,
    strongly_connected_components,
    transitivity,
)
from alchemist.graph import gpu

pytestmark = pytest.mark.cudasim


def _named(G):
    return nx.relabel_nodes(G, {v: f"n{v}" for v in G.nodes})


def _weighted(G, seed):
    rng = np.random.default_rng(seed)
    for u, v in G.edges():
        G[u][v]["weight"] = float(rng.integers(1, 10)) / 4.0
    return G


def _cases():
    path = _named(nx.path_graph(6))
    two = nx.Graph([("a", "b"), ("b", "c"), ("c", "a"), ("x", "y")])
    tail = nx.DiGraph([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "e")])
    isolated = nx.Graph([("a", "b"), ("b", "c"), ("c", "a"), ("c", "c")])
    isolated.add_nodes_from(["i1", "i2"])
    rand_dir = _weighted(_named(nx.gnm_random_graph(50, 200, seed=3, directed=True)), 3)
    rand_und = _weighted(_named(nx.gnm_random_graph(55, 220, seed=4)), 4)
    sparse_dir = _named(nx.gnm_random_graph(60, 70, seed=5, directed=True))
    return {"path": path, "two components": two, "cycle with tail": tail, "isolated nodes": isolated,
            "random directed": rand_dir, "random undirected": rand_und, "sparse directed": sparse_dir}


CASES = _cases()


@pytest.fixture(params=list(CASES), scope="module")
def case(request):
    G = CASES[request.param]
    return Graph.from_networkx(G), G


def _in_rows(g, values: dict, missing=None):
    return np.array([values.get(v, missing) for v in g.node_ids], dtype=float)


def _partition(g, labels):
    groups = {}
    for node, lab in zip(g.node_ids, labels.tolist()):
        groups.setdefault(lab, set()).add(node)
    return sorted(map(sorted, groups.values()))


def test_pagerank_matches_cpu_and_networkx(case):
    g, G = case
    dev = pagerank(g, backend="cuda")
    np.testing.assert_allclose(dev, pagerank(g, backend="cpu"), rtol=1e-6, atol=0)
    tight = pagerank(g, tol=1e-12, max_iter=1000, backend="cuda")
    ref = nx.pagerank(G, tol=1e-12, max_iter=1000)
    np.testing.assert_allclose(tight, _in_rows(g, ref), rtol=1e-6, atol=0)
    assert abs(dev.sum() - 1) < 1e-12


def test_pagerank_personalization_and_unweighted(case):
    g, G = case
    n = g.number_of_nodes()
    pers = np.arange(1, n + 1, dtype=float)
    dev = pagerank(g, weight=None, personalization=pers, tol=1e-12, max_iter=1000, backend="cuda")
    cpu = pagerank(g, weight=None, personalization=pers, tol=1e-12, max_iter=1000, backend="cpu")
    np.testing.assert_allclose(dev, cpu, rtol=1e-6, atol=0)
    ref = nx.pagerank(G, weight=None, personalization=dict(zip(g.node_ids, pers)), tol=1e-12, max_iter=1000)
    np.testing.assert_allclose(dev, _in_rows(g, ref), rtol=1e-6, atol=0)


def test_components_match_cpu_and_networkx(case):
    g, G = case
    weak = connected_components(g, backend="cuda")
    strong = strongly_connected_components(g, backend="cuda")
    np.testing.assert_array_equal(weak, connected_components(g, backend="cpu"))
    np.testing.assert_array_equal(strong, strongly_connected_components(g, backend="cpu"))
    if G.is_directed():
        ref_weak, ref_strong = nx.weakly_connected_components(G), nx.strongly_connected_components(G)
    else:
        ref_weak = ref_strong = list(nx.connected_components(G))
    assert _partition(g, weak) == sorted(map(sorted, ref_weak))
    assert _partition(g, strong) == sorted(map(sorted, ref_strong))


def test_component_labels_are_the_smallest_row():
    """Weak components on the device label each node by the smallest row of its component (hand check)."""
    src = np.array([4, 3, 1, 6], dtype=np.int64)
    dst = np.array([3, 1, 1, 5], dtype=np.int64)
    labels = gpu.component_labels(8, src, dst, False, "weak")
    np.testing.assert_array_equal(labels, [0, 1, 2, 1, 1, 5, 5, 7])


def test_strong_components_of_a_cycle_with_tail():
    """a → b → c → a, c → d, d → e, e → d: components {a, b, c} and {d, e} (hand check)."""
    g = Graph.from_edges([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "e"), ("e", "d")], directed=True)
    np.testing.assert_array_equal(strongly_connected_components(g, backend="cuda"), [0, 0, 0, 1, 1])


@pytest.mark.parametrize("direction", ["out", "in", "both"])
def test_bfs_lengths_are_exact(case, direction):
    g, G = case
    for source in list(g.node_ids)[:3]:
        dev = shortest_path_length(g, source, direction=direction, backend="cuda")
        np.testing.assert_array_equal(dev, shortest_path_length(g, source, direction=direction, backend="cpu"))
        H = G.reverse() if direction == "in" and G.is_directed() else (
            G.to_undirected() if direction == "both" else G)
        ref = nx.single_source_shortest_path_length(H, source)
        np.testing.assert_array_equal(dev, _in_rows(g, ref, np.inf))


@pytest.mark.parametrize("direction", ["out", "both"])
def test_sssp_lengths_are_exact(case, direction):
    g, G = case
    for source in list(g.node_ids)[:3]:
        dev = shortest_path_length(g, source, weight="weight", direction=direction, backend="cuda")
        cpu = shortest_path_length(g, source, weight="weight", direction=direction, backend="cpu")
        np.testing.assert_array_equal(dev, cpu)
        H = _lightest_undirected(G) if direction == "both" else G
        ref = nx.single_source_dijkstra_path_length(H, source, weight="weight")
        np.testing.assert_array_equal(dev, _in_rows(g, ref, np.inf))


def _lightest_undirected(G):
    """Both directions of a directed graph as one undirected edge of the lighter weight (u → v
    and v → u are two parallel edges of ``direction="both"``)."""
    H = nx.Graph()
    H.add_nodes_from(G)
    for u, v, w in G.edges(data="weight", default=1.0):
        if not H.has_edge(u, v) or H[u][v]["weight"] > w:
            H.add_edge(u, v, weight=w)
    return H


def test_sssp_with_irrational_weights_equals_dijkstra():
    """Float sums that round: the Bellman–Ford fixed point is the same as Dijkstra's, bit for bit."""
    G = nx.gnm_random_graph(45, 180, seed=11, directed=True)
    rng = np.random.default_rng(11)
    for u, v in G.edges():
        G[u][v]["weight"] = float(rng.random() * np.pi)
    g = Graph.from_networkx(_named(G))
    dev = shortest_path_length(g, "n0", weight="weight", backend="cuda")
    np.testing.assert_array_equal(dev, shortest_path_length(g, "n0", weight="weight", backend="cpu"))
    ref = nx.single_source_dijkstra_path_length(_named(G), "n0")
    np.testing.assert_array_equal(dev, _in_rows(g, ref, np.inf))


def test_bfs_kernel_with_seeds_and_depth():
    """The device BFS kernel against the CPU's with several seeds and a depth limit."""
    from alchemist.graph.csr import build_csr

    G = nx.gnm_random_graph(40, 60, seed=8)
    src, dst = (np.array(a, dtype=np.int64) for a in zip(*G.edges()))
    indptr, indices, _, _ = build_csr(src, dst, np.ones(src.shape[0]), 40, False)
    cpu_bfs, dev_bfs = gpu.kernel("bfs", "cpu"), gpu.kernel("bfs", "cuda")
    seeds = np.array([0, 7, 7, 21], dtype=np.int64)
    for depth in (0, 1, 2, -1):
        dist, parent = dev_bfs(indptr, indices, seeds, depth, -1)
        np.testing.assert_array_equal(dist, cpu_bfs(indptr, indices, seeds, depth, -1)[0])
        reached = (dist > 0)
        # every parent is a neighbour one level up
        for v in np.flatnonzero(reached):
            assert dist[parent[v]] == dist[v] - 1 and G.has_edge(int(parent[v]), int(v))


def test_clustering_matches_cpu_and_networkx(case):
    g, G = case
    dev = clustering(g, backend="cuda")
    np.testing.assert_allclose(dev, clustering(g, backend="cpu"), rtol=0, atol=1e-12)
    simple = nx.Graph(G.to_undirected())
    simple.remove_edges_from(list(nx.selfloop_edges(simple)))
    np.testing.assert_allclose(dev, _in_rows(g, nx.clustering(simple)), rtol=0, atol=1e-12)
    assert abs(transitivity(g, backend="cuda") - nx.transitivity(simple)) < 1e-12
    assert abs(average_clustering(g, backend="cuda") - nx.average_clustering(simple)) < 1e-12


def test_triangle_kernel_counts_a_clique():
    """K5: every node is in C(4, 2) = 6 triangles."""
    indptr = np.arange(0, 21, 4, dtype=np.int64)
    indices = np.array([v for u in range(5) for v in range(5) if v != u], dtype=np.int64)
    np.testing.assert_array_equal(gpu.kernel("triangle_kernel", "cuda")(indptr, indices), np.full(5, 6.0))


LOUVAIN = {
    "karate": nx.karate_club_graph(),
    "planted partition": nx.planted_partition_graph(4, 12, 0.6, 0.05, seed=2),
    "caveman": nx.connected_caveman_graph(5, 6),
    "random weighted": _weighted(nx.gnm_random_graph(50, 160, seed=6), 6),
}


@pytest.mark.parametrize("name", list(LOUVAIN))
def test_louvain_modularity_within_tolerance(name):
    G = _named(LOUVAIN[name])
    g = Graph.from_networkx(G)
    dev = louvain(g, seed=0, backend="cuda")
    q_dev = modularity(g, dev)
    q_cpu = modularity(g, louvain(g, seed=0, backend="cpu"))
    q_nx = nx.community.modularity(G, nx.community.louvain_communities(G, seed=0))
    assert abs(q_dev - q_cpu) <= 0.02
    assert q_dev >= q_nx - 0.02
    # labels numbered by decreasing size, every node in one community
    sizes = np.bincount(dev)
    assert dev.shape == (g.number_of_nodes(),) and (np.diff(sizes) <= 0).all() and sizes.min() > 0


def test_louvain_two_triangles():
    g = Graph.from_edges([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "e"), ("e", "f"), ("f", "d")])
    np.testing.assert_array_equal(louvain(g, backend="cuda"), [0, 0, 0, 1, 1, 1])


def test_empty_and_edgeless_graphs():
    empty = Graph.from_edges([])
    for fn in (pagerank, connected_components, strongly_connected_components, clustering, louvain):
        assert fn(empty, backend="cuda").shape == (0,)
    G = nx.Graph()
    G.add_nodes_from(["a", "b", "c"])
    g = Graph.from_networkx(G)
    np.testing.assert_allclose(pagerank(g, backend="cuda"), np.full(3, 1 / 3), rtol=1e-12)
    np.testing.assert_array_equal(connected_components(g, backend="cuda"), [0, 1, 2])
    np.testing.assert_array_equal(clustering(g, backend="cuda"), np.zeros(3))
    np.testing.assert_array_equal(louvain(g, backend="cuda"), [0, 1, 2])
    np.testing.assert_array_equal(shortest_path_length(g, "b", backend="cuda"), [np.inf, 0.0, np.inf])
