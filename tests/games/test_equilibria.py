"""Two-player equilibria (support/vertex enumeration, Lemke–Howson, zero-sum LP) and pure_nash,
against nashpy, QuantEcon, pygambit and textbook answers."""

from __future__ import annotations

import glob
import warnings
from fractions import Fraction

import numpy as np
import pytest

from alchemist.errors import DegenerateGameWarning, InvalidGameError
from alchemist.games import (
    NormalFormGame,
    is_degenerate,
    is_nash,
    lemke_howson,
    lemke_howson_all,
    pure_nash,
    read_nfg,
    support_enumeration,
    vertex_enumeration,
    zero_sum_equilibrium,
)

from ._peers import float_key, gambit_profiles, quantecon_game

import nashpy
import quantecon.game_theory as gt
import pygambit

MATCHING_PENNIES = NormalFormGame([[1, -1], [-1, 1]])
BATTLE_OF_SEXES = NormalFormGame([[3, 0], [0, 2]], [[2, 0], [0, 3]])
RPS = NormalFormGame([[0, -1, 1], [1, 0, -1], [-1, 1, 0]])
# von Stengel (2007), Fig. 3.5 / eq. (3.7): a degenerate 3x2 game whose equilibria form a segment
VS_DEGENERATE = NormalFormGame([[3, 3], [2, 5], [0, 6]], [[3, 3], [2, 6], [3, 1]])


def keys(eqs, digits=6):
    return sorted(float_key(e, digits) for e in eqs)


def test_textbook_games():
    half = (0.5, 0.5)
    assert keys(vertex_enumeration(MATCHING_PENNIES)) == [half + half]
    assert keys(support_enumeration(MATCHING_PENNIES)) == [half + half]
    bos = [(0.0, 1.0, 0.0, 1.0), (0.6, 0.4, 0.4, 0.6), (1.0, 0.0, 1.0, 0.0)]
    assert keys(vertex_enumeration(BATTLE_OF_SEXES)) == bos
    assert keys(support_enumeration(BATTLE_OF_SEXES)) == bos
    third = tuple([round(1 / 3, 6)] * 6)
    assert keys(vertex_enumeration(RPS)) == [third]
    x, y = lemke_howson(RPS, label=2)
    np.testing.assert_allclose(np.concatenate([x, y]), 1 / 3, atol=1e-12)


def test_vertex_enumeration_on_von_stengels_degenerate_game():
    # Nisan et al. (2007) §3.6: pure (T1, L) is an equilibrium, and the row player's strategies
    # mixing actions 2, 3 form with L a segment; the extreme equilibria are known in closed form.
    assert is_degenerate(VS_DEGENERATE)
    exact = vertex_enumeration(VS_DEGENERATE, exact=True)
    got = sorted(tuple(v for s in e for v in s) for e in exact)
    F = Fraction
    expected = sorted([
        (F(1), F(0), F(0), F(1), F(0)),
        (F(1), F(0), F(0), F(2, 3), F(1, 3)),
        (F(0), F(1, 3), F(2, 3), F(1, 3), F(2, 3)),
    ])
    assert got == expected
    with pytest.warns(DegenerateGameWarning):
        support_enumeration(VS_DEGENERATE)


@pytest.mark.parametrize("name", ["deg1", "deg2", "2x2const", "coord4", "mixdom", "perfect1", "todd1", "cent2", "yamamoto", "csg4"])
def test_vertex_enumeration_matches_gambit_enummixed_exactly(shared_data, name):
    path = shared_data(f"gambit_games/contrib/games/{name}.nfg")
    game = read_nfg(path)
    theirs_game = pygambit.read_nfg(str(path))
    theirs = gambit_profiles(theirs_game, pygambit.nash.enummixed_solve(theirs_game, rational=True))
    ours = vertex_enumeration(game, exact=True)
    to_key = lambda prof: tuple(Fraction(v) for s in prof for v in s)  # noqa: E731
    # Gambit may list a vertex pair more than once (csg4): compare the sets
    assert len(set(map(to_key, ours))) == len(ours)
    assert set(map(to_key, ours)) == set(map(to_key, theirs))
    for eq in ours:
        assert is_nash(game, eq, exact=True)


def test_75_equilibria_game(shared_data):
    path = shared_data("gambit_games/catalog/journals/dcg/vonstengel1999/6x6_game_with_75_eq.nfg")
    game = read_nfg(path)
    assert not is_degenerate(game)
    ve = vertex_enumeration(game)
    se = support_enumeration(game)
    assert len(ve) == 75 and keys(ve) == keys(se)
    # Lemke-Howson from every label ends at a verified equilibrium despite the 7-digit payoffs
    for eq in lemke_howson_all(game):
        assert is_nash(game, eq)
        assert float_key(eq) in set(keys(ve))


@pytest.mark.parametrize("seed, size", [(0, (4, 4)), (1, (5, 3)), (2, (6, 6)), (3, (7, 5))])
def test_enumerations_match_nashpy_on_random_games(seed, size):
    rng = np.random.default_rng(seed)
    A, B = rng.integers(-20, 20, size=(2,) + size).astype(float) + rng.random((2,) + size) * 1e-3
    game = NormalFormGame(A, B)
    nash_game = nashpy.Game(A, B)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs_se = list(nash_game.support_enumeration())
        theirs_ve = list(nash_game.vertex_enumeration())
    ours_se = keys(support_enumeration(game))
    assert ours_se == keys(vertex_enumeration(game)) == keys(theirs_ve)
    assert ours_se == keys(gt.support_enumeration(quantecon_game(game)))
    # nashpy's support enumeration silently misses equilibria on some of these games (seed 0:
    # 3 of 7); what it finds must be among ours
    assert set(keys(theirs_se)) <= set(ours_se)


@pytest.mark.parametrize("n, seed", [(8, 0), (40, 1), (120, 2)])
def test_lemke_howson_follows_quantecon_path(n, seed):
    rng = np.random.default_rng(seed)
    A, B = rng.random((2, n, n))
    game = NormalFormGame(A, B)
    g = quantecon_game(game)
    for label in (0, n + 1):
        (x, y), info = lemke_howson(game, label=label, full_output=True)
        NE, res = gt.lemke_howson(g, init_pivot=label, full_output=True)
        assert info["n_pivots"] == res.num_iter
        np.testing.assert_allclose(x, NE[0], atol=1e-9)
        np.testing.assert_allclose(y, NE[1], atol=1e-9)
        assert is_nash(game, (x, y))


def test_lemke_howson_500x500_is_verified():
    rng = np.random.default_rng(500)
    A, B = rng.random((2, 500, 500))
    game = NormalFormGame(A, B)
    x, y = lemke_howson(game)
    assert is_nash(game, (x, y), tol=1e-9)


def test_lemke_howson_on_degenerate_games_terminates_with_equilibrium(shared_data):
    # lexicographic pivoting: no cycling on degenerate games
    for eq in lemke_howson_all(VS_DEGENERATE):
        assert is_nash(VS_DEGENERATE, eq)
    constant = NormalFormGame(np.zeros((4, 3)), np.ones((4, 3)))
    for eq in lemke_howson_all(constant):
        assert is_nash(constant, eq)
    for name in ("deg1", "deg2", "coord4", "mixdom"):
        game = read_nfg(shared_data(f"gambit_games/contrib/games/{name}.nfg"))
        for eq in lemke_howson_all(game):
            assert is_nash(game, eq, tol=1e-9)


def test_lemke_howson_bad_label():
    with pytest.raises(InvalidGameError, match="out of range"):
        lemke_howson(BATTLE_OF_SEXES, label=4)
    with pytest.raises(InvalidGameError, match="2-player"):
        lemke_howson(NormalFormGame([np.ones((2, 2, 2))] * 3))


def test_zero_sum_lp_matches_gambit():
    rng = np.random.default_rng(7)
    A = rng.integers(-5, 6, size=(5, 4)).astype(float)
    (x, y), value = zero_sum_equilibrium(A)
    theirs = pygambit.Game.from_arrays(A.astype(int), (-A).astype(int))
    eq = pygambit.nash.lp_solve(theirs, rational=True).equilibria[0]
    assert value == pytest.approx(float(eq.payoff(list(theirs.players)[0])), abs=1e-9)
    assert is_nash(NormalFormGame(A), (x, y))
    (x, y), v = zero_sum_equilibrium(MATCHING_PENNIES)
    assert v == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(x, 0.5)
    with pytest.raises(InvalidGameError, match="not zero-sum"):
        zero_sum_equilibrium(BATTLE_OF_SEXES)


@pytest.mark.parametrize("shape, seed", [((3, 3, 3), 0), ((2, 4, 3, 2), 1), ((4, 4), 2)])
def test_pure_nash_matches_quantecon(shape, seed):
    rng = np.random.default_rng(seed)
    payoffs = [rng.integers(0, 3, size=shape).astype(float) for _ in shape]  # many ties
    game = NormalFormGame(payoffs)
    ours = [tuple(int(a) for a in row) for row in pure_nash(game)]
    theirs = gt.pure_nash_brute(quantecon_game(game))
    assert sorted(ours) == sorted(tuple(int(a) for a in p) for p in theirs)
    for eq in pure_nash(game, mixed=True):
        assert is_nash(game, eq)


def test_pure_nash_matches_gambit_on_files(shared_data):
    root = shared_data("gambit_games/contrib/games")
    for path in sorted(glob.glob(str(root / "*.nfg"))):
        game = read_nfg(path)
        theirs_game = pygambit.read_nfg(path)
        theirs = pygambit.nash.enumpure_solve(theirs_game)
        expected = sorted(tuple(int(np.argmax([float(v) for v in s])) for s in prof) for prof in gambit_profiles(theirs_game, theirs))
        assert sorted(tuple(map(int, r)) for r in pure_nash(game)) == expected, path


def test_lemke_howson_in_kernel_check_matches_numpy_regret():
    # the compiled best-response check that replaces the Python verification
    from alchemist.games._bimatrix import bimatrix_regret

    rng = np.random.default_rng(11)
    for m, n in [(3, 5), (7, 4), (12, 12)]:
        A, B = rng.normal(size=(2, m, n))
        x, y = rng.dirichlet(np.ones(m)), rng.dirichlet(np.ones(n))
        expected = max((A @ y).max() - x @ A @ y, (x @ B).max() - x @ B @ y)
        assert bimatrix_regret(A, B, x, y) == pytest.approx(expected, abs=1e-12)
    # numpy integer labels and (A, B) tuples take the validating path and give the same result
    x1, y1 = lemke_howson(BATTLE_OF_SEXES, label=np.int64(1))
    x2, y2 = lemke_howson((BATTLE_OF_SEXES.payoffs[0], BATTLE_OF_SEXES.payoffs[1]), label=1)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert is_nash(BATTLE_OF_SEXES, (x1, y1))
    with pytest.raises(InvalidGameError, match="integer"):
        lemke_howson(BATTLE_OF_SEXES, label=True)
