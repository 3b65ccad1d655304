"""The other CIM conventions as events: cim-graph envelopes and Arrows.app graphs."""

import json

import pytest

from alchemist.cim.readers import arrows_events, read_cim_graph_events
from alchemist.errors import InputFormatError
from alchemist.events import verify_events
from alchemist.graph import Graph


def test_cim_graph_envelopes(shared_data):
    path = shared_data("cim_fixtures/cim-graph-example_events.json")
    raw = json.loads(path.read_text())["events"]
    events = read_cim_graph_events(path)
    assert [e.event_id for e in events] == [r["event_id"] for r in raw]
    assert [e.event_type for e in events][:2] == ["workflow_defined", "state_added"]
    assert events[0].aggregate_type == "workflow" and events[-1].aggregate_type == "concept"
    assert events[0].payload == raw[0]["payload"]["Workflow"]["WorkflowDefined"]
    assert verify_events(events) == []
    assert events[1].previous_cid == events[0].cid  # chained per aggregate
    assert events[4].previous_cid is None  # first event of the second aggregate


def test_arrows_graph_matches_the_json(shared_data):
    path = shared_data("cim_fixtures/arrows_models/cim_leaf.json")
    data = json.loads(path.read_text())
    events = arrows_events(path, "leaf")
    assert verify_events(events) == []
    graph = Graph("leaf", directed=True)
    graph.apply(events)
    assert graph.number_of_nodes() == len(data["nodes"])
    assert graph.number_of_edges() == len(data["relationships"])
    first = data["nodes"][0]
    assert graph.node(first["id"])["label"] == first["caption"]
    assert graph.positions is not None and graph.positions.shape == (len(data["nodes"]), 2)


def test_bad_files_name_the_problem(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"nodes": [{"caption": "no id"}]}')
    with pytest.raises(InputFormatError, match="node 0 has no 'id'"):
        arrows_events(bad)
    bad.write_text("{not json")
    with pytest.raises(InputFormatError, match="not JSON"):
        read_cim_graph_events(bad)


@pytest.mark.integration
def test_arrows_graph_through_the_cim_and_a_snapshot(conn, shared_data):
    path = shared_data("cim_fixtures/arrows_models/domain_model.json")
    events = arrows_events(path, "domain")
    conn.publish_many(events, batch=10)
    graph = conn.graph("domain", live=False)
    direct = Graph("domain", directed=True)
    direct.apply(events)
    assert graph.nodes.equals(direct.nodes) and graph.edges.equals(direct.edges)
    conn.save_snapshot(graph)
    loaded = conn.graph("domain", live=False, snapshot=True)  # labels and properties: the general path
    assert loaded.nodes.drop("first_seen").equals(direct.nodes.drop("first_seen"))
    assert loaded.edges.drop("timestamp").equals(direct.edges.drop("timestamp"))
