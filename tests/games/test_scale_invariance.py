"""Every game and cooperative routine gives the same answer for ``a·A + b`` as for ``A`` (a > 0),
for payoff scales 1e-12 … 1e12 (issue 20): the scaled answer is compared with the unscaled one
and with nashpy / pygambit / published values on the unscaled game."""

from __future__ import annotations

import numpy as np
import pytest

from alchemist.errors import InvalidGameError
from alchemist.games import (
    CoalitionalGame,
    NormalFormGame,
    core_is_empty,
    in_core,
    is_convex,
    is_nash,
    is_superadditive,
    iterated_dominance,
    least_core,
    lemke_howson_all,
    nucleolus,
    read_nfg,
    support_enumeration,
    weighted_voting_game,
    welfare_maximizing_equilibria,
    zero_sum_equilibrium,
)

from ._peers import float_key

import nashpy
import pygambit

SCALES = [1e-12, 1e-9, 1e-6, 1e-3, 1.0, 1e3, 1e6, 1e9, 1e12]
# (a, b): pure scalings, an offset of the order of the payoffs, and the A + 2e12
AFFINE = [(a, 0.0) for a in SCALES] + [(a, -7.0 * a) for a in SCALES] + [(1.0, 2e12), (1e12, 2e12), (1e-12, 3e-9)]
IDS = [f"{a:g}A{b:+g}" for a, b in AFFINE]

BOS = NormalFormGame([[3, 0], [0, 2]], [[2, 0], [0, 3]])
# a nondegenerate 4x4 game with seven equilibria; payoffs in 1/64ths, exact also as A + 2e12
_r = np.random.default_rng(33)
RANDOM_4X4 = NormalFormGame(np.round(_r.normal(size=(4, 4)) * 64) / 64, np.round(_r.normal(size=(4, 4)) * 64) / 64)
GAMES = {"bos": BOS, "random4x4": RANDOM_4X4}


def affine(game, a, b):
    return NormalFormGame(*[a * u + b for u in game.payoffs])


def keys(eqs, digits=7):
    return sorted(float_key(e, digits) for e in eqs)


def nashpy_keys(game):
    # nashpy's vertex enumeration (its support enumeration misses two of RANDOM_4X4's seven)
    return keys(nashpy.Game(*game.payoffs).vertex_enumeration())


@pytest.fixture(scope="module")
def coord3(request):
    from tests.conftest import shared_path

    return read_nfg(shared_path("gambit_games/contrib/games/coord3.nfg"))


@pytest.mark.parametrize("a, b", AFFINE, ids=IDS)
@pytest.mark.parametrize("name", sorted(GAMES))
def test_support_enumeration(name, a, b):
    game = GAMES[name]
    expected = nashpy_keys(game)
    assert len(expected) >= 3
    assert keys(support_enumeration(game)) == expected
    assert keys(support_enumeration(affine(game, a, b))) == expected


@pytest.mark.parametrize("a, b", AFFINE, ids=IDS)
def test_support_enumeration_on_gambits_coord3(coord3, a, b):
    # seven equilibria (the file's title); Gambit's enummixed finds them on the unscaled game
    gbt = pygambit.nash.enummixed_solve(pygambit.read_nfg(str(
        __import__("tests.conftest", fromlist=["shared_path"]).shared_path("gambit_games/contrib/games/coord3.nfg"))),
        rational=False)
    expected = sorted(tuple(np.round([float(eq[s]) for p in eq.game.players for s in p.strategies], 7))
                      for eq in gbt.equilibria)
    assert len(expected) == 7
    assert keys(support_enumeration(affine(coord3, a, b))) == expected


@pytest.mark.parametrize("a, b", AFFINE, ids=IDS)
@pytest.mark.parametrize("name", sorted(GAMES))
def test_lemke_howson_all(name, a, b):
    game = GAMES[name]
    ours = lemke_howson_all(affine(game, a, b), max_iter=10_000)  # no cycling: each path is short
    assert keys(ours) == keys(lemke_howson_all(game))
    assert set(keys(ours)) <= set(nashpy_keys(game))


@pytest.mark.parametrize("a, b", AFFINE, ids=IDS)
def test_is_nash_tolerance_scales_with_the_payoffs(a, b):
    g = affine(BOS, a, b)
    assert is_nash(g, (np.array([0.6, 0.4]), np.array([0.4, 0.6])))
    assert is_nash(g, (np.array([1.0, 0.0]), np.array([1.0, 0.0])))
    # a miscoordination (regret 2/3 of the range) and a mixed profile off by 1e-4 are not equilibria
    assert not is_nash(g, (np.array([1.0, 0.0]), np.array([0.0, 1.0])))
    assert not is_nash(g, (np.array([0.6001, 0.3999]), np.array([0.4, 0.6])), tol=1e-8) or \
        not is_nash(g, (np.array([0.6, 0.4]), np.array([0.4001, 0.5999])), tol=1e-8)
    # regret of (0.6, 0.4) vs (0.4001, 0.5999) is 3e-4 (in BoS units): a tolerance of 1e-3 accepts it
    assert is_nash(g, (np.array([0.6, 0.4]), np.array([0.4001, 0.5999])), tol=1e-3)


ZS = np.round(np.random.default_rng(20).normal(size=(3, 4)) * 64) / 64  # exact also as ZS + 2e12


@pytest.mark.parametrize("a, b", AFFINE, ids=IDS)
def test_zero_sum_equilibrium(a, b):
    (x0, y0), v0 = zero_sum_equilibrium(ZS)
    (eq,) = list(nashpy.Game(ZS).vertex_enumeration())  # a generic zero-sum game: one equilibrium
    np.testing.assert_allclose(x0, eq[0], atol=1e-9)
    np.testing.assert_allclose(y0, eq[1], atol=1e-9)
    A = a * ZS + b
    for game in (NormalFormGame(A, -A), NormalFormGame(A, 5.0 * a - A)):  # zero-sum, constant-sum
        (x, y), v = zero_sum_equilibrium(game)
        np.testing.assert_allclose(x, x0, atol=1e-9)
        np.testing.assert_allclose(y, y0, atol=1e-9)
        assert v == pytest.approx(a * v0 + b, rel=1e-9, abs=1e-9 * a)
    # not zero-sum: B differs from -A by 1e-2 of the payoff range somewhere
    B = -A.copy()
    B[0, 0] += 1e-2 * a * np.ptp(ZS)
    with pytest.raises(InvalidGameError, match="not zero-sum"):
        zero_sum_equilibrium(NormalFormGame(A, B))


@pytest.mark.parametrize("a, b", AFFINE, ids=IDS)
def test_iterated_dominance_and_welfare(a, b):
    pd = NormalFormGame([[3, 0], [5, 1]], [[3, 5], [0, 1]])
    assert [s.tolist() for s in iterated_dominance(affine(pd, a, b))[1]] == [[1], [1]]
    # weak dominance: column 1 weakly dominates column 0 (equal against row 0)
    weak = NormalFormGame([[1, 1], [0, 2]], [[1, 1], [0, 2]])
    assert [s.tolist() for s in iterated_dominance(affine(weak, a, b), strict=False)[1]] == [[1], [1]]
    assert [s.tolist() for s in iterated_dominance(affine(weak, a, b))[1]] == [[0, 1], [0, 1]]
    # BoS: both pure equilibria have the best welfare (5), the mixed one 2.4
    best = welfare_maximizing_equilibria(affine(BOS, a, b))
    assert keys(best) == [(0.0, 1.0, 0.0, 1.0), (1.0, 0.0, 1.0, 0.0)]


# ------------------------------------------------------------------------ cooperative games
def bankruptcy_worths(claims, estate):
    c = np.asarray(claims, float)
    n = len(c)
    return np.array([max(0.0, estate - sum(c[i] for i in range(n) if not S >> i & 1)) for S in range(1 << n)])


def strategically_equivalent(v, n, a, b):
    """w(S) = a v(S) + sum_{i in S} b_i with b_i = b * (i + 1)."""
    shift = np.array([sum(b * (i + 1) for i in range(n) if S >> i & 1) for S in range(1 << n)])
    return CoalitionalGame(n, a * np.asarray(v) + shift)


COOP_AFFINE = [(a, 0.0) for a in SCALES] + [(a, 3.0 * a) for a in SCALES]
COOP_IDS = [f"{a:g}v{b:+g}" for a, b in COOP_AFFINE]


@pytest.mark.parametrize("a, b", COOP_AFFINE, ids=COOP_IDS)
@pytest.mark.parametrize("estate, talmud", [(100, [100 / 3] * 3), (200, [50, 75, 75]), (300, [50, 100, 150])])
def test_nucleolus_of_scaled_talmud_games(estate, talmud, a, b):
    # Aumann & Maschler (1985): the nucleolus of the bankruptcy game is the Talmud's division
    game = strategically_equivalent(bankruptcy_worths([100, 200, 300], estate), 3, a, b)
    nu = nucleolus(game)
    expected = a * np.array(talmud) + b * np.arange(1, 4)
    np.testing.assert_allclose(nu, expected, rtol=1e-9, atol=1e-9 * a)
    assert nu.sum() == pytest.approx(game.v[-1], rel=1e-12)  # efficient


@pytest.mark.parametrize("a, b", COOP_AFFINE, ids=COOP_IDS)
def test_core_emptiness_least_core_and_in_core(a, b):
    majority = [float(bin(S).count("1") >= 2) for S in range(8)]
    g = strategically_equivalent(majority, 3, a, b)
    assert core_is_empty(g)
    x, eps = least_core(g)
    assert eps == pytest.approx(a / 3, rel=1e-9)  # the least core of the majority game: eps = 1/3
    np.testing.assert_allclose(x, a / 3 + b * np.arange(1, 4), rtol=1e-9)
    veto = strategically_equivalent(weighted_voting_game([50, 49, 1], 51).v, 3, a, b)
    assert not core_is_empty(veto)
    glove = strategically_equivalent([float(S & 1 and S != 1) for S in range(8)], 3, a, b)
    shift = b * np.arange(1, 4)
    assert in_core(glove, a * np.array([1.0, 0, 0]) + shift)
    assert not in_core(glove, a * np.array([0.99, 0.01, 0]) + shift)
    assert is_superadditive(glove) and not is_convex(glove)
    assert is_convex(strategically_equivalent([0, 0, 0, 1, 0, 1, 1, 3], 3, a, b))
    assert not is_superadditive(strategically_equivalent([0, 1, 1, 1], 2, a, b))


@pytest.mark.parametrize("a", SCALES, ids=[f"{a:g}" for a in SCALES])
def test_hedonic_games(a):
    from alchemist.games import HedonicGame, is_core_stable, is_individually_stable, is_nash_stable, merge_and_split

    # the documented path a–b (2), b–c (-1), c–d (2), undirected: both directions
    src, dst = [0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]
    w = np.array([2.0, 2.0, -1.0, -1.0, 2.0, 2.0])
    game = HedonicGame(src, dst, a * w, 4)
    labels = merge_and_split(game)
    np.testing.assert_array_equal(labels, merge_and_split(HedonicGame(src, dst, w, 4)))
    np.testing.assert_array_equal(labels, [0, 0, 1, 1])  # hand check: the negative b–c splits the path
    for check in (is_nash_stable, is_individually_stable, is_core_stable):
        assert check(game, [0, 0, 1, 1]) and not check(game, [0, 1, 2, 3])
