"""Compiled helpers shared by the two-player solvers: Tucker's pivot and the regret check.

A condensed tableau of a system ``s + M z = 1`` keeps one row per basic variable and one column
per non-basic variable plus the right-hand side (last column). A pivot exchanges the basic
variable of row ``r`` with the non-basic variable of column ``c`` (Tucker's pivot).

References
----------
A. W. Tucker, "A combinatorial equivalence of matrices", in *Combinatorial Analysis*, Proc. Symp.
Appl. Math. 10 (1960) 129–140. V. Chvátal, *Linear Programming* (1983), ch. 8 (dictionaries).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__: list = []


@njit(cache=True)
def tucker_pivot(T, r, c, prow):
    """Pivot the condensed tableau ``T`` (float64, ``rows × width``) in place on ``(r, c)``.

    ``prow`` is scratch of length >= ``width``: the pivot row is copied there so that the row
    updates are alias-free contiguous loops that LLVM vectorizes.
    """
    rows, width = T.shape
    inv = 1.0 / T[r, c]
    Tr = T[r]
    for j in range(width):
        Tr[j] *= inv
    Tr[c] = inv
    for j in range(width):
        prow[j] = Tr[j]
    for i in range(rows):
        if i == r:
            continue
        Ti = T[i]
        f = Ti[c]
        if f == 0.0:
            continue
        Ti[c] = 0.0
        for j in range(width):
            Ti[j] -= f * prow[j]


@njit(cache=True)
def bimatrix_regret(A, B, x, y):
    """Largest gain of a pure deviation from ``(x, y)`` (shift-invariant: ``x``, ``y`` sum to 1)."""
    m, n = A.shape
    best_r = -np.inf
    value_r = 0.0
    for i in range(m):
        s = 0.0
        for j in range(n):
            s += A[i, j] * y[j]
        value_r += x[i] * s
        if s > best_r:
            best_r = s
    cols = np.zeros(n)
    for i in range(m):
        xi = x[i]
        if xi != 0.0:
            for j in range(n):
                cols[j] += xi * B[i, j]
    best_c = -np.inf
    value_c = 0.0
    for j in range(n):
        value_c += cols[j] * y[j]
        if cols[j] > best_c:
            best_c = cols[j]
    return max(best_r - value_r, best_c - value_c)
