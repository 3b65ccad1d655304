"""logit_qre follows the principal branch by arc length: Gambit's answers, whatever the λ grid."""

from __future__ import annotations

import numpy as np
import pytest

from alchemist.games import NormalFormGame, logit_qre, read_nfg

import pygambit

GAMES = "gambit_games/contrib/games/{}.nfg"


def gambit_qre(path, lam):
    """Gambit's point of the principal branch at ``lam`` (one call per λ: pygambit 16.7 may stop
    short of later values in a list)."""
    (q,) = pygambit.qre.logit_solve_lambda(pygambit.read_nfg(str(path)), lam=[lam])
    assert q.lam == pytest.approx(lam)
    return [np.array([float(q.profile[s]) for s in p.strategies]) for p in q.profile.game.players]


def test_coord3_at_two_is_gambits_point(shared_data):
    # the case: a coarse λ-continuation left the branch and returned (0.51, 0.12, 0.37)
    game = read_nfg(shared_data(GAMES.format("coord3")))
    row, col = logit_qre(game, 2.0)
    np.testing.assert_allclose(row, [0.9935, 0.0033, 0.0032], atol=5e-5)
    np.testing.assert_allclose(col, [0.9631, 0.0183, 0.0186], atol=5e-5)


@pytest.mark.parametrize("name", ["coord3", "5x4x3", "loopback", "e07", "3x3x3"])
@pytest.mark.parametrize("lam", [0.5, 2.0, 5.0])
def test_matches_gambit_at_each_lambda(shared_data, name, lam):
    path = shared_data(GAMES.format(name))
    ours = logit_qre(read_nfg(path), lam)
    for a, b in zip(ours, gambit_qre(path, lam)):
        np.testing.assert_allclose(a, b, atol=1e-6)


@pytest.mark.parametrize("name", ["coord3", "5x4x3", "loopback"])
def test_answer_does_not_depend_on_the_lambda_grid(shared_data, name):
    game = read_nfg(shared_data(GAMES.format(name)))
    alone = logit_qre(game, 2.0)
    for grid in ([2.0], [0.1, 2.0], list(np.linspace(0, 2.0, 41)), [1.999, 2.0, 2.001, 30.0]):
        on_grid = logit_qre(game, grid)[grid.index(2.0)]
        for a, b in zip(alone, on_grid):
            np.testing.assert_allclose(a, b, atol=1e-9)
    for max_step in (0.05, 0.3):  # a finer trace lands on the same point
        for a, b in zip(alone, logit_qre(game, 2.0, max_step=max_step)):
            np.testing.assert_allclose(a, b, atol=1e-8)


def test_logit_qre_is_a_fixed_point_of_the_logit_response(shared_data):
    game = read_nfg(shared_data(GAMES.format("5x4x3")))
    from alchemist.games import expected_payoffs

    for lam in (0.3, 3.0, 20.0):
        prof = logit_qre(game, lam)
        for p in range(game.n_players):
            u = expected_payoffs(game, prof, p)
            logit = np.exp(lam * (u - u.max()))
            np.testing.assert_allclose(prof[p], logit / logit.sum(), atol=1e-9)


@pytest.mark.parametrize("a, b", [(1e-9, 0.0), (1e6, -3e7), (2.0, 5.0)])
def test_precision_is_in_inverse_payoff_units(shared_data, a, b):
    # QRE(a·A + b, λ/a) = QRE(A, λ): the shift is irrelevant and λ carries the payoff unit
    game = read_nfg(shared_data(GAMES.format("coord3")))
    scaled = NormalFormGame(*[a * u + b for u in game.payoffs])
    for x, y in zip(logit_qre(game, 2.0), logit_qre(scaled, 2.0 / a)):
        np.testing.assert_allclose(x, y, atol=1e-8)


def test_pd_tends_to_the_dominant_strategy_equilibrium():
    pd = NormalFormGame([[3, 0], [5, 1]], [[3, 5], [0, 1]])
    # 2x2 with a dominant action: σ(D) = 1 / (1 + exp(-λ·Δ)) with Δ = 1 or 2 by the opponent's mix —
    # solve the scalar fixed point independently by bisection
    lam = 1.5

    def gap(q):  # q = P(defect) of each (symmetric) player
        delta = 2 * (1 - q) + 1 * q  # u(D) - u(C) = (5 - 3)(1 - q) + (1 - 0) q
        return 1 / (1 + np.exp(-lam * delta)) - q

    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if gap(mid) > 0 else (lo, mid)
    row, col = logit_qre(pd, lam)
    assert row[1] == pytest.approx(lo, abs=1e-10)
    assert col[1] == pytest.approx(lo, abs=1e-10)


def test_two_player_two_action_games_against_closed_form():
    # matching pennies with asymmetric stakes: the unique QRE solves two scalar logit equations;
    # solve them independently by nested bisection
    A = np.array([[4.0, 0.0], [0.0, 1.0]])
    B = 1.0 - A
    lam = 3.0

    def row_prob(q):  # P(row plays 0) given P(col plays 0) = q
        return 1 / (1 + np.exp(-lam * (A[0] @ [q, 1 - q] - A[1] @ [q, 1 - q])))

    def col_prob(p):
        return 1 / (1 + np.exp(-lam * (B[:, 0] @ [p, 1 - p] - B[:, 1] @ [p, 1 - p])))

    lo, hi = 0.0, 1.0  # q with col_prob(row_prob(q)) = q (decreasing composite: unique crossing)
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if col_prob(row_prob(mid)) > mid else (lo, mid)
    row, col = logit_qre(NormalFormGame(A, B), lam)
    assert col[0] == pytest.approx(lo, abs=1e-10)
    assert row[0] == pytest.approx(row_prob(lo), abs=1e-10)
