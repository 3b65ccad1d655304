"""Cooperative games against published values and brute-force definitions."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from alchemist.errors import EmptyCoreError, InvalidGameError
from alchemist.games import (
    CoalitionalGame,
    banzhaf_index,
    core_is_empty,
    in_core,
    is_convex,
    is_superadditive,
    least_core,
    nucleolus,
    shapley_value,
    weighted_voting_game,
)


def bankruptcy(claims, estate):
    """O'Neill's bankruptcy game: v(S) = max(0, E - claims of the others)."""
    c = np.asarray(claims, float)
    return CoalitionalGame(len(c), lambda S: max(0.0, estate - sum(c[i] for i in range(len(c)) if i not in S)))


def shapley_by_permutations(game):
    """The definition: average marginal contribution over all n! orderings."""
    n = game.n
    phi = np.zeros(n)
    for order in itertools.permutations(range(n)):
        S = 0
        for i in order:
            phi[i] += game.v[S | 1 << i] - game.v[S]
            S |= 1 << i
    return phi / math.factorial(n)


def test_published_voting_powers():
    # UN Security Council [39; 7,7,7,7,7,1,...,1]: Shapley–Shubik 0.1963 / 0.001865,
    # normalized Banzhaf 0.1669 / 0.0165 (Felsenthal & Machover 1998, §2.3; Straffin 1994)
    unsc = weighted_voting_game([7] * 5 + [1] * 10, 39)
    phi = shapley_value(unsc)
    assert phi[0] == pytest.approx(421 / 2145, abs=1e-12) and phi[5] == pytest.approx(4 / 2145, abs=1e-12)
    beta = banzhaf_index(unsc)
    assert beta[0] == pytest.approx(0.1669, abs=5e-5) and beta[5] == pytest.approx(0.0165, abs=5e-5)
    np.testing.assert_allclose(shapley_value(weighted_voting_game([50, 49, 1], 51)), [2 / 3, 1 / 6, 1 / 6])
    np.testing.assert_allclose(banzhaf_index(weighted_voting_game([50, 49, 1], 51)), [0.6, 0.2, 0.2])


def test_glove_game():
    # one left glove (player 0), two right gloves: Shapley (2/3, 1/6, 1/6); core = nucleolus = (1, 0, 0)
    glove = CoalitionalGame(3, lambda S: float(0 in S and len(S) >= 2))
    np.testing.assert_allclose(shapley_value(glove), [2 / 3, 1 / 6, 1 / 6])
    np.testing.assert_allclose(nucleolus(glove), [1, 0, 0], atol=1e-9)
    assert not core_is_empty(glove) and in_core(glove, [1, 0, 0]) and not in_core(glove, [0.8, 0.1, 0.1])
    assert is_superadditive(glove) and not is_convex(glove)


@pytest.mark.parametrize("estate, expected", [(100, [100 / 3] * 3), (200, [50, 75, 75]), (300, [50, 100, 150])])
def test_nucleolus_of_talmud_bankruptcy_games(estate, expected):
    # Aumann & Maschler (1985): the nucleolus of the bankruptcy game is the Talmud's division
    # (the three estates of the Talmud's example, claims 100/200/300)
    np.testing.assert_allclose(nucleolus(bankruptcy([100, 200, 300], estate)), expected, atol=1e-7)


def test_nucleolus_four_players_and_core():
    # bankruptcy games are convex, so the nucleolus lies in the core; with the estate equal to
    # half the total claim the Talmud rule (= nucleolus, Aumann & Maschler 1985) gives each
    # claimant half of its claim
    g = bankruptcy([10, 20, 30, 40], 50)
    assert is_convex(g)
    x = nucleolus(g)
    assert in_core(g, x, tol=1e-7)
    np.testing.assert_allclose(x, [5, 10, 15, 20], atol=1e-7)


def test_least_core_and_empty_core():
    # majority game on 3 players: empty core, least core value 1/3 at (1/3, 1/3, 1/3)
    maj = CoalitionalGame(3, lambda S: float(len(S) >= 2))
    assert core_is_empty(maj)
    x, eps = least_core(maj)
    assert eps == pytest.approx(1 / 3)
    np.testing.assert_allclose(x, [1 / 3] * 3, atol=1e-9)
    np.testing.assert_allclose(nucleolus(maj), [1 / 3] * 3, atol=1e-9)
    with pytest.raises(EmptyCoreError, match="imputation set is empty"):
        nucleolus(CoalitionalGame(2, [0, 1, 1, 1]))


def test_exact_shapley_matches_definition_on_random_games():
    rng = np.random.default_rng(3)
    for n in (1, 2, 5, 7):
        v = rng.random(1 << n)
        v[0] = 0
        g = CoalitionalGame(n, v)
        np.testing.assert_allclose(shapley_value(g), shapley_by_permutations(g), atol=1e-12)
        assert shapley_value(g).sum() == pytest.approx(v[-1])  # efficiency


def test_monte_carlo_shapley_interval_covers_exact():
    rng = np.random.default_rng(5)
    v = rng.random(1 << 9)
    v[0] = 0
    g = CoalitionalGame(9, v)
    exact = shapley_value(g)
    est = shapley_value(g, method="monte_carlo", n_samples=4000, confidence=0.999, seed=11)
    assert np.all((est.ci_low <= exact) & (exact <= est.ci_high))
    assert np.all(est.stderr > 0) and est.n_samples == 4000


def test_superadditivity_and_convexity_by_definition():
    rng = np.random.default_rng(8)
    n = 4
    for trial in range(6):
        v = np.round(rng.random(1 << n) * 3) if trial % 2 else np.array([bin(S).count("1") ** 2 for S in range(1 << n)], float)
        v[0] = 0
        g = CoalitionalGame(n, v)
        sup = all(v[S | T] >= v[S] + v[T] for S in range(1 << n) for T in range(1 << n) if S & T == 0)
        conv = all(v[S | T] + v[S & T] >= v[S] + v[T] for S in range(1 << n) for T in range(1 << n))
        assert is_superadditive(g) == sup and is_convex(g) == conv


@pytest.mark.parametrize(
    "n, v, match",
    [
        (3, np.zeros(7), "2\\*\\*3 = 8"),
        (2, [1, 0, 0, 1], "empty coalition"),
        (2, [0, np.nan, 0, 1], "not finite"),
        (0, [0], "between 1 and"),
        (2, [[0, 1], [1, 2]], "1-D array"),
    ],
)
def test_bad_characteristic_functions(n, v, match):
    with pytest.raises(InvalidGameError, match=match):
        CoalitionalGame(n, v)


def test_bad_voting_and_methods():
    with pytest.raises(InvalidGameError, match="non-negative"):
        weighted_voting_game([1, -2], 1)
    with pytest.raises(InvalidGameError, match="quota"):
        weighted_voting_game([1, 2], 0)
    with pytest.raises(InvalidGameError, match="unknown method"):
        shapley_value(weighted_voting_game([1, 2], 2), method="sampling")
