"""Issue 20's graph defects: ``weight=`` validation, label-list modularity, GML labels and
booleans, hedonic games on an alchemist Graph — each against NetworkX."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from alchemist.errors import GraphError
from alchemist.games import hedonic_game, merge_and_split
from alchemist.graph import Graph, louvain, modularity, pagerank
from alchemist.graph.formats import read_gml, write_gml


def weighted_karate():
    G = nx.karate_club_graph()  # edge attribute "weight" (interaction counts)
    for u, v, d in G.edges(data=True):
        d["strength"] = float((u * 7 + v * 3) % 5 + 1)
        d["kind"] = "tie"
    return G, Graph.from_networkx(G)


@pytest.mark.parametrize("call", [
    lambda g, w: pagerank(g, weight=w),
    lambda g, w: louvain(g, weight=w),
    lambda g, w: modularity(g, [set(g.node_ids)], weight=w),
])
def test_unknown_weight_column_is_refused(call):
    _, g = weighted_karate()
    with pytest.raises(GraphError, match=r"'wieght' is not an edge column.*\['weight', 'strength'\]"):
        call(g, "wieght")
    with pytest.raises(GraphError, match="'kind' is String, not numeric"):
        call(g, "kind")


def test_pagerank_weight_column_none_and_property():
    G, g = weighted_karate()
    nodes = [int(v) for v in g.node_ids]
    for ours, theirs in [("weight", "weight"), (None, None), (False, None), ("strength", "strength")]:
        expected = nx.pagerank(G, weight=theirs, tol=1e-10)
        np.testing.assert_allclose(pagerank(g, weight=ours, tol=1e-10), [expected[v] for v in nodes], atol=1e-8)


def test_modularity_with_a_label_list_matches_networkx():
    G = nx.Graph([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "e"), ("e", "f"), ("f", "d")])
    g = Graph.from_networkx(G)
    labels = [0, 0, 0, 1, 1, 1]
    expected = nx.community.modularity(G, [{"a", "b", "c"}, {"d", "e", "f"}])
    assert modularity(g, labels) == pytest.approx(expected, abs=1e-12)
    assert modularity(g, ["x", "x", "x", "y", "y", "y"]) == pytest.approx(expected, abs=1e-12)
    # the call: three nodes, a label list
    h = nx.Graph([("a", "b", {"weight": 2.0}), ("b", "c", {"weight": 1.0})])
    assert modularity(Graph.from_networkx(h), [0, 0, 1]) == pytest.approx(
        nx.community.modularity(h, [{"a", "b"}, {"c"}], weight="weight"), abs=1e-12)
    with pytest.raises(GraphError, match="one community label per node"):
        modularity(g, [0, 1])


def test_modularity_by_property_weights_matches_networkx():
    G, g = weighted_karate()
    labels = louvain(g, weight="strength", seed=1)
    parts = [{v for v, c in zip(g.node_ids, labels) if c == k} for k in set(labels.tolist())]
    parts = [{int(v) for v in p} for p in parts]
    for w in ("weight", "strength", None):
        assert modularity(g, labels, weight=w) == pytest.approx(nx.community.modularity(G, parts, weight=w), abs=1e-12)


def labelled_graph():
    G = nx.DiGraph()
    G.add_node("ada", label="Person", vip=True, age=36)
    G.add_node("bob", label="Person", vip=False, age=41)
    G.add_node("acme", label="Company", listed=True)
    G.add_edge("ada", "acme", weight=2.5, relationship="WORKS_AT", current=True)
    G.add_edge("bob", "acme", weight=1.0, relationship="WORKS_AT", current=False)
    return Graph.from_networkx(G)


def test_gml_roundtrip_keeps_labels_and_booleans(tmp_path):
    g = labelled_graph()
    h = read_gml(write_gml(g, tmp_path / "g.gml"))
    assert h.node_ids == g.node_ids and h.directed
    for v in g.node_ids:
        assert h.node(v) == g.node(v)
    assert h.node("ada")["label"] == "Person" and h.node("acme")["label"] == "Company"
    assert h.node("ada")["vip"] is True and h.node("bob")["vip"] is False
    assert h.node("ada")["age"] == 36
    for e in g.edge_ids:
        assert h.edge(e) == g.edge(e)
    assert h.edge(h.edge_ids[1])["current"] is False


def test_gml_from_write_gml_is_read_by_networkx(tmp_path):
    g = labelled_graph()
    G = nx.read_gml(write_gml(g, tmp_path / "g.gml"))
    assert sorted(G.nodes) == sorted(g.node_ids)
    assert G.nodes["ada"]["alchemistLabel"] == "Person"
    assert G.nodes["ada"]["vip"] == 1 and G.nodes["bob"]["vip"] == 0  # as networkx writes booleans
    assert G.edges["ada", "acme"]["weight"] == 2.5
    # and the same bytes for the booleans as networkx's own writer
    H = nx.DiGraph()
    H.add_node("ada", vip=True)
    nx.write_gml(H, tmp_path / "nx.gml")
    assert "vip 1" in (tmp_path / "nx.gml").read_text()
    assert "vip 1" in (tmp_path / "g.gml").read_text()


def test_hedonic_game_on_an_alchemist_graph_matches_networkx():
    G = nx.Graph()
    G.add_weighted_edges_from([("a", "b", 2.0), ("b", "c", -1.0), ("c", "d", 2.0), ("a", "c", 0.5), ("d", "e", 1.5)])
    g = Graph.from_networkx(G)
    ours, theirs = hedonic_game(g), hedonic_game(g.to_networkx())
    assert ours.node_ids == theirs.node_ids == g.node_ids
    assert repr(ours) == repr(theirs)
    # hand calculation: a's utility with {a, b, c} = 2 + 0.5; c's = -1 + 0.5; d and e alone 0
    labels = np.array([0, 0, 0, 1, 2])
    np.testing.assert_allclose(ours.utilities(labels), [2.5, 1.0, -0.5, 0.0, 0.0])
    np.testing.assert_allclose(ours.utilities(labels), theirs.utilities(labels))
    np.testing.assert_array_equal(merge_and_split(ours), merge_and_split(theirs))
    # weight= on an alchemist Graph names an edge column, as for the analytics
    assert np.all(hedonic_game(g, weight=None).utilities(labels) == [2, 2, 2, 0, 0])
    with pytest.raises(GraphError, match="'strength' is not an edge column"):
        hedonic_game(g, weight="strength")
