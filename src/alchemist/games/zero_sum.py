"""Two-player zero-sum games by linear programming (HiGHS).

The row player's maximin strategy solves ``max v s.t. A^T x >= v 1, sum x = 1, x >= 0`` and the
column player's minimax strategy ``min w s.t. A y <= w 1, sum y = 1, y >= 0``; by the minimax
theorem ``v = w`` is the value of the game and ``(x, y)`` is an equilibrium.

References
----------
J. von Neumann (1928); G. B. Dantzig (1951). Shoham & Leyton-Brown, *Multiagent Systems* (2009),
§4.1. Solver: HiGHS via :func:`scipy.optimize.linprog` (Huangfu & Hall 2018).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog

from alchemist.errors import InvalidGameError, NoEquilibriumFoundError
from alchemist.games._base import NormalFormGame, as_game

__all__ = ["zero_sum_equilibrium"]


def zero_sum_equilibrium(game, check_zero_sum: bool = True, tol: float = 1e-9):
    """Maximin/minimax strategies and the value of a two-player zero-sum game.

    Parameters
    ----------
    game : NormalFormGame, ``(A, B)`` or a matrix ``A``
        With ``B = -A``, or ``B = c - A`` for a constant ``c`` (a constant-sum game, strategically
        zero-sum); checked unless ``check_zero_sum=False`` (then ``A`` alone is used).
    check_zero_sum : bool
        Raise when ``A + B`` is not constant within ``tol`` relative to the payoff range.
    tol : float
        Relative tolerance of the zero-sum check: ``max(A + B) - min(A + B)`` may be at most
        ``tol`` times the larger payoff range of ``A`` and ``B`` (plus the round-off of the
        payoffs' magnitude), so the check does not depend on the payoff unit.

    Returns
    -------
    ((x, y), value)
        ``x`` ``(m,)`` and ``y`` ``(n,)`` float64 probability vectors, ``value`` the row player's
        equilibrium payoff (float, in the payoffs' unit). The LPs are solved on ``A`` mapped onto
        [0, 1], so ``a * A + b`` gives the same strategies as ``A`` for every ``a > 0`` and the
        value ``a * v + b``.

    Raises
    ------
    InvalidGameError
        If the game is not two-player or not zero-sum (the message gives the spread of
        ``A + B``).
    NoEquilibriumFoundError
        If HiGHS does not report an optimum (does not happen for finite payoffs).

    Examples
    --------
    >>> (x, y), v = zero_sum_equilibrium([[0, -1, 1], [1, 0, -1], [-1, 1, 0]])   # rock–paper–scissors
    >>> x.round(4), y.round(4), round(v, 10)
    (array([0.3333, 0.3333, 0.3333]), array([0.3333, 0.3333, 0.3333]), 0.0)
    """
    if not isinstance(game, NormalFormGame) and not isinstance(game, tuple):
        game = NormalFormGame(game)
    game = as_game(game, 2)
    A, B = game.payoffs
    if check_zero_sum:
        total = A + B
        spread = float(np.ptp(total))
        allowed = tol * max(float(np.ptp(A)), float(np.ptp(B))) + 4 * np.finfo(float).eps * float(
            max(np.abs(A).max(), np.abs(B).max()))
        if spread > allowed:
            raise InvalidGameError(
                f"the game is not zero-sum: A + B ranges over [{total.min():.6g}, {total.max():.6g}] (spread "
                f"{spread:.3g} > {allowed:.3g}); use lemke_howson or vertex_enumeration, or pass "
                "check_zero_sum=False to solve the zero-sum game (A, -A)"
            )
    lo, width = float(A.min()), float(np.ptp(A))
    if width == 0:  # every profile pays the same: any strategies are optimal
        m, n = A.shape
        return (np.full(m, 1.0 / m), np.full(n, 1.0 / n)), lo
    U = (A - lo) / width  # payoffs in [0, 1]: HiGHS's absolute tolerances become relative
    x, v = _maximin(U)
    y, w = _maximin(-U.T)
    return (x, y), float(0.5 * (v - w)) * width + lo


def _maximin(A: np.ndarray):
    """``max_x min_j (A^T x)_j`` over the simplex, by one LP: variables ``(x, v)``."""
    m, n = A.shape
    c = np.zeros(m + 1)
    c[-1] = -1.0
    A_ub = np.concatenate([-A.T, np.ones((n, 1))], axis=1)  # v - (A^T x)_j <= 0
    b_ub = np.zeros(n)
    A_eq = np.concatenate([np.ones((1, m)), np.zeros((1, 1))], axis=1)
    bounds = [(0, None)] * m + [(None, None)]
    res = linprog(c, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=[1.0], bounds=bounds, method="highs")
    if res.status != 0:
        raise NoEquilibriumFoundError(f"HiGHS did not solve the maximin LP: {res.message}")
    x = np.clip(res.x[:m], 0.0, None)
    return x / x.sum(), float(res.x[-1])
