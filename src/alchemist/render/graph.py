"""Datashader pipeline for node-link pictures of large graphs.

The stages, each public and replaceable (Datashader's own design: Canvas → glyph → reduction →
shade; see Datashader's "Networks" guide, https://datashader.org/user_guide/Networks.html):

1. :func:`canvas` — a ``datashader.Canvas`` framing the positions;
2. :func:`edge_segments` / :func:`node_points` — the glyph tables (one row per edge segment,
   optionally hammer-bundled polylines; one row per node with its category or value);
3. :func:`aggregate_edges` / :func:`aggregate_nodes` — per-pixel counts as ``xarray.DataArray``.
   Straight edges are rasterised by :func:`alchemist.render.raster.segment_counts` (a parallel
   Numba Bresenham kernel with Liang–Barsky clipping) into an aggregate with the Canvas' own
   coordinates;
   ``method="datashader"`` uses ``Canvas.line`` instead (the same counts up to the pixel rounding
   of segment ends), and bundled polylines always do;
4. :func:`shade_graph` — shading and stacking (edges under nodes) with ``datashader.transfer_functions``;
5. :func:`to_png` / :func:`graph_element` — PNG bytes or a HoloViews ``RGB`` element.

:func:`graph_image` runs them all; :func:`frames_image` takes node and edge tables instead of a
Graph, including Dask DataFrames whose partitions are aggregated one at a time (graphs that
outgrow memory).
"""

from __future__ import annotations

import io
from typing import Any, Sequence

import numpy as np
from alchemist.errors import LayoutError
from alchemist.render.raster import segment_counts

__all__ = [
    "graph_image", "frames_image", "graph_element", "canvas", "frame_ranges", "edge_segments", "node_points",
    "aggregate_edges", "aggregate_nodes", "shade_graph", "to_png", "image_to_rgba",
]

DEFAULT_PALETTE = [
    "#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6",
    "#bcf60c", "#fabebe", "#008080", "#e6beff", "#9a6324", "#fffac8", "#800000", "#aaffc3",
]


def graph_image(graph, positions: np.ndarray, *, width: int = 800, height: int = 800, color_by: str | None = None,
                node_values: Sequence | None = None, edges: bool = True, bundle: bool = False,
                background: str = "black", x_range=None, y_range=None, node_spread: int = 0,
                palette: Sequence[str] | None = None, how: str = "eq_hist", format: str = "png") -> Any:
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
        A column of ``graph.nodes`` that colours the nodes: categories (strings, integers such as
        community labels, booleans) get one palette colour each, in order of first appearance;
        a float column is shaded continuously (mean value per pixel).
    node_values : sequence, optional
        Per-node values instead of a column (same rules).
    edges : bool
        Draw edges.
    bundle : bool
        Hammer edge bundling (``datashader.bundling.hammer_bundle``; seconds at 10K edges,
        minutes above ~100K).
    background : str
        ``"black"`` or ``"white"`` (or any colour).
    x_range, y_range : (float, float), optional
        Viewport in position units; the bulk of the positions by default.
    palette : sequence of str, optional
        Category colours (hex); :data:`DEFAULT_PALETTE` by default.
    how : str
        Datashader's shading of edge density: ``"eq_hist"``, ``"log"``, ``"cbrt"``, ``"linear"``.
    format : {"png", "image"}
        PNG bytes, or the ``datashader.transfer_functions.Image``.

    Returns
    -------
    bytes or datashader Image

    Raises
    ------
    LayoutError
        If ``positions`` has the wrong shape or holds NaN/inf (the message names the node row).
    ValueError
        ``width``/``height`` not positive, or ``node_values`` of the wrong length.

    Examples
    --------
    >>> import numpy as np
    >>> from alchemist import Graph
    >>> g = Graph.from_edges([("a", "b"), ("b", "c"), ("c", "a")])
    >>> pos = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, 1.0]])
    >>> png = graph_image(g, pos, width=64, height=48)
    >>> png[1:4]
    b'PNG'
    >>> graph_image(g, pos, width=64, height=48, format="image").shape
    (48, 64)
    """
    pos = _check_positions(graph, positions)
    _check_size(width, height)
    cvs = canvas(pos, width=width, height=height, x_range=x_range, y_range=y_range)
    edge_agg = None
    if edges and graph.number_of_edges():
        if bundle:
            edge_agg = aggregate_edges(cvs, edge_segments(graph, pos, bundle=True))
        else:  # the segment table is not materialised: the kernel gathers the end points itself
            src, dst, _ = graph.edge_index()
            edge_agg = _segments_aggregate(cvs, pos[:, 0], pos[:, 1], src, dst)
    values = node_values
    if color_by is not None and values is None:
        values = graph.nodes[color_by].to_list()
    if values is not None and len(values) != pos.shape[0]:
        raise ValueError(f"node_values has {len(values)} values for {pos.shape[0]} nodes")
    points = node_points(pos, values)
    node_agg = aggregate_nodes(cvs, points)
    image = shade_graph(edge_agg, node_agg, background=background, node_spread=node_spread, palette=palette,
                        categorical="category" in points.columns, how=how)
    return to_png(image) if format == "png" else image


def frames_image(nodes, edges=None, *, width: int = 800, height: int = 800, x: str = "x", y: str = "y",
                 source: str = "source", target: str = "target", color_by: str | None = None,
                 background: str = "black", x_range=None, y_range=None, node_spread: int = 0,
                 palette: Sequence[str] | None = None, how: str = "eq_hist", format: str = "png") -> Any:
    """Render node and edge tables, in memory or out of core.

    Parameters
    ----------
    nodes : pandas DataFrame
        One row per node, positions in columns ``x``, ``y`` (row number = node number).
    edges : pandas or Dask DataFrame, optional
        Columns ``source``, ``target`` holding node row numbers. A Dask DataFrame is aggregated
        partition by partition (one partition in memory at a time) and the per-pixel counts are
        added up, so the edge list may be larger than memory.
    color_by : str, optional
        A column of ``nodes`` (as in :func:`graph_image`).

    Returns
    -------
    bytes or datashader Image

    Raises
    ------
    LayoutError
        Non-finite positions, or an edge endpoint outside ``0 … len(nodes)-1`` (the message
        names the edge's row in its partition).
    ValueError
        ``width``/``height`` not positive.

    Examples
    --------
    >>> import pandas as pd
    >>> nodes = pd.DataFrame({"x": [0.0, 1.0], "y": [0.0, 1.0]})
    >>> frames_image(nodes, pd.DataFrame({"source": [0], "target": [1]}), width=32, height=32)[1:4]
    b'PNG'
    """
    _check_size(width, height)
    pos = np.column_stack([np.asarray(nodes[x], dtype=np.float64), np.asarray(nodes[y], dtype=np.float64)])
    if not np.isfinite(pos).all():
        bad = int(np.flatnonzero(~np.isfinite(pos).all(axis=1))[0])
        raise LayoutError(f"node row {bad} has a non-finite position {pos[bad].tolist()}")
    cvs = canvas(pos, width=width, height=height, x_range=x_range, y_range=y_range)
    edge_agg = None
    if edges is not None:
        parts = edges.to_delayed() if hasattr(edges, "to_delayed") else [edges]
        total = None
        for part in parts:
            frame = part.compute() if hasattr(part, "compute") else part
            s = np.asarray(frame[source], dtype=np.int64)
            t = np.asarray(frame[target], dtype=np.int64)
            bad = (s < 0) | (s >= pos.shape[0]) | (t < 0) | (t >= pos.shape[0])
            if bad.any():
                k = int(np.flatnonzero(bad)[0])
                raise LayoutError(f"edge row {k} ({s[k]}, {t[k]}) refers to a node outside 0 … {pos.shape[0] - 1}")
            agg = _segments_aggregate(cvs, pos[:, 0], pos[:, 1], s, t)
            total = agg if total is None else total + agg
        edge_agg = total
    values = None if color_by is None else list(nodes[color_by])
    points = node_points(pos, values)
    node_agg = aggregate_nodes(cvs, points)
    image = shade_graph(edge_agg, node_agg, background=background, node_spread=node_spread, palette=palette,
                        categorical="category" in points.columns, how=how)
    return to_png(image) if format == "png" else image


def graph_element(graph, positions: np.ndarray, **options):
    """A HoloViews ``RGB`` element of :func:`graph_image` with the viewport as its bounds, to
    overlay and compose in HoloViews/Panel (``hv.RGB`` needs the ``holoviews`` package).

    Parameters
    ----------
    **options
        Passed to :func:`graph_image` (``format`` is set here).

    Returns
    -------
    holoviews.RGB
        Bounds ``(x0, y0, x1, y1)`` in position units; ``(height, width, 4)`` uint8 data.

    Raises
    ------
    MissingDependencyError
        If HoloViews is not installed (``pip install 'alchemist[holoviews]'``).
    """
    from alchemist._optional import require

    hv = require("holoviews", extra="holoviews", feature="render.graph_element")
    options.pop("format", None)
    image = graph_image(graph, positions, format="image", **options)
    rgba = image_to_rgba(image)
    xs, ys = image.coords[image.dims[1]].values, image.coords[image.dims[0]].values
    dx = (xs[-1] - xs[0]) / max(len(xs) - 1, 1)
    dy = (ys[-1] - ys[0]) / max(len(ys) - 1, 1)
    bounds = (xs[0] - dx / 2, ys[0] - dy / 2, xs[-1] + dx / 2, ys[-1] + dy / 2)
    # HoloViews images have their first row at the top (largest y)
    return hv.RGB(rgba[::-1], bounds=bounds, vdims=["R", "G", "B", "A"])


def canvas(positions: np.ndarray, *, width: int = 800, height: int = 800, x_range=None, y_range=None,
           padding: float = 0.03):
    """A ``datashader.Canvas`` framing ``positions``.

    Above 1,000 nodes the frame holds the 0.2 %–99.8 % quantiles, so that a few far-flung
    outliers (small components pushed away by repulsion) do not shrink the picture to a dot.

    Parameters
    ----------
    positions : ndarray, shape ``(n_nodes, 2)``
        Node positions (any units).
    width, height : int
        Size of the picture in pixels.
    x_range, y_range : (float, float), optional
        The frame in position units; :func:`frame_ranges` of the positions by default.
    padding : float
        Margin around the positions as a fraction of their span.

    Returns
    -------
    datashader.Canvas

    Examples
    --------
    >>> import numpy as np
    >>> cvs = canvas(np.array([[0.0, 0.0], [1.0, 2.0]]), width=40, height=30, padding=0.0)
    >>> cvs.plot_width, cvs.x_range, cvs.y_range
    (40, (0.0, 1.0), (0.0, 2.0))
    """
    import datashader as ds

    if x_range is None or y_range is None:
        xr, yr = frame_ranges(positions, padding)
        x_range = x_range or xr
        y_range = y_range or yr
    return ds.Canvas(plot_width=int(width), plot_height=int(height), x_range=tuple(map(float, x_range)),
                     y_range=tuple(map(float, y_range)))


def frame_ranges(positions: np.ndarray, padding: float = 0.03) -> tuple[tuple[float, float], tuple[float, float]]:
    """The frame of :func:`canvas`, without Datashader.

    Parameters
    ----------
    positions : array_like, shape ``(n, 2)``
        Node positions; an empty array gives ``(-1, 1)`` on both axes, before padding.
    padding : float
        Margin as a fraction of the span (a span of 0 counts as 1).

    Returns
    -------
    x_range, y_range : (float, float)
        The 0.2 %–99.8 % quantiles above 1,000 positions (the extremes below), widened by
        ``padding``.

    Examples
    --------
    >>> frame_ranges([[0, 0], [10, 4]], padding=0.1)
    ((-1.0, 11.0), (-0.4, 4.4))
    """
    positions = np.asarray(positions)
    if positions.shape[0]:
        q = 0.002 if positions.shape[0] > 1000 else 0.0
        lo = np.quantile(positions, q, axis=0).astype(float)
        hi = np.quantile(positions, 1 - q, axis=0).astype(float)
    else:
        lo, hi = np.array([-1.0, -1.0]), np.array([1.0, 1.0])
    span = np.where(hi - lo > 0, hi - lo, 1.0)
    lo, hi = lo - padding * span, hi + padding * span
    return (float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1]))


def edge_segments(graph, positions: np.ndarray, *, bundle: bool = False, **bundle_options):
    """The edges as a glyph table for Datashader.

    Parameters
    ----------
    graph : Graph
        Anything with ``edge_index()`` (source rows, target rows, weights).
    positions : ndarray, shape ``(n_nodes, 2)``
        Node positions.
    bundle : bool
        Hammer edge bundling (``datashader.bundling.hammer_bundle``; seconds at 10K edges; needs the
        ``dask`` extra: ``pip install 'alchemist[dask]'``, else ``MissingDependencyError``).
    **bundle_options
        Passed to ``hammer_bundle``.

    Returns
    -------
    pandas.DataFrame
        Segments ``x0, y0, x1, y1``, one row per edge; with ``bundle``, polylines ``x, y`` with
        NaN separators.

    Examples
    --------
    >>> import numpy as np
    >>> from alchemist import Graph
    >>> g = Graph.from_edges([("a", "b")])
    >>> edge_segments(g, np.array([[0.0, 0.0], [1.0, 2.0]])).to_numpy().tolist()
    [[0.0, 0.0, 1.0, 2.0]]
    """
    import pandas as pd

    src, dst, _ = graph.edge_index()
    if bundle:
        from datashader.bundling import hammer_bundle

        from alchemist._optional import require

        for module, package in (("dask", "dask"), ("skimage", "scikit-image")):  # hammer_bundle needs both
            require(module, extra="dask", feature="edge bundling (bundle=True)", package=package)

        nodes = pd.DataFrame({"x": positions[:, 0], "y": positions[:, 1]})
        return hammer_bundle(nodes, pd.DataFrame({"source": src, "target": dst}), **bundle_options)
    return pd.DataFrame({
        "x0": positions[src, 0], "y0": positions[src, 1],
        "x1": positions[dst, 0], "y1": positions[dst, 1],
    })


def node_points(positions: np.ndarray, values: Sequence | None = None):
    """The nodes as a glyph table for Datashader.

    Parameters
    ----------
    positions : ndarray, shape ``(n_nodes, 2)``
        Node positions.
    values : sequence, optional
        One value per node: floats with more than 32 distinct finite values become a ``value``
        column, anything else a ``category`` column (strings, in order of first appearance).

    Returns
    -------
    pandas.DataFrame
        Columns ``x, y`` and, with ``values``, ``category`` or ``value``.

    Examples
    --------
    >>> import numpy as np
    >>> frame = node_points(np.zeros((3, 2)), ["b", "a", "b"])
    >>> list(frame.columns), list(frame["category"].cat.categories)
    (['x', 'y', 'category'], ['b', 'a'])
    """
    import pandas as pd

    frame = pd.DataFrame({"x": positions[:, 0], "y": positions[:, 1]})
    if values is not None:
        arr = np.asarray(values)
        if arr.dtype.kind == "f" and len(np.unique(arr[np.isfinite(arr)])) > 32:
            frame["value"] = arr.astype(np.float64)
        else:
            labels = ["" if v is None else str(v) for v in values]
            frame["category"] = pd.Categorical(labels, categories=list(dict.fromkeys(labels)))
    return frame


def aggregate_edges(cvs, segments, *, method: str = "auto"):
    """Per-pixel count of the edges crossing each pixel.

    Parameters
    ----------
    cvs : datashader.Canvas
        The frame and pixel grid.
    segments : pandas DataFrame
        ``x0, y0, x1, y1`` rows (straight edges) or ``x, y`` polylines with NaN separators, as
        :func:`edge_segments` gives them.
    method : {"auto", "numba", "datashader"}
        ``"auto"``: the Numba kernel (:func:`alchemist.render.raster.segment_counts`) for straight
        segments, ``Canvas.line`` for polylines; ``"datashader"``: always ``Canvas.line``.

    Returns
    -------
    xarray.DataArray
        Counts, dims ``y, x``, with the Canvas' coordinates.

    Raises
    ------
    ValueError
        If ``method`` is not one of the three.

    Examples
    --------
    >>> import pandas as pd
    >>> from datashader import Canvas
    >>> seg = pd.DataFrame({"x0": [0.1], "y0": [0.5], "x1": [0.9], "y1": [0.5]})
    >>> agg = aggregate_edges(Canvas(plot_width=4, plot_height=2, x_range=(0, 1), y_range=(0, 1)), seg)
    >>> agg.values.tolist()
    [[0, 0, 0, 0], [1, 1, 1, 1]]
    """
    import datashader as ds

    straight = "x0" in segments.columns
    if method not in ("auto", "numba", "datashader"):
        raise ValueError(f"method={method!r}; use 'auto', 'numba' or 'datashader'")
    if straight and method != "datashader":
        m = len(segments)
        xs = np.concatenate([segments["x0"].to_numpy(np.float64), segments["x1"].to_numpy(np.float64)])
        ys = np.concatenate([segments["y0"].to_numpy(np.float64), segments["y1"].to_numpy(np.float64)])
        return _segments_aggregate(cvs, xs, ys, np.arange(m), m + np.arange(m))
    if straight:
        return cvs.line(segments, x=["x0", "x1"], y=["y0", "y1"], axis=1, agg=ds.count())
    return cvs.line(segments, x="x", y="y", agg=ds.count())


def aggregate_nodes(cvs, points):
    """Per-pixel aggregate of the nodes.

    Parameters
    ----------
    cvs : datashader.Canvas
        The frame and pixel grid.
    points : pandas.DataFrame
        The table of :func:`node_points`.

    Returns
    -------
    xarray.DataArray
        The count by category (a third dimension) when ``points`` has a ``category`` column, the
        mean ``value`` when it has a ``value`` column, else the count.

    Examples
    --------
    >>> import numpy as np
    >>> from datashader import Canvas
    >>> cvs = Canvas(plot_width=2, plot_height=1, x_range=(0, 2), y_range=(0, 1))
    >>> aggregate_nodes(cvs, node_points(np.array([[0.5, 0.5], [0.6, 0.5], [1.5, 0.5]]))).values.tolist()
    [[2, 1]]
    """
    import datashader as ds

    if "category" in points.columns:
        agg = ds.count_cat("category")
    elif "value" in points.columns:
        agg = ds.mean("value")
    else:
        agg = ds.count()
    return cvs.points(points, "x", "y", agg=agg)


def shade_graph(edge_agg, node_agg, *, background: str = "black", node_spread: int = 0, categorical: bool = False,
                palette: Sequence[str] | None = None, how: str = "eq_hist"):
    """Shade and stack the aggregates: edges underneath, nodes on top.

    Parameters
    ----------
    edge_agg : xarray.DataArray or None
        From :func:`aggregate_edges` (None: no edge layer).
    node_agg : xarray.DataArray
        From :func:`aggregate_nodes`.
    background : str
        ``"black"`` (blue edges, orange nodes) or a light colour (darker ramps).
    node_spread : int
        Spread each node by this many pixels (``datashader.transfer_functions.spread``).
    categorical : bool
        Whether ``node_agg`` is a count by category.
    palette : sequence of str, optional
        Category colours in category order; :data:`DEFAULT_PALETTE` by default.
    how : str
        Datashader's shading of the edge density (``"eq_hist"``, ``"log"``, ...).

    Returns
    -------
    datashader.transfer_functions.Image
        The stacked RGBA image over ``background``.
    """
    import datashader.transfer_functions as tf

    light = background not in ("black", "#000", "#000000")
    layers = []
    if edge_agg is not None and float(edge_agg.max()) > 0:
        cmap = ["#c8c8dc", "#6060a0", "#202060"] if light else ["#16335c", "#3f88d0", "#d8f0ff"]
        layers.append(tf.shade(edge_agg, cmap=cmap, how=how, min_alpha=90))
    if categorical:
        n = node_agg.shape[-1]
        colors = list(palette or DEFAULT_PALETTE)
        key = [colors[i % len(colors)] for i in range(n)]
        nodes = tf.shade(node_agg, color_key=key, how="eq_hist", min_alpha=160)
    else:
        nodes = tf.shade(node_agg, cmap=["#b35a00", "#ffb347"] if not light else ["#c04000", "#ff7000"],
                         how="log" if float(np.nanmax(node_agg.values, initial=0)) > 0 else "linear",
                         min_alpha=110)
    if node_spread:
        nodes = tf.spread(nodes, px=node_spread)
    layers.append(nodes)
    return tf.set_background(tf.stack(*layers), background)


def to_png(image, *, compress_level: int = 1) -> bytes:
    """PNG bytes of a datashader Image.

    Parameters
    ----------
    image : datashader.transfer_functions.Image
        An image from :func:`shade_graph`.
    compress_level : int
        zlib level; 1 (the default) is 5–10× faster to write than PIL's default, files about
        20 % larger. An opaque image is written as RGB.

    Returns
    -------
    bytes
        The PNG file.
    """
    buffer = io.BytesIO()
    pil = image.to_pil()
    if pil.mode == "RGBA" and pil.getextrema()[3][0] == 255:  # opaque: 3 bytes a pixel suffice
        pil = pil.convert("RGB")
    pil.save(buffer, format="PNG", compress_level=compress_level)
    return buffer.getvalue()


def image_to_rgba(image) -> np.ndarray:
    """The pixels of a datashader Image.

    Parameters
    ----------
    image : datashader.transfer_functions.Image
        An image from :func:`shade_graph` (packed uint32 RGBA).

    Returns
    -------
    ndarray, shape ``(height, width, 4)``, uint8
        RGBA, row 0 = the lowest y.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from datashader.transfer_functions import Image
    >>> image_to_rgba(Image(xr.DataArray(np.array([[0xFF0000FF]], np.uint32)))).tolist()
    [[[255, 0, 0, 255]]]
    """
    data = np.ascontiguousarray(image.data)
    return data.view(np.uint8).reshape(data.shape[0], data.shape[1], 4)


# ---------------------------------------------------------------------- helpers
def _check_positions(graph, positions) -> np.ndarray:
    pos = np.asarray(positions)
    n = graph.number_of_nodes()
    if pos.ndim != 2 or pos.shape != (n, 2):
        raise LayoutError(f"positions must have shape ({n}, 2) for this graph, got {pos.shape}")
    if not np.isfinite(pos).all():
        bad = int(np.flatnonzero(~np.isfinite(pos).all(axis=1))[0])
        raise LayoutError(f"positions of node row {bad} are not finite ({pos[bad].tolist()}); lay the graph out first")
    return pos.astype(np.float64, copy=False)


def _check_size(width, height) -> None:
    if int(width) <= 0 or int(height) <= 0:
        raise ValueError(f"width and height must be positive pixel counts, got {width} × {height}")


def _segments_aggregate(cvs, x, y, src, dst):
    """Count aggregate of the straight segments ``(x[src], y[src]) – (x[dst], y[dst])`` with the
    Canvas' coordinates (Numba kernel)."""
    import datashader as ds
    import pandas as pd

    template = cvs.points(pd.DataFrame({"x": [np.nan], "y": [np.nan]}), "x", "y", agg=ds.count())
    height, width = template.shape
    return template.copy(data=segment_counts(x, y, src, dst, cvs.x_range, cvs.y_range, width, height))
