"""Barnes–Hut repulsion of the CPU ForceAtlas2, the far field carried down in local expansions.

:func:`repulsion` tests the cells of the tree (:mod:`alchemist.layout._tree`) against the tree's
own cells from the top down: a cell far from a whole upper cell enters that cell's local
expansion (Greengard & Rokhlin 1987), which is shifted down to its children, and the cells not
yet decided are passed down. Each group of nearby points (a cell of at most ``GROUP_SIZE``
points; Barnes 1990, "A modified tree code: don't laugh; it runs") then walks the subtrees
passed down to it, collecting the cells far from the whole group and the points of the near
leaves into one interaction list (relative to the group's centre of mass, float64) that every
point of the group sums in a vectorised loop, and adds its expansion; groups are spread over
the cores. The walk writes into preallocated lists and never reallocates inside its loop,
which keeps Numba's reference counting out of it. The law between nodes whose borders may
touch (prevent overlap) is :func:`alchemist.layout._laws.overlap_repulsion`, shared with the
CUDA kernel.
"""

from __future__ import annotations

import functools

import numpy as np
from numba import cfunc, njit, prange, types

from alchemist.layout._laws import overlap_repulsion
from alchemist.layout._tree import F1, F2, I1, MORTON_BITS, PRANGE_ONLY

__all__ = [
    "GROUP_SIZE", "EXPANSION_ORDER", "group_cells", "repulsion", "repulsion_chunks", "repulsion_groups",
    "repulsion_groups_kernel",
]

GROUP_SIZE = 32
EXPANSION_ORDER = 6  # terms of the local expansions of the far field (see repulsion)
_EXPANSION_RATIO2 = 0.25  # rho^2 at most: a cell enters an expansion only at >= R_T / rho, rho <= 1/2
_CHUNKS_PER_THREAD = 8

_overlap_repulsion = njit(inline="always")(overlap_repulsion)


@njit(inline="always", error_model="numpy")
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


def repulsion(order, n_cells, parent, cells, pts, groups, theta, kr, overlap, force, n_threads):
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

    This is :func:`repulsion_chunks` with :func:`repulsion_groups_kernel`, for calls from
    Python; the compiled loop calls :func:`repulsion_chunks` itself.
    """
    repulsion_chunks(repulsion_groups_kernel(), order, n_cells, parent, cells, pts, groups, theta, kr, overlap,
                     force, n_threads)


@njit(cache=True, parallel=PRANGE_ONLY, error_model="numpy")
def repulsion_chunks(groups_kernel, order, n_cells, parent, cells, pts, groups, theta, kr, overlap, force,
                     n_threads):
    """:func:`repulsion` with the kernel of one chunk of groups passed in: ``groups_kernel`` is
    :func:`repulsion_groups_kernel` (a function pointer, so that the kernel is compiled once and
    not again into every caller: issue 15, the first call's compile time)."""
    n_groups = groups.shape[0]
    if n_groups == 0:
        force[:] = 0.0
    n_chunks = min(n_groups, _CHUNKS_PER_THREAD * max(1, n_threads))
    rho2 = min(_EXPANSION_RATIO2, 0.25 * theta * theta)
    for ch in prange(n_chunks):
        groups_kernel(ch * n_groups // n_chunks, (ch + 1) * n_groups // n_chunks,
                      order, n_cells, parent, cells, pts, groups, rho2, kr, overlap, force)


# the C signature of repulsion_groups: one dtype and layout per argument (the loop's arrays are
# float64/int64, C-contiguous), so that it is compiled once, eagerly, as a C callback
REPULSION_GROUPS_SIGNATURE = types.void(types.int64, types.int64, I1, types.int64, I1, F2, F2, I1, types.float64,
                                        types.float64, types.boolean, F2)


@functools.cache
def repulsion_groups_kernel():
    """:func:`repulsion_groups` compiled once as a C callback (``numba.cfunc``, cached on disk).

    Returns
    -------
    numba.core.ccallback.CFunc
        Passed to :func:`repulsion_chunks`, which calls it through its address: its machine code
        is made once, instead of once more in each compiled caller that would link it in.
    """
    return cfunc(REPULSION_GROUPS_SIGNATURE, cache=True, error_model="numpy")(repulsion_groups)


def repulsion_groups(g0, g1, order, n_cells, parent, cells, pts, groups, rho2, kr, overlap, force):
    """Repulsion on the points of groups ``g0 .. g1 - 1`` (one chunk), in Morton order.

    Keeps a stack of frames, one per ancestor of the current group: frame ``d + 1`` holds the
    ancestor's cell, its local expansion and the cells passed down to its children (a range of
    ``pend``); frame 0 is a virtual parent of the root with the root as its only cell. Moving to
    the next group pops the frames that are not its ancestors and pushes the missing ones.
    """
    p = EXPANSION_ORDER
    max_depth = 2 * MORTON_BITS + 8  # the tree is at most MORTON_BITS + 1 cells deep
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
                    for q in range(top):  # a loop, not a slice copy: no shape-mismatch error path to compile
                        bigger[q] = pend[q]
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


@njit(inline="always", error_model="numpy")
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


@njit(inline="always", error_model="numpy")
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


@njit(inline="always", error_model="numpy")
def _far_overlap(xi, yi, si, lx, ly, lm, nf):
    """:func:`_far` with prevent overlap: the first ``nf`` list entries as sources of no size
    acting on a point of size ``si`` (:func:`~alchemist.layout._laws.overlap_repulsion`)."""
    fx = 0.0
    fy = 0.0
    for t in range(nf):
        dx = xi - lx[t]
        dy = yi - ly[t]
        dist = np.sqrt(dx * dx + dy * dy) - si
        f = _overlap_repulsion(dist, lm[t])
        fx += dx * f
        fy += dy * f
    return fx, fy


@njit(inline="always", error_model="numpy")
def _near_overlap(k, pts, near, nn):
    """Overlap repulsion on point ``k`` (Morton order) from the ``nn`` near points ``near``,
    both sizes counted; a coincident point exerts no force."""
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
            f = _overlap_repulsion(dist, pts[q, 2])
            fx += dx * f
            fy += dy * f
    return fx, fy
