"""Numba CUDA kernels of ForceAtlas2: the whole iteration runs on the device.

Per iteration, on device arrays (float32 positions and forces, float64 global sums):

1. bounding box by atomics, 31-bit-per-axis Morton codes, ``argsort`` of the codes (CuPy's
   radix sort on a GPU);
2. a binary radix tree over the sorted codes, one thread per internal node (Karras 2012,
   "Maximizing parallelism in the construction of BVHs, octrees and k-d trees"; ties broken by
   the point index so that every key is distinct);
3. bottom-up summary — mass, centre of mass, radius — with one thread per leaf climbing until
   it is the first of two children to arrive (an atomic flag per node), as in the
   summarization kernel of Burtscher & Pingali 2011;
4. Barnes–Hut repulsion with one thread per point in Morton order (threads of a warp walk
   similar paths), each with a small stack; the opening criterion is Gephi's
   ``d * theta > 2 r``;
5. edge-parallel attraction with atomic adds, gravity / extra forces with the
   swinging-traction sums, the adaptive-speed update in a one-thread kernel (no host
   round-trip) and the move.

Burtscher & Pingali insert bodies into a quadtree with locks; the sorted-Morton build used here
produces the same hierarchy of cells (a binary tree, each quadtree cell being a subtree) without
locks, which also makes the kernels runnable under Numba's CUDA simulator. The iteration driver
is written once over an array module ``xp``: CuPy on a GPU, NumPy under the simulator. The
per-edge and per-node formulas (attraction, gravity, overlap repulsion, swinging and traction,
local speed, Morton bits, adaptive speed) are the CPU kernels' own, from
:mod:`alchemist.layout._laws` and :mod:`alchemist.layout.speed`, compiled as device functions.
"""

from __future__ import annotations

import math

import numpy as np
from numba import cuda

from alchemist.layout._laws import (
    attraction, gravity_factor, local_speed, overlap_repulsion, spread_bits, swing_traction,
)
from alchemist.layout.speed import adapt_speed

__all__ = ["run", "DeviceLayout"]

_THREADS = 128
_STACK = 96
_MAX_Q = (1 << 31) - 1

# the laws shared with the CPU kernels (alchemist.layout._laws), compiled as device functions
_adapt_speed_device = cuda.jit(device=True)(adapt_speed)
_attraction = cuda.jit(device=True)(attraction)
_gravity_factor = cuda.jit(device=True)(gravity_factor)
_local_speed = cuda.jit(device=True)(local_speed)
_overlap_repulsion = cuda.jit(device=True)(overlap_repulsion)
_spread = cuda.jit(device=True)(spread_bits)
_swing_traction = cuda.jit(device=True)(swing_traction)


def run(g, weights, mass, sizes, fixed, pos, iterations, p, callback, forces):
    """Run ForceAtlas2 on the GPU (CuPy arrays); returns ``(n_nodes, 2) float32`` NumPy positions."""
    import cupy

    layout = DeviceLayout(cupy, g, weights, mass, sizes, fixed, pos, p, view=_numba_view)
    for it in range(iterations):
        layout.step(forces)
        if callback is not None:
            callback(it, layout.pos.copy())
    return cupy.asnumpy(layout.pos)


def _numba_view(array):
    return cuda.as_cuda_array(array, sync=False)


class DeviceLayout:
    """Device state of one ForceAtlas2 run and its iteration ``step``.

    ``xp`` is CuPy on a GPU or NumPy under the CUDA simulator (``view`` is then the identity).
    """

    def __init__(self, xp, g, weights, mass, sizes, fixed, pos, p, view=lambda a: a):
        n = g.n_nodes
        self.xp, self.n, self.p = xp, n, p
        f32 = np.float32
        self.pos = xp.asarray(pos, dtype=f32)
        self.mass = xp.asarray(mass, dtype=f32)
        self.size = xp.asarray(sizes, dtype=f32)
        self.fixed = xp.asarray(fixed.astype(np.int8))
        self.src = xp.asarray(g.src.astype(np.int32))
        self.dst = xp.asarray(g.dst.astype(np.int32))
        w = weights[g.indptr[g.src] + _position_in_row(g)] if g.src.size else np.zeros(0)
        self.w = xp.asarray(w.astype(f32))
        self.force = xp.zeros((n, 2), dtype=f32)
        self.old_force = xp.zeros((n, 2), dtype=f32)
        self.extra = xp.zeros((n, 2), dtype=f32)
        self.codes = xp.zeros(n, dtype=np.int64)
        self.scodes = xp.zeros(n, dtype=np.int64)  # codes in sorted order
        self.order = xp.zeros(n, dtype=np.int64)
        self.pts = xp.zeros((n, 4), dtype=f32)  # sorted x, y, mass, size
        m = max(2 * n - 1, 1)
        self.child = xp.zeros((max(n - 1, 1), 2), dtype=np.int32)
        self.parent = xp.full(m, -1, dtype=np.int32)
        self.span = xp.zeros((m, 2), dtype=np.int32)  # first and last leaf under the node
        self.node = xp.zeros((m, 4), dtype=f32)  # mass, com x, com y, radius
        self.flags = xp.zeros(m, dtype=np.int32)
        self.bbox = xp.zeros(4, dtype=f32)
        self.bbox_init = xp.asarray(np.array([np.inf, np.inf, -np.inf, -np.inf], dtype=f32))
        self.sums = xp.zeros(2, dtype=np.float64)
        self.state = xp.asarray(np.array([1.0, 1.0, float(int((~fixed).sum()))]))  # speed, efficiency, n free
        self.view = view
        self._v = {k: view(getattr(self, k)) for k in (
            "pos", "mass", "size", "fixed", "src", "dst", "w", "force", "old_force", "extra", "codes", "scodes",
            "order", "pts", "child", "parent", "span", "node", "flags", "bbox", "sums", "state")}

    def build_tree(self):
        """Morton sort and radix tree of the current positions, with masses, centres and radii."""
        xp, n, v = self.xp, self.n, self._v
        blocks = (n + _THREADS - 1) // _THREADS
        self.bbox[:] = self.bbox_init
        _k_bbox[blocks, _THREADS](v["pos"], v["bbox"])
        _k_morton[blocks, _THREADS](v["pos"], v["bbox"], v["codes"])
        self.order[:] = xp.argsort(self.codes)
        self.scodes[:] = self.codes[self.order]
        _k_gather[blocks, _THREADS](v["pos"], v["mass"], v["size"], v["order"], v["pts"])
        if n > 1:
            self.flags.fill(0)
            _k_radix_tree[(n - 1 + _THREADS - 1) // _THREADS, _THREADS](v["scodes"], v["child"], v["parent"], v["span"])
        _k_summarize[blocks, _THREADS](v["pts"], v["child"], v["parent"], v["node"], v["flags"])

    def step(self, forces=()):
        """One ForceAtlas2 iteration on the device."""
        xp, n, p, v = self.xp, self.n, self.p, self._v
        if n == 0:
            return
        self.force, self.old_force = self.old_force, self.force
        v["force"], v["old_force"] = v["old_force"], v["force"]
        blocks = (n + _THREADS - 1) // _THREADS
        self.build_tree()
        theta2 = np.float32(p["theta"] * p["theta"])
        _k_repulsion[blocks, _THREADS](
            v["pts"], v["order"], v["child"], v["span"], v["node"], theta2, np.float32(p["kr"]), p["overlap"], v["force"]
        )
        m = int(self.src.shape[0])
        if m:
            _k_attraction[(m + _THREADS - 1) // _THREADS, _THREADS](
                v["pos"], v["mass"], v["size"], v["src"], v["dst"], v["w"], np.float32(p["coef_att"]),
                p["dissuade"], p["lin_log"], p["overlap"], v["force"],
            )
        has_extra = bool(forces)
        if has_extra:
            total = xp.zeros((n, 2), dtype=np.float32)
            for f in forces:
                total += xp.asarray(f(self.pos.copy()), dtype=np.float32)
            self.extra[:] = total
        _k_gravity_swing[blocks, _THREADS](
            v["pos"], v["mass"], v["fixed"], np.float32(p["kr"]), np.float32(p["gravity"]), p["strong"],
            has_extra, v["extra"], v["force"], v["old_force"], v["sums"],
        )
        _k_speed[1, 1](v["sums"], v["state"], np.float64(p["jitter"]))
        _k_apply[blocks, _THREADS](v["pos"], v["mass"], v["size"], v["fixed"], v["force"], v["old_force"], v["state"], p["overlap"])


def _position_in_row(g):
    """For each merged edge (src < dst), its offset inside CSR row ``src`` (to read its weight)."""
    rows = np.repeat(np.arange(g.n_nodes), np.diff(g.indptr))
    key_csr = rows.astype(np.int64) * g.n_nodes + g.indices
    key_edge = g.src * g.n_nodes + g.dst
    at = np.searchsorted(key_csr, key_edge)
    return at - g.indptr[g.src]


# --------------------------------------------------------------------------- kernels
@cuda.jit(device=True)
def _clz64(x):
    """Leading zeros of a non-negative int64 (portable: the simulator's clz is 32-bit)."""
    bits = 0
    if x >> 32:
        bits += 32
        x >>= 32
    if x >> 16:
        bits += 16
        x >>= 16
    if x >> 8:
        bits += 8
        x >>= 8
    if x >> 4:
        bits += 4
        x >>= 4
    if x >> 2:
        bits += 2
        x >>= 2
    if x >> 1:
        bits += 1
        x >>= 1
    return 64 - (bits + x)


@cuda.jit(device=True)
def _delta(codes, n, i, j):
    """Length of the common prefix of sorted keys i and j (-1 outside); ties use the index."""
    if j < 0 or j >= n:
        return -1
    a = codes[i]
    b = codes[j]
    if a == b:
        return 64 + _clz64(i ^ j)
    return _clz64(a ^ b)


@cuda.jit
def _k_bbox(pos, bbox):
    i = cuda.grid(1)
    if i < pos.shape[0]:
        cuda.atomic.min(bbox, 0, pos[i, 0])
        cuda.atomic.min(bbox, 1, pos[i, 1])
        cuda.atomic.max(bbox, 2, pos[i, 0])
        cuda.atomic.max(bbox, 3, pos[i, 1])


@cuda.jit
def _k_morton(pos, bbox, codes):
    i = cuda.grid(1)
    if i < pos.shape[0]:
        side = max(bbox[2] - bbox[0], bbox[3] - bbox[1])
        scale = _MAX_Q / np.float64(side) if side > 0 else 0.0
        qx = min(np.int64((pos[i, 0] - bbox[0]) * scale), _MAX_Q)
        qy = min(np.int64((pos[i, 1] - bbox[1]) * scale), _MAX_Q)
        codes[i] = _spread(qx) | (_spread(qy) << 1)


@cuda.jit
def _k_gather(pos, mass, size, order, pts):
    k = cuda.grid(1)
    if k < order.shape[0]:
        i = order[k]
        pts[k, 0] = pos[i, 0]
        pts[k, 1] = pos[i, 1]
        pts[k, 2] = mass[i]
        pts[k, 3] = size[i]


@cuda.jit
def _k_radix_tree(codes, child, parent, span):
    """Karras (2012) binary radix tree over sorted ``codes``: internal nodes 0..n-2, leaf k is n-1+k."""
    i = cuda.grid(1)
    n = codes.shape[0]
    if i >= n - 1:
        return
    d = 1 if _delta(codes, n, i, i + 1) - _delta(codes, n, i, i - 1) > 0 else -1
    dmin = _delta(codes, n, i, i - d)
    lmax = 2
    while _delta(codes, n, i, i + lmax * d) > dmin:
        lmax *= 2
    length = 0
    t = lmax // 2
    while t >= 1:
        if _delta(codes, n, i, i + (length + t) * d) > dmin:
            length += t
        t //= 2
    j = i + length * d
    dnode = _delta(codes, n, i, j)
    s = 0
    t = length
    while True:
        t = (t + 1) >> 1
        if _delta(codes, n, i, i + (s + t) * d) > dnode:
            s += t
        if t <= 1:
            break
    gamma = i + s * d + min(d, 0)
    lo = min(i, j)
    hi = max(i, j)
    left = gamma + (n - 1) if lo == gamma else gamma
    right = gamma + 1 + (n - 1) if hi == gamma + 1 else gamma + 1
    child[i, 0] = left
    child[i, 1] = right
    parent[left] = i
    parent[right] = i
    span[i, 0] = lo
    span[i, 1] = hi
    if i == 0:
        parent[0] = -1


@cuda.jit
def _k_summarize(pts, child, parent, node, flags):
    """Leaves up: mass, centre of mass and radius; the second child to arrive fills the parent."""
    k = cuda.grid(1)
    n = pts.shape[0]
    if k >= n:
        return
    c = n - 1 + k
    node[c, 0] = pts[k, 2]
    node[c, 1] = pts[k, 0]
    node[c, 2] = pts[k, 1]
    node[c, 3] = 0.0
    if n == 1:
        return
    q = parent[c]
    while q >= 0:
        cuda.threadfence()
        if cuda.atomic.add(flags, q, 1) == 0:
            return  # the sibling is not done yet; its thread continues
        a = child[q, 0]
        b = child[q, 1]
        ma = cuda.atomic.add(node, (a, 0), 0.0)
        mb = cuda.atomic.add(node, (b, 0), 0.0)
        ax = cuda.atomic.add(node, (a, 1), 0.0)
        ay = cuda.atomic.add(node, (a, 2), 0.0)
        bx = cuda.atomic.add(node, (b, 1), 0.0)
        by = cuda.atomic.add(node, (b, 2), 0.0)
        ra = cuda.atomic.add(node, (a, 3), 0.0)
        rb = cuda.atomic.add(node, (b, 3), 0.0)
        m = ma + mb
        cx = (ma * ax + mb * bx) / m
        cy = (ma * ay + mb * by) / m
        r = max(math.sqrt((ax - cx) * (ax - cx) + (ay - cy) * (ay - cy)) + ra,
                math.sqrt((bx - cx) * (bx - cx) + (by - cy) * (by - cy)) + rb)
        node[q, 0] = m
        node[q, 1] = cx
        node[q, 2] = cy
        node[q, 3] = r
        q = parent[q]


@cuda.jit
def _k_repulsion(pts, order, child, span, node, theta2, kr, overlap, force):
    """Barnes–Hut repulsion on point k (Morton rank), written to ``force[order[k]]``."""
    k = cuda.grid(1)
    n = pts.shape[0]
    if k >= n:
        return
    stack = cuda.local.array(_STACK, np.int32)
    xi = pts[k, 0]
    yi = pts[k, 1]
    mi = pts[k, 2]
    si = pts[k, 3]
    fx = np.float32(0.0)
    fy = np.float32(0.0)
    top = 1
    stack[0] = 0
    while top > 0:
        top -= 1
        c = stack[top]
        if c >= n - 1:  # a leaf: exact pair force
            q = c - (n - 1)
            if q == k:
                continue
            dx = xi - pts[q, 0]
            dy = yi - pts[q, 1]
            d2 = dx * dx + dy * dy
            if d2 > 0:
                if overlap:
                    f = kr * mi * _overlap_repulsion(math.sqrt(d2) - si - pts[q, 3], pts[q, 2])
                else:
                    f = kr * mi * pts[q, 2] / d2
                fx += dx * f
                fy += dy * f
            continue
        dx = xi - node[c, 1]
        dy = yi - node[c, 2]
        d2 = dx * dx + dy * dy
        diam = 2.0 * node[c, 3]
        inside = span[c, 0] <= k and k <= span[c, 1]
        if not inside and d2 * theta2 > diam * diam:
            if overlap:
                f = kr * mi * _overlap_repulsion(math.sqrt(d2) - si, node[c, 0])
            else:
                f = kr * mi * node[c, 0] / d2
            fx += dx * f
            fy += dy * f
        elif top + 2 <= _STACK:
            stack[top] = child[c, 1]
            stack[top + 1] = child[c, 0]
            top += 2
    i = order[k]
    force[i, 0] = fx
    force[i, 1] = fy


@cuda.jit
def _k_attraction(pos, mass, size, src, dst, w, coef, dissuade, lin_log, overlap, force):
    """Attraction along each merged edge (src < dst), added to both ends with atomics."""
    e = cuda.grid(1)
    if e >= src.shape[0]:
        return
    a = src[e]
    b = dst[e]
    fx, fy = _attraction(pos[a, 0] - pos[b, 0], pos[a, 1] - pos[b, 1], w[e], coef, mass[a], size[a], size[b],
                         dissuade, lin_log, overlap, 0.0, 0.0)
    cuda.atomic.add(force, (a, 0), fx)
    cuda.atomic.add(force, (a, 1), fy)
    cuda.atomic.add(force, (b, 0), -fx)
    cuda.atomic.add(force, (b, 1), -fy)


@cuda.jit
def _k_gravity_swing(pos, mass, fixed, kr, gravity, strong, has_extra, extra, force, old_force, sums):
    i = cuda.grid(1)
    if i >= pos.shape[0]:
        return
    x = pos[i, 0]
    y = pos[i, 1]
    m = mass[i]
    fx = force[i, 0]
    fy = force[i, 1]
    f = _gravity_factor(x, y, m, kr, gravity, strong)
    fx -= x * f
    fy -= y * f
    if has_extra:
        fx += extra[i, 0]
        fy += extra[i, 1]
    force[i, 0] = fx
    force[i, 1] = fy
    if fixed[i] == 0:
        sw, tr = _swing_traction(np.float64(m), np.float64(old_force[i, 0]), np.float64(old_force[i, 1]),
                                 np.float64(fx), np.float64(fy))
        cuda.atomic.add(sums, 0, sw)
        cuda.atomic.add(sums, 1, tr)


@cuda.jit
def _k_speed(sums, state, jitter):
    """Global speed update on the device (one thread); resets the sums for the next iteration."""
    if cuda.grid(1) == 0:
        speed, efficiency = _adapt_speed_device(sums[0], sums[1], state[2], state[0], state[1], jitter)
        state[0] = speed
        state[1] = efficiency
        sums[0] = 0.0
        sums[1] = 0.0


@cuda.jit
def _k_apply(pos, mass, size, fixed, force, old_force, state, overlap):
    i = cuda.grid(1)
    if i >= pos.shape[0] or fixed[i] != 0:
        return
    factor = _local_speed(state[0], mass[i], old_force[i, 0] - force[i, 0], old_force[i, 1] - force[i, 1], size[i],
                          overlap)
    pos[i, 0] += np.float32(force[i, 0] * factor)
    pos[i, 1] += np.float32(force[i, 1] * factor)
