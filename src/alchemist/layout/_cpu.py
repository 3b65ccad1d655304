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

Repulsion (:func:`_repulsion`) tests the cells against the tree's own cells from the top down:
a cell far from a whole upper cell enters that cell's local expansion (Greengard & Rokhlin
1987), which is shifted down to its children, and the cells not yet decided are passed down.
Each group of nearby points (a cell of at most ``GROUP_SIZE`` points; Barnes 1990, "A modified
tree code: don't laugh; it runs") then walks the subtrees passed down to it, collecting the
cells far from the whole group and the points of the near leaves into one interaction list
(relative to the group's centre of mass, float64) that every point of the group sums in a
vectorised loop, and adds its expansion; groups are spread over the cores. The walk writes
into preallocated lists and never reallocates inside its loop, which keeps Numba's reference
counting out of it. Gravity and attraction (over the rows of the
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
EXPANSION_ORDER = 6  # terms of the local expansions of the far field (see _repulsion)
_EXPANSION_RATIO2 = 0.25  # rho^2 at most: a cell enters an expansion only at >= R_T / rho, rho <= 1/2
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
        _repulsion(order, n_cells, parent, cells, pts, groups, theta, kr, overlap, force, n_threads)
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
def _repulsion(order, n_cells, parent, cells, pts, groups, theta, kr, overlap, force, n_threads):
    """Barnes–Hut repulsion into ``force`` (``(n, 2)``, node order), the far field of the upper
    cells carried down in local expansions.

    Every cell ``T`` above the groups (the cells of at most ``GROUP_SIZE`` points whose parent
    has more) inherits the source cells that its parent could not approximate and tests them
    once for all its points (a one-sided dual-tree walk): a cell ``c`` with
    ``d(T, c) > R_T + 2 r_c / theta`` and ``d(T, c) >= R_T / rho``, ``rho = min(1/2, theta/2)``
    (``R_T``: the exact radius of ``T``), enters ``T``'s local expansion, which is shifted down
    to ``T``'s children; a cell that is larger than ``T`` is opened; the rest are passed down.
    Each group then walks the subtrees of the cells passed down to it (Barnes 1990, "A modified
    tree code: don't laugh; it runs"): the cells with ``d(g, c) > R_g + 2 r_c / theta`` and the
    points of the near leaves go into one list that every point of the group sums exactly in
    float64, and the group's expansion is evaluated at each point. Both tests imply Gephi's
    per-point criterion ``d_i * theta > 2 r_c`` for every point below ``T`` (they are
    stricter), so a cell is approximated only where Gephi would approximate it. With
    ``prevent_overlap`` (a force that is not harmonic) nothing is expanded and every group walks
    the whole tree.

    The expansion (Greengard & Rokhlin 1987, J. Comput. Phys. 73, eq. 2.2 and Lemma 2.4, in
    the complex plane: the force is ``k_r m_i conj(sum_c m_c / (z_i - z_c))``) has
    ``EXPANSION_ORDER`` = 6 terms; with ``|z_i - z_T| <= rho |z_c - z_T|`` its truncation error
    is at most ``rho^6 / (1 - rho)`` of one cell's term (3% at the default ``theta``, and on real
    layouts far below the error of the monopole itself, which is of order ``(theta / 2)^2``); it
    vanishes with ``theta``, so ``theta -> 0`` still gives the exact forces. The groups are
    split into ``_CHUNKS_PER_THREAD`` chunks per thread (Numba's ``prange`` hands them out
    statically; more chunks would cost more in per-chunk allocations than they gain in
    balance); every group gets the same expansion and list whatever the split, so the forces
    do not depend on the thread count.
    """
    n_groups = groups.shape[0]
    if n_groups == 0:
        force[:] = 0.0
    n_chunks = min(n_groups, _CHUNKS_PER_THREAD * max(1, n_threads))
    rho2 = min(_EXPANSION_RATIO2, 0.25 * theta * theta)
    for ch in prange(n_chunks):
        _repulsion_groups(ch * n_groups // n_chunks, (ch + 1) * n_groups // n_chunks,
                          order, n_cells, parent, cells, pts, groups, rho2, kr, overlap, force)


@njit(cache=True, error_model="numpy")
def _repulsion_groups(g0, g1, order, n_cells, parent, cells, pts, groups, rho2, kr, overlap, force):
    """Repulsion on the points of groups ``g0 .. g1 - 1`` (one chunk), in Morton order.

    Keeps a stack of frames, one per ancestor of the current group: frame ``d + 1`` holds the
    ancestor's cell, its local expansion and the cells passed down to its children (a range of
    ``pend``); frame 0 is a virtual parent of the root with the root as its only cell. Moving to
    the next group pops the frames that are not its ancestors and pushes the missing ones.
    """
    p = EXPANSION_ORDER
    max_depth = 2 * _MORTON_BITS + 8  # the tree is at most _MORTON_BITS + 1 cells deep
    frame_cell = np.empty(max_depth, np.int64)
    frame_start = np.empty(max_depth, np.int64)
    frame_stop = np.empty(max_depth, np.int64)
    local = np.zeros((max_depth, 2 * p))
    lg = np.empty(2 * p)
    path = np.empty(max_depth, np.int64)
    pend = np.empty(2 * n_cells + 1024, np.int64)
    work = np.empty(n_cells + 1, np.int64)
    px = np.empty(1024)
    py = np.empty(1024)
    pm = np.empty(1024)
    near = np.empty(256, np.int64)
    g_max = 1
    for gi in range(g0, g1):
        g_max = max(g_max, np.int64(cells[6, groups[gi]] - cells[5, groups[gi]]))
    wx = np.empty(g_max)
    wy = np.empty(g_max)
    ex = np.empty(g_max)
    ey = np.empty(g_max)
    frame_cell[0] = -1
    frame_start[0] = 0
    frame_stop[0] = 1
    pend[0] = 0  # the root
    depth = 0
    for gi in range(g0, g1):
        gc = groups[gi]
        if not overlap:
            n_path = 0
            a = parent[gc]
            while a >= 0:
                path[n_path] = a
                n_path += 1
                a = parent[a]
            common = 0
            while common < depth and common < n_path and frame_cell[common + 1] == path[n_path - 1 - common]:
                common += 1
            depth = common
            while depth < n_path:
                top = frame_stop[depth]
                if pend.shape[0] < top + n_cells:  # a push appends at most n_cells cells (an antichain)
                    bigger = np.empty(2 * (top + n_cells), np.int64)
                    bigger[:top] = pend[:top]
                    pend = bigger
                _push_frame(path[n_path - 1 - depth], depth, frame_cell, frame_start, frame_stop, local, cells,
                            pend, work, rho2)
                depth += 1
        nl, nn = _walk(gc, pend, frame_start[depth], frame_stop[depth], cells, pts, overlap, px, py, pm, near)
        if nl > px.shape[0] or nn > near.shape[0]:
            # a list was too short (the walk counted but did not write past the end): grow, redo
            if nl > px.shape[0]:
                px = np.empty(2 * nl)
                py = np.empty(2 * nl)
                pm = np.empty(2 * nl)
            if nn > near.shape[0]:
                near = np.empty(2 * nn, np.int64)
            nl, nn = _walk(gc, pend, frame_start[depth], frame_stop[depth], cells, pts, overlap, px, py, pm, near)
        gx = cells[0, gc]
        gy = cells[1, gc]
        s = np.int64(cells[5, gc])
        size_g = np.int64(cells[6, gc]) - s
        for j in range(size_g):
            wx[j] = pts[s + j, 0] - gx
            wy[j] = pts[s + j, 1] - gy
        top_cell = frame_cell[depth]
        if top_cell >= 0:
            # the inherited expansion about the group's centre, evaluated at its points (Horner)
            _shift(local[depth], gx - cells[0, top_cell], gy - cells[1, top_cell], lg)
            for j in range(size_g):
                ex[j] = lg[2 * p - 2]
                ey[j] = lg[2 * p - 1]
            for k in range(p - 2, -1, -1):
                cr = lg[2 * k]
                ci = lg[2 * k + 1]
                for j in range(size_g):
                    re = ex[j]
                    im = ey[j]
                    ex[j] = re * wx[j] - im * wy[j] + cr
                    ey[j] = re * wy[j] + im * wx[j] + ci
        else:
            ex[:size_g] = 0.0
            ey[:size_g] = 0.0
        for j in range(size_g):
            k = s + j
            if overlap:
                fx, fy = _far_overlap(wx[j], wy[j], pts[k, 3], px, py, pm, nl)
                nx, ny = _near_overlap(k, pts, near, nn)
                fx += nx
                fy += ny
            else:
                fx, fy = _far(wx[j], wy[j], px, py, pm, nl)
                fx += ex[j]
                fy -= ey[j]  # the force is the conjugate of the field
            i = order[k]
            f = kr * pts[k, 2]
            force[i, 0] = f * fx
            force[i, 1] = f * fy


@njit(cache=True, error_model="numpy")
def _push_frame(a, d, frame_cell, frame_start, frame_stop, local, cells, pend, work, rho2):
    """Frame ``d + 1`` for cell ``a`` (a child of frame ``d``'s cell): its local expansion (the
    parent's, shifted, plus the cells accepted here) and the cells it passes down, appended to
    ``pend`` after frame ``d``'s."""
    pc = frame_cell[d]
    ax = cells[0, a]
    ay = cells[1, a]
    if pc >= 0:
        _shift(local[d], ax - cells[0, pc], ay - cells[1, pc], local[d + 1])
    else:
        local[d + 1, :] = 0.0
    radius = cells[7, a] * (1.0 + 1e-9) + 1e-300  # widened as in _walk
    limit2 = radius * radius / rho2 if rho2 > 0 else np.inf
    sa = cells[5, a]
    ea = cells[6, a]
    n_work = 0
    for q in range(frame_start[d], frame_stop[d]):
        work[n_work] = pend[q]
        n_work += 1
    top = frame_stop[d]
    q = 0
    while q < n_work:
        c = work[q]
        q += 1
        contains = cells[5, c] <= sa and ea <= cells[6, c]
        skip = np.int64(cells[4, c])
        if not contains:
            dx = cells[0, c] - ax
            dy = cells[1, c] - ay
            d2 = dx * dx + dy * dy
            thr = radius + cells[2, c]
            if d2 > thr * thr and d2 >= limit2:
                _p2l(local[d + 1], dx, dy, cells[3, c])
                continue
        if skip > c + 1 and (contains or cells[7, c] >= radius):
            ch = c + 1  # open c: its children are tested here
            while ch < skip:
                work[n_work] = ch
                n_work += 1
                ch = np.int64(cells[4, ch])
        else:
            pend[top] = c  # a leaf, or smaller than this cell: decided further down
            top += 1
    frame_cell[d + 1] = a
    frame_start[d + 1] = frame_stop[d]
    frame_stop[d + 1] = top


@njit(cache=True, error_model="numpy")
def _p2l(coef, ax, ay, m):
    """Add a point mass ``m`` at ``a = ax + i ay`` (relative to the expansion's centre) to the
    local expansion ``coef`` (``[re_0, im_0, re_1, ...]``): ``c_k -= m / a^(k+1)``, since
    ``m / (w - a) = -sum_k m w^k / a^(k+1)`` for ``|w| < |a|``."""
    p = coef.shape[0] // 2
    inv = 1.0 / (ax * ax + ay * ay)
    ux = ax * inv  # u = 1 / a
    uy = -ay * inv
    tx = -m * ux
    ty = -m * uy
    for k in range(p):
        coef[2 * k] += tx
        coef[2 * k + 1] += ty
        tx, ty = tx * ux - ty * uy, tx * uy + ty * ux


@njit(cache=True, error_model="numpy")
def _shift(coef, dx, dy, out):
    """``out``: the expansion ``coef`` (``sum_k c_k w^k``) about a centre moved by ``dx + i dy``
    (a Taylor shift by repeated synthetic division, ``p (p - 1) / 2`` complex multiply-adds)."""
    p = coef.shape[0] // 2
    for k in range(2 * p):
        out[k] = coef[k]
    for j in range(p - 1):
        for k in range(p - 2, j - 1, -1):  # c_k += delta c_(k+1)
            re = out[2 * k + 2]
            im = out[2 * k + 3]
            out[2 * k] += dx * re - dy * im
            out[2 * k + 1] += dx * im + dy * re


@njit(cache=True, error_model="numpy")
def _walk(gc, roots, r0, r1, cells, pts, overlap, px, py, pm, near):
    """The interaction list of group cell ``gc``: a stackless DFS walk of the subtrees of the
    cells ``roots[r0:r1]``.

    Writes the far cells and the exact point masses (the points of the near leaves without
    overlap), relative to the group's centre of mass, into ``px, py, pm``, and the near points
    (with overlap) into ``near``; returns the counts ``(n_list, n_near)``, which exceed the
    arrays' lengths when they were too short (nothing is written past the end). The arrays are
    never reallocated here, so the loop has no reference counting.
    """
    cap_l = px.shape[0]
    cap_n = near.shape[0]
    gs = cells[5, gc]
    ge = cells[6, gc]
    gx = cells[0, gc]
    gy = cells[1, gc]
    # the radius bound is exact for the group's farthest point: widen it by a relative 1e-9 so
    # that rounding can never let a cell inside the group (the point itself) pass as far
    radius = cells[7, gc] * (1.0 + 1e-9) + 1e-300
    nl = 0
    nn = 0
    for r in range(r0, r1):
        c = roots[r]
        end = np.int64(cells[4, c])
        while c < end:
            dx = gx - cells[0, c]
            dy = gy - cells[1, c]
            d2 = dx * dx + dy * dy
            thr = radius + cells[2, c]
            skip = np.int64(cells[4, c])
            if d2 > thr * thr and not (cells[5, c] <= gs and ge <= cells[6, c]):
                if nl < cap_l:
                    px[nl] = cells[0, c] - gx
                    py[nl] = cells[1, c] - gy
                    pm[nl] = cells[3, c]
                nl += 1
                c = skip
            elif skip > c + 1:
                c += 1
            elif not overlap:
                # leaf points join the list as point masses (self: d = 0, no force)
                for q in range(np.int64(cells[5, c]), np.int64(cells[6, c])):
                    if nl < cap_l:
                        px[nl] = pts[q, 0] - gx
                        py[nl] = pts[q, 1] - gy
                        pm[nl] = pts[q, 2]
                    nl += 1
                c = skip
            else:
                for q in range(np.int64(cells[5, c]), np.int64(cells[6, c])):
                    if nn < cap_n:
                        near[nn] = q
                    nn += 1
                c = skip
    return nl, nn


@njit(cache=True, error_model="numpy", fastmath={"reassoc", "contract", "arcp", "nsz"})
def _far(xi, yi, lx, ly, lm, nf):
    """Sum of ``m_t (x_i - x_t) / d^2`` over the first ``nf`` entries of an interaction list
    (float64, vectorised)."""
    fx = 0.0
    fy = 0.0
    for t in range(nf):
        dx = xi - lx[t]
        dy = yi - ly[t]
        # + 1e-30: a point meets itself (or a coincident point) with d = 0 and no force
        f = lm[t] / (dx * dx + dy * dy + 1e-30)
        fx += dx * f
        fy += dy * f
    return fx, fy


@njit(cache=True, error_model="numpy")
def _far_overlap(xi, yi, si, lx, ly, lm, nf):
    fx = 0.0
    fy = 0.0
    for t in range(nf):
        dx = xi - lx[t]
        dy = yi - ly[t]
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
