"""HoloViews elements of a graph: values checked by hand on small graphs whose pictures are known."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from alchemist import Graph
from alchemist.errors import GraphError, LayoutError

hv = pytest.importorskip("holoviews")
from alchemist.render.elements import datashaded_graph, dynamic_graph, graph_elements, nodes_element  # noqa: E402

# a diagonal edge a-b from (0, 0) to (1, 1); c at (1, 0) fixes the frame to the unit square
DIAGONAL = Graph.from_frames(pl.DataFrame({"id": ["a", "b", "c"]}),
                             pl.DataFrame({"source": ["a"], "target": ["b"], "weight": [3.0]}))
DIAGONAL_POS = np.array([[0.0, 0.0], [1.0, 1.0], [1.0, 0.0]])


def lit_pixels(data: np.ndarray) -> np.ndarray:
    """(row, col) of the non-empty pixels."""
    rows, cols = np.nonzero(data)
    return np.column_stack([rows, cols])


def test_nodes_carry_positions_and_the_node_columns():
    g = Graph.from_edges([("a", "b"), ("b", "c"), ("b", "d")])
    pos = np.array([[0, 0], [1, 0], [2, 1], [3, 3]], dtype=float)
    nodes = nodes_element(g, pos)
    assert nodes.dimension_values("x").tolist() == [0, 1, 2, 3]
    assert nodes.dimension_values("y").tolist() == [0, 0, 1, 3]
    assert nodes.dimension_values("id").tolist() == ["a", "b", "c", "d"]
    assert nodes.dimension_values("degree").tolist() == [1, 3, 1, 1]  # by hand
    assert [d.name for d in nodes.vdims] == ["id", "label", "degree"]


def test_graph_edges_refer_to_node_rows_with_weights():
    element = graph_elements(DIAGONAL, DIAGONAL_POS)
    assert element.dimension_values("start").tolist() == [0]
    assert element.dimension_values("end").tolist() == [1]
    assert element.dimension_values("weight").tolist() == [3.0]
    path = element.edgepaths.split()[0].array()
    assert path[0].tolist() == [0.0, 0.0] and path[-1].tolist() == [1.0, 1.0]


def test_datashaded_edges_lie_on_the_diagonal():
    overlay = datashaded_graph(DIAGONAL, DIAGONAL_POS, width=40, height=40, dynamic=False)
    rgb = overlay.RGB.I
    alpha = rgb.dimension_values("A", flat=False)
    lit = lit_pixels(alpha)
    assert len(lit) >= 30  # a 40-pixel diagonal
    assert np.abs(lit[:, 0] - lit[:, 1]).max() <= 1
    assert len(overlay.Nodes.I) == 3


def test_dynamic_map_rasterises_the_edges_at_each_zoom():
    dmap = dynamic_graph(DIAGONAL, DIAGONAL_POS, width=30, height=30)
    assert isinstance(dmap, hv.DynamicMap)
    frame = dmap[()]
    counts = frame.Image.I.dimension_values(2, flat=False)
    lit = lit_pixels(np.nan_to_num(counts))
    assert len(lit) >= 20 and np.abs(lit[:, 0] - lit[:, 1]).max() <= 1


def test_bundled_edges_render():
    pytest.importorskip("skimage")
    g = Graph.from_edges([(str(i), str((i * 7) % 20)) for i in range(20)])
    pos = np.random.default_rng(1).uniform(size=(g.number_of_nodes(), 2))
    overlay = datashaded_graph(g, pos, bundle=True, width=60, height=60, dynamic=False)
    assert lit_pixels(overlay.RGB.I.dimension_values("A", flat=False)).shape[0] > 0


def test_bad_positions_and_columns_are_clear_errors():
    g = Graph.from_edges([("a", "b")])
    with pytest.raises(LayoutError, match="no positions"):
        graph_elements(g)
    with pytest.raises(LayoutError, match=r"shape \(3, 2\)"):
        graph_elements(g, np.zeros((3, 2)))
    with pytest.raises(LayoutError, match="NaN"):
        graph_elements(g, [[0, 0], [np.nan, 1]])
    with pytest.raises(GraphError, match="no node column 'size'"):
        nodes_element(g, [[0, 0], [1, 1]], columns=["size"])
