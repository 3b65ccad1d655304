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
