"""Normal-form (strategic-form) games and the verification of equilibria.

A game with ``n`` players, player ``p`` having ``a_p`` actions, is stored as ``n`` payoff arrays
of shape ``(a_1, ..., a_n)`` (float64): ``payoffs[p][s_1, ..., s_n]`` is player ``p``'s payoff at
the pure profile ``(s_1, ..., s_n)``. This is the layout of nashpy and Gambit's ``to_arrays`` (and,
up to the axis order of each player's array, of QuantEcon's ``Player.payoff_array``).

A mixed-strategy profile is a tuple of one probability vector per player; an equilibrium is
such a tuple. :func:`is_nash` checks one with a tolerance, or exactly in rationals.

References
----------
Shoham & Leyton-Brown, *Multiagent Systems* (2009), ch. 3 (normal-form games, Nash equilibrium).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Sequence

import numpy as np

from alchemist.errors import InvalidGameError
from alchemist.games._base import DEFAULT_TOL, NormalFormGame, normalized_game

__all__ = ["NormalFormGame", "is_nash", "regret", "expected_payoffs"]


def expected_payoffs(game: NormalFormGame, profile, player: int) -> np.ndarray:
    """Player ``player``'s expected payoff of each of its pure actions against ``profile``.

    Parameters
    ----------
    game : NormalFormGame
    profile : sequence of array_like
        One mixed strategy per player (the entry of ``player`` itself is ignored).
    player : int

    Returns
    -------
    ndarray, shape ``(game.shape[player],)``, float64 — or object (Fractions) if the profile
    and payoffs are object arrays.

    Raises
    ------
    IndexError
        ``player`` is not a player of the game.
    ValueError
        A strategy's length differs from its player's number of actions (NumPy's message).

    Examples
    --------
    Battle of the sexes at its mixed equilibrium: both actions pay each player the same.

    >>> import numpy as np
    >>> bos = NormalFormGame([[3, 0], [0, 2]], [[2, 0], [0, 3]])
    >>> expected_payoffs(bos, [np.array([0.6, 0.4]), np.array([0.4, 0.6])], 0)
    array([1.2, 1.2])
    """
    payoff = game.payoffs[player]
    return _contract(payoff, [np.asarray(s) for s in profile], player)


def regret(game: NormalFormGame, profile, exact: bool = False) -> np.ndarray:
    """How much each player gains by its best pure deviation from ``profile`` (>= 0).

    Parameters
    ----------
    game : NormalFormGame
    profile : sequence of array_like
        One mixed strategy (probability vector) per player.
    exact : bool
        Compute in exact rational arithmetic.

    Returns
    -------
    ndarray, shape ``(n_players,)``: float64, or object of :class:`fractions.Fraction` when
    ``exact`` (payoffs from :attr:`NormalFormGame.exact_payoffs`, strategies converted exactly
    with ``Fraction(float)`` unless they already are Fractions).

    Raises
    ------
    InvalidGameError
        The profile does not have one probability vector of the right length per player.

    Examples
    --------
    >>> import numpy as np
    >>> bos = NormalFormGame([[3, 0], [0, 2]], [[2, 0], [0, 3]])
    >>> regret(bos, [np.array([1.0, 0.0]), np.array([0.0, 1.0])])   # a miscoordination
    array([2., 2.])
    """
    strategies = _validate_profile(game, profile, exact=exact)
    payoffs = game.exact_payoffs if exact else game.payoffs
    out = []
    for p in range(game.n_players):
        values = _contract(payoffs[p], strategies, p)
        current = np.dot(values, strategies[p])
        out.append(max(values) - current)
    return np.array(out, dtype=object if exact else np.float64)


def is_nash(game: NormalFormGame, profile, tol: float = DEFAULT_TOL, exact: bool = False) -> bool:
    """True when no player can gain more than ``tol`` by a unilateral deviation.

    Parameters
    ----------
    game : NormalFormGame
    profile : sequence of array_like
        One mixed strategy (probability vector) per player.
    tol : float
        Tolerance relative to each player's payoff range ``max - min``: player ``p`` may gain at
        most ``tol * (max u_p - min u_p)``, so the check gives the same answer for ``a * u + b``
        as for ``u`` (``a > 0``) whatever the payoff unit (the regrets are computed on the
        normalised payoffs of :func:`~alchemist.games._base.normalized_game`, free of the
        round-off of a large offset ``b``). Ignored when ``exact``.
    exact : bool
        Check in exact rational arithmetic (:class:`fractions.Fraction`): the regret must be zero.

    Returns
    -------
    bool

    Raises
    ------
    InvalidGameError
        If the profile does not have one probability vector of the right length per player.

    Examples
    --------
    >>> import numpy as np
    >>> bos = NormalFormGame([[3, 0], [0, 2]], [[2, 0], [0, 3]])
    >>> is_nash(bos, [np.array([0.6, 0.4]), np.array([0.4, 0.6])])
    True
    >>> is_nash(bos, [np.array([1.0, 0.0]), np.array([0.0, 1.0])])
    False

    Notes
    -----
    A profile is a Nash equilibrium iff every pure action in the support of each player's
    strategy is a best response (Nash 1951; Shoham & Leyton-Brown 2009, §3.3): checking
    pure deviations suffices.
    """
    if exact:
        return all(v == 0 for v in regret(game, profile, exact=True))
    return bool(np.all(regret(normalized_game(game), profile) <= tol))


# ---------------------------------------------------------------------------- helpers
def _validate_profile(game: NormalFormGame, profile, exact: bool = False) -> list:
    if len(profile) != game.n_players:
        raise InvalidGameError(
            f"profile has {len(profile)} strategies; the game has {game.n_players} players — give one per player"
        )
    out = []
    for p, (s, k) in enumerate(zip(profile, game.shape)):
        if exact:
            arr = np.array([v if isinstance(v, Fraction) else Fraction(float(v)) for v in np.ravel(np.asarray(s, dtype=object))],
                           dtype=object)
        else:
            arr = np.asarray(s, dtype=np.float64).ravel()
        if arr.shape != (k,):
            raise InvalidGameError(f"strategy of player {p + 1} has length {arr.shape[0]}; player {p + 1} has {k} actions")
        if not exact and (not np.all(np.isfinite(arr)) or np.any(arr < -1e-9) or abs(arr.sum() - 1) > 1e-6):
            raise InvalidGameError(f"strategy of player {p + 1} {arr!r} is not a probability vector (non-negative, sum 1)")
        out.append(arr)
    return out


def _contract(payoff: np.ndarray, strategies: Sequence[np.ndarray], player: int) -> np.ndarray:
    """Contract ``payoff`` with every strategy but ``player``'s; returns a vector over its actions."""
    arr = payoff
    # contract from the last axis down so that axis numbers stay valid
    for q in range(len(strategies) - 1, -1, -1):
        if q == player:
            continue
        arr = np.tensordot(arr, strategies[q], axes=([q], [0])) if arr.dtype != object else _tensordot_obj(arr, strategies[q], q)
    return arr


def _tensordot_obj(arr: np.ndarray, s: np.ndarray, axis: int) -> np.ndarray:
    moved = np.moveaxis(arr, axis, -1)
    return np.dot(moved, s)
