"""Support enumeration for two-player games.

For every pair of supports ``(I, J)`` of equal size ``k``, solve the indifference equations
``A[I, J] y_J = v 1``, ``sum y = 1`` and ``x_I^T B[I, J] = u 1^T``, ``sum x = 1``; keep the pair if
both strategies are positive on their supports and every action outside the support earns no
more than ``v`` (resp. ``u``). In a nondegenerate game every equilibrium has supports of equal
size and is found this way.

The kernel solves the ``(k+1) × (k+1)`` systems by Gaussian elimination with partial pivoting in
place (no LAPACK call per pair) and skips the column player's system when the row player's fails.

References
----------
B. von Stengel, ch. 3 of Nisan et al., *Algorithmic Game Theory* (2007), §3.3 (Algorithm 3.4).
Shoham & Leyton-Brown, *Multiagent Systems* (2009), §4.2.
"""

from __future__ import annotations

import warnings

import numpy as np
from numba import njit

from alchemist.errors import DegenerateGameWarning
from alchemist.games._bimatrix import bimatrix_regret
from alchemist.games._base import DEFAULT_TOL, as_game, normalized_game

__all__ = ["support_enumeration"]


def support_enumeration(game, tol: float = 1e-10, warn_degenerate: bool = True) -> list:
    """All equilibria of a nondegenerate two-player game, by enumerating supports of equal size.

    Parameters
    ----------
    game : NormalFormGame or (A, B)
        Two-player game with ``A``, ``B`` of shape ``(m, n)``.
    tol : float
        Tolerance of the positivity and best-response checks, relative to each player's payoff
        range (the game is normalised first, :func:`~alchemist.games._base.normalized_game`, so
        ``a * A + b`` gives the same equilibria as ``A`` for every ``a > 0``).
    warn_degenerate : bool
        Warn (:class:`~alchemist.errors.DegenerateGameWarning`) when the enumeration meets signs of
        degeneracy (an equilibrium with more pure best responses than its support size): equilibria with supports of unequal size, and continua, are then
        not (all) found — use :func:`vertex_enumeration`.

    Returns
    -------
    list of (x, y)
        Equilibria as float64 probability vectors of shapes ``(m,)`` and ``(n,)``, ordered by
        support size, then lexicographically by support. Each passes :func:`is_nash`.

    Raises
    ------
    InvalidGameError
        ``game`` is not a two-player game with finite payoffs.

    Warns
    -----
    DegenerateGameWarning
        Signs of degeneracy met (with ``warn_degenerate``).

    References
    ----------
    von Stengel, B. (2007). "Equilibrium computation for two-player games in strategic and
    extensive form", in Nisan et al. (eds.), *Algorithmic Game Theory*, ch. 3, §3.3 (support
    enumeration, Algorithm 3.4).

    Examples
    --------
    >>> from alchemist.games import NormalFormGame
    >>> bos = NormalFormGame([[3, 0], [0, 2]], [[2, 0], [0, 3]])
    >>> [tuple(s.round(2).tolist()) for eq in support_enumeration(bos) for s in eq]
    [(1.0, 0.0), (1.0, 0.0), (0.0, 1.0), (0.0, 1.0), (0.6, 0.4), (0.4, 0.6)]
    """
    game = as_game(game, 2)
    A, B = normalized_game(game).payoffs  # payoffs in [0, 1]: tolerances relative to the payoff scale
    xs, ys, degenerate = _support_enumeration_kernel(
        np.ascontiguousarray(A), np.ascontiguousarray(B.T), tol, tol
    )
    # every candidate verified by the compiled best-response check (as is_nash)
    tol_nash = max(DEFAULT_TOL, tol)
    out = [(xs[i], ys[i]) for i in range(xs.shape[0]) if bimatrix_regret(A, B, xs[i], ys[i]) <= tol_nash]
    if degenerate and warn_degenerate:
        warnings.warn(
            "the game is degenerate: support enumeration over supports of equal size may miss "
            "equilibria (unequal supports, continua); use vertex_enumeration for all extreme equilibria",
            DegenerateGameWarning,
            stacklevel=2,
        )
    return out


# ---------------------------------------------------------------------------- kernels
@njit(cache=True)
def _next_combination(c, n):
    """Advance the sorted index array ``c`` to the next k-subset of ``range(n)``; False at end."""
    k = c.shape[0]
    i = k - 1
    while i >= 0 and c[i] == n - k + i:
        i -= 1
    if i < 0:
        return False
    c[i] += 1
    for j in range(i + 1, k):
        c[j] = c[j - 1] + 1
    return True


@njit(cache=True)
def _indifferent_strategy(M, rows, cols, k, work, out, tol_pos):
    """Solve ``M[rows, cols] z = v 1, sum z = 1`` for ``z`` (length k) and ``v``.

    Returns 1 on success with ``z > tol_pos``, 0 if some ``z <= tol_pos``, -1 if singular.
    ``work`` is a scratch ``(k+1, k+2)`` block of a larger buffer; ``out[:k+1]`` gets ``(z, v)``.
    """
    K = k + 1
    for a in range(k):
        for b in range(k):
            work[a, b] = M[rows[a], cols[b]]
        work[a, k] = -1.0
        work[a, K] = 0.0
    for b in range(k):
        work[k, b] = 1.0
    work[k, k] = 0.0
    work[k, K] = 1.0
    # Gaussian elimination with partial pivoting on the augmented matrix
    for col in range(K):
        piv = col
        best = abs(work[col, col])
        for r in range(col + 1, K):
            v = abs(work[r, col])
            if v > best:
                best = v
                piv = r
        if best < 1e-12:
            return -1
        if piv != col:
            for b in range(col, K + 1):
                t = work[col, b]
                work[col, b] = work[piv, b]
                work[piv, b] = t
        inv = 1.0 / work[col, col]
        for r in range(col + 1, K):
            f = work[r, col] * inv
            if f != 0.0:
                for b in range(col, K + 1):
                    work[r, b] -= f * work[col, b]
    for r in range(K - 1, -1, -1):
        s = work[r, K]
        for b in range(r + 1, K):
            s -= work[r, b] * out[b]
        out[r] = s / work[r, r]
    for a in range(k):
        if out[a] <= tol_pos:
            return 0
    return 1


@njit(cache=True)
def _is_best_response(M, cols, k, z, value, tol):
    """Every row of ``M`` earns at most ``value + tol`` against ``z`` on ``cols``."""
    for r in range(M.shape[0]):
        s = 0.0
        for b in range(k):
            s += M[r, cols[b]] * z[b]
        if s > value + tol:
            return False
    return True


@njit(cache=True)
def _count_best_responses(M, cols, k, z, value, tol):
    count = 0
    for r in range(M.shape[0]):
        s = 0.0
        for b in range(k):
            s += M[r, cols[b]] * z[b]
        if s >= value - tol:
            count += 1
    return count


@njit(cache=True)
def _support_enumeration_kernel(A, BT, tol_pos, tol_br):
    """Equal-size support enumeration; ``A`` is (m, n), ``BT`` is B transposed (n, m)."""
    m, n = A.shape
    kmax = min(m, n)
    cap = 8
    xs = np.zeros((cap, m))
    ys = np.zeros((cap, n))
    count = 0
    degenerate = False
    work = np.empty((kmax + 1, kmax + 2))
    zy = np.empty(kmax + 1)
    zx = np.empty(kmax + 1)
    for k in range(1, kmax + 1):
        I = np.arange(k)
        while True:
            J = np.arange(k)
            while True:
                sy = _indifferent_strategy(A, I, J, k, work, zy, tol_pos)
                if sy == 1 and _is_best_response(A, J, k, zy, zy[k], tol_br):
                    sx = _indifferent_strategy(BT, J, I, k, work, zx, tol_pos)
                    if sx == 1 and _is_best_response(BT, I, k, zx, zx[k], tol_br):
                        if count == cap:
                            cap *= 2
                            xs2 = np.zeros((cap, m))
                            ys2 = np.zeros((cap, n))
                            xs2[:count] = xs[:count]
                            ys2[:count] = ys[:count]
                            xs = xs2
                            ys = ys2
                        for a in range(k):
                            xs[count, I[a]] = zx[a]
                            ys[count, J[a]] = zy[a]
                        count += 1
                        if _count_best_responses(A, J, k, zy, zy[k], tol_br) > k or \
                                _count_best_responses(BT, I, k, zx, zx[k], tol_br) > k:
                            degenerate = True
                if not _next_combination(J, n):
                    break
            if not _next_combination(I, m):
                break
    return xs[:count].copy(), ys[:count].copy(), degenerate
