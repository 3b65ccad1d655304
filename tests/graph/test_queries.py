"""Queries against NetworkX on real graphs."""

from __future__ import annotations

import random

import networkx as nx
import numpy as np
import polars as pl
import pytest

from alchemist.errors import GraphError, NodeNotFoundError, NoPathError
from alchemist.graph import Graph, read_graph


@pytest.fixture(scope="module")
def lesmis(request):
    from tests.conftest import shared_path

    path = shared_path("networkx_builtin_graphs/les_miserables.gml")
    return read_graph(path), nx.read_gml(path)


@pytest.fixture(scope="module")
def email():
    from tests.conftest import shared_path

    path = shared_path("snap_graphs/email-Eu-core.txt.gz")
    return read_graph(path, directed=True), nx.read_edgelist(path, create_using=nx.DiGraph, nodetype=str)


def test_neighbors_directed_and_undirected(lesmis, email):
    g, G = lesmis
    for n in ("Valjean", "Napoleon", "Cosette"):
        assert set(g.neighbors(n)) == set(G[n])
    d, D = email
    for n in ("0", "17", "160"):
        assert set(d.neighbors(n)) == set(D.successors(n))
        assert set(d.neighbors(n, direction="in")) == set(D.predecessors(n))
        assert set(d.neighbors(n, direction="both")) == set(D.successors(n)) | set(D.predecessors(n))


@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_k_hop_matches_bfs_cutoff(email, k):
    d, D = email
    U = D.to_undirected(as_view=True)
    for seed in ("0", "500"):
        expected = nx.single_source_shortest_path_length(U, seed, cutoff=k)
        assert set(d.k_hop(seed, k)) == set(expected)
        out = nx.single_source_shortest_path_length(D, seed, cutoff=k)
        assert set(d.k_hop(seed, k, direction="out")) == set(out)
    assert set(d.k_hop(["0", "1"], 1, include_self=False)) == (set(U["0"]) | set(U["1"])) - {"0", "1"}


def test_shortest_paths_match_networkx(email, lesmis):
    d, D = email
    rng = random.Random(1)
    nodes = list(D.nodes)
    for _ in range(30):
        s, t = rng.choice(nodes), rng.choice(nodes)
        try:
            expected = nx.shortest_path_length(D, s, t)
        except nx.NetworkXNoPath:
            with pytest.raises(NoPathError, match=repr(s)):
                d.shortest_path(s, t)
            continue
        path = d.shortest_path(s, t)
        assert len(path) - 1 == expected and path[0] == s and path[-1] == t
        assert all(D.has_edge(a, b) for a, b in zip(path, path[1:]))
    g, G = lesmis
    for s, t in [("Napoleon", "Cosette"), ("Champtercier", "Brujon"), ("Valjean", "Valjean"), ("Child1", "Mabeuf")]:
        assert g.shortest_path_length(s, t, weight="weight") == pytest.approx(nx.dijkstra_path_length(G, s, t))
        path = g.shortest_path(s, t, weight="weight")
        assert sum(G[a][b]["weight"] for a, b in zip(path, path[1:])) == pytest.approx(nx.dijkstra_path_length(G, s, t))
    lengths = g.shortest_path_length("Valjean", weight="weight")
    expected = nx.single_source_dijkstra_path_length(G, "Valjean")
    assert np.allclose(lengths, [expected[n] for n in g.node_ids])


def test_weighted_directed_paths_random_weights():
    rng = np.random.default_rng(4)
    D = nx.gnp_random_graph(300, 0.02, seed=4, directed=True)
    for u, v in D.edges:
        D[u][v]["weight"] = float(rng.integers(1, 20))
    g = Graph.from_networkx(D)
    hops = g.shortest_path_length("0")
    hops_nx = nx.single_source_shortest_path_length(D, 0)
    assert [hops[g.node_row(str(n))] for n in hops_nx] == list(hops_nx.values())
    for t in (5, 17, 123, 299):
        try:
            expected = nx.dijkstra_path_length(D, 0, t)
        except nx.NetworkXNoPath:
            continue
        assert g.shortest_path_length("0", str(t), weight="weight") == expected


def test_find_nodes_by_label_property_and_expression():
    g = Graph("g")
    from alchemist.events import new_event

    g.apply([new_event("node_added", "g", {"node_id": f"n{i}", "label": "even" if i % 2 == 0 else "odd",
                                           "properties": {"age": i, "team": "red" if i < 5 else "blue"}}, timestamp=0)
             for i in range(10)])
    assert g.find_nodes("even") == ["n0", "n2", "n4", "n6", "n8"]
    assert g.find_nodes("odd", team="red") == ["n1", "n3"]
    assert g.find_nodes(where=pl.col("age") >= 8) == ["n8", "n9"]
    assert g.find_nodes(id_contains="n1") == ["n1"]
    assert g.find_nodes(["even", "odd"], age=3) == ["n3"]
    with pytest.raises(GraphError, match="'colour'"):
        g.find_nodes(colour="red")


def test_subgraph_matches_networkx(lesmis):
    g, G = lesmis
    nodes = g.k_hop("Valjean", 1)
    s = g.subgraph(nodes)
    S = G.subgraph(nodes)
    assert (s.number_of_nodes(), s.number_of_edges()) == (S.number_of_nodes(), S.number_of_edges())
    assert {frozenset(e) for e in s.to_networkx().edges} == {frozenset(e) for e in S.edges}
    for u, v, w in S.edges(data="weight"):
        assert s.to_networkx()[u][v]["weight"] == w
    assert set(s.edge_ids) <= set(g.edge_ids)
    assert all(s.edge(e) == g.edge(e) for e in s.edge_ids)
    assert all(s.node(n) == g.node(n) for n in s.node_ids)
    assert s.at(version=len(nodes)).number_of_edges() == 0  # its history: nodes first, then edges


def test_query_errors_name_the_node(lesmis):
    g, _ = lesmis
    with pytest.raises(NodeNotFoundError, match="'Nobody'"):
        g.neighbors("Nobody")
    with pytest.raises(NodeNotFoundError, match="'Nobody'"):
        g.k_hop(["Valjean", "Nobody"], 2)
    with pytest.raises(GraphError, match="non-negative"):
        g.k_hop("Valjean", -1)
    with pytest.raises(GraphError, match="direction"):
        g.neighbors("Valjean", direction="sideways")
    neg = Graph.from_edges([("a", "b", -1.0), ("b", "c", 1.0)])
    with pytest.raises(GraphError, match="'e0'.*negative"):
        neg.shortest_path("a", "c", weight="weight")
    assert neg.shortest_path("a", "c") == ["a", "b", "c"]
