"""Batched categorization, distance, similarity and membership matrices; Voronoi convexity."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import cKDTree

from alchemist.concepts import ConceptualSpace, categorize, distance_matrix, membership_matrix, similarity_matrix
from alchemist.concepts.regions import ConvexRegion, PrototypeConcepts
from alchemist.errors import ConceptError, DimensionMismatchError


@pytest.mark.parametrize("d", [3, 6, 10])
def test_euclidean_matches_ckdtree(d):
    rng = np.random.default_rng(d)
    x, p = rng.normal(size=(20_000, d)), rng.normal(size=(300, d))
    _, expected = cKDTree(p).query(x, k=1)
    np.testing.assert_array_equal(categorize(x, p, backend="cpu"), expected)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_low_dimensional_grid_matches_ckdtree(d):
    import sys

    grid = sys.modules["alchemist.concepts._nearest"].nearest_grid
    rng = np.random.default_rng(10 + d)
    x, p = rng.random((30_000, d)), rng.random((400, d))
    assert grid(x - 0.5, p - 0.5) is not None  # the grid path is taken here
    _, expected = cKDTree(p).query(x, k=1)
    np.testing.assert_array_equal(categorize(x, p, backend="cpu"), expected)
    # candidate lists longer than the first pass keeps are recomputed
    np.testing.assert_array_equal(grid(x, p, cap=2), expected)


def test_grid_degenerate_and_duplicate_prototypes():
    rng = np.random.default_rng(11)
    # all on a plane (one axis of zero extent)
    x, p = rng.random((5000, 3)), rng.random((200, 3))
    x[:, 2] = p[:, 2] = 0.25
    _, expected = cKDTree(p).query(x, k=1)
    np.testing.assert_array_equal(categorize(x, p, backend="cpu"), expected)
    # duplicated prototypes: exact ties go to the smallest index (NumPy argmin over exact distances)
    p = rng.random((150, 3))
    p = np.vstack([p, p])
    x = np.vstack([rng.random((4000, 3)), p])
    expected = ((x[:, None, :] - p[None, :, :]) ** 2).sum(-1).argmin(axis=1)
    np.testing.assert_array_equal(categorize(x, p, backend="cpu"), expected)


def test_grid_near_ties_far_from_origin():
    import sys

    grid = sys.modules["alchemist.concepts._nearest"].nearest_grid
    # prototypes on a lattice of spacing 0.002 around 1000; points 1e-9 off the bisectors
    axis = 1000.0 + 0.002 * np.arange(12)
    p = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), -1).reshape(-1, 3)
    rng = np.random.default_rng(12)
    base = p[rng.integers(0, len(p), 3000)]
    x = base + np.where(rng.random((3000, 3)) < 0.5, 0.001, -0.001) + rng.choice([-1e-9, 1e-9], (3000, 3))
    assert grid(x - p.mean(0), p - p.mean(0)) is not None
    expected = ((x[:, None, :] - p[None, :, :]) ** 2).sum(-1).argmin(axis=1)
    np.testing.assert_array_equal(categorize(x, p, backend="cpu"), expected)


def test_near_ties_resolved_exactly():
    # points almost equidistant from two prototypes far from the origin (float32 cancellation)
    p = np.array([[1000.0, 1000.0, 1000.0], [1000.0, 1000.0, 1000.002]])
    x = np.array([[1000.0, 1000.0, 1000.0009], [1000.0, 1000.0, 1000.0011], [0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(categorize(x, p, backend="cpu"), [0, 1, 0])


def test_weighted_single_domain_matches_scaled_ckdtree():
    sp = ConceptualSpace({"color": [0, 1, 2]}, dimension_weights={"color": [1, 4, 1]})
    rng = np.random.default_rng(3)
    x, p = rng.random((5000, 3)), rng.random((100, 3))
    scale = np.sqrt([1 / 6, 4 / 6, 1 / 6])
    _, expected = cKDTree(p * scale).query(x * scale, k=1)
    np.testing.assert_array_equal(categorize(x, p, sp, backend="cpu"), expected)


def test_combined_metric_matches_brute_force():
    sp = ConceptualSpace({"a": [0, 1], "hue": [2], "b": [3]}, kinds=["continuous", "continuous", "circular", "continuous"],
                         ranges=[(0, 1), (0, 1), (0, 360), (0, 1)], weights={"a": 1, "hue": 0.5, "b": 2})
    rng = np.random.default_rng(4)
    x = rng.random((500, 4)) * [1, 1, 360, 1]
    p = rng.random((40, 4)) * [1, 1, 360, 1]
    full = sp.distance(x[:, None, :], p[None, :, :])
    np.testing.assert_allclose(distance_matrix(x, p, sp, backend="cpu"), full, rtol=1e-12)
    np.testing.assert_array_equal(categorize(x, p, sp, backend="cpu"), full.argmin(axis=1))
    np.testing.assert_allclose(similarity_matrix(x, p, sp, c=2.0, backend="cpu"), np.exp(-2 * full), rtol=1e-12)
    np.testing.assert_allclose(similarity_matrix(x, p, sp, kind="inverse", backend="cpu"), 1 / (1 + full), rtol=1e-12)


def test_circular_and_categorical_match_brute_force():
    sp = ConceptualSpace({"hue": [0], "kind": [1], "size": [2, 3]},
                         kinds=["circular", "categorical", "continuous", "continuous"],
                         ranges=[(0, 360), (0, 4), (0, 1), (0, 1)], weights={"hue": 1.0, "kind": 0.3, "size": 2.0})
    rng = np.random.default_rng(13)
    # hues beyond one period too, categories as integer codes
    x = np.column_stack([rng.random(600) * 720 - 180, rng.integers(0, 4, 600), rng.random((600, 2))])
    p = np.column_stack([rng.random(50) * 360, rng.integers(0, 4, 50), rng.random((50, 2))])
    full = sp.distance(x[:, None, :], p[None, :, :])
    np.testing.assert_array_equal(categorize(x, p, sp, backend="cpu"), full.argmin(axis=1))


def test_membership_matrix_matches_concepts(fruit):
    _, k, _ = fruit
    concepts = list(k.values())
    x = np.random.default_rng(5).random((300, 3))
    expected = np.stack([c.membership(x) for c in concepts], axis=1)
    np.testing.assert_allclose(membership_matrix(x, concepts, backend="cpu"), expected, rtol=1e-12)


def test_bad_input():
    with pytest.raises(DimensionMismatchError):
        categorize(np.zeros((3, 2)), np.zeros((2, 3)), backend="cpu")
    with pytest.raises(ConceptError, match="non-finite"):
        categorize(np.array([[np.nan, 0.0]]), np.zeros((2, 2)), backend="cpu")
    with pytest.raises(ConceptError, match="no prototypes"):
        categorize(np.zeros((3, 2)), np.zeros((0, 2)), backend="cpu")
    with pytest.raises(ConceptError, match="sensitivity"):
        similarity_matrix(np.zeros((3, 2)), np.zeros((2, 2)), c=-1.0, backend="cpu")


_SPACE = ConceptualSpace({"q": [0, 1, 2]}, dimension_weights={"q": [1, 2, 3]})
_PROTOS = np.random.default_rng(6).random((12, 3))
_CELLS = PrototypeConcepts(_SPACE, _PROTOS)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0, 1), min_size=3, max_size=3),
    st.lists(st.floats(0, 1), min_size=3, max_size=3),
    st.floats(0, 1),
)
def test_voronoi_cells_are_convex(a, b, t):
    """Gärdenfors' criterion P: points between two members of a cell are in the cell."""
    a, b = np.array(a), np.array(b)
    la, lb = _CELLS.categorize(np.stack([a, b]), backend="cpu")
    if la == lb:
        assert _CELLS.categorize(((1 - t) * a + t * b)[None, :], backend="cpu")[0] == la


def test_voronoi_cell_polytope_agrees_with_categorize():
    x = np.random.default_rng(7).random((3000, 3))
    labels = _CELLS.categorize(x, backend="cpu")
    for i in (0, 5):
        cell = ConvexRegion.voronoi_cell(_PROTOS, i, _SPACE)
        np.testing.assert_array_equal(cell.contains(x), labels == i)


def test_polytope_membership():
    sp = ConceptualSpace({"q": [0, 1]})
    square = ConvexRegion(sp, [[1, 0], [-1, 0], [0, 1], [0, -1]], [1, 0, 1, 0])
    assert square.contains([0.5, 0.5]) and not square.contains([1.5, 0.5])
    assert square.membership([1.5, 0.5], c=2.0) == pytest.approx(np.exp(-1.0))
    with pytest.raises(ConceptError, match="all-zero"):
        ConvexRegion(sp, [[0, 0]], [1])


@pytest.mark.parametrize("seed", [0, 1])
def test_multidomain_float32_kernel_matches_brute_force(seed):
    # several continuous domains (Euclidean within, Manhattan across): the float32 kernel with
    # exact re-check must give the argmin of the float64 combined distance
    sp = ConceptualSpace({"color": [0, 1, 2], "shape": [3], "taste": [4, 5]}, weights={"color": 2, "shape": 0.5, "taste": 1},
                         dimension_weights={"color": [1, 3, 1], "shape": [1], "taste": [2, 1]})
    rng = np.random.default_rng(seed)
    x = rng.random((3000, 6)) * 50 + 1000  # far from the origin: float32 cancellation if done naively
    p = rng.random((70, 6)) * 50 + 1000
    full = sp.distance(x[:, None, :], p[None, :, :])
    np.testing.assert_array_equal(categorize(x, p, sp, backend="cpu"), full.argmin(axis=1))


def test_multidomain_near_ties_resolved_exactly():
    sp = ConceptualSpace({"a": [0, 1], "b": [2]}, weights={"a": 1, "b": 1})
    p = np.array([[1000.0, 1000.0, 1000.0], [1000.0, 1000.0, 1000.002], [1000.0, 1000.0, 1000.0]])
    x = np.array([[1000.0, 1000.0, 1000.0009], [1000.0, 1000.0, 1000.0011], [1000.0, 1000.0, 1000.001]])
    full = sp.distance(x[:, None, :], p[None, :, :])
    # the third point is equidistant in exact arithmetic: the smallest index wins
    assert full[2, 0] == full[2, 1]
    np.testing.assert_array_equal(categorize(x, p, sp, backend="cpu"), [0, 1, 0])
