"""Iterated dominance, replicator dynamics, fictitious play and logit QRE against peers."""

from __future__ import annotations

import glob

import numpy as np
import pytest

from alchemist.errors import InvalidGameError
from alchemist.games import (
    NormalFormGame,
    fictitious_play,
    is_nash,
    iterated_dominance,
    logit_qre,
    read_nfg,
    replicator_dynamics,
)

import nashpy
import pygambit
import quantecon.game_theory as gt


def gambit_iterated(path, strict):
    """Repeat Gambit's one-round elimination until nothing changes."""
    game = pygambit.read_nfg(path)
    support = game.strategy_support_profile()
    while True:
        nxt = pygambit.supports.undominated_strategies_solve(support, strict=strict)
        if len(list(nxt)) == len(list(support)):
            break
        support = nxt
    return tuple(sorted(i for i, s in enumerate(p.strategies) if s in support) for p in game.players)


@pytest.mark.parametrize("strict", [True, False])
def test_pure_dominance_matches_gambit_on_files(shared_data, strict):
    root = shared_data("gambit_games/contrib/games")
    for path in sorted(glob.glob(str(root / "*.nfg"))):
        _, survivors = iterated_dominance(read_nfg(path), strict=strict)
        assert tuple(sorted(a.tolist()) for a in survivors) == gambit_iterated(path, strict), path


def test_mixed_dominance():
    # the middle row is dominated only by the half-half mixture of the top and bottom rows
    g = NormalFormGame([[3, 0], [1, 1], [0, 3]], [[1, 1], [1, 1], [1, 1]])
    assert [a.tolist() for a in iterated_dominance(g)[1]] == [[0, 1, 2], [0, 1]]
    assert [a.tolist() for a in iterated_dominance(g, mixed=True)[1]] == [[0, 2], [0, 1]]
    with pytest.raises(InvalidGameError, match="strict"):
        iterated_dominance(g, strict=False, mixed=True)


def test_prisoners_dilemma_dominance_keeps_labels():
    pd = NormalFormGame([[3, 0], [5, 1]], [[3, 5], [0, 1]], strategies=[["C", "D"], ["C", "D"]])
    reduced, survivors = iterated_dominance(pd)
    assert reduced.strategies == [["D"], ["D"]] and reduced.shape == (1, 1)


def test_replicator_dynamics_matches_nashpy():
    A = np.array([[4.0, 3.0], [2.0, 1.0]])
    t = np.linspace(0, 10, 50)
    np.testing.assert_allclose(replicator_dynamics(A, [0.3, 0.7], t),
                               nashpy.Game(A).replicator_dynamics(y0=np.array([0.3, 0.7]), timepoints=t), atol=1e-5)
    B = np.array([[1.0, 0.0], [0.0, 2.0]])
    x0, y0 = np.array([0.3, 0.7]), np.array([0.6, 0.4])
    t = np.linspace(0, 5, 20)
    ours = replicator_dynamics(NormalFormGame(A, B), (x0, y0), t)
    xs, ys = nashpy.Game(A, B).asymmetric_replicator_dynamics(x0=x0, y0=y0, timepoints=t)
    np.testing.assert_allclose(ours, np.hstack([xs, ys]), atol=1e-5)
    with pytest.raises(InvalidGameError, match="probability vector"):
        replicator_dynamics(A, [0.5, 0.6])


def test_fictitious_play_converges_in_zero_sum_games():
    rps = NormalFormGame([[0, -1, 1], [1, 0, -1], [-1, 1, 0]])
    x, y = fictitious_play(rps, 20000)
    np.testing.assert_allclose(np.concatenate([x, y]), 1 / 3, atol=0.01)
    mp = NormalFormGame([[1, -1], [-1, 1]])
    x, y = fictitious_play(mp, 20000)
    assert is_nash(mp, (x, y), tol=0.01)


def test_fictitious_play_matches_quantecon_trajectory():
    rng = np.random.default_rng(4)
    A, B = rng.random((2, 3, 4))
    game = NormalFormGame(A, B)
    qe = gt.NormalFormGame([gt.Player(A), gt.Player(B.T)])
    fp = gt.FictitiousPlay(qe)
    # QuantEcon starts from given beliefs and plays best responses with smallest-index ties;
    # starting beliefs at the pure profile (0, 0) make both procedures identical
    theirs = fp.play(actions=(0, 0), num_reps=199, t_init=0, tie_breaking="smallest")
    ours = fictitious_play(game, 200, initial=(0, 0))
    np.testing.assert_allclose(ours[0], theirs[0], atol=1e-12)
    np.testing.assert_allclose(ours[1], theirs[1], atol=1e-12)


def test_fictitious_play_three_players():
    g = read_nfg_from_arrays()
    strategies = fictitious_play(g, 300)
    assert all(abs(s.sum() - 1) < 1e-12 for s in strategies)


def read_nfg_from_arrays():
    rng = np.random.default_rng(9)
    return NormalFormGame([rng.random((2, 3, 2)) for _ in range(3)])


@pytest.mark.parametrize("name, lams", [("2x2x2", [0.2, 0.5]), ("e07", [0.05, 0.3]), ("coord3", [0.5, 1.0])])
def test_logit_qre_matches_gambit(shared_data, name, lams):
    path = str(shared_data(f"gambit_games/contrib/games/{name}.nfg"))
    game = read_nfg(path)
    ours = logit_qre(game, lams)
    for lam, mine in zip(lams, ours):
        # one call per lambda: with a list, pygambit 16.7 may stop short of the later values
        (q,) = pygambit.qre.logit_solve_lambda(pygambit.read_nfg(path), lam=[lam])
        assert q.lam == pytest.approx(lam)
        expected = [[float(q.profile[s]) for s in p.strategies] for p in q.profile.game.players]
        for a, b in zip(mine, expected):
            np.testing.assert_allclose(a, b, atol=1e-6)


def test_logit_qre_limits():
    bos = NormalFormGame([[3, 0], [0, 2]], [[2, 0], [0, 3]])
    for s in logit_qre(bos, 0.0):
        np.testing.assert_allclose(s, 0.5)
    with pytest.raises(InvalidGameError, match="non-negative"):
        logit_qre(bos, -1.0)
