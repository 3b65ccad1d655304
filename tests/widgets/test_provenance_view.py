"""The causation tree of a correlation in a GraphView (issue 17): the view's graph has the tree's nodes and
edges, laid out top-down (positions checked against a hand-drawn tree), and draws."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from alchemist import Graph, new_event
from alchemist.cim.provenance import correlation_tree
from alchemist.errors import WidgetError
from alchemist.widgets.provenance_view import correlation_view, tree_positions


def conversation_graph():
    """ana's command adds a; it causes b and c; b causes the edge a-b and c two updates; bo adds z (another
    correlation)."""
    root = new_event("node_added", "g", {"node_id": "a"}, metadata={"actor": "ana"})
    events = [root]

    def derive(parent, etype, payload):
        events.append(parent.derive(etype, payload, previous_cid=events[-1].cid))
        return events[-1]

    b = derive(root, "node_added", {"node_id": "b"})
    c = derive(root, "node_added", {"node_id": "c"})
    derive(b, "edge_added", {"edge_id": "ab", "source": "a", "target": "b"})
    derive(c, "node_updated", {"node_id": "c", "label": "x"})
    derive(c, "node_updated", {"node_id": "c", "label": "y"})
    events.append(new_event("node_added", "g", {"node_id": "z"}, correlation_id="bo", previous_cid=events[-1].cid))
    g = Graph("g")
    g.apply(events)
    return g, events


def test_view_has_the_tree_nodes_and_edges_laid_out_top_down():
    g, events = conversation_graph()
    tree = correlation_tree(g, events[0].correlation_id)
    expected_edges = {(e.causation_id, e.event_id) for e in events[1:6]}
    assert set(tree.edges) == expected_edges and set(tree.nodes) == {e.event_id for e in events[:6]}

    view = correlation_view(tree, width=160, height=120, threaded=False)
    assert set(view.graph.node_ids) == set(tree.nodes)
    assert set(view.graph.edges.select("source", "target").rows()) == expected_edges
    assert view.node_count == 6 and view.edge_count == 5 and view.title.endswith(": 6 nodes")
    assert view.image[:8] == b"\x89PNG\r\n\x1a\n"
    # by hand: leaves ab (x 0), update 1 (x 1), update 2 (x 2); b over ab, c between the updates, root between
    xy = {n: tuple(p) for n, p in zip(view.graph.node_ids, view.positions.tolist())}
    root, b, c, ab, u1, u2 = (e.event_id for e in events[:6])
    assert xy == {root: (0.75, 0.0), b: (0.0, -1.0), c: (1.5, -1.0), ab: (0.0, -2.0), u1: (1.0, -2.0),
                  u2: (2.0, -2.0)}
    kinds = dict(zip(view.graph.node_ids, view.graph.nodes["kind"].to_list()))
    assert set(kinds.values()) == {"event"}
    view.close()


def test_tree_positions_match_networkx_depths_and_refuse_what_is_no_tree():
    tree = nx.balanced_tree(3, 3, create_using=nx.DiGraph)
    pos = tree_positions(tree)
    depth = nx.shortest_path_length(tree, 0)
    assert all(pos[n][1] == -depth[n] for n in tree)
    leaves = sorted((pos[n][0] for n in tree if tree.out_degree(n) == 0))
    assert leaves == [float(k) for k in range(27)]  # side by side, one column each
    assert len({pos[n] for n in tree}) == tree.number_of_nodes()
    for n in tree:  # each parent over the mean of its children
        kids = list(tree.successors(n))
        if kids:
            assert pos[n][0] == pytest.approx(np.mean([pos[k][0] for k in kids]))
    with pytest.raises(WidgetError, match="2 parents"):
        tree_positions(nx.DiGraph([("a", "c"), ("b", "c")]))
    with pytest.raises(WidgetError, match="cycle"):
        tree_positions(nx.DiGraph([("r", "s"), ("a", "b"), ("b", "a")]))
    with pytest.raises(WidgetError, match="non-empty"):
        tree_positions(nx.DiGraph())
