"""Messages never exceed what the server takes (its max_payload) nor what a consumer decodes."""

from __future__ import annotations

import pytest

from alchemist.errors import MessageTooLargeError
from alchemist.events import new_event

pytestmark = pytest.mark.integration


def _chain(graph_id: str, payloads: list[dict]) -> list:
    events = [new_event("graph_created", graph_id, {"name": graph_id}, timestamp=0)]
    for k, payload in enumerate(payloads):
        events.append(new_event("node_added", graph_id, payload, timestamp=k + 1, previous_cid=events[-1].cid))
    return events


def test_a_batch_is_closed_before_it_outgrows_max_payload(conn):
    # 40 events of ~100 KB: 4 MB in batches of 1,000 would be 4x the server's default 1 MiB max_payload
    payloads = [{"node_id": f"n{k}", "properties": {"blob": "x" * 100_000}} for k in range(40)]
    result = conn.publish_many(_chain("big", payloads), batch=1000)
    assert (result.published, result.queued) == (41, 0)
    limit = conn.nc.max_payload
    assert result.messages >= -(-41 * 100_000 // limit)  # at least ceil(total bytes / max_payload) messages
    graph = conn.graph("big", live=False)
    assert sorted(graph.node_ids) == sorted(p["node_id"] for p in payloads)
    assert graph.rejected == []


def test_one_event_larger_than_a_message_is_refused_after_what_came_before_is_stored(conn):
    payloads = [{"node_id": "a"}, {"node_id": "b", "properties": {"blob": "y" * (2 * 2**20)}}, {"node_id": "c"}]
    events = _chain("huge", payloads)
    with pytest.raises(MessageTooLargeError, match=events[2].event_id):
        conn.publish_many(events, batch=1)
    # the two events before the oversize one are stored and nothing waits in the outbox
    assert [e.event_id for e in conn.events("huge")] == [e.event_id for e in events[:2]]
    assert len(conn.outbox) == 0


def test_replay_with_a_batch_larger_than_max_payload_is_split(conn, repo_root, file_counts):
    college = repo_root / "data" / "samples" / "CollegeMsg.txt.gz"
    lines, nodes = file_counts(college)
    result = conn.replay(college, graph_id="college", batch=20_000)  # ~9 MB per batch as asked
    assert result.queued == 0 and result.published == 1 + nodes + lines
    assert result.messages > -(-(1 + nodes + lines) // 20_000)  # more messages than batches asked for
    graph = conn.graph("college", live=False)
    assert (graph.number_of_nodes(), graph.number_of_edges()) == (nodes, lines)
