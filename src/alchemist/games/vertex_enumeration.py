"""Vertex enumeration of the best-response polytopes: all extreme equilibria of a bimatrix game.

With payoffs shifted to be positive, the best-response polytopes are
``P = {x in R^m : x >= 0, B^T x <= 1}`` and ``Q = {y in R^n : A y <= 1, y >= 0}``. A point of ``P``
has label ``i`` when ``x_i = 0`` and label ``m + j`` when ``(B^T x)_j = 1``; a point of ``Q`` has label
``i`` when ``(A y)_i = 1`` and ``m + j`` when ``y_j = 0``. The extreme equilibria of the game are the
completely labeled vertex pairs ``(x, y) != (0, 0)``, normalized. This holds for degenerate games
too (a degenerate vertex simply has more than ``m`` labels), so the method finds every extreme
point of every equilibrium component. The vertices come from a compiled depth-first search over
the feasible bases of each polytope (every simplex pivot allowed by the minimum-ratio test,
all tied rows included, so that every basis of a degenerate vertex is reached); labels are
bitmasks recomputed from the original constraints with a tolerance — or exactly, with
``exact=True``. Completely labeled pairs are those whose masks cover all ``m + n`` labels.

References
----------
B. von Stengel, ch. 3 of Nisan et al., *Algorithmic Game Theory* (2007), §3.2 and Algorithm 3.5
(vertex enumeration), §3.6 (degenerate games). D. Avis and K. Fukuda, "A pivoting algorithm for
convex hulls and vertex enumeration of arrangements and polyhedra", Discrete Comput. Geom. 8
(1992) 295–313 (the graph of feasible bases is connected). D. Avis, G. Rosenberg, R. Savani, B. von Stengel,
"Enumeration of Nash equilibria for two-player games", Economic Theory 42 (2010) 9–37.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from numba import njit

from alchemist.errors import InvalidGameError, NoEquilibriumFoundError
from alchemist.games._bimatrix import tucker_pivot
from alchemist.games._base import NormalFormGame, as_game
from alchemist.games.normal_form import is_nash

__all__ = ["vertex_enumeration", "is_degenerate", "best_response_polytope_vertices"]

_LABEL_TOL = 1e-9
_TOL_PIV = 1e-11
_TOL_RATIO = 1e-11
_MAX_LABELS = 63


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
    (VP, MP), (VQ, MQ) = _vertices_and_masks(game)
    ip, iq = _completely_labeled_pairs(MP, MQ, (1 << (m + n)) - 1)
    if len(ip) == 0:
        return []
    X = VP[ip]
    Y = VQ[iq]
    X /= X.sum(axis=1, keepdims=True)
    Y /= Y.sum(axis=1, keepdims=True)
    # distinct vertices (distinct label masks) give distinct equilibria: no deduplication needed
    order = np.lexsort(-np.concatenate([X, Y], axis=1).T[::-1])  # lexicographically decreasing
    if not exact:
        return [(X[k], Y[k]) for k in order]
    LP, LQ = _mask_to_bool(MP, m + n), _mask_to_bool(MQ, m + n)
    out = [_exact_equilibrium(game, LP[ip[k]], LQ[iq[k]]) for k in order]
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

    Raises
    ------
    InvalidGameError
        ``game`` is not a two-player game with finite payoffs, or (complete check) ``m + n > 63``.

    Examples
    --------
    >>> from alchemist.games import NormalFormGame
    >>> is_degenerate(NormalFormGame([[3, 0], [0, 2]], [[2, 0], [0, 3]]))
    False
    >>> is_degenerate(NormalFormGame([[1, 1], [0, 0]], [[1, 1], [0, 0]]))   # column player indifferent
    True
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
    (_, MP), (_, MQ) = _vertices_and_masks(game)
    return bool(_popcount(MP).max() > m or _popcount(MQ).max() > n)


def best_response_polytope_vertices(game):
    """Vertices and labels of the best-response polytopes ``P`` and ``Q``.

    Parameters
    ----------
    game : NormalFormGame or (A, B)
        Two-player game with ``A``, ``B`` of shape ``(m, n)``.

    Returns
    -------
    ((VP, LP), (VQ, LQ))
        ``VP`` float64 ``(k_P, m)`` vertices of ``P`` and ``LP`` bool ``(k_P, m + n)`` their labels;
        likewise ``VQ`` ``(k_Q, n)`` and ``LQ`` ``(k_Q, m + n)``. Payoffs are mapped into [1, 2]
        first, as the polytopes require (this scales the vertices, not their labels). Vertices
        are in the order the search meets them, the origin first.

    Raises
    ------
    InvalidGameError
        If ``m + n > 63`` (labels are 63-bit masks; such games have far too many vertices to
        enumerate — use :func:`lemke_howson` or :func:`support_enumeration`).

    Examples
    --------
    >>> from alchemist.games import NormalFormGame
    >>> (VP, LP), (VQ, LQ) = best_response_polytope_vertices(NormalFormGame([[3, 0], [0, 2]], [[2, 0], [0, 3]]))
    >>> VP.shape, LP.shape, VQ.shape
    ((4, 2), (4, 4), (4, 2))
    """
    game = as_game(game, 2)
    m, n = game.shape
    (VP, MP), (VQ, MQ) = _vertices_and_masks(game)
    return (VP, _mask_to_bool(MP, m + n)), (VQ, _mask_to_bool(MQ, m + n))


# ---------------------------------------------------------------------------- helpers
def _vertices_and_masks(game: NormalFormGame):
    """Vertices of ``P`` and ``Q`` with their labels as int64 bitmasks."""
    m, n = game.shape
    if m + n > _MAX_LABELS:
        raise InvalidGameError(
            f"vertex enumeration supports games with m + n <= {_MAX_LABELS} actions in all; got a {m}×{n} "
            "game — use lemke_howson or support_enumeration"
        )
    A, B = _positive(game)
    P = _polytope_vertices(np.ascontiguousarray(B.T), 0, m)  # {x >= 0 : B^T x <= 1}
    Q = _polytope_vertices(A, m, 0)                         # {y >= 0 : A y <= 1}
    return P, Q


def _positive(game: NormalFormGame):
    """Payoffs mapped affinely into [1, 2] (equilibria and vertex labels are invariant under
    positive affine maps of each player's payoffs; the fixed range keeps label tolerances
    meaningful whatever the payoff unit)."""
    return tuple((M - M.min()) / (np.ptp(M) or 1.0) + 1.0 for M in game.payoffs)


def _mask_to_bool(masks: np.ndarray, n_labels: int) -> np.ndarray:
    return ((masks[:, None] >> np.arange(n_labels, dtype=np.int64)) & 1).astype(bool)


def _popcount(masks: np.ndarray) -> np.ndarray:
    return _mask_to_bool(masks, 63).sum(axis=1)


def _shift_exact(E):
    lo = min(E.flat)
    return E - lo + 1


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


# ---------------------------------------------------------------------------- kernels
@njit(cache=True)
def _polytope_vertices(M, var_label0, con_label0):
    """Vertices of ``{z >= 0 : M z <= 1}`` (``M`` positive, ``k × d``) and their label masks.

    Depth-first search over the feasible bases of the condensed tableau ``s + M z = 1``: from
    each basis, every non-basic variable may enter and every row that attains the minimum ratio
    (within ``_TOL_RATIO``) may leave, so all bases of a degenerate vertex are visited. Bases are
    keyed by the bitmask of their non-basic labels (variable ``z_t`` has label
    ``var_label0 + t``, slack ``s_r`` label ``con_label0 + r``). A vertex's labels are recomputed
    from ``M`` (``z_t <= tol``, ``|(M z)_r - 1| <= tol``) and deduplicate the vertices.

    Returns
    -------
    (V, masks) : float64 ``(n_vertices, d)`` and int64 ``(n_vertices,)``.
    """
    k, d = M.shape
    width = d + 1
    cap = 64
    stackT = np.empty((cap, k, width))
    stackB = np.empty((cap, k), np.int64)   # label of each row's basic variable
    stackN = np.empty((cap, d), np.int64)   # label of each column's non-basic variable
    stackK = np.empty(cap, np.int64)        # non-basic mask of each basis
    T0 = stackT[0]
    for r in range(k):
        for t in range(d):
            T0[r, t] = M[r, t]
        T0[r, d] = 1.0
        stackB[0, r] = con_label0 + r
    key0 = 0
    for t in range(d):
        stackN[0, t] = var_label0 + t
        key0 |= 1 << (var_label0 + t)
    stackK[0] = key0
    top = 1
    seen_bases = np.full(1024, -1, np.int64)  # open-addressing hash sets of masks (>= 0)
    n_bases = _set_add(seen_bases, key0)
    seen_vertices = np.full(1024, -1, np.int64)
    n_seen_vertices = 0
    vcap = 64
    V = np.empty((vcap, d))
    masks = np.empty(vcap, np.int64)
    nv = 0
    z = np.empty(d)
    prow = np.empty(width)
    rows = np.empty(k, np.int64)
    T = np.empty((k, width))
    basic = np.empty(k, np.int64)
    nonbasic = np.empty(d, np.int64)
    while top > 0:
        top -= 1
        _copy_state(stackT[top], stackB[top], stackN[top], T, basic, nonbasic)
        key = stackK[top]
        # the vertex of this basis and its labels from the original constraints
        z[:] = 0.0
        for r in range(k):
            t = basic[r] - var_label0
            if 0 <= t < d:
                z[t] = max(T[r, d], 0.0)
        mask = 0
        for t in range(d):
            if z[t] <= _LABEL_TOL:
                mask |= 1 << (var_label0 + t)
        for r in range(k):
            s = 0.0
            for t in range(d):
                s += M[r, t] * z[t]
            if abs(s - 1.0) <= _LABEL_TOL:
                mask |= 1 << (con_label0 + r)
        if 2 * (n_seen_vertices + 1) > seen_vertices.shape[0]:
            seen_vertices = _set_grow(seen_vertices)
        added = _set_add(seen_vertices, mask)
        n_seen_vertices += added
        if added:
            if nv == vcap:
                vcap *= 2
                V2 = np.empty((vcap, d))
                V2[:nv] = V[:nv]
                V = V2
                m2 = np.empty(vcap, np.int64)
                m2[:nv] = masks[:nv]
                masks = m2
            V[nv] = z
            masks[nv] = mask
            nv += 1
        # neighbouring feasible bases
        for c in range(d):
            best = np.inf
            n_rows = 0
            for r in range(k):
                a = T[r, c]
                if a <= _TOL_PIV:
                    continue
                ratio = T[r, d] / a
                if ratio > best + _TOL_RATIO:
                    continue
                if ratio < best - _TOL_RATIO:
                    best = ratio
                    n_rows = 0
                rows[n_rows] = r
                n_rows += 1
            entering = nonbasic[c]
            for q in range(n_rows):
                r = rows[q]
                leaving = basic[r]
                nkey = (key & ~(1 << entering)) | (1 << leaving)
                if 2 * (n_bases + 1) > seen_bases.shape[0]:
                    seen_bases = _set_grow(seen_bases)
                if not _set_add(seen_bases, nkey):
                    continue
                n_bases += 1
                if top == cap:
                    cap *= 2
                    T2 = np.empty((cap, k, width))
                    T2[:top] = stackT[:top]
                    stackT = T2
                    B2 = np.empty((cap, k), np.int64)
                    B2[:top] = stackB[:top]
                    stackB = B2
                    N2 = np.empty((cap, d), np.int64)
                    N2[:top] = stackN[:top]
                    stackN = N2
                    K2 = np.empty(cap, np.int64)
                    K2[:top] = stackK[:top]
                    stackK = K2
                Tn = stackT[top]
                _copy_state(T, basic, nonbasic, Tn, stackB[top], stackN[top])
                tucker_pivot(Tn, r, c, prow)
                stackB[top, r] = entering
                stackN[top, c] = leaving
                stackK[top] = nkey
                top += 1
    return V[:nv].copy(), masks[:nv].copy()


@njit(cache=True)
def _completely_labeled_pairs(MP, MQ, full):
    """Index pairs ``(a, b)``, ``a, b >= 1`` (vertex 0 is the origin), whose label masks together
    cover ``full``.

    A vertex of ``Q`` pairs with ``a`` iff its mask contains ``need = full & ~MP[a]``. A
    nondegenerate vertex of ``Q`` has exactly ``n`` labels, so when ``need`` has ``n`` labels
    the partner is found by a hash lookup; degenerate vertices (more than ``n`` labels) and
    degenerate vertices of ``P`` (``need`` with fewer than ``n`` labels) are matched by scanning.
    """
    n_labels = 0
    f = full
    while f:
        n_labels += 1
        f >>= 1
    n_q = n_labels - _popcount(MP[0])  # the origin of P has exactly the m labels of x
    size = 16
    while size < 2 * MQ.shape[0]:
        size *= 2
    keys = np.full(size, -1, np.int64)
    vals = np.empty(size, np.int64)
    regular = np.empty(MQ.shape[0], np.int64)
    degenerate = np.empty(MQ.shape[0], np.int64)
    n_reg = 0
    n_deg = 0
    for b in range(1, MQ.shape[0]):
        if _popcount(MQ[b]) == n_q:
            regular[n_reg] = b
            n_reg += 1
            slot = _set_slot(keys, MQ[b])
            keys[slot] = MQ[b]
            vals[slot] = b
        else:
            degenerate[n_deg] = b
            n_deg += 1
    cap = 16
    ip = np.empty(cap, np.int64)
    iq = np.empty(cap, np.int64)
    count = 0
    for a in range(1, MP.shape[0]):
        need = full & ~MP[a]
        pc = _popcount(need)
        for t in range(n_deg + 2 * n_reg):
            if t < n_deg:
                b = degenerate[t]
            elif pc == n_q:  # one hash lookup replaces the scan of the regular vertices
                if t > n_deg:
                    break
                slot = _set_slot(keys, need)
                if keys[slot] != need:
                    break
                b = vals[slot]
            elif pc < n_q and t < n_deg + n_reg:
                b = regular[t - n_deg]
            else:
                break
            if (MQ[b] & need) != need:
                continue
            if count == cap:
                cap *= 2
                ip2 = np.empty(cap, np.int64)
                iq2 = np.empty(cap, np.int64)
                ip2[:count] = ip[:count]
                iq2[:count] = iq[:count]
                ip = ip2
                iq = iq2
            ip[count] = a
            iq[count] = b
            count += 1
    return ip[:count].copy(), iq[:count].copy()


@njit(cache=True)
def _copy_state(T, basic, nonbasic, T_out, basic_out, nonbasic_out):
    k, width = T.shape
    for r in range(k):
        basic_out[r] = basic[r]
        for j in range(width):
            T_out[r, j] = T[r, j]
    for c in range(nonbasic.shape[0]):
        nonbasic_out[c] = nonbasic[c]


@njit(cache=True)
def _popcount(x):
    x = x - ((x >> 1) & 0x5555555555555555)
    x = (x & 0x3333333333333333) + ((x >> 2) & 0x3333333333333333)
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0F
    return (x * 0x0101010101010101) >> 56


@njit(cache=True)
def _set_slot(table, key):
    """Slot of ``key`` in an open-addressing table of non-negative int64 (``-1`` = empty):
    where it is, or the empty slot where it would go. The table is a power of two long."""
    mask = table.shape[0] - 1
    h = (key * np.int64(-7046029254386353131)) & 0x7FFFFFFFFFFFFFFF  # Fibonacci hashing
    i = (h >> 17) & mask
    while table[i] != -1 and table[i] != key:
        i = (i + 1) & mask
    return i


@njit(cache=True)
def _set_add(table, key):
    """Insert ``key``; 1 if it was new, 0 if present. The caller keeps the load below 1/2."""
    i = _set_slot(table, key)
    if table[i] == key:
        return 0
    table[i] = key
    return 1


@njit(cache=True)
def _set_grow(table):
    out = np.full(2 * table.shape[0], -1, np.int64)
    for key in table:
        if key != -1:
            out[_set_slot(out, key)] = key
    return out
