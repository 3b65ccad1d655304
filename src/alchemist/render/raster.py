"""Rasterisation without Datashader's generic reducers: edge counts per pixel, shading, points, encoding.

:mod:`alchemist.render.graph` is the general Datashader pipeline; an interactive pan or zoom at
a million edges needs a tighter loop than its generic line reducer gives on two CPU cores, so
the edges of both the pipeline and the widgets are drawn by :func:`segment_counts`: segments
are clipped to the viewport (Liang & Barsky, "A new concept and method for line clipping",
ACM TOG 3(1), 1984) and walked with Bresenham's integer algorithm (Bresenham, "Algorithm for
computer control of a digital plotter", IBM Systems Journal 4(1), 1965), which steps one pixel
at a time and visits every pixel of the line once; enough segments are split over the threads,
each counting into its own canvas. :func:`shade_edges` shades the counts by histogram
equalisation (Datashader's ``eq_hist``, exact for integer counts: the level of a count is its
rank in the cumulative histogram of the non-empty pixels). :class:`Viewport`,
:func:`node_pixels`, :func:`draw_points`, :func:`encode_image` and :func:`parse_color` are the
rest of what the widgets draw with (:mod:`alchemist.widgets` imports them from here).
"""

from __future__ import annotations

import io
import math
import struct
import zlib

import numpy as np
from numba import get_num_threads, njit, prange

from alchemist.errors import WidgetError

__all__ = [
    "Viewport", "segment_counts", "segment_length_histogram", "length_cap", "edge_counts", "node_pixels",
    "shade_edges", "draw_points", "encode_image", "parse_color",
]


class Viewport:
    """A data-space window mapped onto a ``width × height`` pixel grid (y grows upwards in data
    space and downwards in pixels).

    Parameters
    ----------
    x_range, y_range : (float, float)
        The window in data units, ``(min, max)``.
    width, height : int
        The pixel grid.

    Examples
    --------
    >>> view = Viewport((0, 10), (0, 5), 100, 50)
    >>> view.to_pixels([[0, 5], [10, 0]]).tolist()  # top left, bottom right
    [[0.0, 0.0], [100.0, 50.0]]
    >>> view.to_data([[50, 25]]).tolist()
    [[5.0, 2.5]]
    """

    __slots__ = ("x0", "x1", "y0", "y1", "width", "height")

    def __init__(self, x_range, y_range, width: int, height: int):
        self.x0, self.x1 = float(x_range[0]), float(x_range[1])
        self.y0, self.y1 = float(y_range[0]), float(y_range[1])
        self.width, self.height = int(width), int(height)

    @property
    def sx(self) -> float:
        """Pixels per data unit along x."""
        return self.width / (self.x1 - self.x0)

    @property
    def sy(self) -> float:
        """Pixels per data unit along y."""
        return self.height / (self.y1 - self.y0)

    def to_pixels(self, xy: np.ndarray) -> np.ndarray:
        """Data coordinates to pixel coordinates.

        Parameters
        ----------
        xy : array_like, shape ``(n, 2)``
            Points in data units.

        Returns
        -------
        ndarray, shape ``(n, 2)``, float64
            ``(column, row)`` in pixels, fractional (row 0 at the top of the picture).
        """
        xy = np.asarray(xy, dtype=np.float64)
        return np.column_stack([(xy[:, 0] - self.x0) * self.sx, (self.y1 - xy[:, 1]) * self.sy])

    def to_data(self, px: np.ndarray) -> np.ndarray:
        """Pixel coordinates to data coordinates (the inverse of :meth:`to_pixels`).

        Parameters
        ----------
        px : array_like, shape ``(n, 2)`` or ``(2,)``
            ``(column, row)`` in pixels.

        Returns
        -------
        ndarray, shape ``(n, 2)``, float64
            Points in data units.
        """
        px = np.asarray(px, dtype=np.float64).reshape(-1, 2)
        return np.column_stack([self.x0 + px[:, 0] / self.sx, self.y1 - px[:, 1] / self.sy])


def segment_counts(x, y, src, dst, x_range, y_range, width: int, height: int, *,
                   threads: int | None = None, cap: float | None = None, offset: int = 0,
                   seed: int = 0, out: np.ndarray | None = None) -> np.ndarray:
    """Count the segments ``(x[src], y[src]) – (x[dst], y[dst])`` crossing each pixel.

    Segments are clipped to the window (Liang & Barsky 1984) and walked with Bresenham's
    algorithm (1965), one count per pixel of each segment, in parallel where there are enough of
    them (about 250,000 per thread: waking the worker threads costs 10–20 ms on a busy machine,
    the serial time of some 200,000 segments). This is the one edge rasteriser of alchemist:
    :mod:`alchemist.render.graph` and the widgets call it. Non-finite end points are skipped.

    Parameters
    ----------
    x, y : array_like, shape ``(n_nodes,)``
        Node coordinates in data units.
    src, dst : array_like, shape ``(n_edges,)``
        Node rows of the segments' ends (int32 or int64 are used without a copy).
    x_range, y_range : (float, float)
        The window in data units.
    width, height : int
        Size of the grid in pixels.
    threads : int, optional
        At most this many threads (1: serial, one canvas; a background build that must leave the
        other cores to the interactive frames). Numba's thread count by default.
    cap : float, optional
        Importance sampling (a level of detail, see :func:`length_cap`): a segment visiting
        ``L > cap`` pixels after clipping is drawn with probability ``2 ** -c``,
        ``c = ceil(log2(L / cap))``, and then counts ``2 ** c`` per pixel, so every pixel's expected
        count is its exact count (Horvitz & Thompson 1952) while the walk costs at most about
        ``cap`` pixels per segment. Whether a segment is drawn depends only on its index
        (``offset`` + its position in ``src``), ``seed`` and ``c``: the same edges are kept from
        one frame to the next. None: every segment, exactly.
    offset, seed : int
        The index of ``src[0]`` among all the edges, and the sample's seed (with ``cap``).
    out : ndarray, shape ``(height, width)``, uint32, optional
        Add the counts into this C-contiguous array (drawn serially) instead of a new one: a
        build in batches keeps one grid.

    Returns
    -------
    ndarray, shape ``(height, width)``, uint32
        Counts (``out`` when given); row 0 is ``y_range[0]`` (Datashader's orientation, the bottom of a
        picture).

    Raises
    ------
    WidgetError
        If ``out`` is not a C-contiguous uint32 array of the grid's shape.

    Examples
    --------
    >>> import numpy as np
    >>> counts = segment_counts([0.5, 3.5], [0.5, 0.5], [0], [1], (0, 4), (0, 2), 4, 2)
    >>> counts.tolist()  # one horizontal segment along the bottom row
    [[1, 1, 1, 1], [0, 0, 0, 0]]
    """
    (xmin, xmax), (ymin, ymax) = x_range, y_range
    xs, ys = np.ascontiguousarray(x, np.float64), np.ascontiguousarray(y, np.float64)
    src, dst = _index_array(src), _index_array(dst)
    n_chunks = max(1, min(threads or get_num_threads(), get_num_threads(), src.shape[0] // _SEGMENTS_PER_THREAD + 1))
    bounds = (float(xmin), float(xmax), float(ymin), float(ymax), int(width), int(height))
    sampling = (np.inf if cap is None else max(float(cap), 1.0), int(offset), _seed_key(seed))
    if out is not None:
        if out.shape != (int(height), int(width)) or out.dtype != np.uint32 or not out.flags.c_contiguous:
            raise WidgetError(f"out of shape {out.shape} and dtype {out.dtype} cannot hold the counts: give a "
                              f"C-contiguous uint32 array of shape ({int(height)}, {int(width)})")
        n_chunks = 1
    if n_chunks == 1:
        if out is None:
            out = np.zeros((int(height), int(width)), dtype=np.uint32)
        _draw_segments(out, xs, ys, src, dst, 0, 1, *bounds, *sampling)
        return out
    return _rasterize(xs, ys, src, dst, *bounds, n_chunks, *sampling)


def segment_length_histogram(x, y, src, dst, x_range, y_range, width: int, height: int,
                             bins_per_octave: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """How many pixels the segments visit after clipping (what :func:`segment_counts` costs), as a
    histogram over ``log2`` of the length.

    Parameters
    ----------
    x, y, src, dst, x_range, y_range, width, height
        As for :func:`segment_counts`.
    bins_per_octave : int

    Returns
    -------
    count, total : ndarray, shape ``(bins_per_octave * 32,)``, float64
        Per bin ``b`` (lengths ``L`` with ``floor(bins_per_octave × log2 L) = b``): the number of
        segments and the sum of their ``L``. Segments outside the window are left out.

    Examples
    --------
    >>> count, total = segment_length_histogram([0.5, 3.5], [0.5, 0.5], [0], [1], (0, 4), (0, 2), 4, 2)
    >>> int(count.sum()), float(total.sum()), int(count.nonzero()[0][0])  # 4 pixels: bin 16 × 2
    (1, 4.0, 32)
    """
    (xmin, xmax), (ymin, ymax) = x_range, y_range
    xs, ys = np.ascontiguousarray(x, np.float64), np.ascontiguousarray(y, np.float64)
    count = np.zeros(int(bins_per_octave) * 32, np.float64)
    total = np.zeros_like(count)
    _length_histogram(count, total, xs, ys, _index_array(src), _index_array(dst), float(xmin), float(xmax),
                      float(ymin), float(ymax), int(width), int(height), int(bins_per_octave))
    return count, total


def length_cap(count: np.ndarray, total: np.ndarray, max_mass: float) -> float | None:
    """The largest cap ``L0`` whose importance sample (``cap`` of :func:`segment_counts`) visits at most
    ``max_mass`` pixels in expectation, ``sum(min(L, L0))`` over the segments, from their
    :func:`segment_length_histogram`; None when drawing them all fits (``sum(L) <= max_mass``).

    Parameters
    ----------
    count, total : ndarray
        A :func:`segment_length_histogram` (the bins per octave are ``len(count) // 32``).
    max_mass : float

    Returns
    -------
    float or None (at least 1)

    Examples
    --------
    >>> count, total = segment_length_histogram([0, 0, 99], [0, 0.5, 0], [0, 0], [1, 2], (0, 100), (0, 1), 100, 1)
    >>> float(total.sum()), length_cap(count, total, 1000)  # two segments of 1 and 100 pixels
    (101.0, None)
    >>> length_cap(count, total, 21)  # 1 + 20 = 21
    20.0
    """
    if float(total.sum()) <= max_mass:
        return None
    per_octave = len(count) // 32
    caps = 2.0 ** (np.arange(len(count)) / per_octave)  # cap b: the lower edge of bin b
    below = np.concatenate([[0.0], np.cumsum(total)[:-1]])  # the mass of the bins under b (shorter than cap b)
    above = count[::-1].cumsum()[::-1]  # segments in bins b and up, each costing at most the cap
    fits = below + caps * above <= max_mass
    fits[0] = True  # a cap of 1 pixel: at most one visit per segment in expectation
    b = int(np.nonzero(fits)[0].max())
    # within bin b the mass grows linearly with the cap: rise to where it meets the budget
    exact = (max_mass - below[b]) / max(above[b], 1.0)
    top = caps[b + 1] if b + 1 < len(caps) else np.inf
    return float(min(max(caps[b], exact), top))


def _seed_key(seed: int) -> int:
    """A seed as the 64-bit key the sampling hash mixes in (a signed int64 for Numba)."""
    key = (int(seed) * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) % 2**64
    return key - 2**64 if key >= 2**63 else key


_SEGMENTS_PER_THREAD = 250_000


def _index_array(a) -> np.ndarray:
    """Node rows as a contiguous int32 or int64 array (no copy when they already are one)."""
    a = np.asarray(a)
    return np.ascontiguousarray(a) if a.dtype in (np.int32, np.int64) else np.ascontiguousarray(a, np.int64)


def edge_counts(positions: np.ndarray, src: np.ndarray, dst: np.ndarray, view: Viewport,
                limit: int | None = None) -> np.ndarray:
    """Count the edge segments crossing each pixel of a :class:`Viewport`, top row first.

    Parameters
    ----------
    positions : ndarray, shape ``(n_nodes, 2)``
        Node positions (float32 or float64) in data units.
    src, dst : ndarray, shape ``(n_edges,)``
        Node rows of the edges' ends (int32 or int64).
    view : Viewport
        The window and pixel grid.
    limit : int, optional
        Draw only the first ``limit`` edges (a level of detail: pass the edges in a random order
        and the first ``limit`` are a uniform sample).

    Returns
    -------
    ndarray, shape ``(view.height, view.width)``, uint32
        Counts, row 0 at the top of the picture (see :func:`segment_counts`).

    Examples
    --------
    >>> import numpy as np
    >>> pos = np.array([[0.5, 0.5], [0.5, 2.5]])
    >>> edge_counts(pos, np.array([0]), np.array([1]), Viewport((0, 2), (0, 3), 2, 3)).tolist()
    [[1, 0], [1, 0], [1, 0]]
    """
    m = src.shape[0] if limit is None else min(int(limit), src.shape[0])
    counts = segment_counts(positions[:, 0], positions[:, 1], src[:m], dst[:m], (view.x0, view.x1),
                            (view.y0, view.y1), view.width, view.height)
    return counts[::-1]  # row 0 at the top of the picture


def node_pixels(positions: np.ndarray, view: Viewport) -> tuple[np.ndarray, np.ndarray]:
    """The nodes inside a viewport and their pixels.

    Parameters
    ----------
    positions : array_like, shape ``(n_nodes, 2)``
        Node positions in data units.
    view : Viewport
        The window and pixel grid.

    Returns
    -------
    rows : ndarray, shape ``(k,)``, int64
        Rows of the nodes that fall inside the grid.
    pixels : ndarray, shape ``(k, 2)``, int64
        Their ``(column, row)``.

    Examples
    --------
    >>> rows, px = node_pixels([[1.5, 0.5], [9.0, 9.0]], Viewport((0, 2), (0, 2), 2, 2))
    >>> rows.tolist(), px.tolist()
    ([0], [[1, 1]])
    """
    xy = np.asarray(positions)
    if xy.dtype not in (np.float32, np.float64):
        xy = xy.astype(np.float64)
    xy = xy.reshape(-1, 2)
    return _node_pixels(xy, view.x0, view.y1, view.sx, view.sy, view.width, view.height)


def shade_edges(counts: np.ndarray, background=(0, 0, 0), cmap=None) -> np.ndarray:
    """Histogram-equalised edge layer over a background.

    The level of a count is its rank in the cumulative histogram of the non-empty pixels
    (Datashader's ``eq_hist``, exact for integer counts), mapped through ``cmap`` and blended
    over ``background`` with an opacity rising from 0.35 to 1 with the level; computed as one
    lookup table over the count values.

    Parameters
    ----------
    counts : ndarray, shape ``(h, w)``, unsigned integers
        Edge counts (any strides), e.g. from :func:`edge_counts`.
    background : (int, int, int)
        RGB of the empty pixels, 0–255.
    cmap : array_like, shape ``(k, 3)``, optional
        Colours from the lowest to the highest level (0–255, ``k >= 2``); blues by default.

    Returns
    -------
    ndarray, shape ``(h, w, 3)``, uint8
        The picture.

    Examples
    --------
    >>> import numpy as np
    >>> img = shade_edges(np.array([[0, 1], [1, 7]], np.uint32), cmap=[(0, 0, 0), (255, 255, 255)])
    >>> img[..., 0].tolist()  # background, then the two levels
    [[0, 0], [0, 255]]
    """
    cmap = np.asarray(cmap if cmap is not None else _EDGE_CMAP, np.float32)
    bg = np.asarray(background, np.float32)
    out = np.empty(counts.shape + (3,), np.uint8)
    hist = _histogram(counts)
    hist[0] = 0
    total = hist.sum()
    if total == 0:
        out[:] = bg.astype(np.uint8)
        return out
    cdf = np.cumsum(hist, dtype=np.float64) / total
    lo = cdf[np.flatnonzero(hist)[0]]
    level = ((cdf - lo) / max(1.0 - lo, 1e-12)).clip(0, 1).astype(np.float32)
    k = cmap.shape[0] - 1
    t = level * k
    i = np.minimum(t.astype(np.int64), k - 1)
    f = (t - i)[:, None]
    rgb = cmap[i] * (1 - f) + cmap[i + 1] * f
    alpha = (0.35 + 0.65 * level)[:, None]
    lut = (bg * (1 - alpha) + rgb * alpha).clip(0, 255).astype(np.uint8)
    lut[0] = bg.astype(np.uint8)
    _apply_lut(counts, lut, out)
    return out


def draw_points(image: np.ndarray, pixels: np.ndarray, colors, size: int = 1) -> None:
    """Draw squares of ``size`` pixels centred on ``pixels`` into ``image``, in place.

    Parameters
    ----------
    image : ndarray, shape ``(h, w, 3)``, uint8
        The picture; squares are clipped at its border.
    pixels : ndarray, shape ``(n, 2)``, int
        ``(column, row)`` centres, drawn in order (later points over earlier ones).
    colors : array_like, shape ``(3,)`` or ``(n, 3)``, uint8
        One colour for all, or one per point.
    size : int
        Side of the squares in pixels (odd; an even size draws ``size + 1``).

    Raises
    ------
    WidgetError
        If ``colors`` has neither one row nor one per point.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((3, 3, 3), np.uint8)
    >>> draw_points(img, np.array([[1, 1]]), (255, 0, 0), size=3)
    >>> int(img[..., 0].sum()) == 9 * 255
    True
    """
    colors = np.asarray(colors, np.uint8).reshape(-1, 3)
    if pixels.shape[0] == 0:
        return
    if colors.shape[0] not in (1, pixels.shape[0]):
        raise WidgetError(f"{colors.shape[0]} colours for {pixels.shape[0]} points; give one colour or one per point")
    _draw_squares(image, np.ascontiguousarray(pixels, np.int64), np.ascontiguousarray(colors), max(int(size), 1) // 2)


def encode_image(rgb: np.ndarray, format: str = "png") -> bytes:
    """Encode an RGB image as PNG (zlib level 1, no row filter: fast, lossless) or JPEG (quality 88).

    The PNG is written here (its three chunks with the standard library's zlib) rather than by
    Pillow, whose adaptive row filters cost 2.6× the time on a dense frame and, on the speckled
    density of a large graph, compress it less (an 800 × 600 frame of ten million edges: 22 ms and
    251 KB, against 58 ms and 359 KB).

    Parameters
    ----------
    rgb : ndarray, shape ``(h, w, 3)``, uint8
        The picture.
    format : {"png", "jpeg"}
        The encoding.

    Returns
    -------
    bytes
        The encoded file.

    Examples
    --------
    >>> import numpy as np
    >>> encode_image(np.zeros((2, 2, 3), np.uint8))[1:4]
    b'PNG'
    """
    rgb = np.ascontiguousarray(rgb, np.uint8)
    if format == "jpeg":
        from PIL import Image

        buffer = io.BytesIO()
        Image.fromarray(rgb, "RGB").save(buffer, format="JPEG", quality=88)
        return buffer.getvalue()
    h, w, _ = rgb.shape
    rows = np.zeros((h, 3 * w + 1), np.uint8)  # each row: filter type 0 (none), then its RGB bytes
    rows[:, 1:] = rgb.reshape(h, 3 * w)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows.tobytes(), 1)) + chunk(b"IEND", b""))


def parse_color(color) -> tuple[int, int, int]:
    """A colour as an ``(r, g, b)`` tuple of ints.

    Parameters
    ----------
    color : str or (int, int, int)
        ``"#rrggbb"``, ``"black"``, ``"white"`` or an RGB tuple.

    Returns
    -------
    (int, int, int)
        The colour, 0–255 per channel.

    Raises
    ------
    ValueError
        If a string is not one of the forms above.

    Examples
    --------
    >>> parse_color("#ff8000"), parse_color("white")
    ((255, 128, 0), (255, 255, 255))
    """
    named = {"black": (0, 0, 0), "white": (255, 255, 255)}
    if isinstance(color, str):
        if color in named:
            return named[color]
        text = color.lstrip("#")
        if len(text) == 6:
            return (int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16))
        raise ValueError(f"colour {color!r} is not '#rrggbb', 'black' or 'white'")
    r, g, b = color
    return int(r), int(g), int(b)


_EDGE_CMAP = [(22, 51, 92), (63, 136, 208), (216, 240, 255)]


# ---------------------------------------------------------------------- kernels
@njit(cache=True, nogil=True)
def _histogram(counts):  # pragma: no cover - compiled
    """``np.bincount(counts.ravel())`` for a 2-D count array of any strides, without the copy."""
    top = 0
    for r in range(counts.shape[0]):
        for c in range(counts.shape[1]):
            if counts[r, c] > top:
                top = counts[r, c]
    hist = np.zeros(top + 1, np.int64)
    for r in range(counts.shape[0]):
        for c in range(counts.shape[1]):
            hist[counts[r, c]] += 1
    return hist


@njit(cache=True, nogil=True)
def _node_pixels(xy, x0, y1, sx, sy, width, height):  # pragma: no cover - compiled
    """Rows of the points whose pixel ``(floor((x - x0) sx), floor((y1 - y) sy))`` is inside the grid, and those pixels."""
    n = xy.shape[0]
    rows = np.empty(n, np.int64)
    pixels = np.empty((n, 2), np.int64)
    k = 0
    for i in range(n):
        c = np.floor((np.float64(xy[i, 0]) - x0) * sx)
        r = np.floor((y1 - np.float64(xy[i, 1])) * sy)
        if c >= 0 and c < width and r >= 0 and r < height:
            rows[k] = i
            pixels[k, 0] = np.int64(c)
            pixels[k, 1] = np.int64(r)
            k += 1
    return rows[:k].copy(), pixels[:k].copy()


@njit(cache=True, nogil=True)
def _apply_lut(counts, lut, out):  # pragma: no cover - compiled
    """``out[r, c] = lut[counts[r, c]]`` (``(h, w)`` counts, ``(k, 3)`` lut, ``(h, w, 3)`` out)."""
    for r in range(counts.shape[0]):
        for c in range(counts.shape[1]):
            v = counts[r, c]
            out[r, c, 0] = lut[v, 0]
            out[r, c, 1] = lut[v, 1]
            out[r, c, 2] = lut[v, 2]


@njit(cache=True, nogil=True)
def _draw_squares(image, pixels, colors, half):  # pragma: no cover - compiled
    """Squares of side ``2 * half + 1`` centred on ``pixels``, in order; one colour or one per point."""
    h, w = image.shape[0], image.shape[1]
    one = colors.shape[0] == 1
    for k in range(pixels.shape[0]):
        j = 0 if one else k
        for r in range(max(pixels[k, 1] - half, 0), min(pixels[k, 1] + half + 1, h)):
            for c in range(max(pixels[k, 0] - half, 0), min(pixels[k, 0] + half + 1, w)):
                image[r, c, 0] = colors[j, 0]
                image[r, c, 1] = colors[j, 1]
                image[r, c, 2] = colors[j, 2]


@njit(cache=True, parallel=True, nogil=True)
def _rasterize(xs, ys, src, dst, xmin, xmax, ymin, ymax, width, height, n_chunks, cap, offset, key):
    """Segments drawn by :func:`_draw_segments` in ``n_chunks`` interleaved parts, each thread
    into its own canvas; the canvases are added."""
    canvases = np.zeros((n_chunks, height, width), dtype=np.uint32)
    for c in prange(n_chunks):
        _draw_segments(canvases[c], xs, ys, src, dst, c, n_chunks, xmin, xmax, ymin, ymax, width, height, cap,
                       offset, key)
    total = canvases[0].copy()
    for c in range(1, n_chunks):
        total += canvases[c]
    return total


@njit(cache=True, nogil=True, inline="always")
def _clip_to_pixels(ax, ay, bx, by, xmin, xmax, ymin, ymax, sx, sy, width, height):  # pragma: no cover - compiled
    """The segment (ax, ay)–(bx, by) clipped to [xmin, xmax] × [ymin, ymax] (Liang–Barsky) as pixel
    end points ``(ok, cx0, cy0, cx1, cy1)``, each inside the ``width × height`` grid; ``ok`` is False
    for a segment outside the window or with a non-finite end."""
    if not (np.isfinite(ax) and np.isfinite(ay) and np.isfinite(bx) and np.isfinite(by)):
        return False, 0, 0, 0, 0
    dx, dy = bx - ax, by - ay
    t0, t1 = 0.0, 1.0
    for k in range(4):
        if k == 0:
            p, q = -dx, ax - xmin
        elif k == 1:
            p, q = dx, xmax - ax
        elif k == 2:
            p, q = -dy, ay - ymin
        else:
            p, q = dy, ymax - ay
        if p == 0.0:
            if q < 0.0:
                return False, 0, 0, 0, 0
        else:
            r = q / p
            if p < 0.0:
                if r > t1:
                    return False, 0, 0, 0, 0
                if r > t0:
                    t0 = r
            else:
                if r < t0:
                    return False, 0, 0, 0, 0
                if r < t1:
                    t1 = r
    cx0 = min(max(int((ax + t0 * dx - xmin) * sx), 0), width - 1)
    cy0 = min(max(int((ay + t0 * dy - ymin) * sy), 0), height - 1)
    cx1 = min(max(int((ax + t1 * dx - xmin) * sx), 0), width - 1)
    cy1 = min(max(int((ay + t1 * dy - ymin) * sy), 0), height - 1)
    return True, cx0, cy0, cx1, cy1


@njit(cache=True, nogil=True)
def _draw_segments(out, xs, ys, src, dst, first, step, xmin, xmax, ymin, ymax, width, height, cap, offset, key):
    """Add 1 to ``out`` at each pixel of the segments ``first, first + step, …``: Bresenham lines
    from (xs[src], ys[src]) to (xs[dst], ys[dst]) clipped to the viewport (Liang–Barsky); past
    ``cap`` pixels, a segment is kept with probability ``2 ** -c`` and adds ``2 ** c``."""
    sx = width / (xmax - xmin)
    sy = height / (ymax - ymin)
    for e in range(first, src.shape[0], step):
        ok, cx0, cy0, cx1, cy1 = _clip_to_pixels(xs[src[e]], ys[src[e]], xs[dst[e]], ys[dst[e]],
                                                 xmin, xmax, ymin, ymax, sx, sy, width, height)
        if not ok:
            continue
        weight = 1
        length = max(abs(cx1 - cx0), abs(cy1 - cy0)) + 1
        if length > cap:  # importance sampling: kept when the hash's low c bits are all zero
            c = min(int(math.ceil(math.log2(length / cap))), 30)
            if (_mix(offset + e, key) & ((1 << c) - 1)) != 0:
                continue
            weight = 1 << c
        # Bresenham (integer, all octants)
        ddx = abs(cx1 - cx0)
        ddy = -abs(cy1 - cy0)
        stx = 1 if cx0 < cx1 else -1
        sty = 1 if cy0 < cy1 else -1
        err = ddx + ddy
        x, y = cx0, cy0
        while True:
            out[y, x] += weight
            if x == cx1 and y == cy1:
                break
            e2 = 2 * err
            if e2 >= ddy:
                err += ddy
                x += stx
            if e2 <= ddx:
                err += ddx
                y += sty


@njit(cache=True, nogil=True)
def _mix(index, key):  # pragma: no cover - compiled
    """splitmix64 of an edge index and a key (64-bit, as int64): uniform bits for the edge's draw."""
    z = np.uint64(index) + np.uint64(key)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return np.int64(z ^ (z >> np.uint64(31)))


@njit(cache=True, nogil=True)
def _length_histogram(count, total, xs, ys, src, dst, xmin, xmax, ymin, ymax, width, height,
                      per_octave):  # pragma: no cover - compiled
    """Add each segment's clipped pixel length ``L`` (as :func:`_draw_segments` walks it) to bin
    ``floor(per_octave × log2 L)`` of ``count`` (one) and ``total`` (``L``)."""
    sx = width / (xmax - xmin)
    sy = height / (ymax - ymin)
    last = count.shape[0] - 1
    for e in range(src.shape[0]):
        ok, cx0, cy0, cx1, cy1 = _clip_to_pixels(xs[src[e]], ys[src[e]], xs[dst[e]], ys[dst[e]],
                                                 xmin, xmax, ymin, ymax, sx, sy, width, height)
        if not ok:
            continue
        length = max(abs(cx1 - cx0), abs(cy1 - cy0)) + 1
        b = min(int(per_octave * math.log2(length)), last)
        count[b] += 1.0
        total[b] += length
