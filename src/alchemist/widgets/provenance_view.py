"""A correlation's causation tree in a :class:`~alchemist.widgets.graph_view.GraphView`, laid out as a tree.

:func:`tree_positions` is the layout (roots on top, each level one row down, leaves side by side
in depth-first order, each parent centred over its children: the simple tidy drawing of Wetherell
and Shannon); :func:`correlation_view` converts the tree
(:func:`alchemist.cim.provenance.correlation_tree`) to a Graph and opens a GraphView of it with
those positions, coloured by the kind of node (event, suggestion, …) and labelled with the event
types.

References: C. Wetherell, A. Shannon, "Tidy drawings of trees", IEEE Trans. Software Engineering
SE-5(5) (1979), 514–520.
"""

from __future__ import annotations

import numpy as np

from alchemist.errors import WidgetError

__all__ = ["correlation_view", "tree_positions"]


def correlation_view(tree, *, width: int = 800, height: int = 600, color_by: str | None = None, labels: int = 200,
                     title: str | None = None, **kwargs):
    """A GraphView of a causation tree, laid out by :func:`tree_positions`.

    Parameters
    ----------
    tree : networkx.DiGraph
        From :func:`~alchemist.cim.provenance.correlation_tree` (any forest of ``cause → effect``
        edges works; node attributes become node columns, ``label`` the drawn text).
    width, height : int
        Size of the picture in pixels.
    color_by : str, optional
        The node column that colours the nodes: ``"kind"`` (event, command, suggestion, unknown)
        by default when the nodes have it; ``"event_type"``, ``"actor"``, …
    labels : int
        How many nodes get their label drawn.
    title : str, optional
        ``"correlation <id>: n events"`` by default.
    **kwargs
        Further arguments of :class:`~alchemist.widgets.graph_view.GraphView` (``threaded``,
        ``background``, …).

    Returns
    -------
    GraphView
        Of the tree as an alchemist Graph (``view.graph``: one node per tree node, same ids).

    Raises
    ------
    WidgetError
        The tree is empty, not directed, or has a node with two parents; ``color_by`` is not a
        node column.

    Examples
    --------
    >>> import networkx as nx
    >>> tree = nx.DiGraph(correlation_id="c")
    >>> tree.add_nodes_from([("r", {"kind": "event", "label": "node_added a"}),
    ...                      ("s", {"kind": "event", "label": "node_added b"})])
    >>> tree.add_edge("r", "s")
    >>> view = correlation_view(tree, width=64, height=48, threaded=False)
    >>> view.graph.node_ids, view.title
    (['r', 's'], 'correlation c: 2 nodes')
    >>> view.close()
    """
    from alchemist.graph import Graph
    from alchemist.widgets.graph_view import GraphView

    positions = tree_positions(tree)
    correlation = tree.graph.get("correlation_id", "")
    graph = Graph.from_networkx(_plain(tree), graph_id=f"correlation-{correlation}" if correlation else "tree")
    by_id = {str(n): xy for n, xy in positions.items()}  # Graph node ids are str(node)
    xy = np.array([by_id[n] for n in graph.node_ids], dtype=np.float32).reshape(-1, 2)
    attributes = {key for _, data in tree.nodes(data=True) for key in data}
    if color_by is None and "kind" in attributes:
        color_by = "kind"
    if title is None:
        title = f"correlation {correlation}: {tree.number_of_nodes()} nodes"
    return GraphView(graph, xy, width=width, height=height, color_by=color_by, labels=labels,
                     label_by="label" if "label" in attributes else None,
                     title=title, **kwargs)


def tree_positions(tree) -> dict:
    """Positions of a forest drawn top-down: depth on y, leaves in depth-first order on x.

    The roots (nodes without a parent, in the tree's node order) are drawn left to right; below
    each node its children in the order of its out-edges, one row (1.0) further down; every leaf
    takes the next free column (1.0 apart) and every other node sits at the mean x of its
    children, so no two edges cross and every subtree occupies its own band.

    Parameters
    ----------
    tree : networkx.DiGraph
        A forest: every node has at most one parent (edges go from parent to child).

    Returns
    -------
    dict
        ``node -> (x, y)``; ``y = -depth`` (roots at 0; the picture's y axis points up).

    Raises
    ------
    WidgetError
        Empty, not directed, a node with two parents, or a cycle (no root reaches it).

    Examples
    --------
    >>> import networkx as nx
    >>> tree = nx.DiGraph([("r", "a"), ("r", "b"), ("a", "c"), ("a", "d")])
    >>> tree_positions(tree)
    {'c': (0.0, -2.0), 'd': (1.0, -2.0), 'a': (0.5, -1.0), 'b': (2.0, -1.0), 'r': (1.25, 0.0)}
    """
    if not tree.is_directed() or tree.number_of_nodes() == 0:
        raise WidgetError("a causation tree is a non-empty networkx.DiGraph (cause -> effect): "
                          "build it with alchemist.cim.provenance.correlation_tree")
    two = [n for n, d in tree.in_degree() if d > 1]
    if two:
        raise WidgetError(f"node {two[0]!r} has {tree.in_degree(two[0])} parents; a causation tree has at most one "
                          "(each event has one causation_id)")
    positions: dict = {}
    column = 0.0
    for root in (n for n, d in tree.in_degree() if d == 0):
        stack = [(root, 0, False)]
        while stack:  # iterative post-order: a long chain of causes does not recurse
            node, depth, done = stack.pop()
            children = list(tree.successors(node))
            if done or not children:
                if children:
                    x = sum(positions[c][0] for c in children) / len(children)
                else:
                    x, column = column, column + 1.0
                positions[node] = (float(x), -float(depth))
                continue
            stack.append((node, depth, True))
            stack.extend((c, depth + 1, False) for c in reversed(children))
    if len(positions) != tree.number_of_nodes():
        cycle = next(n for n in tree if n not in positions)
        raise WidgetError(f"node {cycle!r} lies on a cycle (no root reaches it); causation cannot be circular")
    return positions


def _plain(tree):
    """A copy of ``tree`` without graph attributes (lists such as ``roots`` are not graph properties)."""
    plain = tree.copy()
    plain.graph.clear()
    return plain
