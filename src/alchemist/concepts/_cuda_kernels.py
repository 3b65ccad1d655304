"""numba.cuda kernels of :mod:`alchemist.concepts.categorize` (imported on first GPU use).

One thread per point. ``nearest`` stages prototypes through shared memory in tiles of 64;
all kernels compute the combined metric of :class:`~alchemist.concepts.ConceptualSpace`
(weighted Euclidean within domains, weighted Manhattan across them, circular wrap-around,
categorical 0/1; per dimension :mod:`alchemist.concepts._dimension`, shared with the CPU kernels).
At most 32 dimensions and 16 domains.
"""

from __future__ import annotations

import math

import numpy as np
from numba import cuda

from alchemist.concepts._dimension import difference, interval_gap

__all__ = ["nearest", "distances", "membership"]


_TILE = 64
_MAX_DIMS = 32
_MAX_DOMAINS = 16


# the per-dimension distances of the CPU kernels (alchemist.concepts._dimension), as device functions
diff = cuda.jit(device=True)(difference)
gap = cuda.jit(device=True)(interval_gap)


@cuda.jit
def nearest(x, p, dim_w, dom_w, dom_of, period, categorical, labels):
    i = cuda.blockIdx.x * cuda.blockDim.x + cuda.threadIdx.x
    tid = cuda.threadIdx.x
    n = x.shape[0]
    d = x.shape[1]
    k = p.shape[0]
    n_dom = dom_w.shape[0]
    sp = cuda.shared.array(shape=(_TILE, _MAX_DIMS), dtype=np.float32)
    xi = cuda.local.array(_MAX_DIMS, dtype=np.float32)
    inner = cuda.local.array(_MAX_DOMAINS, dtype=np.float32)
    if i < n:
        for j in range(d):
            xi[j] = x[i, j]
    best = np.float32(np.inf)
    arg = 0
    for base in range(0, k, _TILE):
        cuda.syncthreads()
        m = tid
        while m < _TILE:
            if base + m < k:
                for j in range(d):
                    sp[m, j] = p[base + m, j]
            m += cuda.blockDim.x
        cuda.syncthreads()
        if i < n:
            for mm in range(min(_TILE, k - base)):
                for q in range(n_dom):
                    inner[q] = 0.0
                for j in range(d):
                    if dim_w[j] > 0:
                        t = diff(xi[j], sp[mm, j], period[j], categorical[j])
                        inner[dom_of[j]] += dim_w[j] * t * t
                s = np.float32(0.0)
                for q in range(n_dom):
                    s += dom_w[q] * math.sqrt(inner[q])
                if s < best:
                    best = s
                    arg = base + mm
    if i < n:
        labels[i] = arg


@cuda.jit
def distances(x, p, dim_w, dom_w, dom_of, period, categorical, out):
    i = cuda.blockIdx.x * cuda.blockDim.x + cuda.threadIdx.x
    if i >= x.shape[0]:
        return
    inner = cuda.local.array(_MAX_DOMAINS, dtype=np.float32)
    for m in range(p.shape[0]):
        for q in range(dom_w.shape[0]):
            inner[q] = 0.0
        for j in range(x.shape[1]):
            if dim_w[j] > 0:
                t = diff(x[i, j], p[m, j], period[j], categorical[j])
                inner[dom_of[j]] += dim_w[j] * t * t
        s = 0.0
        for q in range(dom_w.shape[0]):
            s += dom_w[q] * math.sqrt(inner[q])
        out[i, m] = s


@cuda.jit
def membership(x, lo, hi, offsets, dim_w, dom_w, dom_of, period, categorical, mu, c, out):
    i = cuda.blockIdx.x * cuda.blockDim.x + cuda.threadIdx.x
    if i >= x.shape[0]:
        return
    inner = cuda.local.array(_MAX_DOMAINS, dtype=np.float64)
    for qc in range(mu.shape[0]):
        best = np.inf
        for cub in range(offsets[qc], offsets[qc + 1]):
            for q in range(dom_w.shape[1]):
                inner[q] = 0.0
            for j in range(x.shape[1]):
                if dim_w[qc, j] > 0:
                    t = gap(x[i, j], lo[cub, j], hi[cub, j], period[j], categorical[j])
                    inner[dom_of[j]] += dim_w[qc, j] * t * t
            s = 0.0
            for q in range(dom_w.shape[1]):
                if dom_w[qc, q] > 0:
                    s += dom_w[qc, q] * math.sqrt(inner[q])
            best = min(best, s)
        out[i, qc] = mu[qc] * math.exp(-c[qc] * best)

