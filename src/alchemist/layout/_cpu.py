"""Numba CPU kernels of ForceAtlas2: Barnes–Hut quadtree, forces, adaptive speed step.

The quadtree is rebuilt every iteration in flat arrays (:func:`build_tree`; from
``_PARALLEL_TREE_MIN`` nodes on, :func:`build_tree_parallel` splits every ``O(n)`` pass over
the threads and gives the same tree bit for bit):

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

Repulsion walks the tree once per group of nearby points (a cell of at most ``GROUP_SIZE``
points; Barnes 1990, "A modified tree code: don't laugh; it runs"), collecting the cells that
are far from the whole group and the points of the near leaves into interaction lists (relative
to the group's centre of mass: far cells in float32, exact point masses in float64) that every
point of the group then sums in vectorised loops accumulating in float64; groups are spread
over the cores. The walk writes into preallocated lists and never reallocates inside its loop,
which keeps Numba's reference counting out of it. Gravity and attraction (over the rows of the
symmetric CSR: each row sums its own edges, no atomics; float64) do not need the tree: below
``_PARALLEL_TREE_MIN`` nodes they run on the other threads while one thread builds it
(:func:`tree_and_attraction`). :func:`iterate` runs whole iterations (tree, forces, adaptive
speed, move) in a compiled loop, so that a run without a Python callback returns to the
interpreter only between blocks of iterations.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from alchemist.layout.speed import adapt_speed

_adapt_speed = njit(cache=True)(adapt_speed)

LEAF_SIZE = 16
GROUP_SIZE = 32
_CHUNKS_PER_THREAD = 8
_MORTON_BITS = 21
_MORTON_MAX = (1 << _MORTON_BITS) - 1
_RADIX_BITS = 11
# at and above this many nodes (with more than one thread) the tree is built by all threads
# (bounding box, Morton codes, radix sort, gather, cell summaries), then the attraction; below
# it, one thread builds the tree while the others share the attraction
_PARALLEL_TREE_MIN = 20_000
# cost of the serial tree build per node, in units of one attraction edge (measured: ~50 ns per
# node on ego-Facebook against ~2 ns per CSR entry), to balance the tree's thread against the rest
_TREE_COST_PER_NODE = 25


def make_workspace(n: int):
    """Arrays reused across iterations for a graph of ``n`` nodes: ``(codes, order, tmp, tmpc,
    parent, cells, sorted_points)``.

    ``cells`` is an ``(2n + 2, 8) float64`` array of records, one cache line per cell:
    ``[com_x, com_y, 2 radius / theta, mass, skip, start, end, radius]``; ``sorted_points`` is
    ``(n, 4) float64`` ``[x, y, mass, size]`` in Morton order.
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


# --------------------------------------------------------------------------- kernels
@njit(cache=True)
def _part1by1(v):
    """Spread the low 31 bits of ``v`` to the even bit positions of a 64-bit integer."""
    v &= 0x7FFFFFFF
    v = (v | (v << 16)) & 0x0000FFFF0000FFFF
    v = (v | (v << 8)) & 0x00FF00FF00FF00FF
    v = (v | (v << 4)) & 0x0F0F0F0F0F0F0F0F
    v = (v | (v << 2)) & 0x3333333333333333
    v = (v | (v << 1)) & 0x5555555555555555
    return v


@njit(cache=True)
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
    _gather(pos, mass, size, order, pts, 0, n)
    n_cells = _split(codes, parent, cells, n)
    _summarize(n_cells, parent, cells, pts, theta)
    return n_cells


@njit(cache=True)
def _gather(pos, mass, size, order, pts, k0, k1):
    """``pts[k] = [x, y, mass, size]`` of node ``order[k]``, for ``k0 <= k < k1`` (Morton order)."""
    for k in range(k0, k1):
        i = order[k]
        pts[k, 0] = pos[i, 0]
        pts[k, 1] = pos[i, 1]
        pts[k, 2] = mass[i]
        pts[k, 3] = size[i]


@njit(cache=True, error_model="numpy")
def _morton_codes(pos, codes, order):
    """``codes[k]``: Morton code of node ``order[k]``, quantised to ``2^21`` steps of the
    positions' bounding square."""
    n = pos.shape[0]
    minx, maxx, miny, maxy = _bounds(pos, 0, n)
    side = max(maxx - minx, maxy - miny)
    scale = _MORTON_MAX / side if side > 0 else 0.0
    for k in range(n):
        i = order[k]
        codes[k] = _morton(pos[i, 0], pos[i, 1], minx, miny, scale)


@njit(cache=True)
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
    return _part1by1(qx) | (_part1by1(qy) << 1)


@njit(cache=True, parallel=True, error_model="numpy")
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


@njit(cache=True)
def _radix_sort_parallel(codes, order, tmpc, tmp, nt):
    """:func:`_radix_sort` with each pass counted and scattered by ``nt`` threads."""
    n = codes.shape[0]
    n_pass = (2 * _MORTON_BITS + _RADIX_BITS - 1) // _RADIX_BITS
    count = np.empty((nt, (1 << _RADIX_BITS)), np.int64)
    src_c, src_o, dst_c, dst_o = codes, order, tmpc, tmp
    swapped = False
    for p in range(n_pass):
        if _radix_pass(src_c, src_o, dst_c, dst_o, p * _RADIX_BITS, count):
            src_c, src_o, dst_c, dst_o = dst_c, dst_o, src_c, src_o
            swapped = not swapped
    if swapped:
        _copy_parallel(src_c, src_o, codes, order, nt)


@njit(cache=True, parallel=True)
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


@njit(cache=True, parallel=True)
def _copy_parallel(src_c, src_o, dst_c, dst_o, nt):
    n = src_c.shape[0]
    for t in prange(nt):
        for k in range(t * n // nt, (t + 1) * n // nt):
            dst_c[k] = src_c[k]
            dst_o[k] = src_o[k]


@njit(cache=True)
def _radix_sort(codes, order, tmpc, tmp):
    """Sort the ``2 * 21``-bit ``codes`` (and ``order`` along) in place: LSD radix sort, 4 passes
    of ``_RADIX_BITS`` bits whose histograms are counted in one read.

    A pass whose digit is the same for every code is skipped (common for the high bits).
    """
    n = codes.shape[0]
    n_pass = (2 * _MORTON_BITS + _RADIX_BITS - 1) // _RADIX_BITS
    mask = (1 << _RADIX_BITS) - 1
    count = np.zeros((n_pass, mask + 2), np.int64)
    for k in range(n):
        c = codes[k]
        for p in range(n_pass):
            count[p, ((c >> (p * _RADIX_BITS)) & mask) + 1] += 1
    src_c, src_o, dst_c, dst_o = codes, order, tmpc, tmp
    swapped = False
    for p in range(n_pass):
        if count[p].max() == n:
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
        codes[:] = src_c
        order[:] = src_o


@njit(cache=True)
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
        while level < _MORTON_BITS and not split:
            shift = 2 * (_MORTON_BITS - 1 - level)
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


@njit(cache=True)
def _cell_radius(pts, start, stop, cx, cy):  # pragma: no cover - compiled
    """Largest distance from (cx, cy) to the points ``pts[start:stop]``: a cell's exact radius."""
    r2 = 0.0
    for k in range(start, stop):
        dx = pts[k, 0] - cx
        dy = pts[k, 1] - cy
        r2 = max(r2, dx * dx + dy * dy)
    return np.sqrt(r2)


@njit(cache=True)
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


@njit(cache=True)
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
            _leaf_summary(pts, cells, c)
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
            cells[7, c] = _cell_radius(pts, np.int64(cells[5, c]), np.int64(cells[6, c]), cells[0, c], cells[1, c])
        cells[4, c] += c
        # approximated when d * theta > 2 r, i.e. d > 2 r / theta
        cells[2, c] = 2.0 * cells[7, c] / theta if theta > 0 else np.inf


@njit(cache=True, parallel=True, error_model="numpy")
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


@njit(cache=True, parallel=True, error_model="numpy")
def tree_and_attraction(pos, mass, size, theta, codes, order, tmp, tmpc, parent, cells, pts, indptr, indices,
                        weights, kr, gravity, strong, lin_log, dissuade, coef_att, overlap, att, rows):
    """Build the quadtree and compute gravity + attraction into ``att``.

    ``rows`` (from :func:`attraction_shares`) has one share of the attraction's node rows per
    thread. With ``n >= _PARALLEL_TREE_MIN`` nodes and several threads, all threads build the
    tree (:func:`build_tree_parallel`) and then do their shares of the attraction. Below that,
    the two run side by side in one parallel region: thread 0 builds the (serial) tree and then
    does its share, which is smaller by the tree's cost. Returns the number of cells (see
    :func:`build_tree`).
    """
    n = pos.shape[0]
    nt = rows.shape[0] - 1
    if _parallel_tree(n, nt):
        n_cells = build_tree_parallel(pos, mass, size, theta, codes, order, tmp, tmpc, parent, cells, pts, nt)
        for t in prange(nt):
            _attraction_rows(rows[t], rows[t + 1], pos, mass, size, indptr, indices, weights, kr, gravity, strong,
                             lin_log, dissuade, coef_att, overlap, att)
        return n_cells
    out = np.zeros(1, np.int64)
    for t in prange(nt):
        if t == 0:
            out[0] = build_tree(pos, mass, size, theta, codes, order, tmp, tmpc, parent, cells, pts)
        _attraction_rows(rows[t], rows[t + 1], pos, mass, size, indptr, indices, weights, kr, gravity, strong,
                         lin_log, dissuade, coef_att, overlap, att)
    return out[0]


@njit(cache=True)
def _parallel_tree(n, nt):
    return nt > 1 and n >= _PARALLEL_TREE_MIN


@njit(cache=True)
def attraction_shares(indptr, n_threads):
    """Row bounds of the threads' shares of the attraction for :func:`tree_and_attraction`
    (computed once per layout: they depend only on the graph and the thread count).

    ``n_threads`` is ``numba.get_num_threads()`` (passed in: reading it in a kernel would make
    it uncacheable). Where thread 0 also builds the serial tree, its share is smaller by the
    tree's cost, ``_TREE_COST_PER_NODE`` edge-units per node (one per CSR entry).
    """
    n = indptr.shape[0] - 1
    nt = max(1, n_threads)
    return _row_shares(indptr, nt, 0 if _parallel_tree(n, nt) else _TREE_COST_PER_NODE * n)


@njit(cache=True)
def _row_shares(indptr, nt, head):
    """Row bounds ``rows[t] .. rows[t + 1]`` of ``nt`` threads' shares of the attraction, equal
    in cost (CSR entries + 2 per row), thread 0's share reduced by ``head`` cost units of
    other work."""
    n = indptr.shape[0] - 1
    rows = np.empty(nt + 1, np.int64)
    rows[0] = 0
    rows[nt] = n
    total = indptr[n] + 2 * n
    per = (total + head) / nt
    first = max(0.0, per - head)  # thread 0's share of the rows
    rest = (total - first) / max(1, nt - 1)
    i = 0
    for t in range(1, nt):
        target = first + (t - 1) * rest
        while i < n and indptr[i] + 2 * i < target:
            i += 1
        rows[t] = i
    return rows


@njit(cache=True, error_model="numpy")
def _attraction_rows(i0, i1, pos, mass, size, indptr, indices, weights, kr, gravity, strong, lin_log, dissuade,
                     coef_att, overlap, att):
    if lin_log or dissuade or overlap:
        _attraction_gravity(i0, i1, pos, mass, size, indptr, indices, weights, kr, gravity, strong, lin_log,
                            dissuade, coef_att, overlap, att)
    else:
        _attraction_linear(i0, i1, pos, mass, indptr, indices, weights, kr, gravity, strong, att)


@njit(cache=True, error_model="numpy")
def iterate(n_iterations, pos, mass, size, fixed, force_pair, att, extra, state, theta, codes, order, tmp, tmpc,
            parent, cells, pts, indptr, indices, weights, kr, gravity, strong, lin_log, dissuade, coef_att,
            overlap, jitter, n_free, n_threads):
    """Run ``n_iterations`` ForceAtlas2 iterations on ``pos`` (in place), in one compiled loop.

    ``force_pair`` is ``(2, n, 2) float64``: this iteration's and the previous iteration's
    forces, alternating; ``state`` is ``[speed, efficiency, k]`` with ``force_pair[k]`` the most
    recent force, carried between calls so that ``n`` calls of one iteration give exactly the
    same positions as one call of ``n`` (the Python loop calls it in blocks of iterations, or
    one at a time when it needs a callback or extra forces, which are added from ``extra``:
    ``(n, 2)``, or ``(0, 2)`` for none). Each iteration: tree + attraction (:func:`tree_and_attraction`), repulsion,
    swinging and traction, the adaptive speed (:func:`alchemist.layout.speed.adapt_speed`),
    the move.
    """
    rows = attraction_shares(indptr, n_threads)
    for _ in range(n_iterations):
        k = 1 - np.int64(state[2])
        force = force_pair[k]
        old_force = force_pair[1 - k]
        n_cells = tree_and_attraction(pos, mass, size, theta, codes, order, tmp, tmpc, parent, cells, pts, indptr,
                                      indices, weights, kr, gravity, strong, lin_log, dissuade, coef_att, overlap,
                                      att, rows)
        groups = group_cells(n_cells, cells)
        _repulsion(order, n_cells, cells, pts, groups, kr, overlap, force, n_threads)
        swinging, traction = total_force_and_swing(force, att, extra, mass, fixed, old_force)
        speed, efficiency = _adapt_speed(swinging, traction, n_free, state[0], state[1], jitter)
        apply_forces(pos, mass, size, fixed, force, old_force, speed, overlap)
        state[0] = speed
        state[1] = efficiency
        state[2] = k


@njit(cache=True, error_model="numpy")
def total_force_and_swing(force, att, extra, mass, fixed, old_force):
    """``force += att (+ extra)``; returns ``(swinging, traction)``, the mass-weighted sums of
    ``|F_old - F|`` and ``|F_old + F| / 2`` over the free nodes (serial: one light pass)."""
    n = force.shape[0]
    has_extra = extra.shape[0] == n
    swinging = 0.0
    traction = 0.0
    for i in range(n):
        fx = force[i, 0] + att[i, 0]
        fy = force[i, 1] + att[i, 1]
        if has_extra:
            fx += extra[i, 0]
            fy += extra[i, 1]
        force[i, 0] = fx
        force[i, 1] = fy
        if not fixed[i]:
            ox = old_force[i, 0]
            oy = old_force[i, 1]
            swinging += mass[i] * np.sqrt((ox - fx) * (ox - fx) + (oy - fy) * (oy - fy))
            traction += 0.5 * mass[i] * np.sqrt((ox + fx) * (ox + fx) + (oy + fy) * (oy + fy))
    return swinging, traction


@njit(cache=True, error_model="numpy")
def _attraction_gravity(i0, i1, pos, mass, size, indptr, indices, weights, kr, gravity, strong, lin_log,
                        dissuade, coef_att, overlap, att):
    """Gravity and attraction (over the CSR rows: no atomics) of node rows ``i0 .. i1 - 1`` into ``att``."""
    for i in range(i0, i1):
        xi = pos[i, 0]
        yi = pos[i, 1]
        mi = mass[i]
        fx = 0.0
        fy = 0.0
        if strong:
            f = kr * mi * gravity
            fx -= xi * f
            fy -= yi * f
        else:
            d = np.sqrt(xi * xi + yi * yi)
            if d > 0:
                f = mi * gravity / d
                fx -= xi * f
                fy -= yi * f
        for e in range(indptr[i], indptr[i + 1]):
            j = np.int64(indices[e])
            dx = xi - pos[j, 0]
            dy = yi - pos[j, 1]
            f = -coef_att * weights[e]
            if dissuade:
                f /= mass[j] if j < i else mi
            if overlap:
                dist = np.sqrt(dx * dx + dy * dy) - size[i] - size[j]
                if dist <= 0:
                    continue
                if lin_log:
                    f *= np.log(1.0 + dist) / dist
            elif lin_log:
                dist = np.sqrt(dx * dx + dy * dy)
                if dist <= 0:
                    continue
                f *= np.log(1.0 + dist) / dist
            fx += dx * f
            fy += dy * f
        att[i, 0] = fx
        att[i, 1] = fy


@njit(cache=True, error_model="numpy")
def _attraction_linear(i0, i1, pos, mass, indptr, indices, weights, kr, gravity, strong, att):
    """:func:`_attraction_gravity` for linear attraction without hub dissuasion or overlap (the
    default): ``sum_j w_ij (x_j - x_i) = sum_j w_ij x_j - x_i sum_j w_ij``, one gather per edge
    and no branch in the edge loop."""
    for i in range(i0, i1):
        xi = pos[i, 0]
        yi = pos[i, 1]
        sx = 0.0
        sy = 0.0
        sw = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            j = np.int64(indices[e])
            w = weights[e]
            sx += w * pos[j, 0]
            sy += w * pos[j, 1]
            sw += w
        if strong:
            f = kr * mass[i] * gravity
        else:
            d = np.sqrt(xi * xi + yi * yi)
            f = mass[i] * gravity / d if d > 0 else 0.0
        att[i, 0] = sx - sw * xi - xi * f
        att[i, 1] = sy - sw * yi - yi * f


@njit(cache=True, error_model="numpy")
def apply_forces(pos, mass, size, fixed, force, old_force, speed, overlap):
    """Move every free node by ``force * speed / (1 + sqrt(speed * swinging_i))``.

    Serial: a few floating-point operations per node cost less than a parallel region's fork-join.
    """
    n = pos.shape[0]
    for i in range(n):
        if fixed[i]:
            continue
        dx = old_force[i, 0] - force[i, 0]
        dy = old_force[i, 1] - force[i, 1]
        sw = mass[i] * np.sqrt(dx * dx + dy * dy)
        factor = speed / (1.0 + np.sqrt(speed * sw))
        if overlap and size[i] > 0:
            factor = min(factor, 10.0 / size[i])
        pos[i, 0] += force[i, 0] * factor
        pos[i, 1] += force[i, 1] * factor


@njit(cache=True)
def group_cells(n_cells, cells):
    """Cells of at most ``GROUP_SIZE`` points whose parent has more: the traversal groups."""
    out = np.empty(n_cells, np.int64)
    g = 0
    c = 0
    while c < n_cells:
        if cells[6, c] - cells[5, c] <= GROUP_SIZE:
            out[g] = c
            g += 1
            c = np.int64(cells[4, c])
        else:
            c += 1
    return out[:g]


@njit(cache=True, parallel=True, error_model="numpy")
def _repulsion(order, n_cells, cells, pts, groups, kr, overlap, force, n_threads):
    """Barnes–Hut repulsion with one tree walk per group of nearby points (Barnes 1990).

    A cell is approximated by its centre of mass for the whole group when
    ``d(group com, cell com) > R_group + 2 r_cell / theta``, which implies Gephi's per-point
    criterion ``d_i * theta > 2 r_cell`` for every point of the group (and is stricter).
    The groups are split into ``_CHUNKS_PER_THREAD`` chunks per thread (Numba's ``prange``
    hands them out statically; more chunks would cost more in per-chunk list allocations than
    they gain in balance).
    """
    n_groups = groups.shape[0]
    if n_groups == 0:
        force[:] = 0.0
    n_chunks = min(n_groups, _CHUNKS_PER_THREAD * max(1, n_threads))
    for ch in prange(n_chunks):
        _repulsion_groups(ch * n_groups // n_chunks, (ch + 1) * n_groups // n_chunks,
                          order, n_cells, cells, pts, groups, kr, overlap, force)


@njit(cache=True, error_model="numpy")
def _repulsion_groups(g0, g1, order, n_cells, cells, pts, groups, kr, overlap, force):
    """Repulsion on the points of groups ``g0 .. g1 - 1`` (one thread's share).

    Two interaction lists, both with coordinates relative to the group's centre of mass: the
    far cells of non-zero radius in float32 (already approximations; twice the SIMD width of
    float64), and the exact point masses (near leaves' points, accepted one-point cells) in
    float64, where close pairs need the precision.
    """
    lx = np.empty(512, np.float32)
    ly = np.empty(512, np.float32)
    lm = np.empty(512, np.float32)
    px = np.empty(512)
    py = np.empty(512)
    pm = np.empty(512)
    near = np.empty(256, np.int64)
    for gi in range(g0, g1):
        gc = groups[gi]
        nf, npt, nn = _walk(gc, n_cells, cells, pts, overlap, lx, ly, lm, px, py, pm, near)
        if nf > lx.shape[0] or npt > px.shape[0] or nn > near.shape[0]:
            # a list was too short (the walk counted but did not write past the end): grow, redo
            lx = np.empty(2 * nf, np.float32)
            ly = np.empty(2 * nf, np.float32)
            lm = np.empty(2 * nf, np.float32)
            px = np.empty(2 * npt)
            py = np.empty(2 * npt)
            pm = np.empty(2 * npt)
            near = np.empty(2 * nn, np.int64)
            nf, npt, nn = _walk(gc, n_cells, cells, pts, overlap, lx, ly, lm, px, py, pm, near)
        gx = cells[0, gc]
        gy = cells[1, gc]
        for k in range(np.int64(cells[5, gc]), np.int64(cells[6, gc])):
            xk = pts[k, 0] - gx
            yk = pts[k, 1] - gy
            if overlap:
                fx, fy = _far_overlap(np.float32(xk), np.float32(yk), pts[k, 3], lx, ly, lm, nf)
                ex, ey = _far_overlap(xk, yk, pts[k, 3], px, py, pm, npt)
                nx, ny = _near_overlap(k, pts, near, nn)
                fx += ex + nx
                fy += ey + ny
            else:
                fx, fy = _far(np.float32(xk), np.float32(yk), lx, ly, lm, nf)
                ex, ey = _far(xk, yk, px, py, pm, npt)
                fx += ex
                fy += ey
            i = order[k]
            f = kr * pts[k, 2]
            force[i, 0] = f * fx
            force[i, 1] = f * fy


@njit(cache=True, error_model="numpy")
def _walk(gc, n_cells, cells, pts, overlap, lx, ly, lm, px, py, pm, near):
    """The interaction lists of group cell ``gc``: one stackless walk of the tree in DFS order.

    Writes the far cells of non-zero radius into ``lx, ly, lm`` (float32), the exact point
    masses into ``px, py, pm`` (the points of the near leaves without overlap, the far cells of
    zero radius) and the near points (with overlap) into ``near``; returns the counts ``(nf,
    npt, nn)``, which exceed the arrays' lengths when they were too short (nothing is written
    past the end). The arrays are never reallocated here, so the loop has no reference counting.
    """
    cap_f = lx.shape[0]
    cap_p = px.shape[0]
    cap_n = near.shape[0]
    gs = cells[5, gc]
    ge = cells[6, gc]
    gx = cells[0, gc]
    gy = cells[1, gc]
    # the radius bound is exact for the group's farthest point: widen it by a relative 1e-9 so
    # that rounding can never let a cell inside the group (the point itself) pass as far
    radius = cells[7, gc] * (1.0 + 1e-9) + 1e-300
    nf = 0
    npt = 0
    nn = 0
    c = 0
    while c < n_cells:
        dx = gx - cells[0, c]
        dy = gy - cells[1, c]
        d2 = dx * dx + dy * dy
        thr = radius + cells[2, c]
        skip = np.int64(cells[4, c])
        if d2 > thr * thr and not (cells[5, c] <= gs and ge <= cells[6, c]):
            if cells[7, c] > 0:
                if nf < cap_f:
                    lx[nf] = cells[0, c] - gx
                    ly[nf] = cells[1, c] - gy
                    lm[nf] = cells[3, c]
                nf += 1
            else:
                if npt < cap_p:
                    px[npt] = cells[0, c] - gx
                    py[npt] = cells[1, c] - gy
                    pm[npt] = cells[3, c]
                npt += 1
            c = skip
        elif skip > c + 1:
            c += 1
        elif not overlap:
            # leaf points join the exact list as point masses (self: d = 0, no force)
            for q in range(np.int64(cells[5, c]), np.int64(cells[6, c])):
                if npt < cap_p:
                    px[npt] = pts[q, 0] - gx
                    py[npt] = pts[q, 1] - gy
                    pm[npt] = pts[q, 2]
                npt += 1
            c = skip
        else:
            for q in range(np.int64(cells[5, c]), np.int64(cells[6, c])):
                if nn < cap_n:
                    near[nn] = q
                nn += 1
            c = skip
    return nf, npt, nn


@njit(cache=True, error_model="numpy", fastmath={"reassoc", "contract", "arcp", "nsz"})
def _far(xi, yi, lx, ly, lm, nf):
    """Sum of ``m_t (x_i - x_t) / d^2`` over an interaction list, in the list's precision
    (float32 lists: twice the SIMD width), accumulated in float64."""
    fx = 0.0
    fy = 0.0
    for t in range(nf):
        dx = xi - lx[t]
        dy = yi - ly[t]
        # + 1e-30: a point meets itself (or a coincident point) with d = 0 and no force
        f = lm[t] / (dx * dx + dy * dy + np.float32(1e-30))
        fx += np.float64(dx * f)
        fy += np.float64(dy * f)
    return fx, fy


@njit(cache=True, error_model="numpy")
def _far_overlap(xi, yi, si, lx, ly, lm, nf):
    fx = 0.0
    fy = 0.0
    for t in range(nf):
        dx = np.float64(xi - lx[t])
        dy = np.float64(yi - ly[t])
        dist = np.sqrt(dx * dx + dy * dy) - si
        f = lm[t] / (dist * dist) if dist > 0 else 100.0 * lm[t]
        fx += dx * f
        fy += dy * f
    return fx, fy


@njit(cache=True, error_model="numpy")
def _near_overlap(k, pts, near, nn):
    xi = pts[k, 0]
    yi = pts[k, 1]
    fx = 0.0
    fy = 0.0
    for t in range(nn):
        q = near[t]
        dx = xi - pts[q, 0]
        dy = yi - pts[q, 1]
        eu = np.sqrt(dx * dx + dy * dy)
        if eu > 0:
            dist = eu - pts[k, 3] - pts[q, 3]
            f = pts[q, 2] / (dist * dist) if dist > 0 else 100.0 * pts[q, 2]
            fx += dx * f
            fy += dy * f
    return fx, fy
