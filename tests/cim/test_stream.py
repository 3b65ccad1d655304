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


def _chain(graph_id, specs):
    """Events of ``(event_type, payload)`` specs chained by previous_cid."""
    events, previous = [], None
    for kind, payload in specs:
        events.append(new_event(kind, graph_id, payload, previous_cid=previous))
        previous = events[-1].cid
    return events


def test_a_partial_read_does_not_dead_letter_what_it_cannot_judge(conn):
    events = _chain("partial", [("node_added", {"node_id": "a"}), ("node_added", {"node_id": "b"}),
                                ("node_added", {"node_id": "c"}),
                                ("edge_added", {"edge_id": "e0", "source": "a", "target": "b"}),
                                ("node_removed", {"node_id": "c"})])
    seqs = [conn.publish(e) for e in events]
    full = conn.graph("partial", live=False)
    assert (sorted(full.node_ids), full.number_of_edges(), full.rejected) == (["a", "b"], 1, [])
    # from the edge on: its endpoints were added before the start (they come as bare nodes), and c,
    # removed after it, was never seen (skipped: only a read of the whole history can judge it)
    tail = conn.graph("partial", live=False, from_sequence=seqs[3])
    assert (sorted(tail.node_ids), tail.number_of_edges(), tail.rejected) == (["a", "b"], 1, [])
    assert [(s, eid) for s, eid, _ in tail.skipped] == [(seqs[4], events[4].event_id)]
    info = conn.run(conn.js.stream_info("ALCHEMIST_DLQ", subjects_filter="alchemist.dlq.partial.>"))
    assert not info.state.subjects and conn.dead_lettered == 0


def _count_applied(connection, monkeypatch):
    """Record the stream sequences every fetch of ``connection`` hands to the fold."""
    from alchemist.cim.consumer import Consumer
    from alchemist.cim.pull import stream_sequence

    seen: list[int] = []
    apply = Consumer._apply

    async def counting(self, feed, msgs, stop_after):
        if self is connection.consumer:
            seen.extend(stream_sequence(m.reply) for m in msgs)
        return await apply(self, feed, msgs, stop_after)

    monkeypatch.setattr(Consumer, "_apply", counting)
    return seen


def test_a_durable_consumer_resumes_from_its_acknowledged_sequence(nats_server, tmp_path, monkeypatch):
    from alchemist.cim import connect

    events = _chain("resume", [("node_added", {"node_id": f"n{i}"}) for i in range(7)])

    def reader(name):
        return connect(nats_server.url, outbox=tmp_path / f"{name}.sqlite")

    with reader("w") as writer:
        seqs = [writer.publish(e) for e in events[:3]]
    with reader("r1") as r1:
        first = r1.graph("resume", live=False, durable="reader")
        assert first.node_ids == ["n0", "n1", "n2"]
        r1.save_snapshot(first)  # the whole graph at seqs[2]
    with reader("w") as writer:
        seqs += [writer.publish(e) for e in events[3:5]]
    with reader("r2") as r2:
        fetched = _count_applied(r2, monkeypatch)
        second = r2.graph("resume", live=True, durable="reader")
        assert second.node_ids == [f"n{i}" for i in range(5)]
        assert fetched == seqs[3:5]  # the snapshot, then only what the durable had not acknowledged
        info = r2.run(r2.js.consumer_info("GRAPH_EVENTS", "reader"))
        assert info.config.opt_start_seq == seqs[3]
        seqs.append(r2.publish(events[5]))  # followed live, acknowledged
        assert r2.feeds["resume"].wait_for(seqs[5], timeout=20)
    monkeypatch.undo()
    with reader("w") as writer:
        seqs.append(writer.publish(events[6]))
    with reader("r3") as r3:
        fetched = _count_applied(r3, monkeypatch)
        third = r3.graph("resume", live=False, durable="reader")
        assert third.node_ids == [f"n{i}" for i in range(7)] and third.version == 7 and third.rejected == []
        # from the snapshot (seqs[2]) to the floor (seqs[5]) read again without acknowledging, then the durable
        assert fetched == seqs[3:]


def test_a_failing_live_feed_says_so_and_restarts(conn, monkeypatch, caplog):
    import logging

    from alchemist.cim.consumer import Consumer

    events = _chain("restart", [("node_added", {"node_id": f"n{i}"}) for i in range(4)])
    conn.publish(events[0])
    graph = conn.graph("restart")
    feed = conn.feeds["restart"]
    assert (feed.state, feed.error, feed.restarts) == ("live", None, 0)
    states = []
    set_state = feed._set_state
    monkeypatch.setattr(feed, "_set_state", lambda state, error=None: (states.append(state), set_state(state, error)))
    apply, failures = Consumer._apply, []

    async def failing_once(self, feed_, msgs, stop_after):
        if not failures:
            failures.append(RuntimeError("the feed tripped"))
            raise failures[0]
        return await apply(self, feed_, msgs, stop_after)

    monkeypatch.setattr(Consumer, "_apply", failing_once)
    conn.consumer.restart_backoff = 0.2
    with caplog.at_level(logging.WARNING, logger="alchemist.cim"):
        seq = conn.publish(events[1])
        assert feed.wait_for(seq, timeout=20)  # applied after the restart, from the last applied sequence
    assert states == ["restarting", "live"] and feed.state == "live"
    assert feed.error is failures[0] and feed.restarts == 1
    assert "cim.feed_restarting" in caplog.text and "the feed tripped" in caplog.text
    seq = conn.publish(events[2])
    assert feed.wait_for(seq, timeout=20)
    with feed.lock:
        assert graph.node_ids == ["n0", "n1", "n2"] and graph.version == 3


def test_a_feed_that_keeps_failing_is_failed(conn, monkeypatch):
    from alchemist.cim.consumer import Consumer

    events = _chain("doomed", [("node_added", {"node_id": f"n{i}"}) for i in range(2)])
    conn.publish(events[0])
    conn.graph("doomed")
    feed = conn.feeds["doomed"]

    async def always_failing(self, feed_, msgs, stop_after):
        raise RuntimeError("broken for good")

    monkeypatch.setattr(Consumer, "_apply", always_failing)
    conn.consumer.restart_backoff, conn.consumer.max_restarts = 0.05, 2
    seq = conn.publish(events[1])
    assert feed.wait_for(seq, timeout=20) is False  # returns as soon as the feed fails
    assert feed.state == "failed" and feed.restarts == 2 and str(feed.error) == "broken for good"
    assert "failed after RuntimeError: broken for good" in repr(feed)
