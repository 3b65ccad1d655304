"""Connection.append: events added to a live graph extend its CID chain, even with several writers."""

from __future__ import annotations

import threading

import pytest

from alchemist.cim import connect
from alchemist.errors import ConcurrencyError

pytestmark = pytest.mark.integration


def test_appends_from_two_writers_form_one_chain(nats_server, tmp_path):
    a = connect(nats_server.url, outbox=tmp_path / "a.sqlite")
    b = connect(nats_server.url, outbox=tmp_path / "b.sqlite")
    try:
        a.append("g", "graph_created", {"name": "g", "directed": False})
        names = {"a": [f"a{i}" for i in range(15)], "b": [f"b{i}" for i in range(15)]}

        def write(conn, nodes):
            for node in nodes:
                conn.append("g", "node_added", {"node_id": node}, attempts=50)

        threads = [threading.Thread(target=write, args=(c, names[k])) for c, k in ((a, "a"), (b, "b"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        events = a.events("g")
        # one chain: every event names the one stored before it
        assert [e.previous_cid for e in events[1:]] == [e.cid for e in events[:-1]]
        graph = b.graph("g", live=False)
        assert sorted(graph.nodes["id"].to_list()) == sorted(names["a"] + names["b"])
        assert graph.rejected == []
    finally:
        a.close()
        b.close()


def test_append_gives_up_after_its_attempts(conn, monkeypatch):
    created = conn.append("h", "graph_created", {"name": "h"})
    conn.append("h", "node_added", {"node_id": "x"})
    # a writer that always sees the version of before "x": the server refuses each of its appends
    monkeypatch.setattr(conn, "aggregate_sequence", lambda graph_id: created.sequence)
    monkeypatch.setattr(conn, "last_event", lambda graph_id: created)
    with pytest.raises(ConcurrencyError):
        conn.append("h", "node_added", {"node_id": "y"}, attempts=2)
    assert sorted(conn.graph("h", live=False).nodes["id"].to_list()) == ["x"]


def _chain(graph_id, nodes, previous=None, pad=0):
    from alchemist.events import new_event

    out = []
    for node in nodes:
        event = new_event("node_added", graph_id, {"node_id": node, "properties": {"pad": "x" * pad}},
                          previous_cid=previous)
        out.append(event)
        previous = event.cid
    return out


def test_publish_chain_spans_messages_and_keeps_one_chain(conn):
    # ~3,000 events of ~600 bytes: more than one message of the server's max_payload (1 MiB)
    names = [f"n{i}" for i in range(3000)]
    stored = conn.publish_chain(_chain("big", names, pad=400), expected_sequence=0)
    assert [e.event_id for e in stored] == [e.event_id for e in conn.events("big")]
    sequences = sorted({e.sequence for e in stored})
    assert len(sequences) >= 2  # several messages, each one stored after the one before
    events = conn.events("big")
    assert [e.previous_cid for e in events[1:]] == [e.cid for e in events[:-1]]
    graph = conn.graph("big", live=False)
    assert graph.number_of_nodes() == 3000 and graph.rejected == []


def test_publish_chain_refuses_a_stale_version_and_never_forks(conn):
    first = conn.publish_chain(_chain("g", ["a", "b", "c"]), expected_sequence=0)
    version = first[-1].sequence
    other = conn.append("g", "node_added", {"node_id": "x"})  # another writer, after c
    assert other.previous_cid == first[-1].cid
    stored = []
    with pytest.raises(ConcurrencyError):
        conn.publish_chain(_chain("g", ["d", "e"], previous=first[-1].cid), expected_sequence=version, stored=stored)
    assert stored == []
    events = conn.events("g")
    assert [e.payload["node_id"] for e in events] == ["a", "b", "c", "x"]
    assert [e.previous_cid for e in events[1:]] == [e.cid for e in events[:-1]]
    with pytest.raises(ValueError, match="one graph"):
        conn.publish_chain(_chain("g", ["y"]) + _chain("h", ["z"]), expected_sequence=other.sequence)
