"""The rasteriser of render (which the widgets draw with) against hand calculations and Datashader."""

import numpy as np
import pandas as pd

from alchemist.render import raster


def test_horizontal_segment_covers_each_pixel_once():
    # a segment from pixel column 2.5 to 12.5 on row 5: columns 2 … 12 are crossed once each
    view = raster.Viewport((0, 20), (0, 10), 20, 10)
    pos = np.array([[2.5, 4.5], [12.5, 4.5]], np.float32)  # data y 4.5 → pixel row 5.5 → row 5
    counts = raster.edge_counts(pos, np.array([0], np.int32), np.array([1], np.int32), view)
    assert counts.sum() == 11
    assert np.flatnonzero(counts[5]).tolist() == list(range(2, 13))
    assert counts[5, 2:13].tolist() == [1] * 11


def test_segment_outside_the_viewport_draws_nothing_and_clipping_keeps_the_inside():
    view = raster.Viewport((0, 10), (0, 10), 10, 10)
    pos = np.array([[-50, -50], [-40, 60], [-5, 5.5], [15, 5.5]], np.float32)
    src, dst = np.array([0, 2], np.int32), np.array([1, 3], np.int32)
    counts = raster.edge_counts(pos, src, dst, view)
    # only the second edge crosses: the whole row 4 (y 5.5 → pixel row 4.5), one count per column
    assert counts.sum() == 10 and counts[4].tolist() == [1] * 10


def test_edge_mask_matches_datashader_on_a_random_graph():
    import datashader as ds

    rng = np.random.default_rng(3)
    pos = rng.uniform(0, 100, (300, 2)).astype(np.float32)
    src, dst = rng.integers(0, 300, 1500).astype(np.int32), rng.integers(0, 300, 1500).astype(np.int32)
    view = raster.Viewport((0, 100), (0, 100), 200, 200)
    ours = raster.edge_counts(pos, src, dst, view) > 0
    frame = pd.DataFrame({"x0": pos[src, 0], "y0": pos[src, 1], "x1": pos[dst, 0], "y1": pos[dst, 1]})
    cvs = ds.Canvas(plot_width=200, plot_height=200, x_range=(0, 100), y_range=(0, 100))
    theirs = np.flipud(cvs.line(frame, x=["x0", "x1"], y=["y0", "y1"], axis=1, agg=ds.count()).values > 0)
    jaccard = (ours & theirs).sum() / (ours | theirs).sum()
    assert jaccard > 0.85, jaccard


def test_shading_is_histogram_equalised_and_background_stays():
    counts = np.array([[0, 1, 1, 1], [5, 5, 100, 0]], dtype=np.uint32)
    img = raster.shade_edges(counts, background=(0, 0, 0))
    assert img[0, 0].tolist() == [0, 0, 0] and img[1, 3].tolist() == [0, 0, 0]
    # ranks, not magnitudes: 5 is brighter than 1 and 100 the brightest, all distinct levels
    brightness = img.sum(axis=2)
    assert brightness[0, 1] < brightness[1, 0] < brightness[1, 2]
    assert brightness[0, 1] == brightness[0, 3]


def test_viewport_round_trip():
    view = raster.Viewport((-3, 5), (1, 2), 640, 480)
    xy = np.array([[-3, 2], [5, 1], [0.25, 1.5]])
    np.testing.assert_allclose(view.to_data(view.to_pixels(xy)), xy)
    np.testing.assert_allclose(view.to_pixels(xy)[:2], [[0, 0], [640, 480]])


def test_parallel_and_serial_edge_rasters_agree():
    # 600K segments are drawn in parallel (250K per thread); counts add up, so three serial
    # batches of 200K must sum to the same picture
    rng = np.random.default_rng(5)
    pos = rng.uniform(0, 50, (400, 2)).astype(np.float32)
    src, dst = rng.integers(0, 400, 600_000).astype(np.int32), rng.integers(0, 400, 600_000).astype(np.int32)
    view = raster.Viewport((5, 45), (0, 40), 64, 48)
    whole = raster.edge_counts(pos, src, dst, view)
    parts = sum(raster.edge_counts(pos, src[k:k + 200_000], dst[k:k + 200_000], view).astype(np.int64)
                for k in range(0, 600_000, 200_000))
    assert whole.sum() > 600_000  # most segments cross the view, over several pixels
    np.testing.assert_array_equal(whole, parts)


def test_points_are_squares_clipped_at_the_border():
    img = np.zeros((5, 6, 3), np.uint8)
    raster.draw_points(img, np.array([[0, 0], [4, 2]]), np.array([[255, 0, 0], [0, 255, 0]], np.uint8), 3)
    red = (img == [255, 0, 0]).all(axis=2)
    green = (img == [0, 255, 0]).all(axis=2)
    # the first square is clipped to its lower-right quarter, the second lies whole inside
    assert np.argwhere(red).tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert np.argwhere(green).tolist() == [[r, c] for r in (1, 2, 3) for c in (3, 4, 5)]
