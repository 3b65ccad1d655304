"""Numba CUDA kernels of alchemist.games (exact semivalues over bitmasks, Pareto skyline).

Each kernel has a host wrapper that accepts NumPy or CuPy arrays. Under Numba's CUDA simulator
(``NUMBA_ENABLE_CUDASIM=1``) the same wrappers run on NumPy arrays, which is how the kernel
logic is tested without a GPU.
"""

from __future__ import annotations

import math

import numpy as np
from numba import cuda, float64

__all__ = ["semivalue_gpu", "skyline_gpu"]

_THREADS = 256
_MAX_N = 32


def semivalue_gpu(v, n: int, weights) -> np.ndarray:
    """``phi_i = sum_{S not containing i} weights[|S|] (v[S | 1<<i] - v[S])`` on the GPU.

    Parameters
    ----------
    v : array, shape ``(2**n,)`` float64 (NumPy or CuPy)
    n : int, at most 32
    weights : array, shape ``(n,)`` float64

    Returns
    -------
    ndarray, shape ``(n,)``, float64 (on the host)
    """
    d_v = cuda.to_device(np.ascontiguousarray(v, dtype=np.float64)) if isinstance(v, np.ndarray) else cuda.as_cuda_array(v)
    d_w = cuda.to_device(np.ascontiguousarray(weights, dtype=np.float64))
    d_out = cuda.to_device(np.zeros(n))
    size = 1 << n
    blocks = max(1, min(4096, math.ceil(size / _THREADS / 8)))
    _semivalue_cuda[blocks, _THREADS](d_v, n, d_w, d_out)
    return d_out.copy_to_host()


def skyline_gpu(points) -> np.ndarray:
    """Boolean mask ``(k,)`` of the points not dominated by any other (maximization), on the GPU.

    Parameters
    ----------
    points : array, shape ``(k, d)`` float64 (NumPy or CuPy)
    """
    if isinstance(points, np.ndarray):
        d_p = cuda.to_device(np.ascontiguousarray(points, dtype=np.float64))
    else:
        d_p = cuda.as_cuda_array(points)
    k = points.shape[0]
    d_mask = cuda.device_array(k, dtype=np.bool_)
    blocks = max(1, math.ceil(k / _THREADS))
    _skyline_cuda[blocks, _THREADS](d_p, d_mask)
    return d_mask.copy_to_host()


@cuda.jit
def _semivalue_cuda(v, n, weights, out):
    """Grid-stride loop over coalitions; per-thread partial sums, then one atomic add per player."""
    local = cuda.local.array(_MAX_N, float64)
    for i in range(n):
        local[i] = 0.0
    size = 1 << n
    S = cuda.grid(1)
    stride = cuda.gridsize(1)
    while S < size:
        vs = v[S]
        w = weights[cuda.popc(S)] if cuda.popc(S) < n else 0.0
        for i in range(n):
            bit = 1 << i
            if (S & bit) == 0:
                local[i] += w * (v[S | bit] - vs)
        S += stride
    for i in range(n):
        cuda.atomic.add(out, i, local[i])


@cuda.jit
def _skyline_cuda(points, mask):
    """One thread per point: dominated iff some other point is >= everywhere and > somewhere."""
    i = cuda.grid(1)
    k, d = points.shape
    if i >= k:
        return
    keep = True
    for j in range(k):
        if j == i:
            continue
        geq = True
        gt = False
        for c in range(d):
            a = points[j, c]
            b = points[i, c]
            if a < b:
                geq = False
                break
            if a > b:
                gt = True
        if geq and gt:
            keep = False
            break
    mask[i] = keep
