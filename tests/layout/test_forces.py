"""Extra layout forces against hand-computed values."""

import networkx as nx
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
    TemporalAttraction,
    UtilityGradient,
    node_masses,
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
    f = PairRepulsion([0], [1], strength=5.0, scaling_ratio=0.05)(P)
    # n k_r m_i m_j = 4 * 0.05 = 0.2; d = p0 - p1 = (-3, -4), |d|^2 = 25:
    # F_0 = 5 * 0.2 * (-3, -4) / 25 = (-0.12, -0.16), magnitude 5 * 0.2 / 5 = 0.2
    np.testing.assert_allclose(f[0], [-0.12, -0.16], rtol=1e-6)
    np.testing.assert_allclose(f[1], [0.12, 0.16], rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(f[0]), 0.2, rtol=1e-6)


def test_pair_repulsion_uses_forceatlas2_masses_of_the_graph():
    g = nx.path_graph(4)  # masses 1 + degree = 2, 3, 3, 2
    f = PairRepulsion([0], [1], strength=1.0, graph=g)(P)
    # strength * k_r * n * m_0 * m_1 = 1 * 2 * 4 * 2 * 3 = 48; F_0 = 48 * (-3, -4) / 25
    np.testing.assert_allclose(f[0], [-5.76, -7.68], rtol=1e-6)
    np.testing.assert_allclose(f[1], [5.76, 7.68], rtol=1e-6)
    with pytest.raises(LayoutError, match="graph= has 4 nodes but the layout has 5"):
        PairRepulsion([0], [1], graph=g).validate(5)


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
    d = c0 - c1  # unit masses: M_0 = 2 (two members), M_1 = 1; k_r = 2
    np.testing.assert_allclose(f[0], 2 * 1 * d / (d @ d), rtol=1e-6)
    np.testing.assert_allclose(f[2], 2 * 1 * d / (d @ d), rtol=1e-6)
    np.testing.assert_allclose(f[1], -2 * 2 * d / (d @ d), rtol=1e-6)
    np.testing.assert_allclose(f[3], [0, 0])
    # with the graph's masses (path 0-1-2-3: 2, 3, 3, 2): M_0 = 2 + 3 = 5, M_1 = 3
    fm = GroupRepulsion(labels, strength=0.5, graph=nx.path_graph(4))(P)
    np.testing.assert_allclose(fm[0], 0.5 * 2 * 2 * 3 * d / (d @ d), rtol=1e-6)
    np.testing.assert_allclose(fm[2], 0.5 * 2 * 3 * 3 * d / (d @ d), rtol=1e-6)
    np.testing.assert_allclose(fm[1], -0.5 * 2 * 3 * 5 * d / (d @ d), rtol=1e-6)


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


def test_node_masses_are_one_plus_degree():
    g = nx.star_graph(3)  # hub 0 with 3 leaves
    np.testing.assert_array_equal(node_masses(g), [4, 2, 2, 2])


def test_temporal_attraction_springs_between_temporal_neighbours():
    t = np.array([0.0, 10.0, 1.0, 50.0])
    force = TemporalAttraction(t, k=1, tau=2.0)
    # nearest in time: 0<->2 (gap 1), 1<->2 (gap 9), 3<->1 (gap 40); each unordered pair once
    assert sorted(zip(force.i.tolist(), force.j.tolist())) == [(0, 2), (1, 2), (1, 3)]
    f = force(P)
    w02, w12, w13 = np.exp(-1 / 2.0), np.exp(-9 / 2.0), np.exp(-40 / 2.0)
    expected = np.zeros((4, 2))
    for (a, b), w in (((0, 2), w02), ((1, 2), w12), ((1, 3), w13)):
        expected[a] += -w * (P[a] - P[b])
        expected[b] -= -w * (P[a] - P[b])
    np.testing.assert_allclose(f, expected, rtol=1e-5, atol=1e-7)


def test_temporal_attraction_reads_datetimes_and_defaults_tau_to_the_median_gap():
    t = np.array(["2024-01-01T00:00:00", "2024-01-01T00:00:30", "2024-01-01T00:02:00"], dtype="datetime64[s]")
    force = TemporalAttraction(t, k=1)
    # neighbour gaps (s): 0->1 30, 1->0 30, 2->1 90: median 30
    assert force.tau == 30.0
    with pytest.raises(LayoutError, match="NaT"):
        TemporalAttraction(np.array(["2024-01-01", "NaT"], dtype="datetime64[s]"))
    with pytest.raises(LayoutError, match="3 timestamps for a graph with 4 nodes"):
        TemporalAttraction([0.0, 1.0, 2.0]).validate(4)
    with pytest.raises(LayoutError, match="numbers or datetimes"):
        TemporalAttraction(["yesterday", "today"])


def test_utility_gradient_pushes_along_the_direction_by_standardized_utility():
    u = np.array([1.0, 2.0, 3.0, 6.0])
    z = (u - u.mean()) / u.std()
    f = UtilityGradient(u, strength=0.5, direction=(0, 2))(P)
    np.testing.assert_allclose(f, np.stack([np.zeros(4), 0.5 * 2 * z], axis=1), rtol=1e-6)
    g = nx.path_graph(4)
    fm = UtilityGradient(u, graph=g)(P)  # k_r m_i mean(m) z_i = 2 * m_i * 2.5 * z_i along x
    np.testing.assert_allclose(fm[:, 0], 2 * np.array([2, 3, 3, 2]) * 2.5 * z, rtol=1e-6)
    with pytest.raises(LayoutError, match="all equal"):
        UtilityGradient([1.0, 1.0])
    with pytest.raises(LayoutError, match="direction"):
        UtilityGradient([1.0, 2.0], direction=(0, 0))
    with pytest.raises(LayoutError, match="utility\\[1\\]"):
        UtilityGradient([1.0, np.inf])


def test_bind_gives_forceatlas2s_masses_and_scaling_ratio_unless_given():
    g = nx.path_graph(4)
    labels = [0, 1, 0, -1]
    bound = GroupRepulsion(labels)
    bound.bind(node_masses(g), 2.0)
    np.testing.assert_allclose(bound(P), GroupRepulsion(labels, graph=g)(P), rtol=1e-6)
    kept = PairRepulsion([0], [1], scaling_ratio=0.5)  # given: the layout's scaling_ratio does not replace it
    kept.bind(np.ones(4), 10.0)
    assert kept.scaling_ratio == 0.5
    np.testing.assert_allclose(kept(P)[0], 0.5 * 4 * np.array([-3.0, -4.0]) / 25, rtol=1e-6)
    tilt = UtilityGradient([1.0, 2.0, 3.0, 6.0])
    assert tilt.scaling_ratio == 2.0 and tilt.masses is None
    tilt.bind(node_masses(g), 3.0)
    assert tilt.scaling_ratio == 3.0
    np.testing.assert_array_equal(tilt.masses, [2, 3, 3, 2])
    with pytest.raises(LayoutError, match="graph= has 4 nodes but the layout has 5"):
        kept.validate(5)
