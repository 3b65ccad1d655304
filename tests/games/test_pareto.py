"""Pareto fronts and Pareto-optimal / welfare-maximizing equilibria."""

from __future__ import annotations

import numpy as np
import pytest

from alchemist.errors import InvalidGameError
from alchemist.games import (
    NormalFormGame,
    pareto_front,
    pareto_optimal_equilibria,
    welfare_maximizing_equilibria,
)


def brute_force_front(P):
    return np.array([i for i in range(len(P)) if not any(np.all(P[j] >= P[i]) and np.any(P[j] > P[i]) for j in range(len(P)))])


@pytest.mark.parametrize("k, d, seed", [(200, 2, 0), (300, 3, 1), (150, 5, 2)])
def test_front_matches_brute_force(k, d, seed):
    rng = np.random.default_rng(seed)
    P = np.round(rng.random((k, d)) * 6)  # ties and duplicate points
    np.testing.assert_array_equal(pareto_front(P), brute_force_front(P))
    np.testing.assert_array_equal(pareto_front(-P, maximize=False), brute_force_front(P))
    mask = pareto_front(P, return_mask=True)
    assert mask.dtype == bool and mask.sum() == len(brute_force_front(P))


def test_prisoners_dilemma_front_and_equilibria():
    pd = NormalFormGame([[3, 0], [5, 1]], [[3, 5], [0, 1]])
    # profiles in C order: (C,C)=(3,3), (C,D)=(0,5), (D,C)=(5,0), (D,D)=(1,1): only (D,D) is dominated
    np.testing.assert_array_equal(pareto_front(pd), [0, 1, 2])
    (eq,) = pareto_optimal_equilibria(pd)  # the unique equilibrium (D, D), Pareto-dominated by (C, C)
    np.testing.assert_array_equal(eq[0], [0, 1])


def test_battle_of_sexes_welfare():
    bos = NormalFormGame([[3, 0], [0, 2]], [[2, 0], [0, 3]])
    po = pareto_optimal_equilibria(bos)
    assert len(po) == 2  # the two pure equilibria (3,2) and (2,3); the mixed one (1.2, 1.2) is dominated
    best = welfare_maximizing_equilibria(bos)
    assert len(best) == 2 and all(max(s.max() for s in eq) == 1.0 for eq in best)


def test_bad_points():
    with pytest.raises(InvalidGameError, match="2-D"):
        pareto_front([1, 2, 3])
    with pytest.raises(InvalidGameError, match="finite"):
        pareto_front([[1, np.nan]])
