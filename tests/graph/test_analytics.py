"""Analytics against NetworkX on real graphs. Tolerances: PageRank 1e-6 per node (both stop at
L1 change < n·1e-6), betweenness and clustering 1e-12 (exact arithmetic on the same paths),
modularity of a given partition 1e-12, Louvain's modularity within 0.02 of NetworkX's."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from alchemist.errors import GraphError
from alchemist.graph import (
    Graph,
    average_clustering,
    betweenness_centrality,
    clustering,
    connected_components,
    degree_statistics,
    louvain,
    modularity,
    pagerank,
    read_graph,
    strongly_connected_components,
    transitivity,
)
from tests.conftest import shared_path


def _gml(name):
    G = nx.read_gml(shared_path(f"networkx_builtin_graphs/{name}.gml"))
    return Graph.from_networkx(G), G


@pytest.fixture(scope="module")
def email():
    path = shared_path("snap_graphs/email-Eu-core.txt.gz")
    return read_graph(path, directed=True), nx.read_edgelist(path, create_using=nx.DiGraph)


@pytest.fixture(scope="module")
def facebook():
    path = shared_path("snap_graphs/facebook_combined.txt")
    return read_graph(path), nx.read_edgelist(path)


def in_rows(g, mapping):
    return np.array([mapping[n] for n in g.node_ids])


@pytest.mark.parametrize("name", ["karate_club", "les_miserables"])
def test_small_graphs_everything(name):
    g, G = _gml(name)
    assert np.allclose(pagerank(g), in_rows(g, nx.pagerank(G)), atol=1e-6)
    assert np.allclose(pagerank(g, weight=None), in_rows(g, nx.pagerank(G, weight=None)), atol=1e-6)
    assert np.allclose(betweenness_centrality(g), in_rows(g, nx.betweenness_centrality(G)), atol=1e-12)
    assert np.allclose(betweenness_centrality(g, normalized=False),
                       in_rows(g, nx.betweenness_centrality(G, normalized=False)), atol=1e-12)
    assert np.allclose(clustering(g), in_rows(g, nx.clustering(G)), atol=1e-12)
    assert transitivity(g) == pytest.approx(nx.transitivity(G), abs=1e-12)
    assert average_clustering(g) == pytest.approx(nx.average_clustering(G), abs=1e-12)
    parts = nx.community.louvain_communities(G, seed=1)
    assert modularity(g, parts) == pytest.approx(nx.community.modularity(G, parts), abs=1e-12)
    ours = louvain(g, seed=1)
    assert modularity(g, ours) >= nx.community.modularity(G, parts) - 0.02
    # the labels are a partition numbered by decreasing size
    sizes = np.bincount(ours)
    assert (np.diff(sizes) <= 0).all()


def test_directed_email(email):
    d, D = email
    assert np.allclose(pagerank(d), in_rows(d, nx.pagerank(D)), atol=1e-6)
    scc = strongly_connected_components(d)
    assert len(set(scc.tolist())) == nx.number_strongly_connected_components(D)
    largest = max(nx.strongly_connected_components(D), key=len)
    assert {d.node_ids[i] for i in np.flatnonzero(scc == 0)} == largest
    wcc = connected_components(d)
    assert len(set(wcc.tolist())) == nx.number_weakly_connected_components(D)
    # sampled betweenness: the same k sources as NetworkX draws with the same seed
    assert np.allclose(betweenness_centrality(d, k=40, seed=7), in_rows(d, nx.betweenness_centrality(D, k=40, seed=7)),
                       atol=1e-12)
    U = D.to_undirected()
    U.remove_edges_from(list(nx.selfloop_edges(U)))
    assert np.allclose(clustering(d), in_rows(d, nx.clustering(U)), atol=1e-12)
    stats = degree_statistics(d)
    assert stats["in_degree"]["max"] == max(dict(D.in_degree()).values())
    assert stats["out_degree"]["mean"] == pytest.approx(D.number_of_edges() / D.number_of_nodes())
    assert stats["density"] == pytest.approx(nx.density(D))
    assert stats["self_loops"] == nx.number_of_selfloops(D)


def test_louvain_on_email_undirected(email):
    _, D = email
    U = D.to_undirected()
    u = Graph.from_networkx(U)
    ours = modularity(u, louvain(u, seed=0))
    theirs = nx.community.modularity(U, nx.community.louvain_communities(U, seed=0))
    assert ours >= theirs - 0.02


def test_facebook_components_pagerank_and_sampled_betweenness(facebook):
    g, G = facebook
    assert np.allclose(pagerank(g), in_rows(g, nx.pagerank(G)), atol=1e-6)
    assert connected_components(g).max() + 1 == nx.number_connected_components(G)
    bc = betweenness_centrality(g, k=20, seed=0)
    assert np.allclose(bc, in_rows(g, nx.betweenness_centrality(G, k=20, seed=0)), atol=1e-12)


def test_awkward_inputs():
    empty = Graph()
    for f in (pagerank, betweenness_centrality, clustering, louvain, connected_components):
        assert f(empty).shape == (0,)
    assert degree_statistics(empty)["n_nodes"] == 0
    g = Graph.from_networkx(nx.Graph([(0, 1), (1, 2), (2, 0), (3, 4)]))
    g.apply([])  # no-op
    loops = Graph.from_edges([("a", "b"), ("b", "c"), ("c", "a"), ("a", "a"), ("a", "b")])
    G = nx.MultiGraph([("a", "b"), ("b", "c"), ("c", "a"), ("a", "a"), ("a", "b")])
    assert np.allclose(pagerank(loops), in_rows(loops, nx.pagerank(G)), atol=1e-6)
    S = nx.Graph(G)
    S.remove_edges_from(list(nx.selfloop_edges(S)))
    assert np.allclose(clustering(loops), in_rows(loops, nx.clustering(S)))
    assert connected_components(g).tolist() == [0, 0, 0, 1, 1]
    with pytest.raises(GraphError, match="alpha"):
        pagerank(g, alpha=1.5)
    with pytest.raises(GraphError, match="k=9"):
        betweenness_centrality(g, k=9)
    with pytest.raises(GraphError, match="no community"):
        modularity(g, [{"0", "1", "2"}])
