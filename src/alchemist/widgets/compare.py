"""Compare mode: two states of a graph in one GraphView, each node coloured by what happened to it.

The view shows the later graph (``after``) and, as ghosts at their old positions, the nodes only
the earlier one (``before``) had (where a layout, the view or ``before`` knows them; else between
their old neighbours); a node is *added* (green), *removed* (red), *changed* (amber: its
label or properties differ) or *unchanged* (grey), as :func:`alchemist.graph.diff.diff` finds. The
edges drawn are ``after``'s; the legend counts the nodes and edges of each kind.

Plain functions over a :class:`~alchemist.graph.diff.GraphDiff` and polars frames, so that which node
gets which colour is tested without a browser: :func:`node_states` (id → state),
:func:`comparison_graph` (``after`` plus the ghosts), :func:`place` (positions for every node of it),
:func:`state_colors` and :func:`legend`; :func:`show_comparison` puts them into a
:class:`~alchemist.widgets.GraphView`, :func:`compare_view` makes one.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from alchemist.errors import WidgetError
from alchemist.render import raster

__all__ = ["STATES", "COLORS", "node_states", "comparison_graph", "place", "placement_edges", "state_colors",
           "legend", "show_comparison", "compare_view", "known_positions"]

STATES = ("added", "removed", "changed", "unchanged")
"""What can have happened to a node between the two states."""
COLORS = {"added": "#2ca02c", "removed": "#d62728", "changed": "#ffb000", "unchanged": "#7f7f7f"}
"""The colour of each state: green, red, amber, grey (``#rrggbb``)."""


def node_states(diff, after):
    """Every node of the comparison with its state: ``after``'s nodes in row order, then the removed
    ones in ``before``'s row order.

    Parameters
    ----------
    diff : GraphDiff
        ``alchemist.graph.diff(before, after)``.
    after : Graph
        The later graph.

    Returns
    -------
    polars.DataFrame
        ``id`` (str), ``state`` (str, one of :data:`STATES`).

    Examples
    --------
    >>> from alchemist import Graph
    >>> from alchemist.graph import diff
    >>> before = Graph.from_edges([("a", "b"), ("b", "c")])
    >>> after = Graph.from_edges([("a", "b"), ("b", "d")])
    >>> node_states(diff(before, after), after).rows()
    [('a', 'unchanged'), ('b', 'unchanged'), ('d', 'added'), ('c', 'removed')]
    """
    import polars as pl

    ids = pl.Series("id", after.node_ids, dtype=pl.String)
    state = (pl.when(pl.col("id").is_in(diff.nodes_added["id"].cast(pl.String).implode())).then(pl.lit("added"))
             .when(pl.col("id").is_in(diff.nodes_changed["id"].cast(pl.String).implode())).then(pl.lit("changed"))
             .otherwise(pl.lit("unchanged")))
    shown = pl.DataFrame([ids]).with_columns(state.alias("state"))
    ghosts = pl.DataFrame({"id": diff.nodes_removed["id"].cast(pl.String)}).with_columns(
        pl.lit("removed").alias("state"))
    return pl.concat([shown, ghosts])


def comparison_graph(diff, after):
    """``after`` with the removed nodes added back (bare of edges): the graph compare mode draws.

    Parameters
    ----------
    diff : GraphDiff
    after : Graph

    Returns
    -------
    Graph
        Nodes in the order of :func:`node_states` (with their labels and properties), ``after``'s
        edges; ``after`` itself when nothing was removed.

    Examples
    --------
    >>> from alchemist import Graph
    >>> from alchemist.graph import diff
    >>> before, after = Graph.from_edges([("a", "b"), ("b", "c")]), Graph.from_edges([("a", "b")])
    >>> comparison_graph(diff(before, after), after).node_ids
    ['a', 'b', 'c']
    """
    import polars as pl

    from alchemist.graph import from_frames

    if diff.nodes_removed.height == 0:
        return after
    nodes = after.nodes.drop("degree", "first_seen")
    nodes = pl.concat([nodes, diff.nodes_removed], how="diagonal_relaxed")
    edges = after.edges.drop("timestamp")
    graph = from_frames(nodes, edges if edges.height else None, directed=after.directed, graph_id=after.graph_id)
    return graph


def place(ids, edges, known) -> np.ndarray:
    """Positions for ``ids``: the known ones, then each other node at the mean of its placed
    neighbours, then what is left around the centre of the placed nodes.

    Parameters
    ----------
    ids : list of str
        The nodes, in row order.
    edges : (src, dst) int arrays
        Rows of the edges' ends (``graph.edge_index()[:2]``).
    known : polars.DataFrame
        ``id``, ``x``, ``y`` of the nodes whose places are known (the first row of an id counts).

    Returns
    -------
    (len(ids), 2) float32 ndarray
        All finite.

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> known = pl.DataFrame({"id": ["a", "b"], "x": [0.0, 2.0], "y": [0.0, 0.0]})
    >>> place(["a", "b", "c"], (np.array([2, 2]), np.array([0, 1])), known).tolist()
    [[0.0, 0.0], [2.0, 0.0], [1.0, 0.0]]
    """
    import polars as pl

    frame = pl.DataFrame({"id": pl.Series(list(ids), dtype=pl.String)}).with_row_index("row")
    known = known.select(pl.col("id").cast(pl.String), pl.col("x").cast(pl.Float64), pl.col("y").cast(pl.Float64))
    found = frame.join(known.unique("id", keep="first", maintain_order=True), on="id", how="left",
                       maintain_order="left")
    pos = found.select("x", "y").to_numpy().astype(np.float64)
    pos = pos.reshape(-1, 2) if pos.size else np.zeros((len(frame), 2))
    missing = ~np.isfinite(pos).all(axis=1)
    src, dst = (np.asarray(e, dtype=np.int64) for e in edges[:2])
    if missing.any() and src.size:  # the mean of the placed neighbours (both directions)
        a, b = np.concatenate([src, dst]), np.concatenate([dst, src])
        use = missing[a] & ~missing[b]
        sums = np.zeros((len(pos), 2))
        counts = np.bincount(a[use], minlength=len(pos)).astype(np.float64)
        np.add.at(sums, a[use], pos[b[use]])
        fill = missing & (counts > 0)
        pos[fill] = sums[fill] / counts[fill, None]
        missing &= ~fill
    if missing.any():  # a small golden-angle spiral around the centre of what is placed
        placed = pos[~missing]
        centre = placed.mean(axis=0) if placed.size else np.zeros(2)
        extent = float(np.ptp(placed, axis=0).max()) if placed.shape[0] > 1 else 1.0
        k = np.arange(int(missing.sum()))
        radius = 0.05 * (extent or 1.0) * np.sqrt(k + 1)
        angle = k * np.pi * (3 - np.sqrt(5))
        pos[missing] = centre + np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    return pos.astype(np.float32)


def state_colors(states) -> np.ndarray:
    """The colour of each node's state (:data:`COLORS`).

    Parameters
    ----------
    states : sequence of str
        One of :data:`STATES` per node.

    Returns
    -------
    (n, 3) uint8 ndarray

    Raises
    ------
    WidgetError
        A state that is not one of :data:`STATES`.

    Examples
    --------
    >>> state_colors(["added", "removed"]).tolist()
    [[44, 160, 44], [214, 39, 40]]
    """
    states = np.asarray(list(states), dtype=object)
    lut = np.array([raster.parse_color(COLORS[s]) for s in STATES], dtype=np.uint8)
    codes = np.full(states.shape[0], -1, np.int64)
    for k, s in enumerate(STATES):
        codes[states == s] = k
    if (codes < 0).any():
        bad = states[codes < 0][0]
        raise WidgetError(f"node state {bad!r} is not one of {list(STATES)}")
    return lut[codes].reshape(-1, 3)


def legend(diff) -> list[dict]:
    """The legend of compare mode: one ``{"label", "color"}`` item per state, with counts.

    Parameters
    ----------
    diff : GraphDiff

    Returns
    -------
    list of dict

    Examples
    --------
    >>> from alchemist import Graph
    >>> from alchemist.graph import diff
    >>> [item["label"] for item in legend(diff(Graph.from_edges([("a", "b")]), Graph.from_edges([("a", "c")])))]
    ['added: 1 node, 0 edges', 'removed: 1 node, 0 edges (ghosts at their old places)',
     'changed: 0 nodes, 1 edge', 'unchanged']
    """
    c = diff.counts

    def n(count, word):
        return f"{count:,} {word}{'' if count == 1 else 's'}"

    return [
        {"label": f"added: {n(c['nodes_added'], 'node')}, {n(c['edges_added'], 'edge')}", "color": COLORS["added"]},
        {"label": f"removed: {n(c['nodes_removed'], 'node')}, {n(c['edges_removed'], 'edge')} (ghosts at their old "
                  "places)", "color": COLORS["removed"]},
        {"label": f"changed: {n(c['nodes_changed'], 'node')}, {n(c['edges_changed'], 'edge')}",
         "color": COLORS["changed"]},
        {"label": "unchanged", "color": COLORS["unchanged"]},
    ]


def show_comparison(view, before, after, *, diff=None, positions=None, keep_viewport: bool = True):
    """Put a GraphView in compare mode: ``after`` with the removed nodes as ghosts, coloured by state.

    Parameters
    ----------
    view : GraphView
    before, after : Graph
        The two states (e.g. ``graph.at(v1)`` and ``graph.at(v2)``).
    diff : GraphDiff, optional
        Their comparison, if already made.
    positions : mapping of str to (x, y), or polars.DataFrame with ``id``, ``x``, ``y``, optional
        Known places of nodes (a full layout); first these, then where the view shows each node
        now, then ``after``'s and ``before``'s own positions; other nodes are placed by
        :func:`place`.
    keep_viewport : bool
        Keep the view's viewport (False frames the comparison).

    Returns
    -------
    GraphDiff
        The comparison shown; ``view.legend`` has its counts.

    Examples
    --------
    >>> import numpy as np
    >>> from alchemist import Graph
    >>> from alchemist.widgets import GraphView
    >>> before, after = Graph.from_edges([("a", "b"), ("b", "c")]), Graph.from_edges([("a", "b"), ("b", "d")])
    >>> view = GraphView(before, np.array([[0, 0], [1, 0], [2, 0]], np.float32), width=40, height=30, threaded=False)
    >>> show_comparison(view, before, after)
    <GraphDiff 'graph' v6 → 'graph' v6: nodes +1 −1 ~0, edges +0 −0 ~1>
    >>> view.graph.node_ids, view.positions[3].tolist()  # c, removed, where it was
    (['a', 'b', 'd', 'c'], [2.0, 0.0])
    >>> view.close()
    """
    from alchemist.graph.diff import diff as compare

    d = diff if diff is not None else compare(before, after)
    states = node_states(d, after)
    graph = comparison_graph(d, after)
    pos = place(states["id"].to_list(), placement_edges(graph, d), known_positions(positions, view, after, before))
    view.set_graph(graph, pos, color_by=None, keep_viewport=keep_viewport, render=False)
    view.version = int(getattr(after, "version", 0))  # the later state's, not the comparison graph's own
    view.set_node_colors(state_colors(states["state"].to_list()), legend(d))
    view.wait()
    return d


def compare_view(before, after, *, positions=None, diff=None, **options):
    """A new GraphView in compare mode (see :func:`show_comparison`).

    Parameters
    ----------
    before, after : Graph
    positions : mapping or polars.DataFrame, optional
        Known places (see :func:`show_comparison`); without any, ``after``'s and ``before``'s own
        positions, else a ForceAtlas2 layout of the comparison graph.
    diff : GraphDiff, optional
    **options
        GraphView's (``width``, ``height``, ``background``, ``threaded``...).

    Returns
    -------
    GraphView
        With ``view.diff``, the comparison.
    """
    from alchemist.graph.diff import diff as compare
    from alchemist.widgets.graph_view import GraphView

    d = diff if diff is not None else compare(before, after)
    graph = comparison_graph(d, after)
    known = known_positions(positions, None, after, before)
    layout = place(graph.node_ids, placement_edges(graph, d), known) if known.height else None
    view = GraphView(graph, layout, **options)
    view.diff = d
    show_comparison(view, before, after, diff=d, positions=positions, keep_viewport=False)
    return view


def placement_edges(graph, diff):
    """The edges that place a node whose position is not known: the comparison graph's, and the
    removed ones (so that a ghost no layout knows stands between its old neighbours).

    Parameters
    ----------
    graph : Graph
        :func:`comparison_graph`'s result.
    diff : GraphDiff

    Returns
    -------
    src, dst : int64 ndarray
        Rows of ``graph``'s nodes.
    """
    import polars as pl

    src, dst, _ = graph.edge_index()
    removed = diff.edges_removed
    if removed.height == 0:
        return np.asarray(src, np.int64), np.asarray(dst, np.int64)
    rows = pl.DataFrame({"id": pl.Series(graph.node_ids, dtype=pl.String)}).with_row_index("row")
    ends = removed.select(pl.col("source").cast(pl.String), pl.col("target").cast(pl.String))
    ends = (ends.join(rows.rename({"id": "source", "row": "s"}), on="source")
            .join(rows.rename({"id": "target", "row": "t"}), on="target"))
    return (np.concatenate([np.asarray(src, np.int64), ends["s"].to_numpy().astype(np.int64)]),
            np.concatenate([np.asarray(dst, np.int64), ends["t"].to_numpy().astype(np.int64)]))


def known_positions(positions, view, *graphs):
    """The known places of nodes, first source first: ``positions``, the view's current nodes, then
    each graph's own positions.

    Parameters
    ----------
    positions : mapping of str to (x, y), polars.DataFrame (``id``, ``x``, ``y``) or None
    view : GraphView or None
    *graphs : Graph

    Returns
    -------
    polars.DataFrame
        ``id``, ``x``, ``y`` (an id may appear more than once: the first counts).

    Raises
    ------
    WidgetError
        ``positions`` is neither a mapping nor a frame with ``id``, ``x``, ``y``.
    """
    import polars as pl

    frames = []
    if positions is not None:
        if isinstance(positions, pl.DataFrame):
            if not {"id", "x", "y"} <= set(positions.columns):
                raise WidgetError(f"positions has columns {positions.columns}; it needs id, x and y")
            frames.append(positions.select("id", "x", "y"))
        elif isinstance(positions, Mapping):
            xy = np.asarray(list(positions.values()), dtype=np.float64).reshape(-1, 2)
            frames.append(_frame(list(positions), xy))
        else:
            raise WidgetError(f"positions={type(positions).__name__}; give a mapping id -> (x, y) or a polars "
                              "DataFrame with id, x, y")
    if view is not None and view.graph is not None and view.positions.shape[0]:
        frames.append(_frame(view.graph.node_ids, view.positions))
    for graph in graphs:
        pos = getattr(graph, "positions", None)
        if pos is not None:
            frames.append(_frame(graph.node_ids, pos))
    if not frames:
        return pl.DataFrame(schema={"id": pl.String, "x": pl.Float64, "y": pl.Float64})
    return pl.concat([f.select(pl.col("id").cast(pl.String), pl.col("x").cast(pl.Float64), pl.col("y").cast(pl.Float64))
                      for f in frames]).filter(pl.col("x").is_finite() & pl.col("y").is_finite())


def _frame(ids, xy):
    import polars as pl

    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    return pl.DataFrame({"id": pl.Series(list(ids), dtype=pl.String), "x": xy[:, 0], "y": xy[:, 1]})
