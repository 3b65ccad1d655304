"""Learning, real colour data (Munsell chips, crowd colour names) and graph integration."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import KMeans

from alchemist.concepts import ConceptualSpace
from alchemist.concepts.color import (basic_color_term, hex_to_lab, lab_space, read_color_names, read_munsell,
                                      xyy_to_lab)
from alchemist.concepts.graph import category_repulsion, position_events, similarity_attraction, space_events, space_from_events
from alchemist.concepts.learning import detect_categories, fit_cuboid_concepts, fit_prototypes, nearest_neighbors, project_2d
from alchemist.concepts.regions import ConvexRegion
from alchemist.errors import ConceptError


def test_srgb_to_lab_textbook_values():
    # sRGB primaries in CIELAB (D65), e.g. Lindbloom's calculator / CIE 15:2004
    lab = hex_to_lab(["#FF0000", "#00FF00", "#0000FF", "#FFFFFF", "#808080"])
    np.testing.assert_allclose(lab[0], [53.24, 80.09, 67.20], atol=0.02)
    np.testing.assert_allclose(lab[1], [87.73, -86.18, 83.18], atol=0.02)
    np.testing.assert_allclose(lab[2], [32.30, 79.19, -107.86], atol=0.02)
    np.testing.assert_allclose(lab[3], [100, 0, 0], atol=1e-3)
    np.testing.assert_allclose(lab[4], [53.59, 0, 0], atol=0.02)
    with pytest.raises(ConceptError, match="hex"):
        hex_to_lab(["#12345"])


def test_munsell_xyy_to_lab_matches_rit(shared_data):
    chips = read_munsell(shared_data("conceptual_spaces/munsell_real_CIELAB.csv"))
    ours = xyy_to_lab(chips["x"], chips["y"], chips["Y"])
    assert np.abs(ours - chips["lab"]).max() < 0.5  # RIT's own L*a*b* (illuminant C), ΔE < 0.5
    dat = read_munsell(shared_data("conceptual_spaces/munsell_real.dat"))
    assert len(dat["hue"]) == 2734


@pytest.fixture
def colour_model(shared_data):
    names, lab = read_color_names(shared_data("conceptual_spaces/colornames_meodai_bestof.csv"))
    terms = np.array([basic_color_term(n) for n in names], dtype=object)
    sel = terms != None  # noqa: E711
    return lab_space(), lab[sel], terms[sel].astype(str)


def test_learned_colour_prototypes_categorize_munsell(shared_data, colour_model):
    space, lab, terms = colour_model
    model = fit_prototypes(space, lab, terms)
    chips = read_munsell(shared_data("conceptual_spaces/munsell_real.dat"))  # L*a*b* from xyY (illuminant C)

    def strongest(hue, value):
        idx = np.flatnonzero((chips["hue"] == hue) & (chips["value"] == value))
        return chips["lab"][idx[np.argmax(chips["chroma"][idx])]]

    # focal colours (Berlin & Kay 1969, whose focal blue lies near Munsell 10B–5PB): saturated chips
    cases = {("5R", 4): "red", ("10B", 5): "blue", ("5G", 5): "green", ("5Y", 8): "yellow", ("5P", 4): "purple",
             ("5YR", 6): "orange"}
    got = model.names_of(np.array([strongest(h, v) for h, v in cases]))
    assert list(got) == list(cases.values())
    # achromatic chips: light → white, dark → black
    assert list(model.names_of(np.array([[95.0, 0, 0], [5.0, 0, 0]]))) == ["white", "black"]


def test_cuboid_concepts_give_highest_membership_to_own_colour(colour_model):
    space, lab, terms = colour_model
    concepts = fit_cuboid_concepts(space, lab, terms)
    red, blue = concepts["red"], concepts["blue"]
    pure_red, pure_blue = hex_to_lab(["#e00000", "#0000e0"])
    assert red.membership(pure_red) > red.membership(pure_blue)
    assert blue.membership(pure_blue) > blue.membership(pure_red)


def test_detect_categories_matches_sklearn():
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(c, 0.1, size=(50, 2)) for c in ([0, 0], [3, 3], [0, 3])])
    labels, centers = detect_categories(x, 3)
    ref = KMeans(n_clusters=3, n_init=4, random_state=0).fit(x)
    np.testing.assert_array_equal(labels, ref.labels_)
    g_labels, _ = detect_categories(x, 3, method="gmm")
    assert len(set(zip(g_labels.tolist(), labels.tolist()))) == 3  # same partition


def test_nearest_neighbors_and_projection():
    rng = np.random.default_rng(1)
    x = rng.random((200, 4))
    d, i = nearest_neighbors(x, x[:5], k=2)
    np.testing.assert_array_equal(i[:, 0], np.arange(5))
    brute = np.linalg.norm(x[:5, None] - x[None], axis=2)
    np.testing.assert_allclose(d[:, 1], np.sort(brute, axis=1)[:, 1])
    assert project_2d(x).shape == (200, 2)
    assert project_2d(x[:30], method="mds").shape == (30, 2)
    with pytest.raises(ConceptError, match="Euclidean"):
        nearest_neighbors(x[:, :2], x[:2, :2], space=ConceptualSpace({"a": [0], "b": [1]}))


def test_space_and_concepts_round_trip_through_events(fruit):
    space, k, _ = fruit
    items = {"pear": k["pear"], "cell": ConvexRegion(space, [[1, 0, 0]], [0.5]),
             "protos": fit_prototypes(space, np.eye(3), ["a", "b", "c"])}
    events = space_events(space, items)
    assert [e for e, _ in events] == ["conceptual_space_created", "concept_added", "region_added", "concept_added"]
    import json

    events = json.loads(json.dumps(events))  # payloads are plain JSON
    space2, items2 = space_from_events(events)
    assert space2 == space
    assert items2["pear"] == k["pear"]
    np.testing.assert_array_equal(items2["cell"].A, [[1, 0, 0]])
    pos = position_events(["n1", "n2"], [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], space_id=space.name)
    assert pos[1] == ("conceptual_position_set", {"node_id": "n2", "coordinates": [0.4, 0.5, 0.6], "space_id": space.name})


def test_layout_forces():
    space = ConceptualSpace({"q": [0, 1]})
    coords = np.array([[0, 0], [0.1, 0], [5, 5], [5.1, 5]], dtype=float)
    force = similarity_attraction(coords, space, k=1)
    pos = np.array([[0, 0], [1, 0], [0, 1], [1, 1]], dtype=np.float32)
    f = force(pos)
    assert f.shape == (4, 2) and f.dtype == np.float32
    assert f[0, 0] > 0 and f[1, 0] < 0  # nodes 0 and 1 (conceptual neighbours) pull together
    rep = category_repulsion([0, 0, 1, 1])
    assert rep(pos).shape == (4, 2)
