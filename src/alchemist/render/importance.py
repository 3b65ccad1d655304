"""Edges sampled by importance for frames that draw them directly, touching only the edges they draw.

A full frame outside the level-of-detail pyramid (a deep zoom, a pan far out) would walk every edge's
pixels: billions for a hairball of ten million edges, seconds per frame, and even one pass over
ten million edges to decide what to draw costs half a second on a laptop core. So the edges are
sorted once into :class:`LengthClasses`: by octave of their length in data units, and inside an
octave by a geometric rank (the trailing zero bits of a hash of the edge's index: rank ``≥ c`` with
probability ``2 ** -c``), highest first. The edges of an octave with rank ``≥ c`` are then a prefix of
it and a uniform ``2 ** -c`` sample of it. A frame gives each octave the shift ``c`` that keeps its
edges under a cap of pixels (``c = ceil(log2(L / cap))``, ``L`` the octave's longest edge in the
frame's pixels), draws those prefixes and counts each of their edges ``2 ** c`` times (Horvitz &
Thompson 1952: every pixel's expected count is its exact count). The cap is the largest whose
estimated cost fits the budget; an octave's cost is estimated from its first edges (a uniform sample
of it) clipped to the frame. Short edges, the structure a zoom looks at, are drawn exactly as long
as the budget allows; long edges, which cross the frame as a haze shared by thousands, are thinned.
The same edges are kept from one frame to the next, so a pan does not flicker.

Examples
--------
>>> import numpy as np
>>> pos = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 0.01], [0.01, 0.01]])
>>> classes = LengthClasses(pos, np.array([0, 2]), np.array([1, 3]))
>>> from alchemist.render.raster import Viewport
>>> counts, info = classes.counts(Viewport((0, 1), (-0.5, 0.5), 100, 100), pos, max_mass=1e6)
>>> int(counts.sum()), info["shifts"]  # under the budget: every edge exactly (100 + 2 pixels)
(102, 0)
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from alchemist.render import raster

__all__ = ["LengthClasses"]

#: Edges of an octave whose clipped lengths estimate its cost in a frame.
PROBE = 1024
#: What clipping one edge costs, in pixel visits (an edge drawn costs this plus its pixels).
CLIP_COST = 4.0


class LengthClasses:
    """Edges by octave of length, each octave ordered by a geometric rank (see the module's description).

    Parameters
    ----------
    positions : ndarray, shape ``(n_nodes, 2)``
    src, dst : ndarray, shape ``(n_edges,)``
        Node rows of the edges' ends.
    seed : int
        Seed of the ranks' hash.

    Attributes
    ----------
    src, dst : ndarray, int32
        The edges in class order.
    starts : ndarray, int64
        Where each octave begins in ``src`` (and, last, the number of edges).
    upper : ndarray, float64
        Each octave's longest edge in data units (at most).
    kept : ndarray, shape ``(n_octaves, 64)``, int64
        ``kept[j, c]``: edges of octave ``j`` with rank ``≥ c`` (the length of its ``2 ** -c`` prefix).
    """

    def __init__(self, positions: np.ndarray, src: np.ndarray, dst: np.ndarray, seed: int = 0):
        xs = np.ascontiguousarray(positions[:, 0], np.float64)
        ys = np.ascontiguousarray(positions[:, 1], np.float64)
        m = int(src.shape[0])
        octave = np.empty(m, np.int16)
        rank = np.empty(m, np.uint8)
        for first in range(0, m, 1_000_000):  # in batches: a few MB of temporaries at a time
            s, d = src[first:first + 1_000_000], dst[first:first + 1_000_000]
            length = np.maximum(np.abs(xs[s] - xs[d]), np.abs(ys[s] - ys[d]))
            length = np.where(np.isfinite(length) & (length > 0), length, np.finfo(np.float64).tiny)
            octave[first:first + s.shape[0]] = np.clip(np.floor(np.log2(length)), -1100, 1100)
            rank[first:first + s.shape[0]] = _ranks(first, s.shape[0], seed)
        low = int(octave.min()) if m else 0
        octave -= low
        if m and int(octave.max()) >= 1024:  # (lengths spanning over 1,000 octaves: merge the shortest)
            np.maximum(octave, int(octave.max()) - 1023, out=octave)
        # by octave, then highest rank first; a 16-bit key is sorted by radix sort (linear time)
        key = (octave.astype(np.uint16) << np.uint16(6)) | (np.uint16(63) - rank.astype(np.uint16))
        order = np.argsort(key, kind="stable")
        del key
        self.src = np.ascontiguousarray(src[order], np.int32)
        self.dst = np.ascontiguousarray(dst[order], np.int32)
        octave, rank = octave[order], rank[order]
        del order
        starts = np.flatnonzero(np.diff(octave)) + 1 if m else np.zeros(0, np.int64)  # sorted: where it steps
        starts = np.concatenate([[0], starts]).astype(np.int64) if m else starts
        values = octave[starts]
        self.starts = np.append(starts, m).astype(np.int64)
        self.upper = 2.0 ** (values.astype(np.float64) + low + 1)
        self.kept = np.zeros((values.shape[0], 64), np.int64)
        for j in range(values.shape[0]):
            ranks = rank[self.starts[j]:self.starts[j + 1]]
            self.kept[j] = np.bincount(ranks, minlength=64)[::-1].cumsum()[::-1][:64]

    @property
    def nbytes(self) -> int:
        """Bytes held (the reordered edges and the tables)."""
        return self.src.nbytes + self.dst.nbytes + self.starts.nbytes + self.upper.nbytes + self.kept.nbytes

    def counts(self, view: raster.Viewport, positions: np.ndarray, max_mass: float, *,
               stop: Callable[[], bool] | None = None) -> tuple[np.ndarray | None, dict]:
        """The view's edge counts, every edge exactly where that fits ``max_mass`` pixel visits, else
        the long octaves thinned (unbiased).

        Parameters
        ----------
        view : Viewport
        positions : ndarray, shape ``(n_nodes, 2)``
            The node positions (those given to the constructor, which keeps none).
        max_mass : float
            Pixel visits (plus :data:`CLIP_COST` per edge drawn) the frame may spend.
        stop : callable, optional
            Polled between octaves; when it turns true ``(None, {})`` comes back.

        Returns
        -------
        counts : ndarray, shape ``(view.height, view.width)``, uint32, top row first
        info : dict
            ``edges_touched`` (edges walked), ``shifts`` (the largest ``c`` used; 0: exact) and ``cap``.
        """
        xs = np.ascontiguousarray(positions[:, 0], np.float64)  # once, not per octave
        ys = np.ascontiguousarray(positions[:, 1], np.float64)
        window = ((view.x0, view.x1), (view.y0, view.y1), view.width, view.height)
        pixel = min((view.x1 - view.x0) / view.width, (view.y1 - view.y0) / view.height)
        sizes = np.diff(self.starts)
        probe_mass = np.zeros(sizes.shape[0])
        for j in range(sizes.shape[0]):  # each octave's pixels in view, from its first edges (a uniform sample)
            a = int(self.starts[j])
            k = int(min(sizes[j], PROBE))
            _, total = raster.segment_length_histogram(xs, ys, self.src[a:a + k], self.dst[a:a + k], *window)
            probe_mass[j] = total.sum() * sizes[j] / k
        longest = self.upper / pixel + 1

        def plan(cap: float) -> np.ndarray:
            return np.clip(np.ceil(np.log2(np.maximum(longest / cap, 1.0))), 0, 63).astype(np.int64)

        def cost(shift: np.ndarray) -> float:
            kept = self.kept[np.arange(shift.shape[0]), shift]
            return float((probe_mass * 2.0 ** -shift).sum() + CLIP_COST * kept.sum())

        cap = float(longest.max())
        if cost(plan(cap)) > max_mass:  # the largest cap (a quarter octave apart) whose cost fits
            caps = cap * 2.0 ** (-np.arange(1, 4 * 64) / 4)
            fits = [c for c in caps if c >= 1 and cost(plan(c)) <= max_mass]
            cap = fits[0] if fits else 1.0
        shift = plan(cap)
        out = np.zeros((view.height, view.width), np.uint32)
        touched = 0
        for j in range(shift.shape[0]):
            if stop is not None and touched and stop():
                return None, {}
            a = int(self.starts[j])
            n = int(self.kept[j, shift[j]])
            if not n:
                continue
            counts = raster.segment_counts(xs, ys, self.src[a:a + n], self.dst[a:a + n], *window)
            if shift[j]:
                np.left_shift(counts, int(shift[j]), out=counts)
            out += counts
            touched += n
        return out[::-1], {"edges_touched": touched, "shifts": int(shift.max(initial=0)), "cap": cap}


def _ranks(first: int, n: int, seed: int) -> np.ndarray:
    """The geometric ranks of edges ``first … first + n - 1``: the trailing zero bits of
    splitmix64(index + key), at most 63 (rank ``≥ c`` with probability ``2 ** -c``)."""
    with np.errstate(over="ignore"):
        z = np.arange(first, first + n, dtype=np.uint64)
        z += np.uint64((int(seed) * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) % 2**64)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
        low = z & (~z + np.uint64(1))  # the lowest set bit
    rank = np.full(n, 63, np.uint8)
    nz = low != 0
    rank[nz] = np.log2(low[nz].astype(np.float64)).astype(np.uint8)
    return rank
