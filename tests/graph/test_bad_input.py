"""Awkward input has defined behaviour (see the Notes of ``Graph``); errors name the id."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

from alchemist.errors import DuplicateIdError, InvalidEventError, NodeNotFoundError, NoPathError
from alchemist.events import new_event
from alchemist.graph import Graph, connected_components, pagerank


def ev(kind, payload):
    return new_event(kind, "g", payload, timestamp=0, validate=False)


def base():
    g = Graph("g")
    g.apply([ev("node_added", {"node_id": x}) for x in "abcd"])
    return g


def test_self_loop_is_kept_and_counted_as_networkx_does():
    g = base()
    g.apply(ev("edge_added", {"edge_id": "loop", "source": "a", "target": "a"}))
    G = nx.MultiGraph([("a", "a")])
    G.add_nodes_from("bcd")
    assert g.number_of_edges() == 1 and g.degree().tolist() == [G.degree(n) for n in "abcd"]
    assert g.neighbors("a") == ["a"]
    assert g.csr()[0].tolist() == [0, 1, 1, 1, 1]  # once in the adjacency


def test_parallel_edges_are_separate_edges():
    g = base()
    g.apply([ev("edge_added", {"edge_id": "x", "source": "a", "target": "b", "weight": 5.0}),
             ev("edge_added", {"edge_id": "y", "source": "a", "target": "b", "weight": 2.0})])
    assert g.number_of_edges() == 2 and isinstance(g.to_networkx(), nx.MultiGraph)
    assert g.shortest_path_length("a", "b", weight="weight") == 2.0  # the lighter one
    assert g.neighbors("a") == ["b"]  # a neighbour once
    with pytest.raises(DuplicateIdError, match="'x'"):
        g.apply(ev("edge_added", {"edge_id": "x", "source": "c", "target": "d"}))


def test_isolated_and_disconnected_nodes():
    g = base()
    g.apply(ev("edge_added", {"edge_id": "ab", "source": "a", "target": "b"}))
    assert g.degree().tolist() == [1, 1, 0, 0]
    assert connected_components(g).tolist() == [0, 0, 1, 2]
    assert g.k_hop("c", 3) == ["c"]
    with pytest.raises(NoPathError, match="'a' to 'c'"):
        g.shortest_path("a", "c")
    pr = pagerank(g)
    G = nx.Graph([("a", "b")])
    G.add_nodes_from("cd")
    assert np.allclose(pr, [nx.pagerank(G)[n] for n in "abcd"], atol=1e-6)


def test_empty_graph():
    g = Graph("g")
    src, dst, w = g.edge_index()
    assert src.shape == dst.shape == w.shape == (0,) and src.dtype == np.int64
    assert g.csr()[0].tolist() == [0]
    assert g.nodes.height == 0 and "id" in g.nodes.columns
    assert g.at(version=0).number_of_nodes() == 0
    assert g.to_networkx().number_of_nodes() == 0
    assert "0 nodes" in repr(g)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_weights_are_refused(bad):
    g = base()
    e = ev("edge_added", {"edge_id": "w", "source": "a", "target": "b", "weight": bad})
    with pytest.raises(InvalidEventError, match=f"event {e.event_id}.*finite"):
        g.apply(e)
    g.apply(ev("edge_added", {"edge_id": "ok", "source": "a", "target": "b"}))
    with pytest.raises(InvalidEventError, match="finite"):
        g.apply(ev("edge_updated", {"edge_id": "ok", "weight": bad}))
    with pytest.raises(InvalidEventError, match="edge 1"):
        Graph.from_edges([("a", "b", 1.0), ("b", "c", bad)])
    assert g.edge("ok")["weight"] == 1.0


def test_unknown_endpoint_strict_and_lenient():
    g = base()
    e = ev("edge_added", {"edge_id": "z", "source": "a", "target": "zed"})
    with pytest.raises(NodeNotFoundError, match="'zed'") as info:
        g.apply(e)
    assert e.event_id in str(info.value)
    lenient = Graph("g", strict=False)
    lenient.apply(e)
    assert lenient.node_ids == ["a", "zed"]
    with pytest.raises(NodeNotFoundError, match="'ghost'"):
        g.apply(ev("node_removed", {"node_id": "ghost"}))
