"""Grid: named areas live, and the same grid of static views where no widget manager runs."""

from __future__ import annotations

import ipywidgets as w
import numpy as np
import pytest

import alchemist
from alchemist.widgets import EventFeed, GraphView
from alchemist.widgets.grid import Grid


def test_static_view_is_the_grid_of_the_widgets_static_views():
    g = alchemist.Graph.from_edges([("a", "b"), ("b", "c")])
    view = GraphView(g, np.array([[0, 0], [1, 0], [0, 1]], np.float32), width=40, height=30, threaded=False)
    feed = EventFeed(interval=3600, title="events <here>")
    feed.push([alchemist.new_event("node_added", "g", {"node_id": "x"}, timestamp=1082040961)])
    feed.flush()
    grid = Grid(["head head", "graph feed"], "1fr 1fr", head=w.HTML("<b>title</b>"), graph=view, feed=feed)
    assert [c.layout.grid_area for c in grid.children] == ["head", "graph", "feed"]
    assert grid.layout.grid_template_areas == '"head head" "graph feed"'
    data = grid._repr_mimebundle_()[0] if isinstance(grid._repr_mimebundle_(), tuple) else grid._repr_mimebundle_()
    page = data["text/html"]
    assert "GridBox(" not in page and "GridBox(" not in data["text/plain"]
    assert 'grid-template-areas:&quot;head head&quot; &quot;graph feed&quot;' in page
    assert "<b>title</b>" in page
    assert view.static_html()[:60] in page  # the graph's picture
    assert "events &lt;here&gt;" in page and "2004-04-15 14:56:01" in page  # the feed, escaped, with its date
    assert "application/vnd.jupyter.widget-view+json" in data  # still live where a manager runs
    feed.close()
    view.close()


def test_every_area_needs_a_widget():
    with pytest.raises(ValueError, match="one widget per area"):
        Grid(["a b"], a=w.HTML("x"))
    with pytest.raises(ValueError, match="one widget per area"):
        Grid(["a"], a=w.HTML("x"), b=w.HTML("y"))
