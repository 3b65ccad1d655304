"""GraphView's frames: the edge layer (pyramid, sample or every edge), the nodes, the selection and the labels.

:func:`draw_frame` is the one place a GraphView picture is drawn, for the browser and for
:meth:`~alchemist.widgets.graph_view.GraphView.static_png`: edge counts (from the level-of-detail
pyramid of :mod:`alchemist.widgets.graph_view_lod` where it covers the view, else Bresenham lines
of every edge, or the first ``limit`` of a uniform random sample for a draft), shaded by histogram
equalisation, then the nodes in view as squares, the selection on top.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from alchemist.render import raster
from alchemist.widgets import node_style

__all__ = ["draw_frame", "draft_edges", "label_items", "short_text", "points_in_polygon", "default_layout",
           "DIRECT_MASS"]

#: Pixels a full frame drawn directly may walk (about 0.1 s on a busy laptop core); past it the long edges are sampled by
#: importance (the ``cap`` of :func:`alchemist.render.raster.segment_counts`): a deep zoom into a
#: hairball of ten million edges walks billions of pixels otherwise.
DIRECT_MASS = 20_000_000


def draw_frame(view: raster.Viewport, positions: np.ndarray, src: np.ndarray, dst: np.ndarray, colors: np.ndarray,
               sizes: np.ndarray | None, selected_rows: np.ndarray, background, *, limit: int | None = None,
               stop: Callable[[], bool] | None = None, batch: int = 400_000, lod=None,
               sample: tuple[np.ndarray, np.ndarray] | None = None,
               max_mass: float | None = None) -> tuple[np.ndarray | None, dict]:
    """Draw one frame.

    Parameters
    ----------
    view : Viewport
        The window and the picture's size.
    positions : (n_nodes, 2) float32
    src, dst : (n_edges,) int32
        The edges.
    colors : (3,) or (n_nodes, 3) uint8
        One colour for every node, or one per node row.
    sizes : (n_nodes,) int or None
        Side of each node's square in pixels (None: one size by how many nodes are in view).
    selected_rows : (k,) int
        Rows of the selected nodes, ringed on top.
    background : (int, int, int)
    limit : int, optional
        Draw only the first ``limit`` edges of ``sample`` (a draft) where the pyramid does not cover
        the view.
    stop : callable, optional
        With it, direct edges are drawn in equal batches of at most ``batch`` and ``(None, {})``
        comes back when ``stop()`` turns true between two of them (a newer request waits).
    batch : int
        Edges per batch with ``stop``.
    lod : EdgeLevelOfDetail, optional
        Its pyramid draws every edge when it covers the view (``limit`` is then moot).
    sample : ((k,) int32, (k,) int32), optional
        The ends of a uniform random sample of the edges in random order, whose prefixes drafts
        draw (``src, dst`` themselves by default).
    max_mass : float, optional
        A frame that draws every edge directly walks at most about this many pixels: past it the
        edges longer than a cap (:func:`~alchemist.render.raster.length_cap`) are sampled by
        importance, the same edges in every frame (``lod`` is then ``"direct, sampled"``). None:
        exact.

    Returns
    -------
    image : (h, w, 3) uint8 or None
    info : dict
        ``edge_seconds``, ``edges_drawn`` (edges whose counts the picture holds), ``nodes_in_view``,
        ``rows`` (the node rows in view), ``size`` (the largest square side) and ``lod`` (``"pyramid
        level k"``, ``"sample"``, ``"direct"`` or ``"direct, sampled"``).
    """
    t0 = time.perf_counter()
    m_all = int(src.shape[0])
    from_pyramid = lod.counts(view) if lod is not None else None
    if from_pyramid is not None:
        counts, how = from_pyramid
        m, kind = m_all, how["lod"]
    else:
        if limit is not None and sample is not None:
            src, dst = sample
        m = m_all if limit is None else min(int(limit), src.shape[0])
        kind = "direct" if m == m_all else "sample"
        window = ((view.x0, view.x1), (view.y0, view.y1), view.width, view.height)
        xs, ys = positions[:, 0], positions[:, 1]
        cap, classes = None, getattr(lod, "classes", None)
        heavy = kind == "direct" and max_mass is not None and m * (max(view.width, view.height) + 1) > max_mass
        if heavy and classes is not None:  # the octaves of length: touch only the edges drawn
            counts, how = classes.counts(view, positions, max_mass, stop=stop)
            if counts is None:
                return None, {}
            kind = "direct" if how["shifts"] == 0 else "direct, sampled"
        else:
            if heavy:  # one pass over every edge to find the cap, then the sample
                cap = raster.length_cap(*raster.segment_length_histogram(xs, ys, src, dst, *window), max_mass)
                kind = "direct" if cap is None else "direct, sampled"
            counts = np.zeros((view.height, view.width), np.uint32)
            bounds = np.linspace(0, m, 2 if stop is None else max(2, -(-m // batch) + 1)).astype(np.int64)
            for k, (first, last) in enumerate(zip(bounds[:-1], bounds[1:])):
                if k > 0 and stop():
                    return None, {}
                counts += raster.segment_counts(xs, ys, src[first:last], dst[first:last], *window, cap=cap,
                                                offset=int(first))[::-1]
    edge_seconds = time.perf_counter() - t0
    image = raster.shade_edges(counts, background)
    rows, pixels = raster.node_pixels(positions, view)
    size = 1 if rows.shape[0] > 20_000 else 3 if rows.shape[0] > 500 else 5
    if sizes is None:
        raster.draw_points(image, pixels, colors[rows] if colors.ndim == 2 else colors, size)
    else:  # largest first, so that small nodes stay visible on top of large ones
        side = sizes[rows] + (size - 3)
        for s in np.unique(side)[::-1]:
            pick = side == s
            raster.draw_points(image, pixels[pick], colors[rows[pick]] if colors.ndim == 2 else colors, int(s))
        size = int(side.max()) if side.size else size
    if selected_rows.size:
        _, sel_pixels = raster.node_pixels(positions[selected_rows], view)
        raster.draw_points(image, sel_pixels, np.array([255, 255, 255], np.uint8), size + 4)
        raster.draw_points(image, sel_pixels, np.array([255, 40, 90], np.uint8), size + 2)
    return image, {"edge_seconds": edge_seconds, "edges_drawn": int(m), "nodes_in_view": int(rows.shape[0]),
                   "rows": rows, "size": size, "lod": kind}


def draft_edges(positions: np.ndarray, sample_src: np.ndarray, sample_dst: np.ndarray, *, mass: float = 5e6,
                width: int = 400, height: int = 300, probe: int = 4096, most: int = 250_000) -> int:
    """How many edges of a uniform sample the first draft of a graph draws: as many as walk about ``mass``
    pixels at the framed view (drafts adapt to their time budget afterwards), at most ``most``.

    A hairball's edges cross much of the picture (some 60 pixels each at 400 × 300 for ten million
    edges laid out by a few ForceAtlas2 iterations), a laid-out sparse graph's a few pixels: a fixed
    count would cost the first picture of the one a second or spend nothing of the other's budget.

    Parameters
    ----------
    positions : (n_nodes, 2) array
    sample_src, sample_dst : (k,) int arrays
        The sample's edges in random order (its first ``probe`` estimate the mean length).
    mass, width, height, probe, most
        The pixel budget, the draft's size, the edges measured, the cap.

    Returns
    -------
    int (at least 1 where the sample has an edge)

    Examples
    --------
    >>> pos = np.array([[0.0, 0.0], [1.0, 1.0]])
    >>> draft_edges(pos, np.zeros(10, np.int32), np.ones(10, np.int32), mass=4000)  # each 400 pixels long
    10
    """
    k = min(int(sample_src.shape[0]), probe)
    if not k:
        return 0
    finite = positions[np.isfinite(positions).all(axis=1)]
    if not finite.shape[0]:
        return min(int(sample_src.shape[0]), most)
    (x0, y0), (x1, y1) = finite.min(axis=0), finite.max(axis=0)
    x1, y1 = max(x1, x0 + 1e-9), max(y1, y0 + 1e-9)
    _, total = raster.segment_length_histogram(positions[:, 0], positions[:, 1], sample_src[:k], sample_dst[:k],
                                               (x0, x1), (y0, y1), width, height)
    mean = max(float(total.sum()) / k, 1.0)
    return int(min(max(mass / mean, 1), most, sample_src.shape[0]))


def label_items(rows: np.ndarray, weight: np.ndarray, count: int, node_ids, positions: np.ndarray,
                texts_of: Callable[[np.ndarray], list[str]] | None = None) -> list[dict]:
    """The labels of the ``count`` largest nodes among ``rows``.

    Parameters
    ----------
    rows : (k,) int
        Node rows in view.
    weight : (n_nodes,) array
        What "largest" means (the size column, else total degree).
    count : int
    node_ids : sequence of str
        Ids in row order.
    positions : (n_nodes, 2) array
    texts_of : callable, optional
        The label texts of the chosen rows (the node ids by default).

    Returns
    -------
    list of dict
        ``id``, ``text`` (at most 40 characters) and data position ``x``, ``y``.
    """
    chosen = node_style.largest_in_view(rows, weight, count)
    if not chosen.size:
        return []
    texts = texts_of(chosen) if texts_of is not None else [str(node_ids[r]) for r in chosen]
    return [{"id": str(node_ids[r]), "text": short_text(text, 40), "x": float(positions[r, 0]),
             "y": float(positions[r, 1])} for r, text in zip(chosen.tolist(), texts)]


def short_text(value: Any, limit: int = 200) -> str:
    """``str(value)`` cut to ``limit`` characters with an ellipsis.

    Examples
    --------
    >>> short_text("abcdef", 4)
    'abc…'
    """
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def points_in_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Even–odd (ray casting) test of ``(n, 2)`` points against a ``(k, 2)`` polygon → ``(n,)`` bool.

    Examples
    --------
    >>> square = np.array([[0, 0], [2, 0], [2, 2], [0, 2]], float)
    >>> points_in_polygon(np.array([[1.0, 1.0], [3.0, 1.0]]), square).tolist()
    [True, False]
    """
    x, y = points[:, 0], points[:, 1]
    inside = np.zeros(points.shape[0], dtype=bool)
    xj, yj = polygon[-1]
    for xi, yi in polygon:
        crosses = (yi > y) != (yj > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_cross = (xj - xi) * (y - yi) / (yj - yi) + xi
        inside ^= crosses & (x < x_cross)
        xj, yj = xi, yi
    return inside


def default_layout(graph, previous: np.ndarray, iterations: int) -> np.ndarray:
    """Live mode's layout: ForceAtlas2 for the first nodes, then incremental from ``previous``."""
    from alchemist.layout import forceatlas2, incremental_layout

    if previous.shape[0] == 0:
        return forceatlas2(graph, iterations=max(5 * iterations, 30), seed=0)
    return incremental_layout(graph, previous, iterations=iterations, seed=0)
