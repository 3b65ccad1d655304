"""A multi-resolution edge-density pyramid: every edge counted once, any zoom it covers resampled in milliseconds.

A frame of a million edges costs its pixel mass, the number of pixels the Bresenham walks visit
(:func:`alchemist.render.raster.segment_counts`): some 20–70 million at 800 × 600 on
soc-Slashdot0902, 0.6–0.9 s on a busy two-core laptop. Pan and zoom only move a window over the
same edges, so the counts are computed once, on a fine grid (the *base level*) over a *world*
window larger than the view, and summed 2 × 2 into coarser levels (a mipmap of counts, Williams,
"Pyramidal parametrics", SIGGRAPH 1983). A view whose pixels are at least as large as the base
cells and which lies inside the world is then drawn from the level whose cells are the largest
not larger than its pixels: each cell's count is spread over the (at most 2 × 2) pixels it
overlaps in proportion to the overlapped area (a box filter, which keeps the total), and scaled by
``cell / pixel`` (a line of length ``L`` visits about ``L / cell`` cells but ``L / pixel``
pixels), so a pixel holds about the number of edges crossing it, as a direct render does.

The build costs the pixel mass on the base grid, which a hairball of ten million edges (long edges
across the whole picture) takes to tens of billions of visits. Past ``max_mass`` visits the long
edges are sampled by importance: an edge of ``L`` cells above a cap ``L0`` (chosen so that the
expected mass fits the budget: :func:`~alchemist.render.raster.length_cap`) is kept with probability
``2 ** -c``, ``c = ceil(log2(L / L0))``, and counted ``2 ** c`` times (Horvitz & Thompson 1952: every
cell's expected count is its exact count; the ``cap`` of :func:`~alchemist.render.raster.segment_counts`). Short edges, which carry the fine structure a zoom shows, are always counted exactly; a
long edge sampled out only thins a diffuse haze that thousands of other long edges share.

Examples
--------
>>> import numpy as np
>>> from alchemist.render.raster import Viewport
>>> pos = np.array([[0.0, 0.5], [8.0, 0.5]])
>>> pyr = EdgePyramid.build(pos, np.array([0]), np.array([1]), (0, 8), (0, 8), 16, 16)
>>> counts = pyr.counts(Viewport((0, 8), (0, 8), 8, 8))  # pixels twice the base cells
>>> round(float(counts.sum()), 1)  # 16 cells visited × 1/2: a line 8 pixels long
8.0
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
from numba import njit

from alchemist.errors import WidgetError
from alchemist.render import raster

__all__ = ["EdgePyramid", "quantize_counts", "MAX_MASS"]

#: Edges counted per step of :meth:`EdgePyramid.build` (between two steps ``stop()`` may abandon it).
BUILD_BATCH = 1_000_000
#: Cell visits (pixel mass on the base grid) past which :meth:`EdgePyramid.build` samples the long edges.
MAX_MASS = 500_000_000


class EdgePyramid:
    """Edge counts over a fixed world window at several resolutions (finest first).

    Parameters
    ----------
    levels : list of ndarray, shape ``(h_k, w_k)``, uint32
        Level ``k`` has cells ``2 ** k`` base cells wide; row 0 is ``y_range[0]`` (the bottom).
    x_range, y_range : (float, float)
        The world window in data units.

    Notes
    -----
    Build one with :meth:`build`. Memory is about ``4 / 3 × 4`` bytes per base cell (uint32 counts).
    """

    def __init__(self, levels: list[np.ndarray], x_range, y_range, length_cap: float | None = None):
        self.levels = levels
        self.x0, self.x1 = float(x_range[0]), float(x_range[1])
        self.y0, self.y1 = float(y_range[0]), float(y_range[1])
        #: None when every edge is counted exactly, else the length (base cells) past which edges were sampled
        self.length_cap = length_cap

    @classmethod
    def build(cls, positions: np.ndarray, src: np.ndarray, dst: np.ndarray, x_range, y_range, width: int,
              height: int, *, min_side: int = 64, stop: Callable[[], bool] | None = None,
              max_mass: float | None = MAX_MASS, seed: int = 0) -> "EdgePyramid | None":
        """Count every edge on a ``width × height`` base grid over the world window, then sum 2 × 2 levels.

        Parameters
        ----------
        positions : ndarray, shape ``(n_nodes, 2)``
            Node positions in data units.
        src, dst : ndarray, shape ``(n_edges,)``
            Node rows of the edges' ends.
        x_range, y_range : (float, float)
            The world window in data units; segments are clipped to it (Liang–Barsky), so the
            counts inside it are exact.
        width, height : int
            The base grid in cells.
        min_side : int
            Coarser levels are added while both sides stay at least this many cells.
        stop : callable, optional
            Polled between batches of :data:`BUILD_BATCH` edges; when it returns True the build is
            abandoned and None comes back.
        max_mass : float or None
            Cell visits an exact count may cost; past it the edges longer than a cap are sampled by
            importance (see the module's description; :attr:`length_cap` holds the cap, in base
            cells). None: always exact.
        seed : int
            Seed of the importance sample.

        Returns
        -------
        EdgePyramid or None

        Raises
        ------
        WidgetError
            If the window is empty or the grid has no cell.
        """
        x0, x1 = float(x_range[0]), float(x_range[1])
        y0, y1 = float(y_range[0]), float(y_range[1])
        if not (x1 > x0 and y1 > y0) or width < 1 or height < 1:
            raise WidgetError(f"pyramid window {x_range}×{y_range} at {width}×{height} cells is empty; "
                              "give a window of positive size")
        xs = np.ascontiguousarray(positions[:, 0], np.float64)
        ys = np.ascontiguousarray(positions[:, 1], np.float64)
        cap = None
        if max_mass is not None and src.shape[0]:
            count, total = raster.segment_length_histogram(xs, ys, src, dst, (x0, x1), (y0, y1), int(width), int(height))
            cap = raster.length_cap(count, total, max_mass)
        base = np.zeros((int(height), int(width)), np.uint32)
        for first in range(0, int(src.shape[0]), BUILD_BATCH):
            if stop is not None and first and stop():
                return None
            last = first + BUILD_BATCH
            raster.segment_counts(xs, ys, src[first:last], dst[first:last], (x0, x1), (y0, y1), int(width),
                                  int(height), cap=cap, offset=first, seed=seed, out=base)  # serial, into one grid
        levels = [base]
        while min(levels[-1].shape) >= 2 * min_side:
            levels.append(_sum_blocks(levels[-1]))
        return cls(levels, (x0, x1), (y0, y1), cap)

    @property
    def cell(self) -> tuple[float, float]:
        """Width and height of a base cell in data units."""
        h, w = self.levels[0].shape
        return (self.x1 - self.x0) / w, (self.y1 - self.y0) / h

    @property
    def nbytes(self) -> int:
        """Bytes held by the levels."""
        return sum(level.nbytes for level in self.levels)

    def level_for(self, view: raster.Viewport) -> int | None:
        """The level a view is drawn from, or None when the pyramid cannot draw it exactly.

        Parameters
        ----------
        view : Viewport

        Returns
        -------
        int or None
            The coarsest level whose cells are no larger than the view's pixels on both axes;
            None when the view reaches outside the world window or its pixels are smaller than
            the base cells (a deeper zoom than the pyramid holds).
        """
        cx, cy = self.cell
        tol_x, tol_y = 1e-6 * (self.x1 - self.x0), 1e-6 * (self.y1 - self.y0)
        if view.x0 < self.x0 - tol_x or view.x1 > self.x1 + tol_x or view.y0 < self.y0 - tol_y or view.y1 > self.y1 + tol_y:
            return None
        rx = (view.x1 - view.x0) / view.width / cx
        ry = (view.y1 - view.y0) / view.height / cy
        ratio = min(rx, ry)
        if ratio < 1 - 1e-9:
            return None
        return min(int(math.floor(math.log2(ratio) + 1e-9)), len(self.levels) - 1)

    def counts(self, view: raster.Viewport) -> np.ndarray | None:
        """The edge counts of a view resampled from the pyramid, top row first.

        Parameters
        ----------
        view : Viewport

        Returns
        -------
        ndarray, shape ``(view.height, view.width)``, float32, or None
            About the number of edges crossing each pixel (see the module's description); None
            where :meth:`level_for` is None.
        """
        k = self.level_for(view)
        if k is None:
            return None
        level = self.levels[k]
        cx, cy = self.cell
        cx, cy = cx * 2 ** k, cy * 2 ** k
        out = np.zeros((view.height, view.width), np.float32)
        px, py = (view.x1 - view.x0) / view.width, (view.y1 - view.y0) / view.height
        scale = math.sqrt((cx / px) * (cy / py))
        _splat(level, out, self.x0, self.y0, cx, cy, view.x0, view.y1, 1.0 / px, 1.0 / py, scale)
        return out


def quantize_counts(counts: np.ndarray, steps: int = 32) -> np.ndarray:
    """Fractional counts (from :meth:`EdgePyramid.counts`) as unsigned integers for
    :func:`~alchemist.render.raster.shade_edges`: ``round(steps × log2(1 + 4 × count))``, at least 1
    where the count is positive (no faint edge vanishes).

    The map is increasing, so histogram equalisation, which shades by rank, sees the same order
    of pixels as in the fractional counts; the logarithm keeps the histogram short (some 600
    bins for a pixel crossed by 60,000 edges, against 60,000 for integer counts), which is what
    the shading costs.

    Parameters
    ----------
    counts : ndarray, float
    steps : int
        Levels per doubling of ``1 + 4 × count``.

    Returns
    -------
    ndarray, same shape, uint32

    Examples
    --------
    >>> quantize_counts(np.array([0.0, 0.001, 1.0, 60000.0])).tolist()
    [0, 1, 74, 572]
    """
    q = np.rint(steps * np.log2(1 + 4 * np.maximum(counts, 0))).astype(np.uint32)
    q[(q == 0) & (counts > 0)] = 1
    return q


# ---------------------------------------------------------------------- helpers and kernels
def _sum_blocks(level: np.ndarray) -> np.ndarray:
    """Sum of 2 × 2 blocks (a last odd row or column is summed into a block of its own)."""
    h, w = level.shape
    padded = np.zeros((h + h % 2, w + w % 2), level.dtype)
    padded[:h, :w] = level
    return padded.reshape(padded.shape[0] // 2, 2, padded.shape[1] // 2, 2).sum(axis=(1, 3), dtype=level.dtype)


@njit(cache=True, nogil=True)
def _splat(level, out, wx0, wy0, cx, cy, vx0, vy1, sx, sy, scale):  # pragma: no cover - compiled
    """Add each cell of ``level`` (row 0 at world y ``wy0``) to the pixels of ``out`` (row 0 at
    view y ``vy1``) it overlaps, weighted by the overlapped area and ``scale``."""
    h, w = out.shape
    rows, cols = level.shape
    j0 = max(int(math.floor((vx0 - wx0) / cx)) - 1, 0)
    j1 = min(int(math.ceil((vx0 + w / sx - wx0) / cx)) + 1, cols)
    i0 = max(int(math.floor((vy1 - h / sy - wy0) / cy)) - 1, 0)
    i1 = min(int(math.ceil((vy1 - wy0) / cy)) + 1, rows)
    du, dv = cx * sx, cy * sy  # cell size in pixels (at most 1)
    for i in range(i0, i1):
        top = (vy1 - (wy0 + (i + 1) * cy)) * sy  # pixel row of the cell's upper edge
        r0 = int(math.floor(top))
        r1 = int(math.floor(top + dv - 1e-9))
        wr0 = 1.0 if r1 == r0 else (r0 + 1 - top) / dv
        for j in range(j0, j1):
            v = level[i, j]
            if v == 0:
                continue
            left = (wx0 + j * cx - vx0) * sx
            c0 = int(math.floor(left))
            c1 = int(math.floor(left + du - 1e-9))
            wc0 = 1.0 if c1 == c0 else (c0 + 1 - left) / du
            m = v * scale
            if 0 <= r0 < h:
                if 0 <= c0 < w:
                    out[r0, c0] += m * wr0 * wc0
                if c1 != c0 and 0 <= c1 < w:
                    out[r0, c1] += m * wr0 * (1.0 - wc0)
            if r1 != r0 and 0 <= r1 < h:
                if 0 <= c0 < w:
                    out[r1, c0] += m * (1.0 - wr0) * wc0
                if c1 != c0 and 0 <= c1 < w:
                    out[r1, c1] += m * (1.0 - wr0) * (1.0 - wc0)
