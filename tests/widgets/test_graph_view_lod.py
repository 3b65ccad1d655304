"""GraphView's level of detail (issue 18): the edge-density pyramid holds every edge's pixels, its frames
carry the direct render's pixel mass, and drafts beyond it draw a prefix of one uniform random sample of the edges.

Expected values are computed here by hand: a Bresenham line between two cells visits
``max(|Δcolumn|, |Δrow|) + 1`` cells (Bresenham 1965), so the mass of a grid is a sum over the edges of
that number, from the cell indices of their ends.
"""

from __future__ import annotations

import numpy as np
import pytest

import alchemist
from alchemist.errors import WidgetError
from alchemist.render import raster
from alchemist.render.pyramid import EdgePyramid, quantize_counts
from alchemist.widgets import GraphView
from alchemist.widgets.graph_view_lod import EdgeLevelOfDetail
from alchemist.widgets.graph_view_render import draw_frame


def _edges(seed=3, n=2000, m=20_000):
    rng = np.random.default_rng(seed)
    pos = np.column_stack([rng.normal(0.5, 0.15, n), rng.normal(0.5, 0.12, n)]).clip(0.01, 0.99).astype(np.float32)
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    return pos, src.astype(np.int32), dst.astype(np.int32)


def _bresenham_mass(pos, src, dst, x0, y0, cx, cy):
    """Sum over the edges of the cells a Bresenham line visits (ends inside the grid, no clipping)."""
    col = np.floor((pos[:, 0].astype(np.float64) - x0) / cx).astype(np.int64)
    row = np.floor((pos[:, 1].astype(np.float64) - y0) / cy).astype(np.int64)
    return int((np.maximum(np.abs(col[src] - col[dst]), np.abs(row[src] - row[dst])) + 1).sum())


def test_every_level_of_the_pyramid_holds_the_pixels_of_every_edge():
    pos, src, dst = _edges()
    pyr = EdgePyramid.build(pos, src, dst, (0, 1), (0, 1), 512, 512, min_side=64)
    assert [level.shape for level in pyr.levels] == [(512, 512), (256, 256), (128, 128), (64, 64)]
    expected = _bresenham_mass(pos, src, dst, 0.0, 0.0, 1 / 512, 1 / 512)
    for level in pyr.levels:  # 2 × 2 sums keep the total
        assert int(level.sum(dtype=np.int64)) == expected
    # a view whose pixels are the cells of level 2 exactly: each cell lands on one pixel, scaled by 1
    counts = pyr.counts(raster.Viewport((0, 1), (0, 1), 128, 128))
    assert pyr.level_for(raster.Viewport((0, 1), (0, 1), 128, 128)) == 2
    assert float(counts.sum(dtype=np.float64)) == pytest.approx(expected, rel=1e-6)
    # and the pixels are that level's cells, top row first
    np.testing.assert_allclose(counts, pyr.levels[2][::-1].astype(np.float32))


def test_a_pyramid_frame_has_the_pixel_mass_of_the_direct_render():
    pos, src, dst = _edges(seed=5)
    pyr = EdgePyramid.build(pos, src, dst, (0, 1), (0, 1), 960, 960)
    # a view inside the world, off the cell grid, pixels 1.7 base cells wide (level 0, box filter)
    view = raster.Viewport((0.137, 0.137 + 1.7 * 300 / 960), (0.2011, 0.2011 + 1.7 * 200 / 960), 300, 200)
    assert pyr.level_for(view) == 0
    resampled = pyr.counts(view)
    direct = raster.edge_counts(pos, src, dst, view).astype(np.float64)
    # each edge's count in either picture is its length in that grid's units, give or take one pixel at
    # each end and one where it is clipped: at most 2 per edge apart
    assert abs(resampled.sum(dtype=np.float64) - direct.sum()) <= 2 * src.shape[0]
    assert abs(resampled.sum(dtype=np.float64) - direct.sum()) / direct.sum() < 0.05
    # and the same picture: blocks of 10 × 10 pixels agree closely
    blocks = lambda a: a.reshape(20, 10, 30, 10).sum(axis=(1, 3)).ravel()  # noqa: E731
    assert np.corrcoef(blocks(resampled), blocks(direct))[0, 1] > 0.99


def test_the_pyramid_refuses_views_it_cannot_draw_exactly():
    pos, src, dst = _edges(m=500)
    pyr = EdgePyramid.build(pos, src, dst, (0, 1), (0, 1), 200, 200)
    assert pyr.counts(raster.Viewport((0.5, 1.2), (0, 0.7), 100, 100)) is None  # reaches outside the world
    assert pyr.counts(raster.Viewport((0.4, 0.5), (0.4, 0.5), 100, 100)) is None  # pixels finer than the cells
    with pytest.raises(WidgetError, match="empty"):
        EdgePyramid.build(pos, src, dst, (1, 1), (0, 1), 10, 10)
    with pytest.raises(WidgetError, match="zoom=0.5"):
        EdgeLevelOfDetail(zoom=0.5)


def test_quantized_counts_keep_the_order_of_the_pixels():
    counts = np.random.default_rng(0).gamma(0.5, 20, 5000).astype(np.float32)
    counts[::7] = 0
    q = quantize_counts(counts)
    order = np.argsort(counts, kind="stable")
    assert (np.diff(q[order].astype(np.int64)) >= 0).all()  # increasing map: histogram equalisation sees the same ranks
    assert ((q > 0) == (counts > 0)).all()


def _graph_view(seed=2, n=1500, m=12_000, **kw):
    rng = np.random.default_rng(seed)
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = src != dst
    g = alchemist.Graph.from_edges([(str(a), str(b)) for a, b in zip(src[keep], dst[keep])])
    pos = rng.normal(0, 1, (g.number_of_nodes(), 2)).astype(np.float32)
    return g, pos, GraphView(g, pos, width=160, height=120, lod_edges=0, **kw)


def test_graph_view_draws_from_the_pyramid_near_the_framed_view_and_directly_beyond():
    g, pos, view = _graph_view(threaded=False)
    m = g.number_of_edges()
    assert view.frame["lod"].startswith("pyramid") and view.frame["edges_drawn"] == m and not view.frame["draft"]
    (x0, x1), (y0, y1) = view.x_range, view.y_range
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    for zoom, kind in ((2.0, "pyramid"), (5.0, "direct")):  # the pyramid goes 3× in
        hx, hy = (x1 - x0) / 2 / zoom, (y1 - y0) / 2 / zoom
        view.render([cx - hx, cx + hx], [cy - hy, cy + hy])
        assert view.frame["lod"].startswith(kind) and view.frame["edges_drawn"] == m
    # static pictures for reports draw every edge's pixels, not the resample
    exact, info = view._draw(view._viewport(), limit=None, exact=True)
    assert info["lod"] == "direct"
    view.close()


def test_drafts_beyond_the_pyramid_are_a_prefix_of_one_uniform_sample_of_the_edges():
    g, pos, view = _graph_view(threaded=False)
    src, dst, _ = g.edge_index()
    # the sample is distinct edges of the graph (every one of them: this graph is under the sample's size)
    assert np.unique(view._sample).shape[0] == view._sample.shape[0] == g.number_of_edges()
    np.testing.assert_array_equal(view._sample_src, src[view._sample])
    np.testing.assert_array_equal(view._sample_dst, dst[view._sample])
    view._edge_budget = k = 3000
    (x0, x1), (y0, y1) = view.x_range, view.y_range
    zoomed = [(x0 + x1) / 2 - (x1 - x0) / 40, (x0 + x1) / 2 + (x1 - x0) / 40], \
             [(y0 + y1) / 2 - (y1 - y0) / 10, (y0 + y1) / 2 + (y1 - y0) / 10]
    view.render(*zoomed, draft=True)
    assert view.frame["draft"] and view.frame["lod"] == "sample" and view.frame["edges_drawn"] == k
    # the draft's picture is that of the first k edges of that order, drawn directly
    sample_view = raster.Viewport(*zoomed, *view.frame["size"])
    image, info = view._draw(sample_view, limit=k)
    assert info["lod"] == "sample"
    expected, _ = draw_frame(sample_view, pos, src[view._sample[:k]], dst[view._sample[:k]], view._node_colors, None,
                             np.zeros(0, np.int64), view._background)
    np.testing.assert_array_equal(image, expected)
    view.close()


def test_a_uniform_prefix_carries_its_share_of_the_pixel_mass():
    g, pos, view = _graph_view(seed=9, threaded=False)
    # a view holding every node: an edge's pixels are its Bresenham count, no clipping
    lo, hi = pos.min(axis=0) - 0.01, pos.max(axis=0) + 0.01
    full = raster.Viewport((lo[0], hi[0]), (lo[1], hi[1]), 300, 300)
    cx, cy = (hi[0] - lo[0]) / 300, (hi[1] - lo[1]) / 300
    col = np.floor((view.positions[:, 0].astype(np.float64) - lo[0]) / cx).astype(np.int64)
    row = np.floor((view.positions[:, 1].astype(np.float64) - lo[1]) / cy).astype(np.int64)
    src, dst = view._sample_src, view._sample_dst
    per_edge = np.maximum(np.abs(col[src] - col[dst]), np.abs(row[src] - row[dst])) + 1
    m, k = per_edge.shape[0], 2000
    sample = raster.edge_counts(view.positions, src[:k], dst[:k], full)
    assert int(sample.sum()) == int(per_edge[:k].sum())
    # a uniform sample without replacement: mean k/m of the total, sd from the finite-population formula
    sd = np.sqrt(k * per_edge.var() * (m - k) / (m - 1))
    assert abs(int(sample.sum()) - k / m * per_edge.sum()) < 4 * sd
    view.close()


def test_a_threaded_view_follows_a_draft_with_the_full_frame_once_its_pyramid_is_built():
    g, pos, view = _graph_view(seed=4)
    assert view.lod.wait(60)
    view.wait(60)
    # every edge fits the draft budget of this small graph: its first picture was already full
    assert view.lod.ready and view._seq == 1 and not view.frame["draft"]
    view._edge_budget = 2000
    view.render(draft=True)  # a draft no browser request will settle (as the first picture of a large graph)
    old = view.lod.pyramid
    view.set_graph(g, pos * 2, render=False)  # a new graph state: the pyramid is dropped and built again
    assert view.lod.wait(60)
    view.wait(60)
    assert view._seq == 3 and not view.frame["draft"] and view.frame["lod"].startswith("pyramid")
    assert view.frame["edges_drawn"] == g.number_of_edges()
    assert view.lod.pyramid is not old
    assert view.lod.pyramid.x1 - view.lod.pyramid.x0 == pytest.approx(2 * (old.x1 - old.x0), rel=1e-3)
    view.close()


# ---------------------------------------------------------------- importance sampling past the mass budget
def _short_left_long_right(seed=11, short=3000, long=3000):
    """Short edges (at most 8 cells of a 256-cell grid) in the left half; long edges across the right half."""
    rng = np.random.default_rng(seed)
    a = np.column_stack([rng.uniform(0.02, 0.45, short), rng.uniform(0.02, 0.98, short)])
    b = a + rng.uniform(-0.015, 0.015, (short, 2))
    c = np.column_stack([np.full(long, 0.55), rng.uniform(0.02, 0.98, long)])
    d = np.column_stack([np.full(long, 0.98), rng.uniform(0.02, 0.98, long)])
    pos = np.concatenate([a, b, c, d]).astype(np.float32)
    n = short + long
    src = np.concatenate([np.arange(short), 2 * short + np.arange(long)]).astype(np.int32)
    dst = np.concatenate([short + np.arange(short), 2 * short + long + np.arange(long)]).astype(np.int32)
    return pos, src, dst, n


def test_length_cap_is_the_largest_cap_whose_sample_fits_the_budget():
    pos, src, dst, _ = _short_left_long_right()
    count, total = raster.segment_length_histogram(pos[:, 0], pos[:, 1], src, dst, (0, 1), (0, 1), 256, 256)
    # the histogram holds the Bresenham visits counted by hand from the cells of the ends
    col = np.floor(pos[:, 0].astype(np.float64) * 256).astype(np.int64)
    row = np.floor(pos[:, 1].astype(np.float64) * 256).astype(np.int64)
    lengths = np.maximum(np.abs(col[src] - col[dst]), np.abs(row[src] - row[dst])) + 1
    assert count.sum() == src.shape[0] and total.sum() == lengths.sum()
    assert raster.length_cap(count, total, float(lengths.sum())) is None  # it fits: no sampling
    budget = lengths.sum() / 4
    cap = raster.length_cap(count, total, budget)
    expected_mass = lambda c: float(np.minimum(lengths, c).sum())  # noqa: E731
    assert expected_mass(cap) <= budget * (1 + 1e-9)
    assert expected_mass(cap * 2 ** (1 / 16)) > budget  # within a 16th of an octave of the largest


def test_past_its_budget_the_pyramid_counts_short_edges_exactly_and_long_ones_without_bias():
    pos, src, dst, _ = _short_left_long_right()
    exact = EdgePyramid.build(pos, src, dst, (0, 1), (0, 1), 256, 256, max_mass=None).levels[0].astype(np.float64)
    total = exact.sum()
    runs = [EdgePyramid.build(pos, src, dst, (0, 1), (0, 1), 256, 256, max_mass=total / 4, seed=s) for s in range(12)]
    assert all(r.length_cap is not None and r.length_cap > 16 for r in runs)  # the short edges stay under the cap
    left = slice(0, 128)
    for r in runs:  # the left half holds only short edges: exact in every sample
        np.testing.assert_array_equal(r.levels[0][:, left], exact[:, left])
    # the right half: each run's total is an unbiased estimate of the exact one (Horvitz–Thompson); the
    # mean of 12 runs lies within 4 standard errors, estimated from the runs themselves
    right = np.array([r.levels[0][:, 128:].sum(dtype=np.float64) for r in runs])
    assert abs(right.mean() - exact[:, 128:].sum()) <= 4 * right.std(ddof=1) / np.sqrt(len(runs)) + 1e-9
    assert right.std() > 0  # it is a sample: the runs differ
    # the pictures agree on the coarse scale: blocks of 16 × 16 cells
    blocks = lambda a: a.reshape(16, 16, 16, 16).sum(axis=(1, 3)).ravel()  # noqa: E731
    assert np.corrcoef(blocks(runs[0].levels[0].astype(np.float64)), blocks(exact))[0, 1] > 0.95


# ---------------------------------------------------------------- direct frames: octaves of length, ranked prefixes
def test_length_classes_draw_every_edge_exactly_under_the_budget():
    from alchemist.render.importance import LengthClasses

    pos, src, dst = _edges(seed=7, m=5000)
    classes = LengthClasses(pos, src, dst)
    view = raster.Viewport((0.2, 0.7), (0.25, 0.65), 250, 200)
    counts, info = classes.counts(view, pos, max_mass=1e12)
    assert info["shifts"] == 0 and info["edges_touched"] == src.shape[0]
    np.testing.assert_array_equal(counts, raster.edge_counts(pos, src, dst, view))  # the same pixels, reordered edges


def test_length_classes_thin_long_edges_without_bias_and_keep_short_ones_exact():
    from alchemist.render.importance import LengthClasses

    pos, src, dst, _ = _short_left_long_right()
    view = raster.Viewport((0, 1), (0, 1), 256, 256)
    exact = raster.edge_counts(pos, src, dst, view).astype(np.float64)
    runs = []
    for seed in range(12):
        classes = LengthClasses(pos, src, dst, seed=seed)
        counts, info = classes.counts(view, pos, max_mass=exact.sum() / 4)
        assert info["shifts"] > 0 and info["edges_touched"] < src.shape[0]
        runs.append(counts.astype(np.float64))
        # the ranked prefixes: about half of all edges have rank >= 1, a quarter rank >= 2 (binomial, 5 sd)
        m = src.shape[0]
        assert abs(classes.kept[:, 1].sum() - m / 2) < 5 * np.sqrt(m / 4)
        assert abs(classes.kept[:, 2].sum() - m / 4) < 5 * np.sqrt(m * 3 / 16)
    left = slice(0, 128)  # the short edges (at most 8 pixels): exact in every run
    for counts in runs:
        np.testing.assert_array_equal(counts[:, left], exact[:, left])
    right = np.array([counts[:, 128:].sum() for counts in runs])
    assert abs(right.mean() - exact[:, 128:].sum()) <= 4 * right.std(ddof=1) / np.sqrt(len(runs))
    assert right.std() > 0


def test_a_deep_zoom_past_the_mass_budget_is_drawn_from_the_length_classes():
    pos, src, dst = _edges(seed=9, m=20_000)
    lod = EdgeLevelOfDetail(min_edges=0, threaded=False)
    lod.reset(pos, src, dst, (0, 1), (0, 1), 100, 100)
    assert lod.classes is not None
    view = raster.Viewport((0.45, 0.55), (0.45, 0.55), 200, 200)  # 10× in: beyond the pyramid (3×)
    assert lod.counts(view) is None
    colors = np.array([255, 255, 255], np.uint8)
    exact = raster.edge_counts(pos, src, dst, view).astype(np.float64)
    image, info = draw_frame(view, pos, src, dst, colors, None, np.zeros(0, np.int64), (0, 0, 0), lod=lod,
                             max_mass=exact.sum() / 8)
    assert info["lod"] == "direct, sampled" and info["edges_drawn"] == src.shape[0]
    _, full = draw_frame(view, pos, src, dst, colors, None, np.zeros(0, np.int64), (0, 0, 0), lod=lod)
    assert full["lod"] == "direct"  # no budget: every edge
    sampled, how = lod.classes.counts(view, pos, exact.sum() / 8)
    assert how["edges_touched"] < src.shape[0] / 4  # it walked a fraction of the edges
    # every edge here is long and crosses the view as haze: the weighted total is the exact one, give or
    # take the sample's noise (5% on the seeds tried; 15% allowed)
    assert abs(sampled.sum(dtype=np.float64) - exact.sum()) / exact.sum() < 0.15


def test_frames_encode_as_png_that_pillow_decodes_to_the_same_pixels():
    import io

    from PIL import Image

    rng = np.random.default_rng(2)
    speckled = rng.integers(0, 256, (61, 83, 3), dtype=np.uint8)
    flat = np.zeros((40, 30, 3), np.uint8)
    flat[10:20, 5:9] = (255, 179, 71)
    for rgb in (speckled, flat):
        data = raster.encode_image(rgb, "png")
        image = Image.open(io.BytesIO(data))
        assert image.format == "PNG" and image.mode == "RGB" and image.size == (rgb.shape[1], rgb.shape[0])
        np.testing.assert_array_equal(np.asarray(image), rgb)
    jpeg = Image.open(io.BytesIO(raster.encode_image(speckled, "jpeg")))
    assert jpeg.format == "JPEG" and jpeg.size == (83, 61)
