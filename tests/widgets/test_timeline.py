"""Timeline: time travel over versions and times, driving a GraphView."""

from datetime import datetime, timezone

import numpy as np
import pytest

import alchemist
from alchemist.errors import WidgetError
from alchemist.widgets import GraphView, Timeline


def _unix(timestamp) -> float:
    """Unix seconds of an RFC 3339 string or a number (the standard library's parser, not alchemist's)."""
    if isinstance(timestamp, (int, float)):
        return float(timestamp)
    return datetime.fromisoformat(str(timestamp).replace("Z", "+00:00")).timestamp()


@pytest.fixture
def growing(id_layout):
    g = alchemist.Graph("t", directed=True)
    events = []
    for i in range(30):
        events.append(alchemist.new_event("node_added", "t", {"node_id": f"n{i}"}, timestamp=1000 + 10 * i))
        if i:
            events.append(alchemist.new_event("edge_added", "t", {"edge_id": f"e{i}", "source": f"n{i - 1}",
                                                                  "target": f"n{i}"}, timestamp=1005 + 10 * i))
    g.apply(events)
    return g, events, id_layout(g)


def test_seek_version_shows_the_graph_as_it_was(growing):
    g, events, pos = growing
    view = GraphView(g, pos, width=80, height=60)
    timeline = Timeline(g, view, steps=10)
    assert (timeline.min, timeline.max, timeline.value) == (0, len(events), len(events))
    assert timeline.step == np.ceil(len(events) / 10)
    timeline.seek(20)
    first = events[:20]
    assert view.node_count == sum(e.event_type == "node_added" for e in first)
    assert view.edge_count == sum(e.event_type == "edge_added" for e in first)
    # the past nodes keep the places the full layout gives them
    rows = [g.node_ids.index(n) for n in view.graph.node_ids]
    np.testing.assert_array_equal(view.positions, pos[rows])
    # the label leads with the date of the 20th event (UTC), then how many events are applied
    when = datetime.fromtimestamp(_unix(events[19].timestamp), tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    assert timeline.label.startswith(f"{when} · 20 of 59 events · ")
    assert (timeline.start_label, timeline.end_label) == ("1970-01-01 00:16 UTC", "1970-01-01 00:21 UTC")


def test_seek_time(growing):
    g, events, pos = growing
    timeline = Timeline(g, None, by="time", steps=5, threaded=False)
    assert (timeline.min, timeline.max) == (1000, 1295)
    timeline.seek(1100)
    assert timeline.state.number_of_nodes() == 11  # nodes at 1000 … 1100
    assert timeline.state.number_of_edges() == 9  # edges at 1015, 1025 … 1095
    assert "1970-01-01 00:18 UTC" in timeline.label


def test_bad_arguments(growing):
    g, _, pos = growing
    with pytest.raises(WidgetError, match="by='when'"):
        Timeline(g, by="when")
    other = alchemist.Graph.from_edges([("a", "b")])
    with pytest.raises(WidgetError, match="same graph"):
        Timeline(g, GraphView(other, np.zeros((2, 2)) + [[0, 0], [1, 1]], threaded=False))
