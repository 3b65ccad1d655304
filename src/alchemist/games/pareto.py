"""Pareto fronts of payoff profiles, and Pareto-optimal / welfare-maximizing equilibria.

The CPU kernel sorts the points lexicographically in decreasing order — a point can then only be
dominated by points before it — and compares each point with the current front only
(a block-nested-loop skyline: ``O(k log k + k f d)`` for ``f`` front points). The GPU kernel
compares every point with every other, one thread per point, which suits millions of points.

References
----------
S. Börzsönyi, D. Kossmann, K. Stocker, "The skyline operator", ICDE 2001 (block-nested-loop,
sort-first skyline). H. T. Kung, F. Luccio, F. P. Preparata, "On finding the maxima of a set of
vectors", J. ACM 22 (1975).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from alchemist.backend import resolve_backend
from alchemist.errors import InvalidGameError
from alchemist.games._base import NormalFormGame, as_game
from alchemist.games.normal_form import expected_payoffs

__all__ = ["pareto_front", "equilibrium_payoffs", "pareto_optimal_equilibria", "welfare_maximizing_equilibria"]


def pareto_front(payoffs, maximize: bool = True, return_mask: bool = False, backend: str = "auto"):
    """Indices of the Pareto-optimal (non-dominated) rows of ``payoffs``.

    Row ``j`` dominates row ``i`` when it is at least as good in every column and strictly
    better in one. Equal rows do not dominate each other (both stay on the front).

    Parameters
    ----------
    payoffs : array_like, shape ``(k, d)``
        ``k`` payoff profiles (points) with ``d`` objectives (players). A NormalFormGame is
        accepted and means all its pure payoff profiles (C order).
    maximize : bool
        Larger is better (payoffs); ``False`` for costs.
    return_mask : bool
        Return a boolean mask of shape ``(k,)`` instead of indices.
    backend : {"auto", "cpu", "cuda"}

    Returns
    -------
    ndarray of int64 (sorted indices) or bool mask

    Raises
    ------
    InvalidGameError
        Not a 2-D array of finite numbers.

    Examples
    --------
    >>> pareto_front([[1, 2], [2, 1], [0, 0], [2, 2], [1, 1]])
    array([3])
    """
    if isinstance(payoffs, NormalFormGame):
        payoffs = payoffs.payoff_profile_array()
    be = resolve_backend(backend)
    if be == "cuda" and not isinstance(payoffs, np.ndarray) and hasattr(payoffs, "__cuda_array_interface__"):
        from alchemist.games._cuda import skyline_gpu

        mask = skyline_gpu(payoffs if maximize else -payoffs)
        return mask if return_mask else np.flatnonzero(mask)
    P = np.asarray(payoffs, dtype=np.float64)
    if P.ndim != 2 or not np.all(np.isfinite(P)):
        raise InvalidGameError(f"payoffs must be a 2-D array (points × objectives) of finite numbers; got shape {P.shape}")
    if not maximize:
        P = -P
    if be == "cuda":
        from alchemist.games._cuda import skyline_gpu

        mask = skyline_gpu(P)
    else:
        mask = _skyline_mask(P)
    return mask if return_mask else np.flatnonzero(mask)


def equilibrium_payoffs(game, equilibria) -> np.ndarray:
    """Expected payoff of each player at each equilibrium.

    Parameters
    ----------
    game : NormalFormGame or (A, B)
    equilibria : sequence of profiles
        Each a tuple of one mixed strategy per player.

    Returns
    -------
    (len(equilibria), n_players) float64

    Raises
    ------
    InvalidGameError
        ``game`` is not a valid game.

    Examples
    --------
    >>> from alchemist.games import NormalFormGame, vertex_enumeration
    >>> bos = NormalFormGame([[3, 0], [0, 2]], [[2, 0], [0, 3]])
    >>> equilibrium_payoffs(bos, vertex_enumeration(bos))
    array([[3. , 2. ],
           [1.2, 1.2],
           [2. , 3. ]])
    """
    game = as_game(game)
    out = np.empty((len(equilibria), game.n_players))
    for k, eq in enumerate(equilibria):
        for p in range(game.n_players):
            out[k, p] = float(np.dot(expected_payoffs(game, [np.asarray(s, float) for s in eq], p), np.asarray(eq[p], float)))
    return out


def pareto_optimal_equilibria(game, equilibria=None) -> list:
    """The equilibria whose payoff vectors are not Pareto-dominated by another equilibrium's.

    Parameters
    ----------
    game : NormalFormGame
    equilibria : list of tuples, optional
        Default: :func:`vertex_enumeration` for two players, :func:`pure_nash` for more.

    Returns
    -------
    list of tuples
        The undominated equilibria, in the order of ``equilibria``.

    Raises
    ------
    InvalidGameError
        ``game`` is not a valid game.

    Examples
    --------
    >>> from alchemist.games import NormalFormGame
    >>> bos = NormalFormGame([[3, 0], [0, 2]], [[2, 0], [0, 3]])
    >>> len(pareto_optimal_equilibria(bos))   # the mixed equilibrium (1.2, 1.2) is dominated
    2
    """
    game, equilibria = _default_equilibria(game, equilibria)
    if not equilibria:
        return []
    keep = pareto_front(equilibrium_payoffs(game, equilibria), backend="cpu")
    return [equilibria[k] for k in keep]


def welfare_maximizing_equilibria(game, equilibria=None, tol: float = 1e-9) -> list:
    """The equilibria with the largest utilitarian welfare (sum of expected payoffs).

    Parameters
    ----------
    game : NormalFormGame or (A, B)
    equilibria : list of tuples, optional
        Default: :func:`vertex_enumeration` for two players, :func:`pure_nash` for more.
    tol : float
        Tolerance of the tie with the best welfare, relative to the sum of the players' payoff
        ranges (so ``a * u + b`` gives the same maximisers as ``u`` for ``a > 0``).

    Returns
    -------
    list of tuples
        The maximisers, in the order of ``equilibria``; empty when there is none.

    Raises
    ------
    InvalidGameError
        ``game`` is not a valid game.

    Examples
    --------
    Battle of the sexes: both pure equilibria have welfare 5, the mixed one 2.4.

    >>> from alchemist.games import NormalFormGame
    >>> bos = NormalFormGame([[3, 0], [0, 2]], [[2, 0], [0, 3]])
    >>> [tuple(s.tolist()) for eq in welfare_maximizing_equilibria(bos) for s in eq]
    [(1.0, 0.0), (1.0, 0.0), (0.0, 1.0), (0.0, 1.0)]
    """
    game, equilibria = _default_equilibria(game, equilibria)
    if not equilibria:
        return []
    welfare = equilibrium_payoffs(game, equilibria).sum(axis=1)
    best = welfare.max()
    scale = sum(float(np.ptp(u)) for u in game.payoffs)
    slack = tol * scale + 64 * np.finfo(float).eps * float(np.abs(welfare).max())  # round-off of an offset
    return [eq for eq, w in zip(equilibria, welfare) if w >= best - slack]


def _default_equilibria(game, equilibria):
    game = as_game(game)
    if equilibria is None:
        if game.n_players == 2:
            from alchemist.games.vertex_enumeration import vertex_enumeration

            equilibria = vertex_enumeration(game)
        else:
            from alchemist.games.pure import pure_nash

            equilibria = pure_nash(game, mixed=True)
    return game, list(equilibria)


def _skyline_mask(P: np.ndarray) -> np.ndarray:
    order = np.lexsort(tuple(-P[:, c] for c in range(P.shape[1] - 1, -1, -1)))
    return _skyline_sorted_kernel(np.ascontiguousarray(P[order]), order)


@njit(cache=True)
def _skyline_sorted_kernel(S, order):
    """``S`` is sorted lexicographically decreasing: compare each point with the front so far."""
    k, d = S.shape
    front = np.empty(k, np.int64)
    n_front = 0
    mask = np.zeros(k, np.bool_)
    for i in range(k):
        dominated = False
        for t in range(n_front):
            j = front[t]
            geq = True
            gt = False
            for c in range(d):
                if S[j, c] < S[i, c]:
                    geq = False
                    break
                if S[j, c] > S[i, c]:
                    gt = True
            if geq and gt:
                dominated = True
                break
        if not dominated:
            front[n_front] = i
            n_front += 1
            mask[order[i]] = True
    return mask
