"""Nothing lost: optimistic concurrency, the outbox across server outages and process restarts."""

import subprocess
import sys
import textwrap
import threading

import pytest

from alchemist.cim import CircuitBreaker, EmbeddedServer, Outbox, connect
from alchemist.errors import ConcurrencyError
from alchemist.events import new_event

pytestmark = pytest.mark.integration


def chain(graph_id, n, start=0, previous=None):
    events = []
    if start == 0:
        events.append(new_event("graph_created", graph_id, {}, timestamp=0))
        previous = events[-1].cid
    for i in range(start, start + n):
        events.append(new_event("node_added", graph_id, {"node_id": f"n{i}"}, timestamp=i + 1, previous_cid=previous))
        previous = events[-1].cid
    return events


def test_two_writers_same_expected_version_exactly_one_wins(conn):
    created = chain("agg", 0)[0]
    base = conn.publish(created, expected_sequence=0)
    version = conn.aggregate_sequence("agg")
    assert version == base
    a = new_event("node_added", "agg", {"node_id": "from-a"}, previous_cid=created.cid)
    b = new_event("node_added", "agg", {"node_id": "from-b"}, previous_cid=created.cid)
    outcomes = {}
    barrier = threading.Barrier(2)

    def write(name, event):
        barrier.wait()
        try:
            outcomes[name] = conn.publish(event, expected_sequence=version)
        except ConcurrencyError as exc:
            outcomes[name] = exc

    threads = [threading.Thread(target=write, args=(n, e)) for n, e in (("a", a), ("b", b))]
    [t.start() for t in threads]
    [t.join() for t in threads]
    winners = [v for v in outcomes.values() if isinstance(v, int)]
    losers = [v for v in outcomes.values() if isinstance(v, ConcurrencyError)]
    assert len(winners) == 1 and len(losers) == 1
    graph = conn.graph("agg", live=False)
    assert graph.number_of_nodes() == 1  # nothing of the loser was written
    with pytest.raises(ConcurrencyError):
        conn.publish(new_event("node_added", "agg", {"node_id": "late"}), expected_sequence=0)


def test_outbox_keeps_events_while_server_is_down_then_flushes_in_order(tmp_path):
    server = EmbeddedServer(data_dir=tmp_path / "js").start()
    conn = connect(server.url, outbox=tmp_path / "outbox.sqlite", retry_attempts=2,
                   breaker=CircuitBreaker(threshold=1, cooldown=0.5), reconnect_wait=0.2, max_reconnects=-1)
    try:
        events = chain("down", 30)
        assert conn.publish(events[0]) is not None
        server.stop()
        queued = [conn.publish(e) for e in events[1:]]
        assert queued == [None] * 30
        assert len(conn.outbox) == 30 and conn.breaker.state in ("open", "half-open")
        server.start()  # same port, same storage
        conn.flush_outbox()  # also happens on reconnect; here we make sure it is done
        assert len(conn.outbox) == 0
        stored = conn.events("down")
        assert [e.event_id for e in stored] == [e.event_id for e in events]  # everything, in order
        assert [e.sequence for e in stored] == list(range(1, 32))
    finally:
        conn.close()
        server.stop()


def test_outbox_survives_a_process_restart(tmp_path):
    outbox = tmp_path / "outbox.sqlite"
    box = Outbox(outbox)
    events = chain("restart", 10)
    from alchemist.events import encode_event, headers_for

    for e in events:  # what a process that died with the server down left behind
        box.put(f"graph.events.restart.{e.event_type}", encode_event(e), headers_for(e))
    box.close()
    server = EmbeddedServer(data_dir=tmp_path / "js").start()
    script = textwrap.dedent(f"""
        from alchemist.cim import connect
        with connect({server.url!r}, outbox={str(outbox)!r}) as c:
            g = c.graph("restart", live=False)
            print(len(c.outbox), g.number_of_nodes(), ",".join(e.event_id for e in c.events("restart")))
    """)
    try:
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    finally:
        server.stop()
    depth, nodes, ids = out.stdout.split()
    assert (int(depth), int(nodes)) == (0, 10)
    assert ids.split(",") == [e.event_id for e in events]


def test_publish_many_reports_queued_events_and_flush_outbox_waits_for_the_server(tmp_path):
    server = EmbeddedServer(data_dir=tmp_path / "js").start()
    conn = connect(server.url, outbox=tmp_path / "outbox.sqlite", retry_attempts=1,
                   breaker=CircuitBreaker(threshold=1, cooldown=0.5), reconnect_wait=0.2, max_reconnects=-1)
    try:
        events = chain("queued", 40)
        first = conn.publish_many(events[:11], batch=5)
        assert (first.published, first.queued, first.complete) == (11, 0, True)
        server.stop()
        later = conn.publish_many(events[11:], batch=5, wait=0)  # 30 events in 6 messages, server away
        assert (later.published, later.queued, later.complete) == (0, 30, False)
        assert (len(conn.outbox), conn.outbox.events()) == (6, 30)
        assert conn.flush_outbox(timeout=1.0) == 0 and len(conn.outbox) == 6  # still away: nothing sent
        threading.Timer(1.0, server.start).start()  # back within the timeout below (same port and store)
        conn.flush_outbox(timeout=60)
        assert conn.outbox.events() == 0
        stored = conn.events("queued")
        assert [e.event_id for e in stored] == [e.event_id for e in events]  # all, once, in order
    finally:
        conn.close()
        server.stop()


def test_outbox_batches_and_counts_events(tmp_path):
    box = Outbox(tmp_path / "o.sqlite")
    box.put_many([("s.a", b"1", {"Cim-Event-Count": "1000"}), ("s.b", b"2", {"Nats-Msg-Id": "x"})])
    box.put("s.c", b"3", {"Cim-Event-Count": "7"})
    entries = box.peek()
    assert [e.subject for e in entries] == ["s.a", "s.b", "s.c"] and (len(box), box.events()) == (3, 1008)
    box.remove_many([entries[0].id, entries[2].id])
    assert [e.subject for e in box.peek()] == ["s.b"] and (len(box), box.events()) == (1, 1)
    box.close()
    assert len(Outbox(tmp_path / "o.sqlite")) == 1  # durable
