"""Pure-strategy Nash equilibria of n-player games, vectorized over the whole profile space.

A pure profile is an equilibrium when every player's action is a best response: for each player
``p``, compare ``payoffs[p]`` with its maximum along axis ``p`` (one reduction per player over the
full array of ``prod(shape)`` profiles), then AND the ``n`` boolean arrays. On the GPU the same
array code runs on CuPy arrays.

Reference: Shoham & Leyton-Brown, *Multiagent Systems* (2009), §3.3 (pure-strategy Nash equilibrium).
"""

from __future__ import annotations

import numpy as np

from alchemist.backend import array_module, resolve_backend, to_numpy
from alchemist.games._base import as_game

__all__ = ["pure_nash", "pure_to_mixed"]


def pure_nash(game, tol: float = 0.0, mixed: bool = False, backend: str = "auto"):
    """All pure-strategy Nash equilibria of an n-player game.

    Parameters
    ----------
    game : NormalFormGame (or the arguments of one)
    tol : float
        An action is a best response when its payoff is at least the maximum minus ``tol``
        (absolute, payoff units). The default 0 is exact for payoffs that are exact in float64.
    mixed : bool
        Return each equilibrium as a tuple of one-hot mixed strategies (float64 arrays) instead
        of a row of action indices.
    backend : {"auto", "cpu", "cuda"}
        ``"cuda"`` runs the reductions on the GPU with CuPy.

    Returns
    -------
    ndarray, shape ``(k, n_players)``, int64
        The ``k`` equilibrium profiles as action indices, in C (lexicographic) order —
        or, with ``mixed=True``, a list of ``k`` tuples of mixed strategies.

    Raises
    ------
    InvalidGameError
        ``game`` is not a normal-form game with finite payoffs.

    Examples
    --------
    >>> from alchemist.games import NormalFormGame
    >>> pd = NormalFormGame([[3, 0], [5, 1]], [[3, 5], [0, 1]])
    >>> pure_nash(pd)
    array([[1, 1]])
    """
    game = as_game(game)
    xp = array_module(resolve_backend(backend))
    ok = None
    for p, payoff in enumerate(game.payoffs):
        arr = xp.asarray(payoff)
        best = arr >= arr.max(axis=p, keepdims=True) - tol
        ok = best if ok is None else (ok & best)
    profiles = to_numpy(xp.argwhere(ok)).astype(np.int64)
    if mixed:
        return [pure_to_mixed(row, game.shape) for row in profiles]
    return profiles


def pure_to_mixed(profile, shape) -> tuple:
    """One-hot mixed strategies (float64) for a pure profile of action indices.

    Parameters
    ----------
    profile : sequence of int
        One action index per player.
    shape : sequence of int
        Number of actions of each player (``game.shape``).

    Returns
    -------
    tuple of ndarray
        ``(shape[p],)`` float64 per player, 1.0 at the chosen action.

    Raises
    ------
    IndexError
        An action index is not below its player's number of actions.

    Examples
    --------
    >>> pure_to_mixed((1, 0), (2, 3))
    (array([0., 1.]), array([1., 0., 0.]))
    """
    out = []
    for a, k in zip(profile, shape):
        s = np.zeros(int(k))
        s[int(a)] = 1.0
        out.append(s)
    return tuple(out)
