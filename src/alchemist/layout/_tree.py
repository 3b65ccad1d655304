"""The Barnes–Hut quadtree of the CPU ForceAtlas2, rebuilt every iteration in flat arrays.

:func:`build_tree` (serial) and, from :data:`PARALLEL_TREE_MIN` nodes on, :func:`build_tree_parallel`
(every ``O(n)`` pass split over the threads, the same tree bit for bit):

1. Morton codes (21 bits per axis) of the positions in their bounding square, sorted with an
   LSD radix sort (4 passes of 11 bits counted in one read, constant digits skipped);
2. a top-down split of the sorted code ranges by 2-bit digits, with path compression (a cell
   with a single non-empty quadrant is not stored) and leaves of at most ``LEAF_SIZE`` points
   (more only when they share a finest cell), stored in DFS pre-order with a ``skip`` pointer
   to the node after each subtree, so that the traversal needs no stack;
3. a reverse pass that accumulates mass and centre of mass, then the exact cell radius: the
   largest distance from the centre of mass to a point of the cell. A cell is approximated by
   its centre of mass when ``distance * theta > 2 * radius`` — Gephi's and ``fa2``'s criterion
   with their region size ``2 * radius``.

The repulsion that walks the tree is :mod:`alchemist.layout._repulsion`; the loop that builds it
every iteration is :mod:`alchemist.layout._loop`.
"""

from __future__ import annotations

import functools

import numpy as np
from numba import cfunc, njit, prange, types
from numba.core.cpu import ParallelOptions

from alchemist.layout._laws import spread_bits

__all__ = [
    "LEAF_SIZE", "MORTON_BITS", "PARALLEL_TREE_MIN", "make_workspace", "build_tree", "build_tree_parallel", "parallel_tree",
    "build_tree_kernel", "F1", "F2", "I1", "I4",
]

# the array types of the kernels compiled once with explicit signatures (issue 15): the loop's
# arrays are float64 / int64 (the CSR's neighbour rows int32), C-contiguous
F1 = types.float64[::1]
F2 = types.float64[:, ::1]
I1 = types.int64[::1]
I4 = types.int32[::1]

LEAF_SIZE = 16
MORTON_BITS = 21
_MORTON_MAX = (1 << MORTON_BITS) - 1
_RADIX_BITS = 11
# at and above this many nodes (with more than one thread) the tree is built by all threads
# (bounding box, Morton codes, radix sort, gather, cell summaries), then the attraction; below
# it, one thread builds the tree while the others share the attraction (see _loop)
PARALLEL_TREE_MIN = 20_000
# ``parallel=`` of every compiled function with a parallel region: only the explicit ``prange``
# loops become parallel regions (issue 15: compile time). Numba's other parallel passes would make
# each ``np.zeros``/``np.empty``, slice fill and ``.min()`` a parallel region of its own, one more
# outlined function to compile and link for no speed (they are O(threads) or O(n) memory fills).
# A ParallelOptions object, not a dict: Numba pops the keys of a dict it is given.
PRANGE_ONLY = ParallelOptions({"comprehension": False, "reduction": False, "inplace_binop": False, "setitem": False,
                               "numpy": False, "stencil": False, "fusion": False, "prange": True})

_spread = njit(inline="always")(spread_bits)


def make_workspace(n: int):
    """Arrays reused across iterations for a graph of ``n`` nodes.

    Parameters
    ----------
    n : int
        Number of nodes.

    Returns
    -------
    tuple of numpy.ndarray
        ``(codes, order, tmp, tmpc, parent, cells, sorted_points)``: ``codes`` the sorted
        Morton codes, ``order`` the node row of each sorted rank, ``tmp`` and ``tmpc`` radix-sort
        scratch (all ``(n,) int64``); ``parent`` ``(2n + 2,) int64`` the parent of each cell;
        ``cells`` an ``(8, 2n + 2) float64`` array, one row per field of the cell records
        ``[com_x, com_y, 2 radius / theta, mass, skip, start, end, radius]`` (walked as
        streams); ``sorted_points`` ``(n, 4) float64`` ``[x, y, mass, size]`` in Morton order.

    Examples
    --------
    >>> [a.shape for a in make_workspace(3)]
    [(3,), (3,), (3,), (3,), (8,), (8, 8), (3, 4)]
    """
    m = 2 * n + 2
    return (
        np.empty(n, np.int64),  # Morton codes, sorted
        np.empty(n, np.int64),  # order: sorted rank -> node row
        np.empty(n, np.int64),  # radix-sort scratch (rows)
        np.empty(n, np.int64),  # radix-sort scratch (codes)
        np.empty(m, np.int64),  # cell parent
        np.empty((8, m), np.float64),  # cell records, one row per field (walked as streams)
        np.empty((n, 4), np.float64),  # points in Morton order
    )


@njit(inline="always", error_model="numpy")
def parallel_tree(n, nt):
    """Whether ``n`` nodes on ``nt`` threads get :func:`build_tree_parallel` (else :func:`build_tree`)."""
    return nt > 1 and n >= PARALLEL_TREE_MIN


BUILD_TREE_SIGNATURE = types.int64(F2, F1, F1, types.float64, I1, I1, I1, I1, I1, F2, F2)


@functools.cache
def build_tree_kernel():
    """:func:`build_tree` compiled once as a C callback (``numba.cfunc``, cached on disk).

    Returns
    -------
    numba.core.ccallback.CFunc
        Passed to :func:`alchemist.layout._loop.tree_and_attraction_serial`, which calls it
        through its address, so that the tree's machine code is made once and not again in each
        compiled caller (issue 15).
    """
    return cfunc(BUILD_TREE_SIGNATURE, cache=True, error_model="numpy")(build_tree.py_func)


# --------------------------------------------------------------------------- kernels
@njit(cache=True, error_model="numpy")
def build_tree(pos, mass, size, theta, codes, order, tmp, tmpc, parent, cells, pts):
    """Build the Barnes–Hut quadtree of ``pos`` into ``cells``; returns the number of cells.

    Serial: every pass is ``O(n)`` over contiguous arrays (a few milliseconds per 10^5 points),
    cheaper than the fork-join of a parallel region on a shared machine.
    """
    n = pos.shape[0]
    if n == 0:
        return 0
    for i in range(n):
        order[i] = i
    _morton_codes(pos, codes, order)
    _radix_sort(codes, order, tmpc, tmp)
    _gather_inline(pos, mass, size, order, pts, 0, n)
    n_cells = _split_inline(codes, parent, cells, n)
    _summarize(n_cells, parent, cells, pts, theta)
    return n_cells


@njit(cache=True, error_model="numpy")
def _gather(pos, mass, size, order, pts, k0, k1):
    """``pts[k] = [x, y, mass, size]`` of node ``order[k]``, for ``k0 <= k < k1`` (Morton order)."""
    for k in range(k0, k1):
        i = order[k]
        pts[k, 0] = pos[i, 0]
        pts[k, 1] = pos[i, 1]
        pts[k, 2] = mass[i]
        pts[k, 3] = size[i]


@njit(inline="always", error_model="numpy")
def _morton_codes(pos, codes, order):
    """``codes[k]``: Morton code of node ``order[k]``, quantised to ``2^21`` steps of the
    positions' bounding square."""
    n = pos.shape[0]
    minx, maxx, miny, maxy = _bounds_inline(pos, 0, n)
    side = max(maxx - minx, maxy - miny)
    scale = _MORTON_MAX / side if side > 0 else 0.0
    for k in range(n):
        i = order[k]
        codes[k] = _morton_inline(pos[i, 0], pos[i, 1], minx, miny, scale)


@njit(cache=True, error_model="numpy")
def _bounds(pos, i0, i1):
    """``(min x, max x, min y, max y)`` of ``pos[i0:i1]``."""
    minx = np.inf
    miny = np.inf
    maxx = -np.inf
    maxy = -np.inf
    for i in range(i0, i1):
        minx = min(minx, pos[i, 0])
        maxx = max(maxx, pos[i, 0])
        miny = min(miny, pos[i, 1])
        maxy = max(maxy, pos[i, 1])
    return minx, maxx, miny, maxy


@njit(cache=True, error_model="numpy")
def _morton(x, y, minx, miny, scale):
    qx = min(np.int64((x - minx) * scale), _MORTON_MAX)
    qy = min(np.int64((y - miny) * scale), _MORTON_MAX)
    return _spread(qx) | (_spread(qy) << 1)


@njit(cache=True, parallel=PRANGE_ONLY, error_model="numpy")
def build_tree_parallel(pos, mass, size, theta, codes, order, tmp, tmpc, parent, cells, pts, n_threads):
    """:func:`build_tree` on ``n_threads`` threads, with the same result, bit for bit.

    The bounding box, Morton codes, each radix-sort pass (per-thread histograms; thread t's
    elements of a digit go after those of threads < t, so the sort stays stable), the gather
    into Morton order, the leaf summaries and the exact radii of the inner cells (each thread
    takes the points of its share of the Morton order, then a max over threads) are split over
    the threads; the top-down split and the bottom-up sums over the cells (``O(cells)``) stay
    serial.
    """
    n = pos.shape[0]
    if n == 0:
        return 0
    nt = max(1, min(n_threads, n))
    box = np.empty((nt, 4))
    for t in prange(nt):
        minx, maxx, miny, maxy = _bounds(pos, t * n // nt, (t + 1) * n // nt)
        box[t, 0] = minx
        box[t, 1] = maxx
        box[t, 2] = miny
        box[t, 3] = maxy
    minx = box[:, 0].min()
    maxx = box[:, 1].max()
    miny = box[:, 2].min()
    maxy = box[:, 3].max()
    side = max(maxx - minx, maxy - miny)
    scale = _MORTON_MAX / side if side > 0 else 0.0
    for t in prange(nt):
        for i in range(t * n // nt, (t + 1) * n // nt):
            order[i] = i
            codes[i] = _morton(pos[i, 0], pos[i, 1], minx, miny, scale)
    _radix_sort_parallel(codes, order, tmpc, tmp, nt)
    for t in prange(nt):
        _gather(pos, mass, size, order, pts, t * n // nt, (t + 1) * n // nt)
    n_cells = _split(codes, parent, cells, n)
    _summarize_parallel(n_cells, parent, cells, pts, theta, nt)
    return n_cells


@njit(cache=True, error_model="numpy")
def _radix_sort_parallel(codes, order, tmpc, tmp, nt):
    """:func:`_radix_sort` with each pass counted and scattered by ``nt`` threads."""
    n = codes.shape[0]
    n_pass = (2 * MORTON_BITS + _RADIX_BITS - 1) // _RADIX_BITS
    count = np.empty((nt, (1 << _RADIX_BITS)), np.int64)
    src_c, src_o, dst_c, dst_o = codes, order, tmpc, tmp
    swapped = False
    for p in range(n_pass):
        if _radix_pass(src_c, src_o, dst_c, dst_o, p * _RADIX_BITS, count):
            src_c, src_o, dst_c, dst_o = dst_c, dst_o, src_c, src_o
            swapped = not swapped
    if swapped:
        _copy_parallel(src_c, src_o, codes, order, nt)


@njit(cache=True, parallel=PRANGE_ONLY, error_model="numpy")
def _radix_pass(src_c, src_o, dst_c, dst_o, shift, count):
    """One stable counting pass on the digit at ``shift`` (``count``: ``(threads, 2^bits)``
    scratch); returns False, moving nothing, when every code has the same digit."""
    n = src_c.shape[0]
    nt, nb = count.shape
    mask = nb - 1
    for t in prange(nt):
        for b in range(nb):
            count[t, b] = 0
        for k in range(t * n // nt, (t + 1) * n // nt):
            count[t, (src_c[k] >> shift) & mask] += 1
    total = 0
    for b in range(nb):
        in_bin = 0
        for t in range(nt):
            c = count[t, b]
            count[t, b] = total + in_bin
            in_bin += c
        if in_bin == n:
            return False
        total += in_bin
    for t in prange(nt):
        for k in range(t * n // nt, (t + 1) * n // nt):
            b = (src_c[k] >> shift) & mask
            j = count[t, b]
            dst_c[j] = src_c[k]
            dst_o[j] = src_o[k]
            count[t, b] = j + 1
    return True


@njit(cache=True, parallel=PRANGE_ONLY, error_model="numpy")
def _copy_parallel(src_c, src_o, dst_c, dst_o, nt):
    n = src_c.shape[0]
    for t in prange(nt):
        for k in range(t * n // nt, (t + 1) * n // nt):
            dst_c[k] = src_c[k]
            dst_o[k] = src_o[k]


@njit(inline="always", error_model="numpy")
def _radix_sort(codes, order, tmpc, tmp):
    """Sort the ``2 * 21``-bit ``codes`` (and ``order`` along) in place: LSD radix sort, 4 passes
    of ``_RADIX_BITS`` bits whose histograms are counted in one read.

    A pass whose digit is the same for every code is skipped (common for the high bits).
    """
    n = codes.shape[0]
    n_pass = (2 * MORTON_BITS + _RADIX_BITS - 1) // _RADIX_BITS
    mask = (1 << _RADIX_BITS) - 1
    count = np.zeros((n_pass, mask + 2), np.int64)
    for k in range(n):
        c = codes[k]
        for p in range(n_pass):
            count[p, ((c >> (p * _RADIX_BITS)) & mask) + 1] += 1
    src_c, src_o, dst_c, dst_o = codes, order, tmpc, tmp
    swapped = False
    for p in range(n_pass):
        top = 0
        for b in range(mask + 2):  # loops rather than count[p].max() and codes[:] = src_c: the same
            top = max(top, count[p, b])  # code, without compiling NumPy's reduction and slice copy (issue 15)
        if top == n:
            continue
        shift = p * _RADIX_BITS
        for b in range(mask + 1):
            count[p, b + 1] += count[p, b]
        for k in range(n):
            b = (src_c[k] >> shift) & mask
            j = count[p, b]
            dst_c[j] = src_c[k]
            dst_o[j] = src_o[k]
            count[p, b] = j + 1
        src_c, src_o, dst_c, dst_o = dst_c, dst_o, src_c, src_o
        swapped = not swapped
    if swapped:
        for k in range(n):
            codes[k] = src_c[k]
            order[k] = src_o[k]


@njit(cache=True, error_model="numpy")
def _split(codes, parent, cells, n):
    """Top-down split of the sorted codes into cells, in DFS pre-order; returns the cell count."""
    stack_s = np.empty(256, np.int64)  # depth <= 21 levels x 3 pending siblings + 1
    stack_e = np.empty(256, np.int64)
    stack_l = np.empty(256, np.int64)
    stack_p = np.empty(256, np.int64)
    bound = np.empty(5, np.int64)
    stack_s[0] = 0
    stack_e[0] = n
    stack_l[0] = 0
    stack_p[0] = -1
    top = 1
    n_cells = 0
    while top > 0:
        top -= 1
        s = stack_s[top]
        e = stack_e[top]
        level = stack_l[top]
        c = n_cells
        n_cells += 1
        cells[5, c] = s
        cells[6, c] = e
        parent[c] = stack_p[top]
        if e - s <= LEAF_SIZE:
            continue
        # descend until the range splits into at least two quadrants (path compression)
        split = False
        while level < MORTON_BITS and not split:
            shift = 2 * (MORTON_BITS - 1 - level)
            bound[0] = s
            bound[4] = e
            for d in range(1, 4):
                lo = bound[d - 1]
                hi = e
                while lo < hi:
                    mid = (lo + hi) >> 1
                    if ((codes[mid] >> shift) & 3) < d:
                        lo = mid + 1
                    else:
                        hi = mid
                bound[d] = lo
            non_empty = 0
            for d in range(4):
                if bound[d + 1] > bound[d]:
                    non_empty += 1
            level += 1
            split = non_empty > 1
        if not split:
            continue  # all points in one finest cell: a leaf with more than LEAF_SIZE points
        for d in range(3, -1, -1):  # reverse push: quadrant 0 is popped (numbered) first
            if bound[d + 1] > bound[d]:
                stack_s[top] = bound[d]
                stack_e[top] = bound[d + 1]
                stack_l[top] = level
                stack_p[top] = c
                top += 1
    return n_cells


@njit(cache=True, error_model="numpy")
def _cell_radius(pts, start, stop, cx, cy):  # pragma: no cover - compiled
    """Largest distance from (cx, cy) to the points ``pts[start:stop]``: a cell's exact radius."""
    r2 = 0.0
    for k in range(start, stop):
        dx = pts[k, 0] - cx
        dy = pts[k, 1] - cy
        r2 = max(r2, dx * dx + dy * dy)
    return np.sqrt(r2)


@njit(cache=True, error_model="numpy")
def _leaf_summary(pts, cells, c):
    """Mass, centre of mass and exact radius of leaf cell ``c`` from its points."""
    s = np.int64(cells[5, c])
    e = np.int64(cells[6, c])
    m = 0.0
    mx = 0.0
    my = 0.0
    for k in range(s, e):
        m += pts[k, 2]
        mx += pts[k, 2] * pts[k, 0]
        my += pts[k, 2] * pts[k, 1]
    cx = mx / m
    cy = my / m
    if e - s == 1:  # exactly the point, not (m x) / m
        cx = pts[s, 0]
        cy = pts[s, 1]
    cells[0, c] = cx
    cells[1, c] = cy
    cells[3, c] = m
    cells[7, c] = _cell_radius(pts, s, e, cx, cy)


@njit(inline="always", error_model="numpy")
def _summarize(n_cells, parent, cells, pts, theta):
    """Mass, centre of mass, radius, skip pointer and opening distance of every cell."""
    for c in range(n_cells):
        cells[0, c] = 0.0
        cells[1, c] = 0.0
        cells[3, c] = 0.0
        cells[4, c] = 1.0
        cells[7, c] = 0.0
    for c in range(n_cells - 1, -1, -1):
        leaf = c + 1 >= n_cells or parent[c + 1] != c
        if leaf:
            _leaf_summary_inline(pts, cells, c)
            cx = cells[0, c]
            cy = cells[1, c]
        else:
            cx = cells[0, c] / cells[3, c]
            cy = cells[1, c] / cells[3, c]
        cells[0, c] = cx
        cells[1, c] = cy
        q = parent[c]
        if q >= 0:
            cells[4, q] += cells[4, c]
            cells[3, q] += cells[3, c]
            cells[0, q] += cells[3, c] * cx
            cells[1, q] += cells[3, c] * cy
    for c in range(n_cells):
        if cells[7, c] == 0.0 and cells[6, c] - cells[5, c] > LEAF_SIZE:
            # exact radius of an inner cell (the region size of Gephi and fa2): n x depth work,
            # and a tighter opening test than the bound max(|c_child - c| + r_child)
            cells[7, c] = _cell_radius_inline(pts, np.int64(cells[5, c]), np.int64(cells[6, c]), cells[0, c],
                                              cells[1, c])
        cells[4, c] += c
        # approximated when d * theta > 2 r, i.e. d > 2 r / theta
        cells[2, c] = 2.0 * cells[7, c] / theta if theta > 0 else np.inf


@njit(cache=True, parallel=PRANGE_ONLY, error_model="numpy")
def _summarize_parallel(n_cells, parent, cells, pts, theta, nt):
    """:func:`_summarize` with the leaves and the inner cells' exact radii split over ``nt``
    threads (same values: the sums run in the same order, the radii are maxima)."""
    n = pts.shape[0]
    for t in prange(nt):
        for c in range(t * n_cells // nt, (t + 1) * n_cells // nt):
            cells[4, c] = 1.0
            if c + 1 >= n_cells or parent[c + 1] != c:  # a leaf
                _leaf_summary(pts, cells, c)
            else:
                cells[0, c] = 0.0
                cells[1, c] = 0.0
                cells[3, c] = 0.0
                cells[7, c] = 0.0
    for c in range(n_cells - 1, -1, -1):  # children follow their parent in pre-order
        if not (c + 1 >= n_cells or parent[c + 1] != c):
            cells[0, c] /= cells[3, c]
            cells[1, c] /= cells[3, c]
        q = parent[c]
        if q >= 0:
            cells[4, q] += cells[4, c]
            cells[3, q] += cells[3, c]
            cells[0, q] += cells[3, c] * cells[0, c]
            cells[1, q] += cells[3, c] * cells[1, c]
    r2 = np.zeros((nt, n_cells))
    for t in prange(nt):
        k0 = t * n // nt
        k1 = (t + 1) * n // nt
        for c in range(n_cells):
            if cells[7, c] == 0.0 and cells[6, c] - cells[5, c] > LEAF_SIZE:
                s = max(np.int64(cells[5, c]), k0)
                e = min(np.int64(cells[6, c]), k1)
                cx = cells[0, c]
                cy = cells[1, c]
                best = 0.0
                for k in range(s, e):
                    dx = pts[k, 0] - cx
                    dy = pts[k, 1] - cy
                    best = max(best, dx * dx + dy * dy)
                r2[t, c] = best
    for t in prange(nt):
        for c in range(t * n_cells // nt, (t + 1) * n_cells // nt):
            if cells[7, c] == 0.0 and cells[6, c] - cells[5, c] > LEAF_SIZE:
                best = 0.0
                for u in range(nt):
                    best = max(best, r2[u, c])
                cells[7, c] = np.sqrt(best)
            cells[4, c] += c
            cells[2, c] = 2.0 * cells[7, c] / theta if theta > 0 else np.inf


def _inline(kernel):
    """``kernel`` inlined where it is called (Numba IR), for the serial :func:`build_tree`: no function
    of its own to compile, wrap, optimise and link (issue 15); the parallel tree calls the kernel."""
    return njit(inline="always", error_model="numpy")(kernel.py_func)


_bounds_inline = _inline(_bounds)
_morton_inline = _inline(_morton)
_gather_inline = _inline(_gather)
_split_inline = _inline(_split)
_cell_radius_inline = _inline(_cell_radius)
_leaf_summary_inline = _inline(_leaf_summary)
