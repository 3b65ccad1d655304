"""GraphView: frames, viewport, hover, click, lasso, colouring, coalescing, live mode, fallback."""

import threading
import time

import numpy as np
import polars as pl
import pytest

import alchemist
from alchemist.errors import LayoutError, WidgetError
from alchemist.widgets import GraphView
from alchemist.widgets._base import LatestWorker


def test_frame_is_a_png_of_the_requested_size_with_nodes_where_the_viewport_puts_them(small_graph, decode):
    g, pos = small_graph
    view = GraphView(g, pos, width=120, height=90, threaded=False)
    assert view.image[:8] == b"\x89PNG\r\n\x1a\n"  # binary bytes, not base64 text
    img = decode(view.image)
    assert img.shape == (90, 120, 3)
    # hand calculation of node d's pixel from the viewport
    (x0, x1), (y0, y1) = view.x_range, view.y_range
    col, row = int((20 - x0) / (x1 - x0) * 120), int((y1 - 20) / (y1 - y0) * 90)
    assert tuple(img[row, col]) == (255, 179, 71)  # the default node colour #ffb347
    assert view.frame["nodes_in_view"] == 4 and view.frame["edges_drawn"] == 4
    # equal scale on both axes
    assert (x1 - x0) / 120 == pytest.approx((y1 - y0) / 90)


def test_view_message_re_renders_at_the_new_viewport(small_graph):
    g, pos = small_graph
    view = GraphView(g, pos, width=100, height=100, threaded=False)
    before = view.image
    view._on_custom_msg(view, {"type": "view", "x_range": [-1, 6], "y_range": [-1, 6], "draft": False, "seq": 7}, [])
    assert view.x_range == [-1, 6] and view.y_range == [-1, 6]
    assert view.frame["seq"] == 7 and view.frame["nodes_in_view"] == 1  # only a is inside
    assert view.image != before
    view._on_custom_msg(view, {"type": "reset", "seq": 8}, [])
    assert view.frame["nodes_in_view"] == 4


def test_hover_uses_the_nearest_node_within_the_radius_like_brute_force(small_graph):
    g, _ = small_graph
    rng = np.random.default_rng(0)
    big = alchemist.Graph.from_edges([(str(i), str(i + 1)) for i in range(499)])
    pos = rng.uniform(0, 100, (500, 2)).astype(np.float32)
    view = GraphView(big, pos, width=400, height=400, threaded=False)
    vp = view._viewport()
    for x, y in rng.uniform(0, 400, (40, 2)):
        d = np.hypot(*(vp.to_pixels(pos) - [x, y]).T)
        expected = str(int(np.argmin(d))) if d.min() <= 6 else None
        assert view.node_at(x, y) == expected


def test_hover_click_and_lasso_messages_sync_the_traits():
    g = alchemist.Graph("g")
    g.apply([alchemist.new_event("node_added", "g", {"node_id": "x", "label": "<img src=x onerror=alert(1)>",
                                                       "properties": {"kind": "<b>bold</b>"}}),
             alchemist.new_event("node_added", "g", {"node_id": "y"}),
             alchemist.new_event("node_added", "g", {"node_id": "z"})])
    pos = np.array([[0, 0], [10, 0], [0, 10]], np.float32)
    view = GraphView(g, pos, width=200, height=200, threaded=False)
    px = view._viewport().to_pixels(pos)
    view._on_custom_msg(view, {"type": "hover", "x": px[0, 0] + 2, "y": px[0, 1]}, [])
    assert view.hovered["id"] == "x" and view.hovered["label"] == "<img src=x onerror=alert(1)>"
    assert view.hovered["properties"]["kind"] == "<b>bold</b>"  # kept as text; the browser shows it as text
    view._on_custom_msg(view, {"type": "hover", "x": 100, "y": 100}, [])
    assert view.hovered == {}
    view._on_custom_msg(view, {"type": "click", "x": px[1, 0], "y": px[1, 1]}, [])
    assert view.selected == ["y"]
    view._on_custom_msg(view, {"type": "click", "x": px[2, 0], "y": px[2, 1], "shift": True}, [])
    assert view.selected == ["y", "z"]
    view._on_custom_msg(view, {"type": "click", "x": px[2, 0], "y": px[2, 1], "shift": True}, [])
    assert view.selected == ["y"]
    # a lasso around x and z (the left column of the picture)
    lasso = [[px[0, 0] - 5, px[0, 1] + 5], [px[2, 0] - 5, px[2, 1] - 5], [px[2, 0] + 5, px[2, 1] - 5],
             [px[0, 0] + 5, px[0, 1] + 5]]
    view._on_custom_msg(view, {"type": "lasso", "points": lasso}, [])
    assert sorted(view.selected) == ["x", "z"]
    view._on_custom_msg(view, {"type": "lasso", "points": [[0, 0], [1, 0], [0, 1]], "shift": True}, [])
    assert sorted(view.selected) == ["x", "z"]


def test_lasso_polygon_test_against_half_planes():
    rng = np.random.default_rng(5)
    n = 2000
    g = alchemist.Graph.from_edges([(str(i), str(i)) for i in range(n)])
    pos = rng.uniform(0, 1, (n, 2)).astype(np.float32)
    view = GraphView(g, pos, width=300, height=300, threaded=False)
    vp = view._viewport()
    tri = np.array([[0.1, 0.1], [0.9, 0.1], [0.1, 0.9]])  # inside ⇔ x > .1, y > .1, x + y < 1
    chosen = set(view.nodes_in_polygon(vp.to_pixels(tri)))
    expected = {str(i) for i, (x, y) in enumerate(pos) if x > 0.1 and y > 0.1 and x + y < 1.0}
    assert len(chosen ^ expected) <= 3 and len(expected) > 500  # float32 points on the boundary may differ


def test_color_by_categorical_and_numeric_columns(decode):
    g = alchemist.Graph("g")
    kinds = ["red"] * 5 + ["blue"] * 3 + ["green"]
    g.apply([alchemist.new_event("node_added", "g", {"node_id": f"n{i}", "properties": {"kind": k, "score": float(i)}})
             for i, k in enumerate(kinds)])
    pos = np.column_stack([np.arange(9), np.zeros(9)]).astype(np.float32)
    view = GraphView(g, pos, width=90, height=30, color_by="kind", threaded=False)
    counts = pl.Series(kinds).value_counts(sort=True)
    assert [item["label"] for item in view.legend] == counts[counts.columns[0]].to_list()
    assert "kind" in view.columns and "score" in view.columns
    colours = {item["label"]: item["color"] for item in view.legend}
    img = decode(view.image)
    vp = view._viewport()
    c, r = vp.to_pixels(pos[[0]])[0].astype(int)
    assert "#%02x%02x%02x" % tuple(img[r, c]) == colours["red"]
    with pytest.raises(WidgetError, match="nope"):
        view.set_graph(g, pos, color_by="nope")


def test_numeric_column_is_a_continuous_ramp_with_a_colour_bar():
    # issue 15: numbers are no longer categories or quantile bins; the bar spans the data, ticks 0, 20, ..., 80, 99
    g = alchemist.Graph("g")
    g.apply([alchemist.new_event("node_added", "g", {"node_id": f"n{i}", "properties": {"score": float(i)}})
             for i in range(100)])
    pos = np.column_stack([np.arange(100), np.zeros(100)]).astype(np.float32)
    view = GraphView(g, pos, width=200, height=20, color_by="score", color_scale="linear", threaded=False)
    assert view.legend == []
    assert (view.colorbar["min"], view.colorbar["max"], view.colorbar["scale"]) == (0, 99, "linear")
    assert [t["value"] for t in view.colorbar["ticks"]] == [0, 20, 40, 60, 80, 99]


def test_bad_positions_are_refused(small_graph):
    g, pos = small_graph
    with pytest.raises(LayoutError, match=r"\(4, 2\)"):
        GraphView(g, pos[:3], threaded=False)
    bad = pos.copy()
    bad[2, 0] = np.nan
    with pytest.raises(LayoutError, match="row 2"):
        GraphView(g, bad, threaded=False)


def _random_view(seed, n, m, width, height):
    """``(view, graph, positions)``: a GraphView of m random edges among n nodes at random
    positions, drafts capped at 20,000 edges."""
    rng = np.random.default_rng(seed)
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    g = alchemist.Graph.from_edges([(str(a), str(b)) for a, b in zip(src, dst)])
    pos = rng.uniform(0, 1, (g.number_of_nodes(), 2)).astype(np.float32)
    view = GraphView(g, pos, width=width, height=height, threaded=False)
    view._edge_budget = 20_000
    return view, g, pos


def test_drafts_sample_the_edges_and_finals_draw_them_all():
    m = 60_000
    view, _, _ = _random_view(1, 2000, m, 200, 200)
    view._on_custom_msg(view, {"type": "view", "x_range": view.x_range, "y_range": view.y_range, "draft": True}, [])
    assert view.frame["draft"] and view.image_format == "jpeg" and view.image[:2] == b"\xff\xd8"
    assert 20_000 <= view.frame["edges_drawn"] < m
    view._on_custom_msg(view, {"type": "view", "x_range": view.x_range, "y_range": view.y_range, "draft": False}, [])
    assert not view.frame["draft"] and view.frame["edges_drawn"] == m and view.image_format == "png"


def test_drafts_are_half_size_by_default_and_full_frames_full_size(decode):
    view, g, pos = _random_view(2, 500, 30_000, 240, 160)
    view._on_custom_msg(view, {"type": "view", "x_range": view.x_range, "y_range": view.y_range, "draft": True}, [])
    assert decode(view.image).shape == (80, 120, 3) and view.frame["size"] == [120, 80]
    view._on_custom_msg(view, {"type": "view", "x_range": view.x_range, "y_range": view.y_range, "draft": False}, [])
    assert decode(view.image).shape == (160, 240, 3)
    whole = GraphView(g, pos, width=240, height=160, threaded=False, draft_scale=1.0)
    whole._edge_budget = 20_000
    whole._on_custom_msg(whole, {"type": "view", "x_range": view.x_range, "y_range": view.y_range, "draft": True}, [])
    assert whole.frame["draft"] and decode(whole.image).shape == (160, 240, 3)
    with pytest.raises(WidgetError, match="draft_scale=0"):
        GraphView(g, pos, threaded=False, draft_scale=0)


def test_latest_worker_coalesces_a_burst_into_the_newest_request():
    gate, seen = threading.Event(), []

    def handler(request):
        gate.wait(5)
        seen.append(request)

    worker = LatestWorker(handler)
    worker.submit(0)
    time.sleep(0.05)  # let the worker pick request 0 and block on the gate
    for i in range(1, 50):
        worker.submit(i)
    gate.set()
    assert worker.wait(10)
    assert seen == [0, 49] and worker.coalesced == 48


def test_a_fast_drag_renders_only_the_newest_viewport(small_graph):
    g, pos = small_graph
    view = GraphView(g, pos, width=100, height=100)
    view.wait()
    rendered = []
    original = view._render_request
    view._render_request = lambda request: (rendered.append(request["seq"]), original(request))
    view._worker._handler = view._render_request
    for i in range(1, 41):
        view._on_custom_msg(view, {"type": "view", "x_range": [i * 0.1, 20 + i * 0.1], "y_range": [0, 20],
                                   "draft": True, "seq": i}, [])
    view.wait()
    assert rendered[-1] == 40 and len(rendered) < 40
    assert view.x_range == pytest.approx([4.0, 24.0]) and view.frame["seq"] == 40


def test_static_fallback_in_the_mime_bundle_escapes_text(small_graph):
    g, pos = small_graph
    view = GraphView(g, pos, width=60, height=40, title="<script>alert(1)</script>", threaded=False)
    data, _ = view._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    html = data["text/html"]
    assert 'src="data:image/png;base64,' in html
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_live_mode_follows_a_graph_updated_elsewhere(id_layout):
    g = alchemist.Graph("live")
    g.apply([alchemist.new_event("node_added", "live", {"node_id": "a"})])
    view = GraphView(g, id_layout(g), width=80, height=80)
    view.follow(g, interval=0.05, layout=id_layout)
    try:
        g.apply([alchemist.new_event("node_added", "live", {"node_id": f"n{i}"}) for i in range(20)])
        deadline = time.time() + 20
        while view.version < g.version and time.time() < deadline:
            time.sleep(0.05)
        view.wait()
        assert view.version == g.version == 21 and view.node_count == 21 and view.live
    finally:
        view.unfollow()
    assert not view.live


@pytest.mark.integration
def test_live_mode_follows_a_connection(tmp_path, repo_root, id_layout):
    import gzip

    from alchemist.widgets.live import replay_live

    sample = repo_root / "data" / "samples" / "CollegeMsg.txt.gz"
    lines = [ln.split() for ln in gzip.open(sample, "rt") if ln.strip() and not ln.startswith("#")][:400]
    nodes = {n for a, b, *_ in lines for n in (a, b)}
    with alchemist.connect(data_dir=str(tmp_path)) as con:
        replay = replay_live(con, sample, "college", rate=5000, limit=1 + len(nodes) + len(lines))
        view = GraphView(alchemist.Graph("college"), np.zeros((0, 2)), width=100, height=80)
        view.follow(con, "college", interval=0.1, layout=id_layout)
        try:
            assert replay.done.wait(30)
            deadline = time.time() + 30
            while view.edge_count < len(lines) and time.time() < deadline:
                time.sleep(0.1)
            view.wait()
            assert view.node_count == len(nodes) and view.edge_count == len(lines)
            assert view.version == 1 + len(nodes) + len(lines)
        finally:
            view.unfollow()


def test_a_full_frame_gives_way_to_a_newer_request_between_edge_batches():
    import types

    rng = np.random.default_rng(4)
    n, m = 300, 5000
    g = alchemist.Graph.from_edges([(str(a), str(b)) for a, b in zip(rng.integers(0, n, m), rng.integers(0, n, m))])
    pos = rng.uniform(0, 1, (g.number_of_nodes(), 2)).astype(np.float32)
    view = GraphView(g, pos, width=64, height=64, threaded=False)
    view._full_batch = 1000
    before = dict(view.frame)
    request = {"x_range": [0.1, 0.9], "y_range": [0.1, 0.9], "draft": False, "seq": 41}
    view._worker = types.SimpleNamespace(pending=True)  # a newer request is waiting: nothing is sent
    view._render_request(request)
    assert view.frame == before
    view._worker = types.SimpleNamespace(pending=False)  # none waiting: the whole frame, drawn in 5 batches
    view._render_request(request)
    assert view.frame["seq"] == 41 and view.frame["edges_drawn"] == g.number_of_edges()
    batched = view._draw(view._viewport(), limit=None, stop=lambda: False)[0]
    np.testing.assert_array_equal(batched, view._draw(view._viewport(), limit=None)[0])


def test_live_mode_keeps_the_growing_graph_in_view_until_the_user_moves_it():
    g = alchemist.Graph("grow")
    g.apply([alchemist.new_event("node_added", "grow", {"node_id": "n0"})])

    def spread(graph, previous=None):  # node i at (100 i, -50 i): each new node lies outside the last frame
        return np.array([[100.0 * i, -50.0 * i] for i in range(graph.number_of_nodes())], np.float32)

    def grow_to(n):
        g.apply([alchemist.new_event("node_added", "grow", {"node_id": f"n{i}"}) for i in range(view.node_count, n)])
        deadline = time.time() + 20
        while view.version < g.version and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # the live step that took this version submits its frame after setting the version
        view.wait()

    def inside(x_range, y_range):
        pos = spread(g)
        return bool(((pos[:, 0] >= x_range[0]) & (pos[:, 0] <= x_range[1]) &
                     (pos[:, 1] >= y_range[0]) & (pos[:, 1] <= y_range[1])).all())

    view = GraphView(g, spread(g), width=80, height=60)
    view.follow(g, interval=0.05, layout=spread)
    try:
        grow_to(5)
        assert inside(view.x_range, view.y_range)  # every node, the far new ones too, is in the frame
        grow_to(30)
        assert inside(view.x_range, view.y_range)
        # the user pans: live updates leave the view where the user put it
        user = ([0.0, 400.0], [-300.0, 0.0])
        view._on_custom_msg(view, {"type": "view", "x_range": user[0], "y_range": user[1], "seq": 1}, [])
        view.wait()
        grow_to(40)
        assert (view.x_range, view.y_range) == (user[0], user[1])
        # Reset frames the whole graph again, and later updates follow it
        view._on_custom_msg(view, {"type": "reset", "seq": 2}, [])
        grow_to(50)
        assert inside(view.x_range, view.y_range)
    finally:
        view.unfollow()
