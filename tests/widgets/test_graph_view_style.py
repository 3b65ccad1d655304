"""GraphView styling (issue 15): numeric colour ramps and their colour bar, degree columns, size-by,
labels of the largest nodes, the search box's centring. Expected values are hand calculations
(linear interpolation between the viridis stops) and NetworkX's degrees."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

import alchemist
from alchemist.errors import WidgetError
from alchemist.widgets import GraphView
from alchemist.widgets.node_style import (
    RAMP, categorical_colors, centred_ranges, degree_columns, largest_in_view, node_sizes, ramp_colors, ramp_scale,
)


def _rgb(hex_color: str) -> np.ndarray:
    return np.array([int(hex_color[i:i + 2], 16) for i in (1, 3, 5)], np.float64)


def _hex(rgb) -> str:
    return "#%02x%02x%02x" % tuple(int(v) for v in rgb)


def test_linear_ramp_hits_the_stops_and_interpolates_between_them():
    # 8 stops over [0, 70]: value 10 k sits on stop k; 15 is halfway between stops 1 and 2, 62.5 a quarter of the way from 6 to 7
    values = [0, 10, 15, 62.5, 70]
    colors, bar = ramp_colors(values, scale="linear", column="score")
    expected = [_rgb(RAMP[0]), _rgb(RAMP[1]), (_rgb(RAMP[1]) + _rgb(RAMP[2])) / 2,
                3 * _rgb(RAMP[6]) / 4 + _rgb(RAMP[7]) / 4, _rgb(RAMP[7])]
    np.testing.assert_allclose(colors.astype(float), np.array(expected), atol=0.51)
    assert bar["column"] == "score" and bar["scale"] == "linear" and (bar["min"], bar["max"]) == (0, 70)
    assert bar["stops"] == RAMP
    # 1-2-5 steps for a range of 70 in about 5: step 20 -> 0, 20, 40, 60 at value / 70 along the bar, and the end 70
    assert [t["label"] for t in bar["ticks"]] == ["0", "20", "40", "60", "70"]
    np.testing.assert_allclose([t["position"] for t in bar["ticks"]], [0, 20 / 70, 40 / 70, 60 / 70, 1])


def test_log_ramp_places_values_by_log10_of_one_plus_the_value():
    colors, bar = ramp_colors([0, 9, 99], scale="log")
    # log10(1 + v) / log10(100) = 0, 0.5, 1: the middle value halfway between stops 3 and 4 (t = 3.5)
    np.testing.assert_allclose(colors[1].astype(float), (_rgb(RAMP[3]) + _rgb(RAMP[4])) / 2, atol=0.51)
    assert [t["label"] for t in bar["ticks"]] == ["0", "1", "10", "99"]
    np.testing.assert_allclose([t["position"] for t in bar["ticks"]], [0, np.log10(2) / 2, np.log10(11) / 2, 1])


def test_auto_scale_is_log_for_skewed_counts_and_linear_otherwise():
    assert ramp_scale(np.array([1.0, 1, 2, 2, 3, 500])) == "log"   # (500 + 1) > 20 (2 + 1)
    assert ramp_scale(np.array([1.0, 2, 3, 4, 5])) == "linear"
    assert ramp_scale(np.array([-5.0, 1, 1000])) == "linear"       # negative: never log
    with pytest.raises(WidgetError, match="log scale needs values >= 0"):
        ramp_scale(np.array([-1.0, 2.0]), "log")
    with pytest.raises(WidgetError, match="'cubic'"):
        ramp_scale(np.array([1.0]), "cubic")


def test_missing_values_are_grey_and_a_constant_column_sits_mid_ramp():
    colors, _ = ramp_colors([1.0, float("nan"), None], scale="linear")
    assert _hex(colors[1]) == _hex(colors[2]) == "#555555"
    # one distinct value: t = 0.5, i.e. 3.5 stops up
    np.testing.assert_allclose(colors[0].astype(float), (_rgb(RAMP[3]) + _rgb(RAMP[4])) / 2, atol=0.51)


def test_integer_columns_get_whole_ticks():
    _, bar = ramp_colors([0, 1, 2, 3], scale="linear")
    assert [t["label"] for t in bar["ticks"]] == ["0", "1", "2", "3"]  # not 0.5 steps


def test_categories_by_frequency():
    colors, legend = categorical_colors(["x", "y", "y", "z", "y", "x"])
    assert [item["label"] for item in legend] == ["y", "x", "z"]
    assert _hex(colors[1]) == legend[0]["color"] and _hex(colors[0]) == legend[1]["color"]


def test_degree_columns_match_networkx():
    rng = np.random.default_rng(3)
    src, dst = rng.integers(0, 30, 200), rng.integers(0, 30, 200)
    cols = degree_columns(src, dst, 30, True)
    ref = nx.MultiDiGraph()
    ref.add_nodes_from(range(30))
    ref.add_edges_from(zip(src.tolist(), dst.tolist()))
    assert cols["in_degree"].tolist() == [ref.in_degree(i) for i in range(30)]
    assert cols["out_degree"].tolist() == [ref.out_degree(i) for i in range(30)]
    assert cols["total_degree"].tolist() == [ref.degree(i) for i in range(30)]
    assert degree_columns(src, dst, 30, False) == {}


def test_node_sizes_grow_with_area():
    # sides from 3 to 15: sqrt(t) = 0, 1/2, 1 -> 3, 9, 15; all odd
    assert node_sizes([0, 25, 100], scale="linear").tolist() == [3, 9, 15]
    # missing: the smallest; one distinct value: t = 0.5 -> 3 + 12 sqrt(0.5) = 11.49 -> 11
    assert node_sizes([float("nan"), 1.0], scale="linear").tolist() == [3, 11]


def test_largest_in_view_and_centring():
    assert largest_in_view(np.array([4, 1, 2]), np.array([0, 3, 3, 9, 1.0]), 2).tolist() == [1, 2]  # tie by row
    x_range, y_range = centred_ranges((10, -4), (0, 8), (0, 6), zoom=2)
    assert (x_range, y_range) == ([8.0, 12.0], [-5.5, -2.5])
    with pytest.raises(WidgetError, match="zoom=0"):
        centred_ranges((0, 0), (0, 1), (0, 1), zoom=0)


def _star(directed=True):
    # hub h -> a, b, c, d; a -> b: in-degrees h 0, a 1, b 2, c 1, d 1; out-degrees h 4, a 1
    g = alchemist.Graph.from_edges([("h", "a"), ("h", "b"), ("h", "c"), ("h", "d"), ("a", "b")], directed=directed)
    pos = np.array([[0, 0], [10, 0], [0, 10], [-10, 0], [0, -10]], np.float32)
    return g, pos


def test_colour_by_degree_is_a_ramp_with_a_colour_bar_not_categories(decode):
    g, pos = _star()
    view = GraphView(g, pos, width=200, height=200, threaded=False, color_by="degree", color_scale="linear")
    assert view.legend == [] and view.colorbar["column"] == "degree"
    assert {"in_degree", "out_degree", "total_degree"} <= set(view.columns) <= set(view.columns + view.size_columns)
    out_degree = dict(zip(g.node_ids, g.degree().tolist()))  # out-degree for a directed graph: h 4, a 1, others 0
    img = decode(view.image)
    px = view._viewport().to_pixels(pos).astype(int)
    for node, (c, r) in zip(g.node_ids, px):
        t = out_degree[node] / 4 * 7
        k = min(int(t), 6)
        expected = _rgb(RAMP[k]) * (1 - (t - k)) + _rgb(RAMP[k + 1]) * (t - k)
        np.testing.assert_allclose(img[r, c].astype(float), expected, atol=0.51, err_msg=node)
    view.color_by = "in_degree"
    assert view.colorbar["column"] == "in_degree" and view.colorbar["max"] == 2
    view.set_node_values("team", [1, 2, 1, 2, 1], kind="category")  # integers as categories
    assert [item["label"] for item in view.legend] == ["1", "2"] and view.colorbar == {}
    view.close()


def test_size_by_draws_larger_squares_for_larger_values(decode):
    g, pos = _star()
    view = GraphView(g, pos, width=200, height=200, threaded=False, size_by="out_degree", color_scale="linear",
                     labels=0)
    img = decode(view.image)
    px = view._viewport().to_pixels(pos).astype(int)

    def side(row):  # the run of node-coloured pixels through the node's centre
        c, r = px[row]
        line = (img[r, :, :] == img[r, c, :]).all(axis=1)
        left = c
        while left > 0 and line[left - 1]:
            left -= 1
        right = c
        while right < img.shape[1] - 1 and line[right + 1]:
            right += 1
        return right - left + 1

    # fewer than 500 nodes draw at 5 px: sides 5 + (node_sizes - 3); h has out-degree 4 (t = 1), a 1 (t = 1/4)
    assert side(0) == 5 + 12
    assert side(1) == 5 + 6
    assert side(2) == 5
    with pytest.raises(WidgetError, match="not a numeric node column"):
        view.size_by = "id"
    view.close()


def test_labels_name_the_largest_nodes_in_view():
    g, pos = _star()
    view = GraphView(g, pos, width=200, height=200, threaded=False, labels=2)
    # total degree: h 4, a 2, b 2, c 1, d 1 -> h, then a (tie with b broken by row)
    assert [item["id"] for item in view.labels] == ["h", "a"]
    assert view.labels[0]["x"] == 0 and view.labels[0]["y"] == 0
    # a view that holds h, a and d only (b and c are outside): h and a again; then one that drops h and a
    view.render([-1, 11], [-11, 1])
    assert [item["id"] for item in view.labels] == ["h", "a"]
    view.render([-12, -8], [-12, 12])  # only c
    assert [item["id"] for item in view.labels] == ["c"]
    view.close()


def test_search_centres_the_node_and_selects_it():
    g, pos = _star()
    view = GraphView(g, pos, width=300, height=200, threaded=False)
    span = (view.x_range[1] - view.x_range[0], view.y_range[1] - view.y_range[0])
    view._on_custom_msg(view, {"type": "search", "query": "C"}, [])  # no exact id: case-insensitive match
    assert view.search_result == {"query": "C", "id": "c"} and view.selected == ["c"]
    c, r = view._viewport().to_pixels(pos[[3]])[0]
    assert (c, r) == pytest.approx((150, 100))
    assert (view.x_range[1] - view.x_range[0], view.y_range[1] - view.y_range[0]) == pytest.approx(span)  # same scale
    view._on_custom_msg(view, {"type": "search", "query": "nowhere"}, [])
    assert view.search_result == {"query": "nowhere", "id": None} and view.selected == ["c"]
    with pytest.raises(WidgetError, match="'zz' is not a node"):
        view.center_on("zz")
    view.close()


def test_static_view_shows_the_colour_bar():
    g, pos = _star()
    view = GraphView(g, pos, width=100, height=100, threaded=False, color_by="total_degree", color_scale="linear")
    html = view.static_html()
    assert "linear-gradient(to right, " + ", ".join(RAMP) in html and ">total_degree<" in html
    view.close()


def test_static_picture_writes_the_labels(decode):
    g, pos = _star()
    with_labels = GraphView(g, pos, width=200, height=200, threaded=False, labels=5)
    without = GraphView(g, pos, width=200, height=200, threaded=False, labels=0)
    a, b = decode(with_labels.static_png()), decode(without.static_png())
    differ = np.argwhere((a != b).any(axis=2))
    # the text starts 6 px right of each labelled node (the hub at the centre among them)
    hub = with_labels._viewport().to_pixels(pos[[0]])[0]
    near_hub = differ[(np.abs(differ[:, 0] - hub[1]) < 10) & (differ[:, 1] > hub[0]) & (differ[:, 1] < hub[0] + 40)]
    assert len(near_hub) > 10
    text = a[differ[:, 0], differ[:, 1]].astype(int)
    assert ((text.min(axis=1) > 200) & (text.max(axis=1) == text.min(axis=1))).any()  # white (anti-aliased) text
    with_labels.close()
    without.close()
