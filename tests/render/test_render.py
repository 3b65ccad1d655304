"""The Datashader pipeline: PNG size and decoding, node pixels computed independently from the
positions, categorical colours, the Numba edge kernel against Datashader's Canvas.line, bundling,
HoloViews output, Dask input, bad input."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from alchemist import render
from alchemist.errors import LayoutError
from alchemist.graph import Graph


def decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def expected_pixels(pos, x_range, y_range, width, height):
    """(row from the top, column) of each position, by the linear map of the viewport."""
    col = np.floor((pos[:, 0] - x_range[0]) / (x_range[1] - x_range[0]) * width).astype(int)
    row = np.floor((pos[:, 1] - y_range[0]) / (y_range[1] - y_range[0]) * height).astype(int)
    return height - 1 - np.clip(row, 0, height - 1), np.clip(col, 0, width - 1)


@pytest.fixture
def small():
    rng = np.random.default_rng(3)
    n = 40
    g = Graph.from_arrays(np.arange(n - 1), np.arange(1, n), node_ids=[f"n{i}" for i in range(n)])
    pos = rng.uniform(0.05, 0.95, size=(n, 2))
    return g, pos


def test_png_decodes_with_requested_size(small):
    g, pos = small
    png = render.graph_image(g, pos, width=300, height=200)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert decode(png).shape == (200, 300, 4)


def test_nodes_light_their_pixels(small):
    g, pos = small
    w, h = 160, 120
    rgba = decode(render.graph_image(g, pos, width=w, height=h, edges=False, x_range=(0, 1), y_range=(0, 1),
                                     background="black"))
    rows, cols = expected_pixels(pos, (0, 1), (0, 1), w, h)
    lit = rgba[..., :3].sum(axis=2) > 0
    assert lit[rows, cols].all()
    expected = np.zeros((h, w), bool)
    expected[rows, cols] = True
    assert (lit == expected).all()  # and nothing else is lit


def test_categorical_colours_appear(small):
    g, pos = small
    values = ["red" if i % 2 else "blue" for i in range(g.number_of_nodes())]
    rgba = decode(render.graph_image(g, pos, width=200, height=200, edges=False, node_values=values,
                                     palette=["#0000ff", "#ff0000"], x_range=(0, 1), y_range=(0, 1)))
    rows, cols = expected_pixels(pos, (0, 1), (0, 1), 200, 200)
    kinds: dict = {}
    for i, (r, c) in enumerate(zip(rows, cols)):
        kinds.setdefault((r, c), set()).add(values[i])
    for (r, c), here in kinds.items():
        px = rgba[r, c]
        if here == {"blue"}:  # first category -> first palette colour
            assert px[2] > 120 and px[0] < 30, px
        elif here == {"red"}:
            assert px[0] > 120 and px[2] < 30, px
        else:  # two nodes of different categories share the pixel: the colours mix
            assert px[0] > 30 and px[2] > 30, px


def test_color_by_a_column_of_the_graph():
    from alchemist.events import new_event

    g = Graph("g")
    g.apply([new_event("node_added", "g", {"node_id": f"n{i}", "properties": {"team": "ab"[i % 2]}}, timestamp=0)
             for i in range(6)])
    pos = np.column_stack([np.linspace(0.1, 0.9, 6), np.full(6, 0.5)])
    rgba = decode(render.graph_image(g, pos, color_by="team", palette=["#00ff00", "#ff00ff"], width=50, height=50,
                                     x_range=(0, 1), y_range=(0, 1)))
    rows, cols = expected_pixels(pos, (0, 1), (0, 1), 50, 50)
    greens = [tuple(rgba[r, c, :3]) for r, c in zip(rows[0::2], cols[0::2])]
    assert all(p[1] > 120 and p[0] < 30 for p in greens)


def test_edge_kernel_matches_datashader_line():
    rng = np.random.default_rng(0)
    m = 3000
    seg = pd.DataFrame({"x0": rng.uniform(-0.2, 1.2, m), "y0": rng.uniform(-0.2, 1.2, m)})
    seg["x1"] = seg.x0 + rng.normal(0, 0.1, m)
    seg["y1"] = seg.y0 + rng.normal(0, 0.1, m)
    cvs = render.canvas(np.zeros((0, 2)), width=300, height=200, x_range=(0, 1), y_range=(0, 1))
    ours = render.aggregate_edges(cvs, seg).values.astype(np.int64)
    theirs = render.aggregate_edges(cvs, seg, method="datashader").values.astype(np.int64)
    assert ours.shape == theirs.shape == (200, 300)
    # same lines up to the rounding of clipped ends: totals within 2 %, lit pixels agree ~97 %
    assert abs(ours.sum() - theirs.sum()) <= 0.02 * theirs.sum()
    agree = ((ours > 0) == (theirs > 0)).mean()
    assert agree > 0.97


def test_bundled_edges_render(shared_data):
    import networkx as nx

    G = nx.read_gml(shared_data("networkx_builtin_graphs/karate_club.gml"))
    g = Graph.from_networkx(G)
    layout = nx.spring_layout(G, seed=1)
    pos = np.array([layout[n] for n in g.node_ids])
    bundled = render.edge_segments(g, pos, bundle=True)
    assert {"x", "y"} <= set(bundled.columns) and bundled["x"].isna().sum() >= g.number_of_edges() - 1
    rgba = decode(render.graph_image(g, pos, bundle=True, width=120, height=120))
    assert (rgba[..., :3].sum(axis=2) > 0).sum() > 200


def test_holoviews_element(small):
    import holoviews as hv

    g, pos = small
    el = render.graph_element(g, pos, width=64, height=48, x_range=(0, 1), y_range=(0, 2))
    assert isinstance(el, hv.RGB)
    assert np.allclose(el.bounds.lbrt(), (0, 0, 1, 2))
    assert el.dimension_values("R", flat=False).shape == (48, 64)


def test_dask_frames_equal_pandas(small):
    import dask.dataframe as dd

    g, pos = small
    nodes = pd.DataFrame({"x": pos[:, 0], "y": pos[:, 1], "kind": ["a", "b"] * 20})
    src, dst, _ = g.edge_index()
    edges = pd.DataFrame({"source": src, "target": dst})
    plain = render.frames_image(nodes, edges, width=90, height=70, color_by="kind", format="image")
    lazy = render.frames_image(nodes, dd.from_pandas(edges, npartitions=4), width=90, height=70, color_by="kind",
                               format="image")
    assert np.array_equal(render.image_to_rgba(plain), render.image_to_rgba(lazy))
    via_graph = render.graph_image(g, pos, width=90, height=70, node_values=nodes["kind"], format="image")
    assert np.array_equal(render.image_to_rgba(plain), render.image_to_rgba(via_graph))


def test_bad_input_is_named(small):
    g, pos = small
    bad = pos.copy()
    bad[7, 1] = np.nan
    with pytest.raises(LayoutError, match="row 7"):
        render.graph_image(g, bad)
    with pytest.raises(LayoutError, match=r"\(40, 2\)"):
        render.graph_image(g, pos[:5])
    with pytest.raises(ValueError, match="positive"):
        render.graph_image(g, pos, width=0)
    with pytest.raises(LayoutError, match="edge row 1"):
        render.frames_image(pd.DataFrame({"x": [0.0, 1.0], "y": [0.0, 1.0]}),
                            pd.DataFrame({"source": [0, 1], "target": [1, 5]}))


def test_empty_and_edgeless_graphs_render():
    assert decode(render.graph_image(Graph(), np.zeros((0, 2)), width=30, height=20)).shape == (20, 30, 4)
    one = Graph.from_arrays([], [], node_ids=["solo"])
    rgba = decode(render.graph_image(one, np.array([[0.0, 0.0]]), width=30, height=20))
    assert (rgba[..., :3].sum(axis=2) > 0).sum() == 1
