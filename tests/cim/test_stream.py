"""Replaying real events through a real nats-server into a Graph: counts, exactly once, time travel."""

import gzip
import itertools

import pytest

from alchemist.cim.replay import edge_list_events
from alchemist.events import new_event
from alchemist.graph.io import read_edge_list

pytestmark = pytest.mark.integration


@pytest.fixture
def college(shared_data):
    return shared_data("temporal_graphs/CollegeMsg.txt.gz")


@pytest.fixture
def small_file(college, tmp_path):
    path = tmp_path / "college-3000.txt"
    with gzip.open(college, "rt") as src:
        path.write_text("".join(itertools.islice(src, 3000)))
    return path


def test_bulk_replay_then_graph_matches_the_file(conn, college, file_counts):
    lines, nodes = file_counts(college)
    result = conn.replay(college, graph_id="college", batch=1000)
    assert result.published == 1 + nodes + lines and result.duplicates == 0
    graph = conn.graph("college", live=False)
    assert (graph.number_of_nodes(), graph.number_of_edges(), graph.version) == (nodes, lines, 1 + nodes + lines)
    assert graph.rejected == []
    # the same file again: nothing new is stored, nothing applied twice
    again = conn.replay(college, graph_id="college", batch=1000)
    assert again.published == 0 and again.duplicates == result.published
    assert conn.graph("college", live=False).version == graph.version


def test_per_event_messages_and_double_publish(conn, small_file, file_counts):
    lines, nodes = file_counts(small_file)
    first = conn.replay(small_file, graph_id="small", batch=1)
    assert first.messages == first.published == 1 + nodes + lines
    # publish every event a second time, as separate messages outside any resume logic
    again = conn.publish_many(edge_list_events(read_edge_list(small_file), "small"), batch=1)
    assert again.published == 0 and again.duplicates == first.published  # JetStream de-duplication
    # beyond the duplicate window: force a second copy in a batch with a new batch id
    copies = list(edge_list_events(read_edge_list(small_file), "small"))[:500]
    forced = conn.publish_many(copies, batch=250)
    assert forced.published == 500  # stored again (new batch ids) ...
    graph = conn.graph("small", live=False)
    assert graph.version == first.published  # ... but applied once
    assert graph.number_of_edges() == lines


def test_live_graph_follows_new_events_and_time_travel(conn, small_file):
    conn.replay(small_file, graph_id="live", batch=500)
    graph = conn.graph("live")
    feed = conn.feeds["live"]
    before = graph.number_of_nodes()
    last = conn.last_event("live")
    event = new_event("node_added", "live", {"node_id": "newcomer"}, timestamp="2030-01-01T00:00:00Z",
                      previous_cid=last.cid)
    seq = conn.publish(event)
    assert feed.wait_for(seq, timeout=20)
    with feed.lock:
        assert graph.number_of_nodes() == before + 1 and "newcomer" in graph
    past = conn.graph_at("live", sequence=seq - 1)
    assert past.number_of_nodes() == before and "newcomer" not in past
    earlier = conn.graph_at("live", timestamp="2029-12-31T00:00:00Z")
    assert earlier.number_of_nodes() == before
    tail = conn.graph("live", live=False, from_sequence=seq)
    assert tail.node_ids == ["newcomer"]


def test_messages_dropped_by_a_slow_client_are_fetched_again(conn, college, file_counts, monkeypatch):
    lines, nodes = file_counts(college)
    conn.replay(college, graph_id="slow", batch=1000)  # 62 messages of ~0.4 MB
    # a client buffer of 1 MB and pulls of 64 MB: the client drops most of every pull
    monkeypatch.setattr(conn.consumer, "pending_bytes", 2**20)
    monkeypatch.setattr(conn.consumer, "fetch_bytes", 64 * 2**20)
    graph = conn.graph("slow", live=False)
    assert (graph.number_of_nodes(), graph.number_of_edges(), graph.version) == (nodes, lines, 1 + nodes + lines)
    assert graph.rejected == []
