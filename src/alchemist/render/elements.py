"""HoloViews elements of a graph: ``hv.Graph`` / ``hv.Nodes`` with the node table as value
dimensions, a Datashader route for large graphs, and a ``DynamicMap`` that re-rasterises on zoom.

The elements compose with the rest of HoloViews (overlays, layouts, Panel and Voilà apps, linked
selections): :func:`graph_elements` gives an interactive ``hv.Graph`` (hover shows every node
column), :func:`datashaded_graph` a server-side rendering of the same element that stays fast at
millions of edges (optionally with edge bundling), and :func:`dynamic_graph` a ``DynamicMap``
that rasterises the edges again at each zoom — an alternative to :class:`alchemist.widgets.GraphView`
in Panel apps. All need the ``holoviews`` extra; bundling needs the ``dask`` extra too.

Memory: the elements hold one copy of the node table and the edge index, ``O(n_nodes + n_edges)``.

References
----------
HoloViews' network graph guide, https://holoviews.org/user_guide/Network_Graphs.html, and
"Large data" with Datashader, https://holoviews.org/user_guide/Large_Data.html.
"""

from __future__ import annotations

import numpy as np

from alchemist.errors import LayoutError

__all__ = ["nodes_element", "graph_elements", "datashaded_graph", "dynamic_graph"]


def _holoviews():
    from alchemist._optional import require

    return require("holoviews", extra="holoviews", feature="alchemist.render HoloViews elements")


def _positions(graph, positions) -> np.ndarray:
    pos = graph.positions if positions is None else positions
    if pos is None:
        raise LayoutError("the graph has no positions: pass positions= or lay it out first "
                          "(alchemist.layout.forceatlas2)")
    pos = np.asarray(pos, dtype=np.float64)
    if pos.shape != (graph.number_of_nodes(), 2):
        raise LayoutError(f"positions have shape {pos.shape}; expected ({graph.number_of_nodes()}, 2), "
                          "one row per node in node order")
    if not np.isfinite(pos).all():
        raise LayoutError("positions hold NaN or infinite values")
    return pos


def nodes_element(graph, positions=None, *, columns=None):
    """An ``hv.Nodes`` element: key dimensions ``x``, ``y``, ``index`` and the node columns as values.

    Parameters
    ----------
    graph : Graph
    positions : ndarray, shape ``(n_nodes, 2)``, optional
        Node positions in node order (default: :attr:`Graph.positions`).
    columns : list of str, optional
        Node-table columns to carry as value dimensions (default: every column of
        :attr:`Graph.nodes` but ``first_seen``), shown by the hover tool.

    Returns
    -------
    holoviews.Nodes
        ``n_nodes`` rows; ``index`` is the node's row, which edges refer to.

    Raises
    ------
    LayoutError
        No positions, or positions of the wrong shape or with NaNs.
    GraphError
        An unknown column.
    MissingDependencyError
        Without the ``holoviews`` extra.

    Examples
    --------
    >>> from alchemist import Graph
    >>> g = Graph.from_edges([("a", "b"), ("b", "c")])
    >>> nodes = nodes_element(g, [[0, 0], [1, 0], [2, 1]])
    >>> nodes.dimension_values("degree").tolist(), nodes.dimension_values("y").tolist()
    ([1, 2, 1], [0.0, 0.0, 1.0])
    """
    from alchemist.errors import GraphError

    hv = _holoviews()
    pos = _positions(graph, positions)
    table = graph.nodes
    if columns is None:
        columns = [c for c in table.columns if c != "first_seen"]
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise GraphError(f"no node column {missing[0]!r}; the node table has {table.columns}")
    frame = table.select(columns).to_pandas()
    frame.insert(0, "index", np.arange(len(frame)))
    frame.insert(0, "y", pos[:, 1])
    frame.insert(0, "x", pos[:, 0])
    return hv.Nodes(frame, kdims=["x", "y", "index"], vdims=list(columns))


def graph_elements(graph, positions=None, *, columns=None):
    """An ``hv.Graph`` of the graph: edges (``start``, ``end`` rows, ``weight``) over :func:`nodes_element`.

    Parameters
    ----------
    graph : Graph
    positions : ndarray, shape ``(n_nodes, 2)``, optional
        Default: :attr:`Graph.positions`.
    columns : list of str, optional
        Node columns carried as value dimensions (see :func:`nodes_element`).

    Returns
    -------
    holoviews.Graph
        ``n_edges`` edges; ``.nodes`` is the ``hv.Nodes`` element, ``.edgepaths`` the straight
        segments.

    Raises
    ------
    LayoutError, GraphError, MissingDependencyError
        As :func:`nodes_element`.

    Examples
    --------
    >>> from alchemist import Graph
    >>> g = Graph.from_edges([("a", "b", 2.0), ("b", "c")])
    >>> element = graph_elements(g, [[0, 0], [1, 0], [2, 1]])
    >>> element.dimension_values("weight").tolist(), len(element.nodes)
    ([2.0, 1.0], 3)
    """
    hv = _holoviews()
    nodes = nodes_element(graph, positions, columns=columns)
    src, dst, weight = graph.edge_index()
    return hv.Graph(((np.asarray(src), np.asarray(dst), np.asarray(weight)), nodes), vdims=["weight"])


def datashaded_graph(graph, positions=None, *, bundle: bool = False, width: int = 800, height: int = 800,
                     dynamic: bool = True, columns=None, **bundle_options):
    """The graph rendered by Datashader inside HoloViews: shaded edges with the nodes on top.

    Parameters
    ----------
    graph : Graph
    positions : ndarray, shape ``(n_nodes, 2)``, optional
    bundle : bool
        Bundle the edges first (HoloViews' ``bundle_graph``, Hurter et al.'s kernel density edge
        bundling as implemented by Datashader's ``hammer_bundle``; needs the ``dask`` extra).
    width, height : int
        Pixels of the rasterised edges.
    dynamic : bool
        Re-render on zoom and pan (a ``DynamicMap``) or once (a static overlay).
    columns : list of str, optional
        Node columns carried as value dimensions.
    **bundle_options
        Passed to ``bundle_graph`` (``decay``, ``initial_bandwidth``, …).

    Returns
    -------
    holoviews.Overlay or holoviews.DynamicMap
        Shaded edges (``hv.RGB``) overlaid by the ``hv.Nodes``.

    Raises
    ------
    LayoutError, GraphError, MissingDependencyError
        As :func:`nodes_element`; without dask and scikit-image when ``bundle``.
    """
    _holoviews()
    from holoviews.operation.datashader import bundle_graph, datashade

    element = graph_elements(graph, positions, columns=columns)
    if bundle:
        from alchemist._optional import require

        require("skimage", extra="dask", feature="datashaded_graph(bundle=True)", package="scikit-image")
        require("dask", extra="dask", feature="datashaded_graph(bundle=True)")
        element = bundle_graph(element, **bundle_options)
    edges = datashade(element.edgepaths, width=width, height=height, dynamic=dynamic, cmap=["#9ec3e6", "#08306b"])
    return edges * element.nodes


def dynamic_graph(graph, positions=None, *, width: int = 800, height: int = 800, columns=None):
    """A ``DynamicMap`` that rasterises the edges again at every zoom and pan, with the nodes on top.

    Parameters
    ----------
    graph : Graph
    positions : ndarray, shape ``(n_nodes, 2)``, optional
    width, height : int
        Pixels of each rasterisation.
    columns : list of str, optional
        Node columns carried as value dimensions.

    Returns
    -------
    holoviews.DynamicMap
        ``rasterize(edgepaths)`` (``hv.Image`` edge counts) overlaid by the ``hv.Nodes``; in a
        Panel/Voilà app or a notebook with the Bokeh backend each zoom re-aggregates at full
        resolution.

    Raises
    ------
    LayoutError, GraphError, MissingDependencyError
        As :func:`nodes_element`.
    """
    _holoviews()
    from holoviews.operation.datashader import rasterize

    element = graph_elements(graph, positions, columns=columns)
    return rasterize(element.edgepaths, width=width, height=height) * element.nodes
