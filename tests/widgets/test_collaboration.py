"""GraphView's collaboration mode on the kernel side: the socket URL the browser opens, and the
positions of the collaborators' selections it rings (checked against the positions given)."""

from __future__ import annotations

import numpy as np
import pytest

from alchemist import Graph
from alchemist.errors import WidgetError
from alchemist.widgets import GraphView
from alchemist.widgets.collaboration import MAX_MARKS, Collaboration

POS = np.array([[0.0, 0.0], [1.0, 2.0], [3.0, -1.0]], np.float32)


@pytest.fixture
def view():
    v = GraphView(Graph.from_edges([("a", "b"), ("b", "c")], graph_id="g9"), POS, width=64, height=48, threaded=False)
    yield v
    v.close()


def test_socket_url_carries_the_graph_and_who():
    c = Collaboration("https://gw.example:8443/base/", "my graph", name="Ana Lima", color="#112233", token="k 1")
    assert c.socket_url() == ("wss://gw.example:8443/base/ws/graphs/my%20graph?name=Ana+Lima&color=%23112233"
                              "&token=k+1")
    assert Collaboration("ws://h:1/ws/graphs/g1", "g1").socket_url() == "ws://h:1/ws/graphs/g1"
    with pytest.raises(WidgetError, match="ftp"):
        Collaboration("ftp://h", "g1")
    with pytest.raises(WidgetError, match="rrggbb"):
        Collaboration("ws://h", "g1", color="red")


def test_collaborate_defaults_to_the_graphs_id_and_stops(view):
    assert view.collaborate("ws://127.0.0.1:9", user="bo").collaboration == {
        "url": "ws://127.0.0.1:9/ws/graphs/g9?user=bo", "graph_id": "g9", "share_selection": True}
    view.stop_collaborating()
    assert view.collaboration == {} and view.collab_marks == []


def test_collaborators_selections_become_rings_at_their_positions(view):
    view.collaborate("ws://127.0.0.1:9")
    peers = [{"session": "s1", "user": {"id": "ana", "name": "Ana", "color": "#e6194b"}, "node_ids": ["c", "zz", "a"]},
             {"session": "s2", "user": {"id": "bo", "name": "Bo", "color": "javascript:1"}, "node_ids": []}]
    view._on_collab_msg(view, {"type": "collab_peers", "peers": peers}, [])
    assert [p["session"] for p in view.collaborators] == ["s1", "s2"]
    (mark,) = view.collab_marks  # Bo selects nothing: no ring
    assert mark["name"] == "Ana" and mark["color"] == "#e6194b"
    assert mark["ids"] == ["c", "a"]  # the selection's order; the unknown id is left out
    assert mark["points"] == [POS[2].tolist(), POS[0].tolist()]
    bad_colour = view.collaborator_marks([{**peers[1], "node_ids": ["b"]}])
    assert bad_colour[0]["color"] == "#ffffff" and bad_colour[0]["points"] == [POS[1].tolist()]
    many = view.collaborator_marks([{"session": "s3", "user": {}, "node_ids": ["a", "b"] * (3 * MAX_MARKS)}])
    assert many[0]["ids"] == ["a", "b"]  # repeats dropped
    big = GraphView(Graph.from_edges([(f"n{i}", f"n{i + 1}") for i in range(3 * MAX_MARKS)], graph_id="big"),
                    np.zeros((3 * MAX_MARKS + 1, 2), np.float32) + np.arange(3 * MAX_MARKS + 1)[:, None],
                    width=64, height=48, threaded=False)
    try:
        marks = big.collaborator_marks([{"session": "s4", "user": {}, "node_ids": big.graph.node_ids}])
        assert len(marks[0]["ids"]) == MAX_MARKS and marks[0]["ids"][0] == "n0"
    finally:
        big.close()
