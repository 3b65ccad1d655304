"""Fuzzy star-shaped concepts against the printed results of Bechberger's reference
implementation (v1.3.2 demo tour, transcribed in bechberger_example_spaces.json)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from alchemist.errors import ConceptError, DimensionMismatchError, EmptyIntersectionError, UnknownDomainError

REL = 1e-4


def _core(concept):
    return sorted((list(a), list(b)) for a, b in concept.cuboids)


def _expected_core(entry):
    return sorted(([float(v) for v in a], [float(v) for v in b]) for a, b in entry["core"])


def _assert_concept(concept, entry):
    got, want = _core(concept), _expected_core(entry)
    assert len(got) == len(want)
    for (ga, gb), (wa, wb) in zip(got, want):
        np.testing.assert_allclose(ga, wa, rtol=REL)
        np.testing.assert_allclose(gb, wb, rtol=REL)
    assert concept.mu == pytest.approx(entry["mu"], rel=REL)
    assert concept.c == pytest.approx(entry["c"], rel=REL)
    if "domain_weights" in entry:
        assert concept.weights.domain_weights == pytest.approx(entry["domain_weights"], rel=REL)


def test_membership(fruit):
    _, k, e = fruit
    assert k["pear"].membership([0.6, 0.5, 0.4]) == pytest.approx(e["pear.membership_of([0.6, 0.5, 0.4])"], rel=REL)
    assert k["pear"].membership([0.3, 0.2, 0.1]) == pytest.approx(e["pear.membership_of([0.3, 0.2, 0.1])"], rel=REL)
    # hand calculation: distance to the corner (0.5, 0.4, 0.35) is 0.5·0.2 + 1.25·0.2 + 1.25·0.25
    assert k["pear"].membership([0.3, 0.2, 0.1]) == pytest.approx(math.exp(-24 * 0.6625), rel=1e-12)


def test_intersection_union_projection_cut(fruit):
    _, k, e = fruit
    _assert_concept(k["pear"].intersect(k["apple"]), e["pear.intersect_with(apple)"])
    _assert_concept(k["pear"].union(k["apple"]), e["pear.union_with(apple)"])
    _assert_concept(k["pear"].project(["color"]), e["pear.project_onto({'color':[0]})"])
    lower, upper = k["pear"].cut(1, 0.5)
    _assert_concept(lower, e["pear.cut_at(1, 0.5)[0]"])
    _assert_concept(upper, e["pear.cut_at(1, 0.5)[1]"])


def test_size(fruit):
    _, k, e = fruit
    assert k["apple"].size() == pytest.approx(e["apple.size()"], rel=REL)
    assert k["lemon"].size() == pytest.approx(e["lemon.size()"], rel=REL)


def test_size_matches_numerical_integral(fruit):
    # independent check of the closed form: integrate the membership function on a grid
    _, k, _ = fruit
    lemon = k["lemon"]
    axes = [np.linspace(lo - 0.6, hi + 0.6, 161) for lo, hi in zip(lemon.p_min[0], lemon.p_max[0])]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    cell = np.prod([a[1] - a[0] for a in axes])
    assert lemon.membership(grid).sum() * cell == pytest.approx(lemon.size(), rel=2e-2)


def test_subsethood_and_implication(fruit):
    _, k, e = fruit
    gs, apple = k["Granny Smith"], k["apple"]
    assert gs.subset_of(apple) == pytest.approx(e["granny_smith.subset_of(apple)"], rel=REL)
    assert apple.subset_of(gs) == pytest.approx(e["apple.subset_of(granny_smith)"], rel=REL)
    assert gs.crisp_subset_of(apple) is e["granny_smith.crisp_subset_of(apple)"]
    assert apple.crisp_subset_of(gs) is e["apple.crisp_subset_of(granny_smith)"]
    assert apple.implies(k["red"]) == pytest.approx(e["apple.implies(red)"], rel=REL)
    assert k["lemon"].implies(k["nonSweet"]) == pytest.approx(e["lemon.implies(non_sweet)"], rel=REL)


def test_similarity(fruit):
    _, k, e = fruit
    apple, pear, gs = k["apple"], k["pear"], k["Granny Smith"]
    assert apple.similarity(pear) == pytest.approx(e["apple.similarity_to(pear)"], rel=REL)
    assert pear.similarity(apple) == pytest.approx(e["pear.similarity_to(apple)"], rel=REL)
    assert gs.similarity(apple) == pytest.approx(e["granny_smith.similarity_to(apple)"], rel=REL)
    assert apple.similarity(pear, "subset") == pytest.approx(e["apple.similarity_to(pear, method='subset')"], rel=REL)
    assert pear.similarity(apple, "subset") == pytest.approx(e["pear.similarity_to(apple, method='subset')"], rel=REL)
    assert gs.similarity(apple, "subset") == pytest.approx(e["granny_smith.similarity_to(apple, method='subset')"], rel=REL)


def test_betweenness_infimum_closed_form_cases(fruit):
    _, k, e = fruit
    assert k["apple"].between(k["lemon"], k["orange"], method="infimum") == e[
        "apple.between(lemon, orange, method='infimum')"
    ]
    assert k["banana"].between(k["Granny Smith"], k["pear"], method="infimum") == e[
        "banana.between(granny_smith, pear, method='infimum')"
    ]


def test_betweenness_crisp_subset_is_one(fruit):
    _, k, _ = fruit
    # Granny Smith is a crisp subset of apple, so it lies between apple and anything
    assert k["Granny Smith"].between(k["apple"], k["banana"]) == 1.0
    assert k["Granny Smith"].between(k["apple"], k["banana"], method="infimum") == 1.0


def test_round_trip_to_dict(fruit):
    space, k, _ = fruit
    from alchemist.concepts import Concept

    for concept in k.values():
        assert Concept.from_dict(space, concept.to_dict()) == concept


def test_bad_input(fruit):
    space, k, _ = fruit
    with pytest.raises(EmptyIntersectionError):
        space.concept([([0, 0, 0], [0.1, 0.1, 0.1]), ([0.5, 0.5, 0.5], [0.6, 0.6, 0.6])], c=10)
    with pytest.raises(ConceptError, match="mu"):
        space.concept([([0, 0, 0], [1, 1, 1])], mu=1.5)
    with pytest.raises(ConceptError, match="sensitivity"):
        space.concept([([0, 0, 0], [1, 1, 1])], c=-1)
    with pytest.raises(ConceptError, match="p_min"):
        space.concept([([0, 0, 2], [1, 1, 1])])
    with pytest.raises(DimensionMismatchError):
        space.concept([([0, 0], [1, 1])])
    with pytest.raises(UnknownDomainError, match="smell"):
        space.concept([([0, 0, 0], [1, 1, 1])], weights={"smell": 1.0, "color": 1, "shape": 1, "taste": 1})
    with pytest.raises(ConceptError, match="weight"):
        space.concept([([0, 0, 0], [1, 1, 1])], weights={"color": 0.0, "shape": 1, "taste": 1})
    with pytest.raises(ConceptError, match="not defined on domain"):
        k["red"].project(["taste"])
    with pytest.raises(ConceptError, match="non-finite"):
        k["pear"].membership([np.nan, 0, 0])
    with pytest.raises(DimensionMismatchError):
        k["pear"].membership([0.1, 0.2])
    with pytest.raises(ConceptError, match="different domains"):
        k["pear"].union(k["red"])
