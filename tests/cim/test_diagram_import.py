"""import_into a graph on a real nats-server: the events are published chained after the graph's last event,
and the graph read back holds the imported diagram."""

from __future__ import annotations

import pytest

from alchemist.graph.diagrams import import_into, parse_mermaid

pytestmark = pytest.mark.integration


def test_import_into_connection_publishes_a_chain(conn, repo_root):
    path = repo_root / "data/samples/alchemist_rs_workflow.mermaid"
    first = conn.append("wf", "node_added", {"node_id": "Start", "properties": {"caption": "Begin", "owner": "ana"}})
    report = import_into(conn, path, graph_id="wf", merge="merge_properties")
    assert len(report.published) == len(report.events) == 1 + 11 + 13  # Start updated, 11 nodes and 13 edges added
    assert [e.event_id for e in report.published] == [e.event_id for e in report.events]
    assert all(e.sequence > first.sequence for e in report.published)
    assert report.events[0].previous_cid == first.cid
    assert all(b.previous_cid == a.cid for a, b in zip(report.events, report.events[1:]))
    g = conn.graph("wf", live=False)
    assert (g.number_of_nodes(), g.number_of_edges()) == (12, 13)
    assert g.node("Start")["caption"] == "Start Process" and g.node("Start")["owner"] == "ana"
    again = import_into(conn, parse_mermaid("graph TD\n  Start --> Extra\n"), graph_id="wf")
    assert [e.event_type for e in again.events] == ["node_added", "edge_added"]
    g = conn.graph("wf", live=False)
    assert (g.number_of_nodes(), g.number_of_edges()) == (13, 14) and g.version == 1 + 25 + 2
    fresh = import_into(conn, repo_root / "data/samples/alchemist_rs_network.dot", graph_id="net", id_prefix="dot")
    assert [e.event_type for e in fresh.events[:2]] == ["graph_created", "node_added"] and fresh.nodes_added == 7
    assert fresh.events[0].previous_cid is None and fresh.events[1].previous_cid == fresh.events[0].cid
    net = conn.graph("net", live=False)
    assert (net.number_of_nodes(), net.number_of_edges(), net.directed) == (7, 8, True)
    assert net.edge("dot-Cache-Database")["relationship"] == "miss"
    with pytest.raises(ValueError, match="graph_id"):
        import_into(conn, path)
