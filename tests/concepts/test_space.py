"""ConceptualSpace: combined metric, similarity, betweenness, serialisation, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial import distance as sd

from alchemist.concepts import ConceptualSpace, Weights
from alchemist.errors import ConceptError, DimensionMismatchError, UnknownDomainError


@pytest.fixture
def space():
    return ConceptualSpace(
        {"color": [0, 1, 2], "taste": [3, 4]},
        dimension_names=["L", "a", "b", "sweet", "sour"],
        weights={"color": 2.0, "taste": 1.0},
        dimension_weights={"color": [1, 1, 2], "taste": [1, 3]},
    )


def test_weights_normalised_as_bechberger(space):
    w = space.weights
    assert sum(w.domain_weights.values()) == pytest.approx(2.0)  # number of domains
    assert w.domain_weights["color"] == pytest.approx(4 / 3)
    assert sum(w.dimension_weights["taste"].values()) == pytest.approx(1.0)
    assert w.dimension_weights["color"][2] == pytest.approx(0.5)


def test_combined_metric_against_scipy(space):
    rng = np.random.default_rng(1)
    x, y = rng.random(5), rng.random(5)
    w = space.weights
    color = sd.euclidean(x[:3], y[:3], w=[0.25, 0.25, 0.5])
    taste = sd.euclidean(x[3:], y[3:], w=[0.25, 0.75])
    expected = w.domain_weights["color"] * color + w.domain_weights["taste"] * taste
    assert space.distance(x, y) == pytest.approx(expected, rel=1e-12)
    # Minkowski-p over all dimensions with weights w_δ·w_d
    wd = np.array([0.25, 0.25, 0.5, 0.25, 0.75]) * np.repeat([4 / 3, 2 / 3], [3, 2])
    assert space.distance(x, y, p=3, metric="minkowski") == pytest.approx(sd.minkowski(x, y, 3, w=wd), rel=1e-12)


def test_distance_broadcasts_and_weights_override(space):
    rng = np.random.default_rng(2)
    x, y = rng.random((4, 5)), rng.random((4, 5))
    d = space.distance(x, y, weights={"color": 1.0, "taste": 1.0})
    assert d.shape == (4,)
    only_color = space.distance(x, y, weights={"color": 1.0})
    expected = [sd.euclidean(a[:3], b[:3], w=[0.25, 0.25, 0.5]) for a, b in zip(x, y)]
    np.testing.assert_allclose(only_color, expected, rtol=1e-12)


def test_circular_and_categorical_dimensions():
    sp = ConceptualSpace({"hue": [0], "kind": [1], "size": [2]}, kinds=["circular", "categorical", "ordinal"])
    assert sp.distance([350, 1, 2], [10, 1, 2]) == pytest.approx(20.0)
    assert sp.distance([0, 1, 2], [0, 3, 2]) == pytest.approx(1.0)
    assert sp.distance([0, 1, 2], [0, 1, 5]) == pytest.approx(3.0)


def test_similarity_functions(space):
    x, y = np.zeros(5), np.full(5, 0.5)
    d = space.distance(x, y)
    assert space.similarity(x, y, c=2.0) == pytest.approx(math.exp(-2 * d))
    assert space.similarity(x, y, c=2.0, kind="inverse") == pytest.approx(1 / (1 + 2 * d))


def test_betweenness_of_points(space):
    x, z = np.zeros(5), np.ones(5)
    assert space.between(x, 0.3 * z, z) == 1.0
    assert space.between(x, [0.9, 0.1, 0.5, 0.5, 0.5], z) == 0.0  # off the segment within the colour domain
    # Manhattan across domains: moving in one domain first is still between
    assert space.between(x, [1, 1, 1, 0, 0], z) == 1.0
    y = np.array([0.5, 0.5, 2.0, 0.5, 0.5])
    soft = space.between(x, y, z, method="soft")
    assert soft == pytest.approx(space.distance(x, z) / (space.distance(x, y) + space.distance(y, z)))
    assert 0 < soft < 1


def test_round_trip(space):
    again = ConceptualSpace.from_dict(space.to_dict())
    assert again == space
    assert again.weights == space.weights


def test_bad_input(space):
    with pytest.raises(ConceptError, match="partition"):
        ConceptualSpace({"a": [0, 2]})
    with pytest.raises(ConceptError, match="kind"):
        ConceptualSpace({"a": [0]}, kinds=["spiral"])
    with pytest.raises(DimensionMismatchError, match="5 dimensions"):
        space.distance([0, 0], [0, 0])
    with pytest.raises(ConceptError, match="non-finite"):
        space.distance([0, 0, np.inf, 0, 0], np.zeros(5))
    with pytest.raises(UnknownDomainError, match="smell"):
        space.distance(np.zeros(5), np.zeros(5), weights={"smell": 1.0})
    with pytest.raises(ConceptError, match="positive"):
        Weights({"a": -1.0}, {"a": {0: 1.0}})
    with pytest.raises(ConceptError, match="sensitivity"):
        space.similarity(np.zeros(5), np.zeros(5), c=0)
