"""Datashader pipeline for node-link pictures of large graphs.

Edges are drawn as straight segments aggregated per pixel (``Canvas.line`` with ``axis=1``, one
row per edge), nodes as points (optionally counted per category for colouring), and both are
shaded with histogram equalisation so that dense and sparse regions stay visible. Reference:
Datashader's documentation, "Networks" (https://datashader.org/user_guide/Networks.html).
"""

from __future__ import annotations

import io
from typing import Any, Sequence

import numpy as np

from alchemist.errors import LayoutError

__all__ = [
    "graph_image", "canvas", "edge_segments", "node_points", "aggregate_edges", "aggregate_nodes",
    "shade_graph", "to_png",
]

_DEFAULT_PALETTE = [
    "#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6",
    "#bcf60c", "#fabebe", "#008080", "#e6beff", "#9a6324", "#fffac8", "#800000", "#aaffc3",
]


def graph_image(graph, positions: np.ndarray, *, width: int = 800, height: int = 800, color_by: str | None = None,
                node_values: Sequence | None = None, edges: bool = True, bundle: bool = False,
                background: str = "black", x_range=None, y_range=None, node_spread: int = 0,
                format: str = "png") -> Any:
    """Render a graph to an image.

    Parameters
    ----------
    graph : Graph
        An alchemist Graph (or anything with ``edge_index()``, ``number_of_nodes()`` and, for
        ``color_by``, a ``nodes`` polars DataFrame).
    positions : (n_nodes, 2) array
        Node positions in row order of ``graph.nodes`` (any units).
    width, height : int
        Image size in pixels.
    color_by : str, optional
        A column of ``graph.nodes`` whose values colour the nodes (categorical).
    node_values : sequence, optional
        Per-node category values instead of a column.
    edges : bool
        Draw edges.
    bundle : bool
        Hammer edge bundling (datashader.bundling; slow above ~100K edges).
    background : str
        ``"black"`` or ``"white"`` (or any colour).
    x_range, y_range : (float, float), optional
        Viewport in position units; the bounding box of the positions by default.
    format : {"png", "image"}
        PNG bytes, or the ``datashader.transfer_functions.Image``.

    Returns
    -------
    bytes or datashader Image

    Raises
    ------
    LayoutError
        If ``positions`` has the wrong shape or holds NaN/inf.
    """
    pos = _check_positions(graph, positions)
    cvs = canvas(pos, width=width, height=height, x_range=x_range, y_range=y_range)
    edge_agg = aggregate_edges(cvs, edge_segments(graph, pos, bundle=bundle)) if edges and graph.number_of_edges() else None
    values = node_values
    if color_by is not None and values is None:
        values = graph.nodes[color_by].to_list()
    node_agg = aggregate_nodes(cvs, node_points(pos, values))
    image = shade_graph(edge_agg, node_agg, background=background, node_spread=node_spread,
                        categorical=values is not None)
    return to_png(image) if format == "png" else image


def canvas(positions: np.ndarray, *, width: int = 800, height: int = 800, x_range=None, y_range=None,
           padding: float = 0.03):
    """A ``datashader.Canvas`` framing ``positions`` (with ``padding`` as a fraction of the span)."""
    import datashader as ds

    if x_range is None or y_range is None:
        if positions.shape[0]:
            # frame the bulk of the nodes: a few far-flung outliers (small components pushed away
            # by repulsion) would otherwise shrink the picture to a dot
            q = 0.002 if positions.shape[0] > 1000 else 0.0
            lo = np.quantile(positions, q, axis=0).astype(float)
            hi = np.quantile(positions, 1 - q, axis=0).astype(float)
        else:
            lo, hi = np.array([-1.0, -1.0]), np.array([1.0, 1.0])
        span = np.maximum(hi - lo, 1e-9)
        lo, hi = lo - padding * span, hi + padding * span
        x_range = x_range or (lo[0], hi[0])
        y_range = y_range or (lo[1], hi[1])
    return ds.Canvas(plot_width=int(width), plot_height=int(height), x_range=tuple(x_range), y_range=tuple(y_range))


def edge_segments(graph, positions: np.ndarray, *, bundle: bool = False):
    """Edges as a pandas DataFrame of segments ``x0, y0, x1, y1`` (one row per edge); with
    ``bundle`` a DataFrame of bundled polylines (``x, y`` with NaN separators) instead."""
    import pandas as pd

    src, dst, _ = graph.edge_index()
    if bundle:
        from datashader.bundling import hammer_bundle

        nodes = pd.DataFrame({"x": positions[:, 0], "y": positions[:, 1]})
        return hammer_bundle(nodes, pd.DataFrame({"source": src, "target": dst}))
    return pd.DataFrame({
        "x0": positions[src, 0], "y0": positions[src, 1],
        "x1": positions[dst, 0], "y1": positions[dst, 1],
    })


def node_points(positions: np.ndarray, values: Sequence | None = None):
    """Nodes as a pandas DataFrame ``x, y`` (and ``category`` when ``values`` are given)."""
    import pandas as pd

    frame = pd.DataFrame({"x": positions[:, 0], "y": positions[:, 1]})
    if values is not None:
        frame["category"] = pd.Categorical([str(v) for v in values])
    return frame


def aggregate_edges(cvs, segments):
    """Per-pixel count of edges crossing each pixel (an ``xarray.DataArray``)."""
    import datashader as ds

    if "x0" in segments.columns:
        return cvs.line(segments, x=["x0", "x1"], y=["y0", "y1"], axis=1, agg=ds.count())
    return cvs.line(segments, x="x", y="y", agg=ds.count())


def aggregate_nodes(cvs, points):
    """Per-pixel node count (by category when ``points`` has a ``category`` column)."""
    import datashader as ds

    agg = ds.count_cat("category") if "category" in points.columns else ds.count()
    return cvs.points(points, "x", "y", agg=agg)


def shade_graph(edge_agg, node_agg, *, background: str = "black", node_spread: int = 0, categorical: bool = False,
                palette: Sequence[str] | None = None):
    """Shade and stack the aggregates: edges underneath (equalised), nodes on top."""
    import datashader.transfer_functions as tf

    light = background not in ("black", "#000", "#000000")
    layers = []
    if edge_agg is not None:
        cmap = ["#c8c8dc", "#6060a0", "#202060"] if light else ["#16335c", "#3f88d0", "#d8f0ff"]
        layers.append(tf.shade(edge_agg, cmap=cmap, how="eq_hist", min_alpha=90))
    if categorical:
        n = node_agg.shape[-1]
        colors = list(palette or _DEFAULT_PALETTE)
        key = [colors[i % len(colors)] for i in range(n)]
        nodes = tf.shade(node_agg, color_key=key, how="eq_hist", min_alpha=160)
    else:
        nodes = tf.shade(node_agg, cmap=["#b35a00", "#ffb347"] if not light else ["#c04000", "#ff7000"], how="eq_hist",
                         min_alpha=110)
    if node_spread:
        nodes = tf.spread(nodes, px=node_spread)
    layers.append(nodes)
    return tf.set_background(tf.stack(*layers), background)


def to_png(image) -> bytes:
    """PNG bytes of a datashader Image."""
    buffer = io.BytesIO()
    image.to_pil().save(buffer, format="PNG")
    return buffer.getvalue()


def _check_positions(graph, positions) -> np.ndarray:
    pos = np.asarray(positions)
    n = graph.number_of_nodes()
    if pos.ndim != 2 or pos.shape != (n, 2):
        raise LayoutError(f"positions must have shape ({n}, 2) for this graph, got {pos.shape}")
    if not np.isfinite(pos).all():
        bad = int(np.flatnonzero(~np.isfinite(pos).all(axis=1))[0])
        raise LayoutError(f"positions of node row {bad} are not finite ({pos[bad].tolist()}); lay the graph out first")
    return pos.astype(np.float64, copy=False)
