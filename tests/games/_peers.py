"""Helpers to run the peer libraries (pygambit, QuantEcon) on our games in the tests."""

from __future__ import annotations

from fractions import Fraction

import numpy as np


def gambit_profiles(game, result) -> list:
    """pygambit equilibria as lists of per-player Fraction/float lists."""
    out = []
    for eq in result.equilibria:
        out.append([[Fraction(str(eq[s])) for s in p.strategies] for p in game.players])
    return out


def as_key(profile) -> tuple:
    return tuple(Fraction(v) if not isinstance(v, float) else Fraction(v).limit_denominator(10**9)
                 for s in profile for v in s)


def float_key(profile, digits: int = 6) -> tuple:
    return tuple(np.round(np.concatenate([np.asarray(s, dtype=float) for s in profile]), digits))


def quantecon_game(game):
    import quantecon.game_theory as gt

    return gt.NormalFormGame(game.payoff_profile_array().reshape(game.shape + (game.n_players,)))
