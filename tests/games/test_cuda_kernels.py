"""CUDA kernels of alchemist.games under the Numba CUDA simulator (small inputs)."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytestmark = pytest.mark.cudasim


def test_semivalue_kernel_matches_cpu_on_small_games():
    from alchemist.games import CoalitionalGame, shapley_value, weighted_voting_game
    from alchemist.games._cuda import semivalue_gpu

    rng = np.random.default_rng(0)
    for n in (3, 6, 8):
        v = rng.random(1 << n)
        v[0] = 0
        g = CoalitionalGame(n, v)
        w = np.array([math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) for s in range(n)])
        np.testing.assert_allclose(semivalue_gpu(g.v, n, w), shapley_value(g, backend="cpu"), atol=1e-12)
    g = weighted_voting_game([50, 49, 1], 51)
    w = np.array([2.0, 1.0, 2.0]) / 6
    np.testing.assert_allclose(semivalue_gpu(g.v, 3, w), [2 / 3, 1 / 6, 1 / 6])


def test_skyline_kernel_matches_brute_force():
    from alchemist.games._cuda import skyline_gpu

    rng = np.random.default_rng(1)
    P = np.round(rng.random((60, 3)) * 4)  # many ties and duplicates
    dominated = [any(np.all(P[j] >= P[i]) and np.any(P[j] > P[i]) for j in range(len(P))) for i in range(len(P))]
    np.testing.assert_array_equal(skyline_gpu(P), ~np.array(dominated))
