"""Numba CPU kernels of ForceAtlas2: Barnes–Hut quadtree, forces, adaptive speed step.

The quadtree is rebuilt every iteration in flat arrays:

1. Morton codes (31 bits per axis) of the positions in their bounding square, sorted with an
   LSD radix sort (8 passes of 8 bits, constant bytes skipped);
2. a top-down split of the sorted code ranges by 2-bit digits, with path compression (a cell
   with a single non-empty quadrant is not stored) and leaves of at most ``LEAF_SIZE`` points,
   stored in DFS pre-order with a ``skip`` pointer to the node after each subtree, so that the
   traversal needs no stack;
3. a reverse pass that accumulates mass and centre of mass, then the cell radius: the largest
   distance from the centre of mass to a point of the cell (exact at the leaves, an upper bound
   ``max(|c_child - c| + r_child)`` above). A cell is approximated by its centre of mass when
   ``distance * theta > 2 * radius`` — Gephi's and ``fa2``'s criterion with their region size
   ``2 * radius``.

Repulsion walks the tree once per group of nearby points (a cell of at most ``GROUP_SIZE``
points; Barnes 1990, "A modified tree code: don't laugh; it runs"), collecting the cells that
are far from the whole group and the points of the near leaves into one interaction list that
every point of the group then sums in a vectorised loop; groups are spread over the cores.
Attraction runs in parallel over the rows of the symmetric CSR (each row sums its own edges: no
atomics). All arithmetic is float64.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

LEAF_SIZE = 8
GROUP_SIZE = 32
_MORTON_BITS = 31
_MORTON_MAX = (1 << _MORTON_BITS) - 1


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
        np.empty((m, 8), np.float64),  # cell records
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
    """Build the Barnes–Hut quadtree of ``pos`` into ``cells``; returns the number of cells."""
    n = pos.shape[0]
    if n == 0:
        return 0
    minx, miny, scale = _bounding_square(pos)
    _morton_codes(pos, minx, miny, scale, codes, order)
    _radix_sort(codes, order, tmpc, tmp)
    _gather_points(pos, mass, size, order, pts)
    n_cells = _split(codes, parent, cells, n)
    _summarize(n_cells, parent, cells, pts, theta)
    return n_cells


@njit(cache=True, parallel=True, error_model="numpy")
def _bounding_square(pos):
    n = pos.shape[0]
    minx = np.inf
    miny = np.inf
    maxx = -np.inf
    maxy = -np.inf
    for i in prange(n):
        minx = min(minx, pos[i, 0])
        maxx = max(maxx, pos[i, 0])
        miny = min(miny, pos[i, 1])
        maxy = max(maxy, pos[i, 1])
    side = max(maxx - minx, maxy - miny)
    scale = _MORTON_MAX / side if side > 0 else 0.0
    return minx, miny, scale


@njit(cache=True, parallel=True, error_model="numpy")
def _morton_codes(pos, minx, miny, scale, codes, order):
    for i in prange(pos.shape[0]):
        qx = min(np.int64((pos[i, 0] - minx) * scale), _MORTON_MAX)
        qy = min(np.int64((pos[i, 1] - miny) * scale), _MORTON_MAX)
        codes[i] = _part1by1(qx) | (_part1by1(qy) << 1)
        order[i] = i


@njit(cache=True)
def _radix_sort(codes, order, tmpc, tmp):
    """Sort 62-bit ``codes`` (and ``order`` along) in place: LSD radix sort, 8 passes of 8 bits.

    A pass whose byte is the same for every code is skipped (common for the high bits).
    """
    n = codes.shape[0]
    count = np.empty(257, np.int64)
    src_c, src_o, dst_c, dst_o = codes, order, tmpc, tmp
    swapped = False
    for shift in range(0, 64, 8):
        count[:] = 0
        for k in range(n):
            count[((src_c[k] >> shift) & 255) + 1] += 1
        if count.max() == n:
            continue
        for b in range(256):
            count[b + 1] += count[b]
        for k in range(n):
            b = (src_c[k] >> shift) & 255
            dst_c[count[b]] = src_c[k]
            dst_o[count[b]] = src_o[k]
            count[b] += 1
        src_c, src_o, dst_c, dst_o = dst_c, dst_o, src_c, src_o
        swapped = not swapped
    if swapped:
        codes[:] = src_c
        order[:] = src_o


@njit(cache=True, parallel=True, error_model="numpy")
def _gather_points(pos, mass, size, order, pts):
    for k in prange(order.shape[0]):
        i = order[k]
        pts[k, 0] = pos[i, 0]
        pts[k, 1] = pos[i, 1]
        pts[k, 2] = mass[i]
        pts[k, 3] = size[i]


@njit(cache=True)
def _split(codes, parent, cells, n):
    """Top-down split of the sorted codes into cells, in DFS pre-order; returns the cell count."""
    stack_s = np.empty(256, np.int64)  # depth <= 31 levels x 3 pending siblings + 1
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
        cells[c, 5] = s
        cells[c, 6] = e
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
def _summarize(n_cells, parent, cells, pts, theta):
    """Mass, centre of mass, radius, skip pointer and opening distance of every cell."""
    for c in range(n_cells):
        cells[c, 0] = 0.0
        cells[c, 1] = 0.0
        cells[c, 3] = 0.0
        cells[c, 4] = 1.0
        cells[c, 7] = 0.0
    for c in range(n_cells - 1, -1, -1):
        leaf = c + 1 >= n_cells or parent[c + 1] != c
        if leaf:
            m = 0.0
            mx = 0.0
            my = 0.0
            for k in range(np.int64(cells[c, 5]), np.int64(cells[c, 6])):
                m += pts[k, 2]
                mx += pts[k, 2] * pts[k, 0]
                my += pts[k, 2] * pts[k, 1]
            cells[c, 3] = m
            cx = mx / m
            cy = my / m
            if cells[c, 6] - cells[c, 5] == 1:  # exactly the point, not (m x) / m
                cx = pts[np.int64(cells[c, 5]), 0]
                cy = pts[np.int64(cells[c, 5]), 1]
            r2 = 0.0
            for k in range(np.int64(cells[c, 5]), np.int64(cells[c, 6])):
                dx = pts[k, 0] - cx
                dy = pts[k, 1] - cy
                r2 = max(r2, dx * dx + dy * dy)
            cells[c, 7] = np.sqrt(r2)
        else:
            cx = cells[c, 0] / cells[c, 3]
            cy = cells[c, 1] / cells[c, 3]
        cells[c, 0] = cx
        cells[c, 1] = cy
        q = parent[c]
        if q >= 0:
            cells[q, 4] += cells[c, 4]
            cells[q, 3] += cells[c, 3]
            cells[q, 0] += cells[c, 3] * cx
            cells[q, 1] += cells[c, 3] * cy
    for c in range(n_cells - 1, 0, -1):
        q = parent[c]
        dx = cells[c, 0] - cells[q, 0]
        dy = cells[c, 1] - cells[q, 1]
        cells[q, 7] = max(cells[q, 7], np.sqrt(dx * dx + dy * dy) + cells[c, 7])
    for c in range(n_cells):
        cells[c, 4] += c
        # approximated when d * theta > 2 r, i.e. d > 2 r / theta
        cells[c, 2] = 2.0 * cells[c, 7] / theta if theta > 0 else np.inf


@njit(cache=True, parallel=True, error_model="numpy")
def forces_and_swing(pos, mass, size, fixed, indptr, indices, weights, order, n_cells, cells, pts, groups,
                     kr, gravity, strong, lin_log, dissuade, coef_att, overlap, force, old_force, extra):
    """Repulsion (Barnes–Hut), gravity, attraction and extra forces; swinging and traction sums.

    Fills ``force`` (row = node row) and returns ``(swinging, traction)``, the mass-weighted sums
    of ``|F_old - F|`` and ``|F_old + F| / 2`` over the free nodes.
    """
    n = pos.shape[0]
    _repulsion(order, n_cells, cells, pts, groups, kr, overlap, force)
    # gravity, attraction, extra forces, swinging/traction
    swinging = 0.0
    traction = 0.0
    for i in prange(n):
        xi = pos[i, 0]
        yi = pos[i, 1]
        mi = mass[i]
        fx = force[i, 0]
        fy = force[i, 1]
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
        if extra.shape[0] == n:
            fx += extra[i, 0]
            fy += extra[i, 1]
        force[i, 0] = fx
        force[i, 1] = fy
        if not fixed[i]:
            ox = old_force[i, 0]
            oy = old_force[i, 1]
            swinging += mi * np.sqrt((ox - fx) * (ox - fx) + (oy - fy) * (oy - fy))
            traction += 0.5 * mi * np.sqrt((ox + fx) * (ox + fx) + (oy + fy) * (oy + fy))
    return swinging, traction


@njit(cache=True, parallel=True, error_model="numpy")
def apply_forces(pos, mass, size, fixed, force, old_force, speed, overlap):
    """Move every free node by ``force * speed / (1 + sqrt(speed * swinging_i))``."""
    n = pos.shape[0]
    for i in prange(n):
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
        if cells[c, 6] - cells[c, 5] <= GROUP_SIZE:
            out[g] = c
            g += 1
            c = np.int64(cells[c, 4])
        else:
            c += 1
    return out[:g]


@njit(cache=True, parallel=True, error_model="numpy")
def _repulsion(order, n_cells, cells, pts, groups, kr, overlap, force):
    """Barnes–Hut repulsion with one tree walk per group of nearby points (Barnes 1990).

    A cell is approximated by its centre of mass for the whole group when
    ``d(group com, cell com) > R_group + 2 r_cell / theta``, which implies Gephi's per-point
    criterion ``d_i * theta > 2 r_cell`` for every point of the group (and is stricter).
    """
    n_groups = groups.shape[0]
    if n_groups == 0:
        force[:] = 0.0
    n_chunks = min(n_groups, 64)
    for ch in prange(n_chunks):
        _repulsion_groups(ch * n_groups // n_chunks, (ch + 1) * n_groups // n_chunks,
                          order, n_cells, cells, pts, groups, kr, overlap, force)


@njit(cache=True, error_model="numpy")
def _repulsion_groups(g0, g1, order, n_cells, cells, pts, groups, kr, overlap, force):
    """Repulsion on the points of groups ``g0 .. g1 - 1`` (one thread's share)."""
    cap_f = 256
    cap_n = 256
    far = np.empty((3, cap_f))
    near = np.empty(cap_n, np.int64)
    for gi in range(g0, g1):
        gc = groups[gi]
        gs = cells[gc, 5]
        ge = cells[gc, 6]
        gx = cells[gc, 0]
        gy = cells[gc, 1]
        # the radius bound is exact for the group's farthest point: widen it by a relative 1e-9 so
        # that rounding can never let a cell inside the group (the point itself) pass as far
        radius = cells[gc, 7] * (1.0 + 1e-9) + 1e-300
        nf = 0
        nn = 0
        c = 0
        while c < n_cells:
            dx = gx - cells[c, 0]
            dy = gy - cells[c, 1]
            d2 = dx * dx + dy * dy
            thr = radius + cells[c, 2]
            skip = np.int64(cells[c, 4])
            contains = cells[c, 5] <= gs and ge <= cells[c, 6]
            if not contains and d2 > thr * thr:
                if nf == cap_f:
                    cap_f *= 2
                    bigger = np.empty((3, cap_f))
                    bigger[:, :nf] = far[:, :nf]
                    far = bigger
                far[0, nf] = cells[c, 0]
                far[1, nf] = cells[c, 1]
                far[2, nf] = cells[c, 3]
                nf += 1
                c = skip
            elif skip > c + 1:
                c += 1
            elif not overlap:
                # leaf points join the interaction list as point masses (self: d = 0, no force)
                cs = np.int64(cells[c, 5])
                ce = np.int64(cells[c, 6])
                if nf + ce - cs > cap_f:
                    cap_f = 2 * (nf + ce - cs)
                    bigger = np.empty((3, cap_f))
                    bigger[:, :nf] = far[:, :nf]
                    far = bigger
                for q in range(cs, ce):
                    far[0, nf] = pts[q, 0]
                    far[1, nf] = pts[q, 1]
                    far[2, nf] = pts[q, 2]
                    nf += 1
                c = skip
            else:
                cs = np.int64(cells[c, 5])
                ce = np.int64(cells[c, 6])
                if nn + ce - cs > cap_n:
                    cap_n = 2 * (nn + ce - cs)
                    bigger_n = np.empty(cap_n, np.int64)
                    bigger_n[:nn] = near[:nn]
                    near = bigger_n
                for q in range(cs, ce):
                    near[nn] = q
                    nn += 1
                c = skip
        for k in range(np.int64(gs), np.int64(ge)):
            if overlap:
                fx, fy = _far_overlap(pts[k, 0], pts[k, 1], pts[k, 2], pts[k, 3], far, nf, kr)
                nx, ny = _near_overlap(k, pts, near, nn, kr)
            else:
                fx, fy = _far(pts[k, 0], pts[k, 1], pts[k, 2], far, nf, kr)
                nx, ny = 0.0, 0.0
            i = order[k]
            force[i, 0] = fx + nx
            force[i, 1] = fy + ny


@njit(cache=True, error_model="numpy", fastmath={"reassoc", "contract", "arcp"})
def _far(xi, yi, mi, far, nf, kr):
    fx = 0.0
    fy = 0.0
    for t in range(nf):
        dx = xi - far[0, t]
        dy = yi - far[1, t]
        # + 1e-300: a point meets itself (or a coincident point) with d = 0 and no force
        f = far[2, t] / (dx * dx + dy * dy + 1e-300)
        fx += dx * f
        fy += dy * f
    return kr * mi * fx, kr * mi * fy


@njit(cache=True, error_model="numpy")
def _far_overlap(xi, yi, mi, si, far, nf, kr):
    fx = 0.0
    fy = 0.0
    for t in range(nf):
        dx = xi - far[0, t]
        dy = yi - far[1, t]
        dist = np.sqrt(dx * dx + dy * dy) - si
        f = far[2, t] / (dist * dist) if dist > 0 else 100.0 * far[2, t]
        fx += dx * f
        fy += dy * f
    return kr * mi * fx, kr * mi * fy


@njit(cache=True, error_model="numpy")
def _near_overlap(k, pts, near, nn, kr):
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
    return kr * pts[k, 2] * fx, kr * pts[k, 2] * fy
