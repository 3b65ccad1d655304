"""Vertex enumeration of the best-response polytopes: all extreme equilibria of a bimatrix game.

With payoffs shifted to be positive, the best-response polytopes are
``P = {x in R^m : x >= 0, B^T x <= 1}`` and ``Q = {y in R^n : A y <= 1, y >= 0}``. A point of ``P``
has label ``i`` when ``x_i = 0`` and label ``m + j`` when ``(B^T x)_j = 1``; a point of ``Q`` has label
``i`` when ``(A y)_i = 1`` and ``m + j`` when ``y_j = 0``. The extreme equilibria of the game are the
completely labeled vertex pairs ``(x, y) != (0, 0)``, normalized. This holds for degenerate games
too (a degenerate vertex simply has more than ``m`` labels), so the method finds every extreme
point of every equilibrium component; the vertices come from Qhull's halfspace intersection and
their labels are recomputed with a tolerance — or exactly, with ``exact=True``.

References
----------
B. von Stengel, ch. 3 of Nisan et al., *Algorithmic Game Theory* (2007), §3.2 and Algorithm 3.5
(vertex enumeration), §3.6 (degenerate games). D. Avis, G. Rosenberg, R. Savani, B. von Stengel,
"Enumeration of Nash equilibria for two-player games", Economic Theory 42 (2010) 9–37.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from scipy.spatial import HalfspaceIntersection

from alchemist.errors import NoEquilibriumFoundError
from alchemist.games.normal_form import NormalFormGame, as_game, is_nash

__all__ = ["vertex_enumeration", "is_degenerate", "best_response_polytope_vertices"]

_LABEL_TOL = 1e-9


def vertex_enumeration(game, exact: bool = False) -> list:
    """All extreme Nash equilibria of a two-player game (degenerate games included).

    Parameters
    ----------
    game : NormalFormGame or (A, B)
        Two-player game, payoffs of shape ``(m, n)``.
    exact : bool
        Recompute every equilibrium in exact rational arithmetic from the constraints that are
        tight at its vertices (payoffs from :attr:`NormalFormGame.exact_payoffs`), verify it
        exactly, and return object arrays of :class:`fractions.Fraction`.

    Returns
    -------
    list of (x, y)
        The distinct extreme equilibria: ``x`` of shape ``(m,)``, ``y`` of shape ``(n,)``, float64
        (or Fraction objects when ``exact``), sorted lexicographically. Each passes :func:`is_nash`.

    Raises
    ------
    InvalidGameError
        If the game does not have two players.
    NoEquilibriumFoundError
        With ``exact=True``, if round-off made a vertex's tight constraints inconsistent.

    Examples
    --------
    A degenerate game: the column player is indifferent, so the equilibria form two segments
    (row 1 against ``y_1 >= 1/2``, row 2 against ``y_1 <= 1/2``) whose four extreme points are
    returned.

    >>> g = NormalFormGame([[1, 1], [0, 2]], [[1, 1], [1, 1]])
    >>> [tuple(map(float, np.round(v, 3))) for eq in vertex_enumeration(g) for v in eq]
    [(1.0, 0.0), (1.0, 0.0), (1.0, 0.0), (0.5, 0.5), (0.0, 1.0), (0.5, 0.5), (0.0, 1.0), (0.0, 1.0)]
    """
    game = as_game(game, 2)
    m, n = game.shape
    (VP, LP), (VQ, LQ) = best_response_polytope_vertices(game)
    # completely labeled pairs: no label missing from both
    missing = (~LP).astype(np.int32) @ (~LQ).astype(np.int32).T
    ip, iq = np.nonzero(missing == 0)
    out = []
    seen = set()
    for a, b in zip(ip, iq):
        x, y = VP[a], VQ[b]
        if x.sum() <= 0 or y.sum() <= 0:
            continue  # the artificial equilibrium (0, 0)
        if exact:
            eq = _exact_equilibrium(game, LP[a], LQ[b])
        else:
            eq = (x / x.sum(), y / y.sum())
        key = tuple(np.round(np.concatenate([np.asarray(eq[0], float), np.asarray(eq[1], float)]), 9))
        if key in seen:
            continue
        seen.add(key)
        out.append(eq)
    out.sort(key=lambda e: tuple(-float(v) for v in np.concatenate(e)))
    return out


def is_degenerate(game, method: str = "auto") -> bool:
    """Whether a two-player game is degenerate.

    A bimatrix game is nondegenerate when no mixed strategy with support of size ``k`` has more
    than ``k`` pure best responses (von Stengel 2007, Definition 3.2); equivalently, no vertex of
    ``P`` has more than ``m`` labels and no vertex of ``Q`` more than ``n`` (§3.6).

    Parameters
    ----------
    game : NormalFormGame or (A, B)
    method : {"auto", "pure", "vertices"}
        ``"pure"`` checks only pure strategies (a sufficient condition: some pure strategy has
        two best responses); ``"vertices"`` is the complete check by vertex labels;
        ``"auto"`` does the pure check and then the complete one.

    Returns
    -------
    bool
    """
    game = as_game(game, 2)
    A, B = game.payoffs
    # pure check: a column with a tied maximum in A, or a row with a tied maximum in B
    if np.any((A == A.max(axis=0, keepdims=True)).sum(axis=0) > 1) or \
            np.any((B == B.max(axis=1, keepdims=True)).sum(axis=1) > 1):
        return True
    if method == "pure":
        return False
    m, n = game.shape
    (_, LP), (_, LQ) = best_response_polytope_vertices(game)
    return bool(np.any(LP.sum(axis=1) > m) or np.any(LQ.sum(axis=1) > n))


def best_response_polytope_vertices(game):
    """Vertices and labels of the best-response polytopes ``P`` and ``Q``.

    Returns
    -------
    ((VP, LP), (VQ, LQ))
        ``VP`` float64 ``(k_P, m)`` vertices of ``P`` and ``LP`` bool ``(k_P, m + n)`` their labels;
        likewise ``VQ`` ``(k_Q, n)`` and ``LQ`` ``(k_Q, m + n)``. Payoffs are shifted to be >= 1
        first, as the polytopes require.
    """
    game = as_game(game, 2)
    A, B = _positive(game)
    m, n = A.shape
    VP = _polytope_vertices(B.T)  # {x >= 0 : B^T x <= 1}
    VQ = _polytope_vertices(A)    # {y >= 0 : A y <= 1}
    tolP = _LABEL_TOL
    LP = np.concatenate([np.abs(VP) <= tolP, np.abs(VP @ B - 1.0) <= tolP], axis=1)
    LQ = np.concatenate([np.abs(VQ @ A.T - 1.0) <= tolP, np.abs(VQ) <= tolP], axis=1)
    return (VP, LP), (VQ, LQ)


# ---------------------------------------------------------------------------- helpers
def _positive(game: NormalFormGame):
    """Payoffs mapped affinely into [1, 2] (equilibria and vertex labels are invariant under
    positive affine maps of each player's payoffs; the fixed range keeps label tolerances
    meaningful whatever the payoff unit)."""
    return tuple((M - M.min()) / (np.ptp(M) or 1.0) + 1.0 for M in game.payoffs)


def _shift_exact(E):
    lo = min(E.flat)
    return E - lo + 1


def _polytope_vertices(M: np.ndarray) -> np.ndarray:
    """Vertices of ``{z >= 0 : M z <= 1}`` for a positive matrix ``M`` (``k × d``), deduplicated."""
    k, d = M.shape
    if d == 1:
        verts = np.array([[0.0], [1.0 / M[:, 0].max()]])
    else:
        halfspaces = np.concatenate(
            [np.concatenate([-np.eye(d), np.zeros((d, 1))], axis=1),
             np.concatenate([M, -np.ones((k, 1))], axis=1)],
            axis=0,
        )
        interior = np.full(d, 0.5 / M.sum(axis=1).max())
        verts = HalfspaceIntersection(halfspaces, interior).intersections
    verts[np.abs(verts) < 1e-13] = 0.0
    key = np.round(verts, 10)
    _, idx = np.unique(key, axis=0, return_index=True)
    return verts[np.sort(idx)]


def _exact_equilibrium(game: NormalFormGame, lp: np.ndarray, lq: np.ndarray):
    """Solve the tight constraints of a vertex pair exactly and verify the equilibrium."""
    m, n = game.shape
    EA, EB = (_shift_exact(E) for E in game.exact_payoffs)
    one, zero = Fraction(1), Fraction(0)
    # P: x_i = 0 for labels i < m; (B^T x)_j = 1 for labels m + j
    rows = [[one if c == i else zero for c in range(m)] + [zero] for i in range(m) if lp[i]]
    rows += [list(EB[:, j]) + [one] for j in range(n) if lp[m + j]]
    x = _solve_consistent(rows, m)
    rows = [list(EA[i, :]) + [one] for i in range(m) if lq[i]]
    rows += [[one if c == j else zero for c in range(n)] + [zero] for j in range(n) if lq[m + j]]
    y = _solve_consistent(rows, n)
    if x is None or y is None:
        raise NoEquilibriumFoundError("round-off made a vertex's tight constraints inconsistent in exact arithmetic")
    sx, sy = sum(x), sum(y)
    x = np.array([v / sx for v in x], dtype=object)
    y = np.array([v / sy for v in y], dtype=object)
    if not is_nash(game, (x, y), exact=True):
        raise NoEquilibriumFoundError("an equilibrium failed the exact check (labels misread by round-off)")
    return x, y


def _solve_consistent(rows: list, d: int):
    """Unique solution of the consistent system ``rows`` (augmented, Fractions), else None."""
    M = [list(r) for r in rows]
    piv_cols = []
    r = 0
    for c in range(d):
        p = next((i for i in range(r, len(M)) if M[i][c] != 0), None)
        if p is None:
            continue
        M[r], M[p] = M[p], M[r]
        inv = 1 / M[r][c]
        M[r] = [v * inv for v in M[r]]
        for i in range(len(M)):
            if i != r and M[i][c] != 0:
                f = M[i][c]
                M[i] = [a - f * b for a, b in zip(M[i], M[r])]
        piv_cols.append(c)
        r += 1
    if r < d or any(M[i][d] != 0 for i in range(r, len(M))):
        return None
    sol = [Fraction(0)] * d
    for i, c in enumerate(piv_cols):
        sol[c] = M[i][d]
    return sol
