"""Compare mode (issue 20, seed 003 §7.1): which node gets which state and colour from a GraphDiff, the
ghosts at their old places, the colours in the rendered picture at each node's pixel, and the Timeline's
compare mode. The expected states are written out from the events applied."""

from __future__ import annotations

import io

import numpy as np
import polars as pl
import pytest
from PIL import Image

import alchemist
from alchemist.errors import WidgetError
from alchemist.graph import diff
from alchemist.render import raster
from alchemist.widgets import GraphView, Timeline
from alchemist.widgets.compare import (COLORS, compare_view, comparison_graph, known_positions, legend, node_states,
                                       place, show_comparison, state_colors)

RGB = {state: tuple(raster.parse_color(color)) for state, color in COLORS.items()}
# six nodes on a ring, placed by hand
PLACES = {n: (10 * np.cos(a), 10 * np.sin(a)) for n, a in zip("abcdef", np.linspace(0, 2 * np.pi, 6, endpoint=False))}


def _history():
    """A ring a..f, then: g added (linked to a), f removed, b relabelled, c's property set to the
    value it has (unchanged), d's property changed, edge a-b reweighted."""
    def ev(kind, payload):
        return alchemist.new_event(kind, "ring", payload, timestamp=0)

    g = alchemist.Graph("ring")
    g.apply([ev("node_added", {"node_id": n, "label": "p", "properties": {"size": 1}}) for n in "abcdef"])
    g.apply([ev("edge_added", {"edge_id": f"{u}{v}", "source": u, "target": v}) for u, v in
             zip("abcdef", "bcdefa")])
    v = g.version
    g.apply([ev("node_added", {"node_id": "g", "label": "p"}),
             ev("edge_added", {"edge_id": "ag", "source": "a", "target": "g"}),
             ev("edge_removed", {"edge_id": "ef"}), ev("edge_removed", {"edge_id": "fa"}),
             ev("node_removed", {"node_id": "f"}),
             ev("node_updated", {"node_id": "b", "label": "q"}),
             ev("node_updated", {"node_id": "c", "properties": {"size": 1}}),
             ev("node_updated", {"node_id": "d", "properties": {"size": 5}}),
             ev("edge_updated", {"edge_id": "ab", "weight": 2.0})])
    return g, v


EXPECTED = {"a": "unchanged", "b": "changed", "c": "unchanged", "d": "changed", "e": "unchanged", "g": "added",
            "f": "removed"}


def test_node_states_and_colours():
    g, v = _history()
    before = g.at(v)
    d = diff(before, g)
    states = node_states(d, g)
    assert dict(states.rows()) == EXPECTED
    assert states["id"].to_list() == g.node_ids + ["f"]  # the ghosts after the nodes shown
    colors = state_colors(states["state"].to_list())
    assert [tuple(c) for c in colors.tolist()] == [RGB[EXPECTED[n]] for n in states["id"].to_list()]
    assert RGB == {"added": (44, 160, 44), "removed": (214, 39, 40), "changed": (255, 176, 0),
                   "unchanged": (127, 127, 127)}
    with pytest.raises(WidgetError, match="'moved' is not one of"):
        state_colors(["added", "moved"])
    labels = [item["label"] for item in legend(d)]
    assert labels == ["added: 1 node, 1 edge", "removed: 1 node, 2 edges (ghosts at their old places)",
                      "changed: 2 nodes, 1 edge", "unchanged"]


def test_comparison_graph_keeps_the_ghosts():
    g, v = _history()
    d = diff(g.at(v), g)
    union = comparison_graph(d, g)
    assert union.node_ids == g.node_ids + ["f"]
    assert sorted(union.edge_ids) == sorted(g.edge_ids)  # after's edges only
    assert union.node("f")["label"] == "p" and union.node("b")["label"] == "q"
    assert comparison_graph(diff(g, g), g) is g


def test_place():
    known = pl.DataFrame({"id": ["a", "b", "a"], "x": [0.0, 4.0, 99.0], "y": [0.0, 2.0, 99.0]})
    # c sits between its placed neighbours a and b; d, with no placed neighbour, near the centre
    pos = place(["a", "b", "c", "d"], (np.array([2, 2]), np.array([0, 1])), known)
    assert pos[:3].tolist() == [[0.0, 0.0], [4.0, 2.0], [2.0, 1.0]]
    assert np.isfinite(pos).all() and np.linalg.norm(pos[3] - [2.0, 1.0]) < 1.0
    with pytest.raises(WidgetError, match="mapping"):
        known_positions([1, 2], None)


def _pixels_of(view, ids):
    """The picture's colour at the pixel of each node (the raster's own mapping of positions to pixels)."""
    image = np.asarray(Image.open(io.BytesIO(view.static_png())).convert("RGB"))
    viewport = raster.Viewport(view.x_range, view.y_range, view.width, view.height)
    rows = [view.graph.node_ids.index(n) for n in ids]
    inside, pixels = raster.node_pixels(view.positions[rows], viewport)
    assert inside.tolist() == list(range(len(ids)))  # every node is in the picture
    return {n: tuple(int(c) for c in image[r, col]) for n, (col, r) in zip(ids, pixels.tolist())}, image


def test_view_renders_the_three_colours_at_the_nodes():
    g, v = _history()
    before = g.at(v)
    view = GraphView(before, np.array([PLACES[n] for n in before.node_ids], np.float32), width=200, height=160,
                     labels=0, threaded=False)
    d = show_comparison(view, before, g, keep_viewport=False)
    assert d.counts["nodes_removed"] == 1 and view.version == g.version
    # the ghost f stands where it was; g (new) next to its only neighbour a
    assert view.positions[view.graph.node_ids.index("f")].tolist() == pytest.approx(PLACES["f"])
    assert view.positions[view.graph.node_ids.index("g")].tolist() == pytest.approx(PLACES["a"])
    assert [item["color"] for item in view.legend] == [COLORS[s] for s in ("added", "removed", "changed", "unchanged")]
    # g sits on a; draw it elsewhere to see both (a known place given by the caller wins)
    view2 = GraphView(before, np.array([PLACES[n] for n in before.node_ids], np.float32), width=200, height=160,
                      labels=0, threaded=False)
    show_comparison(view2, before, g, positions={"g": (0.0, 0.0)}, keep_viewport=False)
    colours, image = _pixels_of(view2, list(EXPECTED))
    assert colours == {n: RGB[s] for n, s in EXPECTED.items()}
    found = {tuple(p) for p in image.reshape(-1, 3).tolist()}
    assert {RGB["added"], RGB["removed"], RGB["changed"]} <= found
    # leaving compare mode: a plain colour again, no legend
    view2.set_graph(g, np.array([PLACES.get(n, (0.0, 0.0)) for n in g.node_ids], np.float32))
    assert view2.legend == [] and view2.color_by == ""
    for v_ in (view, view2):
        v_.close()


def test_compare_view_lays_out_what_it_does_not_know():
    g, v = _history()
    view = compare_view(g.at(v), g, width=120, height=90, threaded=False, layout_iterations=20)
    assert view.graph.node_ids == g.node_ids + ["f"] and np.isfinite(view.positions).all()
    assert view.diff.counts["nodes_added"] == 1 and len(view.legend) == 4
    view.close()


def test_timeline_compare_mode():
    g, v = _history()
    view = GraphView(g, np.array([PLACES.get(n, (0.0, 0.0)) for n in g.node_ids], np.float32), width=120,
                     height=90, labels=0, threaded=False)
    timeline = Timeline(g, view, threaded=False)
    timeline.compare(v)  # the state after the ring against now
    assert timeline.comparing and timeline.diff.counts == diff(g.at(v), g).counts
    assert sorted(view.graph.node_ids) == sorted(EXPECTED) and len(view.legend) == 4
    assert "nodes +1 −1 ~2, edges +1 −2 ~1" in timeline.compare_label
    # the removed f (not in the full graph's layout) stands between its old neighbours e and a
    f = view.positions[view.graph.node_ids.index("f")]
    assert f.tolist() == pytest.approx(((np.array(PLACES["e"]) + PLACES["a"]) / 2).tolist(), abs=1e-5)
    # moving the pinned state: against itself nothing changed
    timeline.compare(v, v)
    assert not timeline.diff and view.graph.number_of_nodes() == 6
    timeline.stop_comparing()
    assert not timeline.comparing and timeline.compare_label == "" and view.legend == []
    # a past state holding a node removed later (not in the final layout) shows without a KeyError
    timeline.seek(v)
    assert view.graph.node_ids == list("abcdef") and np.isfinite(view.positions).all()
    view.close()


def test_timeline_compares_times():
    def ev(kind, payload, at):
        return alchemist.new_event(kind, "t", payload, timestamp=at)

    g = alchemist.Graph("t")
    g.apply([ev("node_added", {"node_id": f"n{i}"}, 100 * i) for i in range(5)])           # n0..n4 at 0..400 s
    g.apply([ev("node_updated", {"node_id": "n1", "label": "late"}, 450),
             ev("node_removed", {"node_id": "n0"}, 500)])
    timeline = Timeline(g, None, by="time", threaded=False)
    timeline.compare(150, 460)  # n0, n1 then; n0..n4 with n1 relabelled at 460 s
    d = timeline.diff
    assert (sorted(d.nodes_added["id"].to_list()), d.nodes_changed["id"].to_list(), d.counts["nodes_removed"]) == (
        ["n2", "n3", "n4"], ["n1"], 0)
    timeline.seek(timeline.max)  # the slider moves on, the pinned state stays: at the end n0 is gone too
    assert timeline.diff.nodes_removed["id"].to_list() == ["n0"]
    assert "compared with 1970-01-01 00:02 UTC" in timeline.compare_label
    assert "compared with" in timeline.static_html()
