"""alchemist as a NetworkX backend: each function against NetworkX itself on real graphs.

NetworkX's own implementation is the independent reference (same graph, same arguments).
"""

from __future__ import annotations

import gzip

import numpy as np
import pytest

nx = pytest.importorskip("networkx")

SAMPLE = "data/samples/CollegeMsg.txt.gz"


@pytest.fixture(scope="module")
def college(repo_root):
    """CollegeMsg as a simple undirected NetworkX graph (its message pairs), node ids as ints."""
    G = nx.Graph()
    with gzip.open(repo_root / SAMPLE, "rt") as fh:
        for line in fh:
            u, v, _ = line.split()
            if u != v:
                G.add_edge(int(u), int(v))
    return G


@pytest.fixture(scope="module")
def college_directed(repo_root):
    G = nx.DiGraph()
    with gzip.open(repo_root / SAMPLE, "rt") as fh:
        for line in fh:
            u, v, _ = line.split()
            w = G.get_edge_data(int(u), int(v), {"weight": 0})["weight"]
            G.add_edge(int(u), int(v), weight=w + 1)  # messages per ordered pair
    return G


def test_the_backend_is_installed_and_described():
    from networkx.utils.backends import backend_info, backends

    assert "alchemist" in backends
    info = backend_info["alchemist"]
    assert info["backend_name"] == "alchemist" and "pagerank" in info["functions"]


def test_pagerank_weighted_directed(college_directed):
    ours = nx.pagerank(college_directed, weight="weight", backend="alchemist")
    ref = nx.pagerank(college_directed, weight="weight")
    assert list(ours) == list(ref)  # NetworkX's node order
    assert max(abs(ours[n] - ref[n]) for n in ref) < 1e-6
    assert all(type(v) is float for v in ours.values())


def test_pagerank_personalization_and_convergence_failure():
    G = nx.karate_club_graph()
    p = {0: 1.0, 33: 3.0}
    ours = nx.pagerank(G, personalization=p, backend="alchemist")
    ref = nx.pagerank(G, personalization=p)
    assert max(abs(ours[n] - ref[n]) for n in ref) < 1e-6
    with pytest.raises(nx.PowerIterationFailedConvergence):
        nx.pagerank(G, max_iter=2, backend="alchemist")


def test_betweenness_exact_and_sampled(college):
    H = college.subgraph(list(college)[:400]).copy()
    ours = nx.betweenness_centrality(H, backend="alchemist")
    ref = nx.betweenness_centrality(H)
    assert max(abs(ours[n] - ref[n]) for n in ref) < 1e-12
    ours_k = nx.betweenness_centrality(H, k=40, seed=7, backend="alchemist")
    ref_k = nx.betweenness_centrality(H, k=40, seed=7)  # the same sources drawn
    assert max(abs(ours_k[n] - ref_k[n]) for n in ref_k) < 1e-12


def test_louvain_is_a_partition_with_networkx_modularity(college):
    parts = nx.community.louvain_communities(college, seed=1, backend="alchemist")
    assert sorted(n for p in parts for n in p) == sorted(college)
    q_ours = nx.community.modularity(college, parts)  # NetworkX's modularity of our partition
    q_ref = nx.community.modularity(college, nx.community.louvain_communities(college, seed=1))
    assert q_ours > q_ref - 0.02
    assert nx.community.modularity(college, parts, backend="alchemist") == pytest.approx(q_ours, abs=1e-12)


def test_modularity_refuses_a_non_partition():
    G = nx.karate_club_graph()
    with pytest.raises(nx.NetworkXError, match="not a valid partition"):
        nx.community.modularity(G, [set(range(10))], backend="alchemist")


def test_clustering_family(college):
    ours, ref = nx.clustering(college, backend="alchemist"), nx.clustering(college)
    assert max(abs(ours[n] - ref[n]) for n in ref) < 1e-12
    assert nx.clustering(college, 9, backend="alchemist") == pytest.approx(ref[9])
    assert nx.average_clustering(college, backend="alchemist") == pytest.approx(nx.average_clustering(college))
    assert nx.average_clustering(college, count_zeros=False, backend="alchemist") == pytest.approx(
        nx.average_clustering(college, count_zeros=False))
    assert nx.transitivity(college, backend="alchemist") == pytest.approx(nx.transitivity(college))


def test_components(college, college_directed):
    def canon(parts):
        return sorted(sorted(p) for p in parts)

    assert canon(nx.connected_components(college, backend="alchemist")) == canon(nx.connected_components(college))
    assert canon(nx.strongly_connected_components(college_directed, backend="alchemist")) == canon(
        nx.strongly_connected_components(college_directed))


def test_shortest_paths(college, college_directed):
    nodes = list(college)
    s, t = nodes[0], nodes[-1]
    path = nx.shortest_path(college, s, t, backend="alchemist")
    assert path[0] == s and path[-1] == t and nx.is_path(college, path)
    assert len(path) - 1 == nx.shortest_path_length(college, s, t)
    assert nx.shortest_path_length(college, s, backend="alchemist") == nx.shortest_path_length(college, s)
    ours = nx.single_source_dijkstra_path_length(college_directed, s, backend="alchemist")
    assert ours == nx.single_source_dijkstra_path_length(college_directed, s)
    cut = nx.single_source_dijkstra_path_length(college_directed, s, cutoff=3, backend="alchemist")
    assert cut == nx.single_source_dijkstra_path_length(college_directed, s, cutoff=3)
    with pytest.raises(nx.NodeNotFound):
        nx.shortest_path(college, "nowhere", t, backend="alchemist")
    G = nx.Graph([(1, 2)])
    G.add_node(3)
    with pytest.raises(nx.NetworkXNoPath):
        nx.shortest_path(G, 1, 3, backend="alchemist")


def test_forceatlas2_layout_keeps_neighbours_close():
    G = nx.karate_club_graph()
    pos = nx.forceatlas2_layout(G, max_iter=200, seed=3, backend="alchemist")
    assert set(pos) == set(G) and all(np.isfinite(p).all() and p.shape == (2,) for p in pos.values())
    xy = np.array([pos[n] for n in G])
    d = np.linalg.norm(xy[:, None] - xy[None], axis=-1)
    adj = nx.to_numpy_array(G, weight=None) > 0
    assert d[adj].mean() < 0.6 * d[~adj & ~np.eye(len(G), dtype=bool)].mean()


def test_backend_priority_routes_calls_without_backend_argument(monkeypatch):
    from alchemist import nx_backend

    calls = []
    original = nx_backend.BackendInterface.pagerank
    monkeypatch.setattr(nx_backend.BackendInterface, "pagerank",
                        staticmethod(lambda *a, **k: calls.append(1) or original(*a, **k)))
    G = nx.karate_club_graph()
    with nx.config(backend_priority=["alchemist"]):
        nx.pagerank(G)
        nx.hits(G)  # not implemented by alchemist: NetworkX runs it
    assert calls == [1]


def test_unsupported_arguments_are_declined_not_ignored():
    G = nx.karate_club_graph()
    with pytest.raises(NotImplementedError, match="not implemented by 'alchemist'"):
        nx.betweenness_centrality(G, weight="weight", backend="alchemist")
    with pytest.raises(NotImplementedError, match="not implemented by 'alchemist'"):
        nx.clustering(G.to_directed(), backend="alchemist")
    with pytest.raises(NotImplementedError, match="not implemented by 'alchemist'"):
        nx.pagerank(nx.MultiGraph(G), backend="alchemist")
