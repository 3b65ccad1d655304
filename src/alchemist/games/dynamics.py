"""Dominance, learning dynamics and quantal response for n-player games.

* :func:`iterated_dominance` — iterated elimination of strictly (optionally by mixed strategies,
  one LP each) or weakly dominated strategies (Shoham & Leyton-Brown 2009, §4.5.1).
* :func:`replicator_dynamics` — the replicator equation, one population (symmetric game) or one
  per player (Taylor & Jonker 1978; Weibull, *Evolutionary Game Theory* 1995, ch. 3, 5).
* :func:`fictitious_play` — simultaneous fictitious play (Brown 1951; Robinson 1951).
* :func:`logit_qre` — re-exported from :mod:`alchemist.games.qre` (the principal branch of logit
  quantal response equilibria, McKelvey & Palfrey 1995; Turocy 2005).
"""

from __future__ import annotations

import numpy as np
from numba import njit
from scipy.integrate import solve_ivp
from scipy.optimize import linprog

from alchemist.errors import InvalidGameError, NoEquilibriumFoundError
from alchemist.games._base import NormalFormGame, as_game, normalized_game
from alchemist.games.normal_form import expected_payoffs
from alchemist.games.qre import logit_qre

__all__ = ["iterated_dominance", "replicator_dynamics", "fictitious_play", "logit_qre"]


def iterated_dominance(game, strict: bool = True, mixed: bool = False, tol: float = 1e-12):
    """Iterated elimination of dominated strategies.

    Parameters
    ----------
    game : NormalFormGame
    strict : bool
        Remove strictly dominated strategies (the result does not depend on the order); with
        ``False``, weakly dominated ones (never better, sometimes worse; order dependent — all
        players' dominated strategies are removed simultaneously, round by round).
    mixed : bool
        Also remove strategies strictly dominated by a mixed strategy (one LP per strategy).
        Only with ``strict=True``.
    tol : float
        Margin of a (strict) dominance, relative to each player's payoff range (the comparisons
        run on :func:`~alchemist.games._base.normalized_game`), so ``a * u + b`` (``a > 0``)
        eliminates the same strategies as ``u``.

    Returns
    -------
    (reduced, surviving)
        ``reduced`` the NormalFormGame restricted to the surviving strategies (labels kept) and
        ``surviving`` a tuple of int64 arrays, the original indices of each player's survivors.

    Raises
    ------
    InvalidGameError
        ``game`` is not a valid game, or ``mixed=True`` with ``strict=False``.

    Examples
    --------
    >>> pd = NormalFormGame([[3, 0], [5, 1]], [[3, 5], [0, 1]])
    >>> iterated_dominance(pd)[1]
    (array([1]), array([1]))
    """
    game = as_game(game)
    if mixed and not strict:
        raise InvalidGameError("mixed=True is only defined for strict dominance; pass strict=True")
    alive = [np.arange(k) for k in game.shape]
    unit = normalized_game(game).payoffs  # payoffs in [0, 1]: tolerances relative to the payoff scale
    while True:
        sub = [a[np.ix_(*alive)] for a in unit]
        removed = False
        new_alive = []
        for p in range(game.n_players):
            U = np.moveaxis(sub[p], p, 0).reshape(len(alive[p]), -1)  # own actions × opponent profiles
            keep = ~_dominated_rows(U, strict, tol)
            if mixed and keep.sum() > 1:
                keep &= ~_mixed_dominated_rows(U, keep, tol)
            if not keep.all():
                removed = True
            new_alive.append(alive[p][keep])
        alive = new_alive
        if not removed:
            break
    sub = [a[np.ix_(*alive)] for a in game.payoffs]
    reduced = NormalFormGame(sub, players=game.players, title=game.title,
                             strategies=[[game.strategies[p][i] for i in alive[p]] for p in range(game.n_players)])
    return reduced, tuple(alive)


def replicator_dynamics(game, x0=None, t=None, backend: str = "cpu") -> np.ndarray:
    """Integrate the replicator equation.

    * One population (``game`` a square matrix ``A`` or a symmetric NormalFormGame whose row
      payoffs are used): ``dx_i/dt = x_i ((A x)_i - x^T A x)``.
    * Two populations (a two-player NormalFormGame with ``x0 = (x, y)``):
      ``dx_i/dt = x_i ((A y)_i - x^T A y)``, ``dy_j/dt = y_j ((B^T x)_j - x^T B y)``.

    Parameters
    ----------
    game : array_like ``(k, k)`` or NormalFormGame
    x0 : array_like or (x, y), optional
        Initial population state(s) on the simplex; default the centroid.
    t : array_like, optional
        Increasing time points at which to report the state (default ``linspace(0, 10, 101)``);
        the first is the initial time.
    backend : {"cpu"}
        The ODE is integrated by SciPy's LSODA on the CPU.

    Returns
    -------
    ndarray
        One population: shape ``(len(t), k)``. Two: shape ``(len(t), m + n)``, ``x`` then ``y``.

    Raises
    ------
    InvalidGameError
        ``t`` not 1-D increasing, a one-population matrix that is not square and finite, or an
        ``x0`` that is not a probability vector of the right length.
    NoEquilibriumFoundError
        The ODE solver fails (its message).

    References
    ----------
    Taylor, P. D. & Jonker, L. B. (1978). "Evolutionarily stable strategies and game dynamics",
    Math. Biosci. 40; Hofbauer & Sigmund (1998), *Evolutionary Games and Population Dynamics*.

    Examples
    --------
    Hawk–dove: the population converges to the mixed evolutionarily stable state (1/2, 1/2).

    >>> import numpy as np
    >>> states = replicator_dynamics([[0, 3], [1, 2]], x0=[0.9, 0.1], t=np.linspace(0, 50, 6))
    >>> states.shape, states[-1].round(4)
    ((6, 2), array([0.5, 0.5]))
    """
    t = np.linspace(0, 10, 101) if t is None else np.asarray(t, dtype=np.float64)
    if t.ndim != 1 or len(t) < 1 or np.any(np.diff(t) <= 0):
        raise InvalidGameError("t must be a 1-D increasing array of time points")
    two_pop = isinstance(game, NormalFormGame) and (x0 is None or (isinstance(x0, (tuple, list)) and len(x0) == 2
                                                                  and np.ndim(x0[0]) == 1))
    if two_pop:
        g = as_game(game, 2)
        A, B = g.payoffs
        m, n = g.shape
        if x0 is None:
            x0 = (np.full(m, 1 / m), np.full(n, 1 / n))
        z0 = np.concatenate([_simplex(x0[0], m, "x0[0]"), _simplex(x0[1], n, "x0[1]")])

        def f(_t, z):
            x, y = z[:m], z[m:]
            Ay, BTx = A @ y, B.T @ x
            return np.concatenate([x * (Ay - x @ Ay), y * (BTx - y @ BTx)])
    else:
        A = game.payoffs[0] if isinstance(game, NormalFormGame) else np.asarray(game, dtype=np.float64)
        if A.ndim != 2 or A.shape[0] != A.shape[1] or not np.all(np.isfinite(A)):
            raise InvalidGameError(f"one-population replicator dynamics needs a square finite payoff matrix; got shape {A.shape}")
        k = A.shape[0]
        z0 = _simplex(np.full(k, 1 / k) if x0 is None else x0, k, "x0")

        def f(_t, z):
            Az = A @ z
            return z * (Az - z @ Az)
    sol = solve_ivp(f, (t[0], t[-1]), z0, t_eval=t, method="LSODA", rtol=1e-9, atol=1e-12)
    if not sol.success:
        raise NoEquilibriumFoundError(f"the ODE solver failed: {sol.message}")
    return sol.y.T


def fictitious_play(game, n_iter: int = 1000, initial=None):
    """Simultaneous fictitious play: each round every player best-responds (lowest index on
    ties) to the empirical frequencies of the others' past actions.

    Parameters
    ----------
    game : NormalFormGame (n players)
    n_iter : int
        Rounds played.
    initial : sequence of int, optional
        First-round actions (default action 0 for every player).

    Returns
    -------
    tuple of ndarray
        The empirical mixed strategy of each player after ``n_iter`` rounds (float64). In
        two-player zero-sum games these converge to an equilibrium (Robinson 1951), at a rate
        that can be slow.

    Raises
    ------
    InvalidGameError
        ``game`` is not a valid game, ``n_iter < 1``, or ``initial`` does not give one valid
        action per player.

    References
    ----------
    Brown, G. W. (1951). "Iterative solution of games by fictitious play", in *Activity Analysis
    of Production and Allocation*; Robinson, J. (1951), Ann. Math. 54(2).

    Examples
    --------
    Matching pennies: the empirical frequencies approach (1/2, 1/2).

    >>> from alchemist.games import NormalFormGame
    >>> pennies = NormalFormGame([[1, -1], [-1, 1]], [[-1, 1], [1, -1]])
    >>> x, y = fictitious_play(pennies, n_iter=10_000)
    >>> bool(abs(x - 0.5).max() < 0.02 and abs(y - 0.5).max() < 0.02)
    True
    """
    game = as_game(game)
    if n_iter < 1:
        raise InvalidGameError(f"n_iter={n_iter} must be at least 1")
    counts = [np.zeros(k) for k in game.shape]
    actions = [0] * game.n_players if initial is None else [int(a) for a in initial]
    if len(actions) != game.n_players or any(not 0 <= a < k for a, k in zip(actions, game.shape)):
        raise InvalidGameError(f"initial actions {initial!r} must give one valid action per player")
    if game.n_players == 2:
        A, B = game.payoffs
        cx, cy = _fictitious_play_2p(A, np.ascontiguousarray(B.T), actions[0], actions[1], int(n_iter))
        return cx / cx.sum(), cy / cy.sum()
    for p, a in enumerate(actions):
        counts[p][a] += 1
    for _ in range(n_iter - 1):
        freqs = [c / c.sum() for c in counts]
        actions = [int(np.argmax(expected_payoffs(game, freqs, p))) for p in range(game.n_players)]
        for p, a in enumerate(actions):
            counts[p][a] += 1
    return tuple(c / c.sum() for c in counts)


# ---------------------------------------------------------------------------- helpers
def _simplex(x, k, name):
    x = np.asarray(x, dtype=np.float64)
    if x.shape != (k,) or np.any(x < 0) or not np.isclose(x.sum(), 1.0):
        raise InvalidGameError(f"{name} must be a probability vector of length {k}")
    return x


def _dominated_rows(U: np.ndarray, strict: bool, tol: float) -> np.ndarray:
    """Rows of ``U`` (actions × opponent profiles) dominated by another row (pure dominance)."""
    diff = U[None, :, :] - U[:, None, :]  # diff[j, i] = U[i] - U[j]
    # dominates[j, i]: row j dominates row i
    if strict:
        dominates = np.all(-diff > tol, axis=2)
    else:
        dominates = np.all(-diff >= -tol, axis=2) & np.any(-diff > tol, axis=2)
    np.fill_diagonal(dominates, False)
    return dominates.any(axis=0)


def _mixed_dominated_rows(U: np.ndarray, keep: np.ndarray, tol: float) -> np.ndarray:
    """Rows strictly dominated by a mixture of the other kept rows: max eps s.t.
    sum_k s_k U[k, t] >= U[i, t] + eps for all t; dominated iff eps > tol."""
    out = np.zeros(U.shape[0], dtype=bool)
    for i in np.flatnonzero(keep):
        others = np.flatnonzero(keep & (np.arange(U.shape[0]) != i))
        if len(others) == 0:
            continue
        k = len(others)
        c = np.zeros(k + 1)
        c[-1] = -1.0
        A_ub = np.concatenate([-U[others].T, np.ones((U.shape[1], 1))], axis=1)
        b_ub = -U[i]
        A_eq = np.concatenate([np.ones((1, k)), np.zeros((1, 1))], axis=1)
        res = linprog(c, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=[1.0],
                      bounds=[(0, None)] * k + [(None, None)], method="highs")
        if res.status == 0 and -res.fun > tol * max(1.0, float(np.abs(U).max())):
            out[i] = True
    return out


@njit(cache=True)
def _fictitious_play_2p(A, BT, a0, b0, n_iter):
    """Two-player fictitious play with incremental expected payoffs (O(m + n) per round)."""
    m, n = A.shape
    cx = np.zeros(m)
    cy = np.zeros(n)
    ux = np.zeros(m)  # row player's cumulative payoffs against the column player's history
    uy = np.zeros(n)
    a, b = a0, b0
    for _ in range(n_iter):
        cx[a] += 1
        cy[b] += 1
        for i in range(m):
            ux[i] += A[i, b]
        for j in range(n):
            uy[j] += BT[j, a]
        a = 0
        for i in range(1, m):
            if ux[i] > ux[a]:
                a = i
        b = 0
        for j in range(1, n):
            if uy[j] > uy[b]:
                b = j
    return cx, cy
