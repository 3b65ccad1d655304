"""Event store queries on a real nats-server (issue 20, seed 003 §1.1): events and graph reads filtered by
event type, one wildcard feed over every graph, and a replay from a stream sequence on top of the state before
it that gives the whole read's graph with nothing dead-lettered. Expected counts come from the raw stream,
read message by message with nats-py and the standard json module."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from alchemist import new_event
from alchemist.graph import diff

pytestmark = pytest.mark.integration

EDGES = "1 2 100\n2 3 200\n3 1 300\n3 4 400\n4 5 500\n5 1 600\n2 5 700\n"


def _raw_counts(conn, graph_id: str) -> Counter:
    """Event types of one graph counted from the stored messages themselves (each message fetched by
    sequence; a batch's events counted one by one)."""
    async def read():
        info = await conn.js.stream_info(conn.graph_stream)
        counts = Counter()
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await conn.js.get_msg(conn.graph_stream, seq)
            body = json.loads(msg.data)
            for event in body["events"] if "batch_id" in body else [body]:
                if event["aggregate_id"] == graph_id:
                    counts[event["event_type"]] += 1
        return counts

    return conn.run(read())


def _dead_letters(conn) -> int:
    return conn.run(conn.js.stream_info(conn.streams.dlq)).state.messages


def _history(conn, tmp_path, graph_id="g", batch=1):
    """A graph with additions, updates and removals, in messages of one event (or batches)."""
    path = tmp_path / f"{graph_id}.txt"
    path.write_text(EDGES)
    conn.replay(path, graph_id, batch=batch)
    conn.append(graph_id, "node_updated", {"node_id": "1", "label": "hub", "properties": {"score": 3}})
    conn.append(graph_id, "edge_updated", {"edge_id": "e1", "weight": 4.0})
    conn.append(graph_id, "node_added", {"node_id": "6", "properties": {"score": 1}})
    conn.append(graph_id, "edge_added", {"edge_id": "x", "source": "6", "target": "1"})
    conn.append(graph_id, "edge_removed", {"edge_id": "e4"})
    conn.append(graph_id, "node_updated", {"node_id": "6", "properties": {"score": 2}})


# ---------------------------------------------------------------------- filtered by event type
@pytest.mark.parametrize("batch", [1, 4])
def test_events_by_type_match_the_raw_stream(conn, tmp_path, batch):
    _history(conn, tmp_path, batch=batch)
    _history(conn, tmp_path, graph_id="other")
    raw = _raw_counts(conn, "g")
    assert raw["node_updated"] == 2 and raw["edge_added"] == 8  # the history as written
    for types in (["node_updated"], ["edge_added", "edge_removed"], ["node_added", "node_updated", "graph_created"]):
        events = conn.events("g", event_types=types)
        assert Counter(e.event_type for e in events) == Counter({t: raw[t] for t in types if raw[t]})
        assert {e.aggregate_id for e in events} == {"g"}
        assert [e.sequence for e in events] == sorted(e.sequence for e in events)
    assert len(conn.events("g", event_types="edge_removed")) == raw["edge_removed"] == 1
    assert conn.events("g", event_types=["no_such_type"]) == []
    with pytest.raises(ValueError, match="event type names"):
        conn.events("g", event_types=[3])
    # by the events' own time: edges at 300 s to 600 s
    timed = conn.events("g", event_types=["edge_added"], since=300, until="1970-01-01T00:10:00Z")
    assert [e.payload["edge_id"] for e in timed] == ["e2", "e3", "e4", "e5"]
    assert _dead_letters(conn) == 0


def test_graph_read_by_type(conn, tmp_path):
    _history(conn, tmp_path)
    full = conn.graph("g", live=False)
    # edges only: the ends come as bare nodes, no update is folded, nothing is judged
    edges_only = conn.graph("g", live=False, event_types=["edge_added", "edge_removed"])
    assert sorted(edges_only.edge_ids) == sorted(full.edge_ids)
    assert sorted(edges_only.node_ids) == sorted(full.node_ids)
    assert edges_only.directed == full.directed  # graph_created still says how edges read
    assert set(edges_only.nodes["label"].to_list()) == {""}  # node_updated left out
    assert edges_only.rejected == [] and _dead_letters(conn) == 0
    nodes_only = conn.graph("g", live=False, event_types=["node_added", "node_updated"])
    assert nodes_only.number_of_edges() == 0
    assert sorted(nodes_only.node_ids) == sorted(full.node_ids)
    assert nodes_only.node("1")["label"] == "hub" and nodes_only.node("6")["score"] == 2


# ---------------------------------------------------------------------- one feed over every graph
def test_wildcard_feed_sees_every_graph(conn, tmp_path):
    conn.append("before", "node_added", {"node_id": "a"})  # stored before the feed: not delivered ("new")
    with conn.event_feed("*") as feed, conn.event_feed("*", event_types=["edge_added"], deliver="all") as edges:
        _history(conn, tmp_path, graph_id="g1", batch=1)
        _history(conn, tmp_path, graph_id="g2", batch=3)
        expected = {g: _raw_counts(conn, g) for g in ("g1", "g2")}
        total = sum(sum(c.values()) for c in expected.values())
        events = feed.take(total, timeout=20)
        assert feed.get(timeout=0.3) is None  # nothing more than the stream holds
        seen = {g: Counter(e.event_type for e in events if e.aggregate_id == g) for g in ("g1", "g2")}
        assert seen == expected and feed.graph_ids == {"g1", "g2"}
        assert len({e.event_id for e in events}) == total  # each once
        # by type, from the first message: the edges of all three graphs, "before" has none
        got = edges.take(16, timeout=20)
        assert Counter(e.aggregate_id for e in got) == Counter({"g1": 8, "g2": 8})
        assert {e.event_type for e in got} == {"edge_added"}
        # a graph that appears later is followed too
        conn.append("later", "node_added", {"node_id": "z"})
        late = feed.get(timeout=10)
        assert (late.aggregate_id, late.payload["node_id"]) == ("later", "z")
    assert feed.get(timeout=0.1) is None  # closed: iteration ends
    assert list(feed) == []


def test_feed_of_some_graphs(conn):
    with conn.event_feed(["a", "c"], deliver="all") as feed:
        for g in "abc":
            conn.append(g, "node_added", {"node_id": g})
        got = feed.take(3, timeout=5)
    assert [e.aggregate_id for e in got] == ["a", "c"]
    with conn.event_feed("b", from_sequence=1) as single:
        assert [e.aggregate_id for e in single.take(1, timeout=5)] == ["b"]
        assert single.subject == "graph.events.b.*"
    with pytest.raises(ValueError, match="deliver"):
        conn.event_feed("*", deliver="old")


def test_feed_ends_with_its_connection(nats_server, tmp_path):
    from alchemist.cim import connect

    connection = connect(nats_server.url, outbox=tmp_path / "outbox2.sqlite")
    feed = connection.event_feed("*")
    connection.append("g", "node_added", {"node_id": "a"})
    assert feed.get(timeout=10).payload == {"node_id": "a"}
    connection.close()
    assert list(feed) == []  # iteration ends instead of waiting for ever
    feed.close()


# ---------------------------------------------------------------------- replay from a sequence
@pytest.mark.parametrize("batch", [1, 3])
def test_replay_from_sequence_on_the_state_before(conn, tmp_path, batch):
    _history(conn, tmp_path, batch=batch)
    conn.append("other", "node_added", {"node_id": "o"})  # another graph's message in between
    conn.append("g", "node_removed", {"node_id": "5"})
    full = conn.graph("g", live=False)
    last = conn.stream_info().state.last_seq
    for k in range(2, last + 1, 2):
        base = conn.graph_at("g", sequence=k - 1)
        before = base.version
        replayed = conn.graph("g", base=base, live=False)
        assert base.version == before  # the caller's base is left as it was
        assert not diff(full, replayed), k  # the whole read's graph
        assert replayed.version == full.version and replayed.rejected == []
        for j in range(k, last + 1, 3):  # and at every later sequence, the whole read's past state
            assert not diff(conn.graph_at("g", sequence=j), replayed.at(sequence=j)), (k, j)
    assert _dead_letters(conn) == 0
    # a read from the sequence alone knows nothing before it: updates of older nodes do not fit
    partial = conn.graph("g", from_sequence=last - 3, live=False)
    assert diff(full, partial) and _dead_letters(conn) == 0


def test_replay_on_a_base_still_judges(conn, tmp_path):
    _history(conn, tmp_path)
    base = conn.graph_at("g", sequence=5)
    last = conn.last_event("g")
    fork = new_event("node_added", "g", {"node_id": "f"}, previous_cid=base.last_cid)  # names an old event
    conn.publish(fork)
    replayed = conn.graph("g", base=base, live=False)
    assert [r[1] for r in replayed.rejected] == [fork.event_id] and "fork" in replayed.rejected[0][2].lower()
    assert replayed.last_cid == last.cid and "f" not in replayed
    assert _dead_letters(conn) == 1


def test_replay_arguments(conn, tmp_path):
    _history(conn, tmp_path)
    base = conn.graph_at("g", sequence=3)
    with pytest.raises(ValueError, match="gap"):
        conn.graph("g", base=base, from_sequence=6, live=False)
    with pytest.raises(ValueError, match="not 'h'"):
        conn.graph("h", base=base, live=False)
    with pytest.raises(ValueError, match="snapshot"):
        conn.graph("g", base=base, snapshot=True, live=False)
    from alchemist import Graph

    with pytest.raises(ValueError, match="no stream sequence"):
        conn.graph("g", base=Graph("g"), live=False)
    # live on a base: later events keep coming
    graph = conn.graph("g", base=base)
    event = conn.append("g", "node_added", {"node_id": "new"})
    assert conn.feeds["g"].wait_for(event.sequence)
    assert "new" in graph and graph.rejected == []


def test_replay_from_a_snapshot_as_base(conn, tmp_path):
    from alchemist.cim.snapshots import load_snapshot

    _history(conn, tmp_path, batch=2)
    conn.save_snapshot(conn.graph_at("g", sequence=6))
    conn.append("g", "node_added", {"node_id": "after-snapshot"})
    snapshot, _ids, sequence = load_snapshot(conn, "g")
    assert sequence == snapshot.last_sequence <= 6
    replayed = conn.graph("g", base=snapshot, live=False)
    assert not diff(conn.graph("g", live=False), replayed) and "after-snapshot" in replayed
    assert replayed.rejected == [] and _dead_letters(conn) == 0
