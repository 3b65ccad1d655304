"""The pivoting vertex enumeration of the best-response polytopes, against SciPy's Qhull
(halfspace intersection) and a brute-force pairing of label sets."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import HalfspaceIntersection

from alchemist.errors import InvalidGameError
from alchemist.games import NormalFormGame, read_nfg, vertex_enumeration
from alchemist.games.vertex_enumeration import _completely_labeled_pairs, best_response_polytope_vertices


def qhull_vertices(M):
    """Vertices of {z >= 0 : M z <= 1} by Qhull, deduplicated."""
    k, d = M.shape
    halfspaces = np.block([[-np.eye(d), np.zeros((d, 1))], [M, -np.ones((k, 1))]])
    verts = HalfspaceIntersection(halfspaces, np.full(d, 0.5 / M.sum(axis=1).max())).intersections
    return np.unique(np.round(verts, 8) + 0.0, axis=0)


def positive(M):
    return (M - M.min()) / (np.ptp(M) or 1.0) + 1.0


GAMES = [
    NormalFormGame(*np.random.default_rng(3).random((2, 5, 4))),
    NormalFormGame(*np.random.default_rng(4).random((2, 7, 7))),
    # degenerate: von Stengel (2007) §3.6 and a game with integer payoffs full of ties
    NormalFormGame([[3, 3], [2, 5], [0, 6]], [[3, 3], [2, 6], [3, 1]]),
    NormalFormGame(*np.random.default_rng(5).integers(0, 3, size=(2, 4, 5)).astype(float)),
]


@pytest.mark.parametrize("game", GAMES)
def test_vertices_and_labels_match_qhull(game):
    m, n = game.shape
    A, B = (positive(M) for M in game.payoffs)
    (VP, LP), (VQ, LQ) = best_response_polytope_vertices(game)
    for V, M in ((VP, B.T), (VQ, A)):
        np.testing.assert_array_equal(np.unique(np.round(V, 8) + 0.0, axis=0), qhull_vertices(M))
        np.testing.assert_array_equal(V[0], 0.0)  # the search starts at the origin
    # labels are the tight constraints, recomputed here with NumPy
    np.testing.assert_array_equal(LP, np.hstack([np.abs(VP) <= 1e-9, np.abs(VP @ B - 1) <= 1e-9]))
    np.testing.assert_array_equal(LQ, np.hstack([np.abs(VQ @ A.T - 1) <= 1e-9, np.abs(VQ) <= 1e-9]))


@pytest.mark.parametrize("game", GAMES)
def test_pairing_matches_brute_force(game):
    m, n = game.shape
    (_, LP), (_, LQ) = best_response_polytope_vertices(game)
    bits = 1 << np.arange(m + n, dtype=np.int64)
    MP, MQ = LP.astype(np.int64) @ bits, LQ.astype(np.int64) @ bits
    ip, iq = _completely_labeled_pairs(MP, MQ, (1 << (m + n)) - 1)
    expected = {(a, b) for a in range(1, len(MP)) for b in range(1, len(MQ)) if np.all(LP[a] | LQ[b])}
    assert set(zip(ip.tolist(), iq.tolist())) == expected
    assert len(ip) == len(expected)


def test_degenerate_constant_game_and_file(shared_data):
    # every profile of a game with constant payoffs is an equilibrium: the extreme ones are the
    # m * n pure profiles
    game = NormalFormGame(np.zeros((3, 4)), np.ones((3, 4)))
    eqs = vertex_enumeration(game)
    assert sorted((int(np.argmax(x)), int(np.argmax(y))) for x, y in eqs) == [(i, j) for i in range(3) for j in range(4)]
    game = read_nfg(shared_data("gambit_games/contrib/games/coord4.nfg"))
    for eq in vertex_enumeration(game):
        assert game.is_nash(eq)


def test_too_many_labels():
    with pytest.raises(InvalidGameError, match="m \\+ n <= 63"):
        vertex_enumeration(NormalFormGame(np.ones((40, 30)), np.ones((40, 30))))
