"""Extra layout forces against hand-computed values."""

import numpy as np
import pytest

from alchemist.errors import LayoutError
from alchemist.layout.forces import (
    CallableForce,
    Force,
    GroupAttraction,
    GroupRepulsion,
    PairAttraction,
    PairRepulsion,
)

P = np.array([[0.0, 0.0], [3.0, 4.0], [1.0, 0.0], [10.0, 10.0]], dtype=np.float32)


def test_pair_attraction_is_a_linear_spring():
    f = PairAttraction([0], [1], weight=[2.0], strength=0.5)(P)
    # F_0 = -0.5 * 2 * (p0 - p1) = (3, 4); F_1 = -F_0
    np.testing.assert_allclose(f, [[3, 4], [-3, -4], [0, 0], [0, 0]])
    assert f.dtype == np.float32 and isinstance(f, np.ndarray)


def test_pair_attraction_sums_over_pairs():
    f = PairAttraction([0, 0], [1, 2])(P)
    np.testing.assert_allclose(f[0], [3 + 1, 4 + 0])
    np.testing.assert_allclose(f.sum(axis=0), [0, 0], atol=1e-6)


def test_pair_repulsion_falls_off_as_one_over_distance():
    f = PairRepulsion([0], [1], strength=5.0)(P)
    # d = p0 - p1 = (-3, -4), |d|^2 = 25: F_0 = 5 * (-3, -4) / 25 = (-0.6, -0.8), magnitude 5 / 5 = 1
    np.testing.assert_allclose(f[0], [-0.6, -0.8], rtol=1e-6)
    np.testing.assert_allclose(f[1], [0.6, 0.8], rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(f[0]), 1.0, rtol=1e-6)


def test_pair_repulsion_ignores_coincident_pairs():
    f = PairRepulsion([0], [0])(P)
    assert np.all(f == 0)


def test_group_attraction_pulls_to_centroid():
    labels = [0, 0, -1, 1]
    f = GroupAttraction(labels, strength=2.0)(P)
    c0 = np.array([1.5, 2.0])
    np.testing.assert_allclose(f[0], -2.0 * (P[0] - c0))
    np.testing.assert_allclose(f[1], -2.0 * (P[1] - c0))
    np.testing.assert_allclose(f[2], [0, 0])  # no group
    np.testing.assert_allclose(f[3], [0, 0])  # alone at its own centroid


def test_group_repulsion_between_centroids():
    labels = [0, 1, 0, -1]
    f = GroupRepulsion(labels, strength=1.0)(P)
    c0, c1 = np.array([0.5, 0.0]), np.array([3.0, 4.0])
    d = c0 - c1
    expected0 = d / (d @ d)
    np.testing.assert_allclose(f[0], expected0, rtol=1e-6)
    np.testing.assert_allclose(f[2], expected0, rtol=1e-6)
    np.testing.assert_allclose(f[1], -expected0, rtol=1e-6)
    np.testing.assert_allclose(f[3], [0, 0])


def test_callable_force_and_base_class():
    f = CallableForce(lambda p: np.ones_like(p))
    assert isinstance(f, Force)
    np.testing.assert_allclose(f(P), np.ones((4, 2)))
    with pytest.raises(LayoutError, match="returned shape"):
        CallableForce(lambda p: np.ones(3))(P)
    with pytest.raises(LayoutError, match="non-finite"):
        CallableForce(lambda p: np.full_like(p, np.nan))(P)
    with pytest.raises(LayoutError, match="callable"):
        CallableForce(3)


def test_bad_force_input_is_named():
    with pytest.raises(LayoutError, match="one j per i"):
        PairAttraction([0, 1], [1])
    with pytest.raises(LayoutError, match="weight\\[1\\]"):
        PairAttraction([0, 1], [1, 2], weight=[1.0, np.nan])
    with pytest.raises(LayoutError, match="strength"):
        PairRepulsion([0], [1], strength=-1)
    with pytest.raises(LayoutError, match="j\\[0\\] = 7"):
        PairRepulsion([0], [7]).validate(4)
    with pytest.raises(LayoutError, match="labels\\[1\\] = -2"):
        GroupAttraction([0, -2])
    with pytest.raises(LayoutError, match="3 labels for a graph with 4 nodes"):
        GroupRepulsion([0, 1, 0]).validate(4)
