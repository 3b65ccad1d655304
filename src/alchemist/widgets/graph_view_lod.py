"""GraphView's level of detail: an edge-density pyramid built once per graph state, off the interactive path.

A :class:`~alchemist.widgets.graph_view.GraphView` of at least ``min_edges`` edges counts every edge
once on a fine grid over a *world* window (the framed view widened ``world`` times around its
centre, cells ``zoom`` times finer than the picture's pixels there) and sums it into coarser
levels (:class:`alchemist.render.pyramid.EdgePyramid`). Every frame inside that window, from
``1 / world`` of the framed zoom out to ``zoom`` times in, full or draft, is then a resample of all
the edges (milliseconds) instead of a walk over their pixels (0.6–0.9 s at a million edges on two busy
cores). Past a pixel-mass budget (:data:`alchemist.render.pyramid.MAX_MASS`: a hairball of ten
million edges) the pyramid counts its long edges by an unbiased importance sample.

Deeper zooms and views reaching outside the world are drawn directly: drafts a uniform sample of the
edges sized to a time budget; full frames every edge while that fits
:data:`~alchemist.widgets.graph_view_render.DIRECT_MASS` pixels, else the octaves of edge length of
:class:`alchemist.render.importance.LengthClasses` (built after the pyramid), whose long edges are
thinned without bias and which touch only the edges they draw.

The pyramid is built in a background thread (:class:`~alchemist.widgets._base.LatestWorker`, so a
live graph that changes while it builds starts over only once for the newest state): the first
picture is a draft that does not wait for it, and ``on_ready`` re-renders the view in full when it
is done.
"""

from __future__ import annotations

import threading
from typing import Callable

import numpy as np

from alchemist.errors import WidgetError
from alchemist.render import raster
from alchemist.render.importance import LengthClasses
from alchemist.render.pyramid import EdgePyramid, quantize_counts
from alchemist.widgets._base import LatestWorker

__all__ = ["EdgeLevelOfDetail"]


class EdgeLevelOfDetail:
    """Builds and serves the edge pyramid of a GraphView.

    Parameters
    ----------
    min_edges : int
        Graphs with fewer edges are always drawn directly (0 builds a pyramid for any graph; a
        negative value never does).
    zoom : float
        How far in (relative to the framed view) the pyramid draws exactly: its base cells are
        ``zoom`` times finer than the picture's pixels at the framed view.
    world : float
        How much larger than the framed view (per axis) the pyramid's window is.
    max_cells : int
        Cap on the base grid's cells (4 bytes each); ``zoom`` shrinks to fit it.
    threaded : bool
        Build in a background thread (else :meth:`reset` builds inline).

    Raises
    ------
    WidgetError
        If ``zoom`` or ``world`` is below 1, or ``max_cells`` is not positive.

    Examples
    --------
    >>> import numpy as np
    >>> lod = EdgeLevelOfDetail(min_edges=0, threaded=False)
    >>> pos = np.array([[0.0, 0.0], [1.0, 1.0]], np.float32)
    >>> lod.reset(pos, np.array([0]), np.array([1]), (0, 1), (0, 1), 40, 40)
    >>> lod.ready, lod.pyramid.levels[0].shape  # 40 px × world 2 × zoom 3
    (True, (240, 240))
    >>> counts, info = lod.counts(raster.Viewport((0, 1), (0, 1), 40, 40))
    >>> info["lod"]
    'pyramid level 1'
    """

    def __init__(self, min_edges: int = 200_000, *, zoom: float = 3.0, world: float = 2.0,
                 max_cells: int = 24_000_000, threaded: bool = True):
        if zoom < 1 or world < 1 or max_cells < 1:
            raise WidgetError(f"level of detail zoom={zoom!r}, world={world!r}, max_cells={max_cells!r}: "
                              "zoom and world must be at least 1 and max_cells positive")
        self.min_edges = int(min_edges)
        self.zoom, self.world, self.max_cells = float(zoom), float(world), int(max_cells)
        self.pyramid: EdgePyramid | None = None
        #: the edges by octave of length for direct frames (:mod:`alchemist.render.importance`), built first
        self.classes: LengthClasses | None = None
        self.build_seconds: float | None = None
        self._generation = 0
        self._lock = threading.Lock()
        self._builder = LatestWorker(self._build, name="alchemist-lod") if threaded else None

    @property
    def ready(self) -> bool:
        """Whether the pyramid of the current graph state is built."""
        return self.pyramid is not None

    def wanted(self, n_edges: int) -> bool:
        """Whether a graph of ``n_edges`` edges gets a pyramid."""
        return 0 <= self.min_edges <= n_edges

    def reset(self, positions: np.ndarray, src: np.ndarray, dst: np.ndarray, x_range, y_range, width: int,
              height: int, on_ready: Callable[[], None] | None = None) -> None:
        """Drop the pyramid and build the one of a new graph state (in the background when threaded).

        Parameters
        ----------
        positions : (n_nodes, 2) array
        src, dst : (n_edges,) int arrays
        x_range, y_range : (float, float)
            The framed view (:meth:`GraphView.full_extent`); the world is ``world`` times larger.
        width, height : int
            The picture's size in pixels.
        on_ready : callable, optional
            Called (in the builder thread) once the pyramid of this state is ready.
        """
        with self._lock:
            self._generation += 1
            self.pyramid = None
            self.classes = None
            generation = self._generation
        if not self.wanted(int(src.shape[0])) or not positions.shape[0]:
            return
        request = (generation, positions, src, dst, x_range, y_range, int(width), int(height), on_ready)
        if self._builder is None:
            self._build(request)
        else:
            self._builder.submit(request)

    def wait(self, timeout: float = 120.0) -> bool:
        """Block until no build is running or waiting; False on timeout."""
        return True if self._builder is None else self._builder.wait(timeout)

    def counts(self, view: raster.Viewport) -> tuple[np.ndarray, dict] | None:
        """The view's edge counts from the pyramid, or None when it must be drawn directly.

        Parameters
        ----------
        view : Viewport

        Returns
        -------
        (counts, info) or None
            ``(h, w)`` uint32 counts for :func:`~alchemist.render.raster.shade_edges`
            (:func:`~alchemist.render.pyramid.quantize_counts` of the resample) and
            ``{"lod": "pyramid level k"}``.
        """
        pyramid = self.pyramid
        if pyramid is None:
            return None
        k = pyramid.level_for(view)
        if k is None:
            return None
        return quantize_counts(pyramid.counts(view)), {"lod": f"pyramid level {k}"}

    # ------------------------------------------------------------------ builder
    def _build(self, request) -> None:
        import time

        generation, positions, src, dst, x_range, y_range, width, height, on_ready = request
        stale = lambda: generation != self._generation  # noqa: E731  (a newer state is waiting)
        if stale():
            return
        (x0, x1), (y0, y1) = x_range, y_range
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        hx, hy = (x1 - x0) / 2 * self.world, (y1 - y0) / 2 * self.world
        factor = self.world * self.zoom
        factor = min(factor, (self.max_cells / max(width * height, 1)) ** 0.5)
        start = time.perf_counter()
        pyramid = EdgePyramid.build(positions, src, dst, (cx - hx, cx + hx), (cy - hy, cy + hy),
                                    max(1, round(width * factor)), max(1, round(height * factor)), stop=stale)
        with self._lock:
            if pyramid is None or stale():
                return
            self.pyramid = pyramid
            self.build_seconds = time.perf_counter() - start
        if on_ready is not None:
            on_ready()
        classes = LengthClasses(positions, src, dst)  # then, for direct frames beyond the pyramid: touch only what they draw
        with self._lock:
            if not stale():
                self.classes = classes
