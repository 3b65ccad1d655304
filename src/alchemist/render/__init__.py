"""Rendering of graphs with Datashader, as a pipeline the user can open up.

``graph_image`` is the one-call path (``frames_image`` for node/edge tables, Dask included;
``graph_element`` for a HoloViews RGB; :mod:`alchemist.render.elements` for ``hv.Graph``/``hv.Nodes``
elements, a Datashader route and a ``DynamicMap``). Its stages are public so that a user can replace any
of them: :func:`canvas` → :func:`edge_segments` / :func:`node_points` → :func:`aggregate_edges` /
:func:`aggregate_nodes` → :func:`shade_graph` → :func:`to_png`. :mod:`alchemist.render.raster`
holds the rasterisers themselves (edge counts by Bresenham lines, shading, points, PNG/JPEG),
which the widgets draw with too.
"""

from alchemist.render import raster
from alchemist.render.elements import datashaded_graph, dynamic_graph, graph_elements, nodes_element
from alchemist.render.graph import (
    DEFAULT_PALETTE,
    aggregate_edges,
    aggregate_nodes,
    canvas,
    edge_segments,
    frame_ranges,
    frames_image,
    graph_element,
    graph_image,
    image_to_rgba,
    node_points,
    shade_graph,
    to_png,
)

__all__ = [
    "DEFAULT_PALETTE", "aggregate_edges", "aggregate_nodes", "canvas", "edge_segments", "frame_ranges", "frames_image",
    "datashaded_graph", "dynamic_graph", "graph_element", "graph_elements", "graph_image", "nodes_element", "image_to_rgba", "node_points", "raster", "shade_graph", "to_png",
]
