"""Hostile input against a real nats-server, one message kind per test.

Each test publishes raw bytes with ``conn.js`` between valid events of one graph, then reads the
graph three times, each time on a fresh connection, and checks that the valid events are applied
exactly once and that each bad message (or event) is in ``ALCHEMIST_DLQ`` exactly once, on the
subject derived from its stream sequence (computed here by hand, not with alchemist's helper).

Why three reads show "once for good": every read judges the bad message again and publishes its
dead letter again. Within JetStream's 2-minute duplicate window the ``Nats-Msg-Id`` would make a
copy a duplicate anyway; the scheme under test does not depend on that window: the stream keeps
one message per subject and refuses a second (``discard_new_per_subject``), which
``test_dead_letters.py::test_a_dead_letter_is_refused_after_the_duplicate_window`` checks with a
second publish under another message id (what a read three minutes later would send).
"""

from __future__ import annotations

import hashlib
import json

import msgspec
import pytest

from alchemist.cim import DLQ_STREAM, connect
from alchemist.events import encode_event, headers_for, new_event

pytestmark = pytest.mark.integration

GRAPH = "hostile"
SUBJECT = f"graph.events.{GRAPH}.node_added"

# --------------------------------------------------------------------------- helpers
def valid_chain(n: int, start=None):
    """``n`` node_added events v0.. chained by previous_cid."""
    events, previous = [], start
    for i in range(n):
        event = new_event("node_added", GRAPH, {"node_id": f"v{i}"}, previous_cid=previous)
        events.append(event)
        previous = event.cid
    return events


def publish_valid(conn, event) -> int:
    return conn.run(conn.js.publish(SUBJECT, encode_event(event), headers=headers_for(event))).seq


def publish_raw(conn, data: bytes, msg_id: str, subject: str = SUBJECT) -> int:
    return conn.run(conn.js.publish(subject, data, headers={"Nats-Msg-Id": msg_id})).seq


def message_subject(seq: int) -> str:
    return f"alchemist.dlq.{GRAPH}.{seq}"


def event_subject(seq: int, event_id: str) -> str:
    return f"alchemist.dlq.{GRAPH}.{seq}.{hashlib.blake2b(event_id.encode(), digest_size=8).hexdigest()}"


def dead_letters(conn) -> dict[str, int]:
    info = conn.run(conn.js.stream_info(DLQ_STREAM, subjects_filter=f"alchemist.dlq.{GRAPH}.>"))
    return dict(info.state.subjects or {})


def reason(conn, subject: str) -> str:
    msg = conn.run(conn.js.get_last_msg(DLQ_STREAM, subject))
    return msg.headers["Alchemist-Dlq-Error"]


def read_three_times(nats_server, tmp_path, valid, letters: dict[str, str | None]):
    """Three reads on fresh connections: the valid events applied once, each dead letter stored
    once (``letters``: subject -> expected error class name, or None for any)."""
    for attempt in range(3):
        with connect(nats_server.url, outbox=tmp_path / f"outbox-{attempt}.sqlite") as reader:
            graph = reader.graph(GRAPH, live=False)
            assert sorted(graph.node_ids) == sorted(e.payload["node_id"] for e in valid)
            assert graph.version == len(valid)  # each valid event applied once
            assert len(graph.rejected) == len(letters)  # judged again on every read ...
            assert dead_letters(reader) == {subject: 1 for subject in letters}  # ... and stored once
            for subject, error in letters.items():
                assert reason(reader, subject) == error or error is None


def around(conn, bad, n_before=2, n_after=2):
    """Publish ``n_before`` valid events, then ``bad(conn) -> {subject: error}``, then
    ``n_after`` valid events continuing the chain; returns (valid events, letters)."""
    valid = valid_chain(n_before + n_after)
    for event in valid[:n_before]:
        publish_valid(conn, event)
    letters = bad(conn, valid[n_before - 1])
    for event in valid[n_before:]:
        publish_valid(conn, event)
    return valid, letters


# --------------------------------------------------------------------------- one message kind each
def test_json_bomb(conn, nats_server, tmp_path):
    def bad(conn, last):
        event = new_event("node_added", GRAPH, {"node_id": "bomb"}, previous_cid=last.cid)
        depth = 33_000  # ~200 KB of nesting inside the payload
        data = encode_event(event).replace(b'{"node_id":"bomb"}', b'{"node_id":"bomb","p":' + b'{"a":' * depth
                                           + b"1" + b"}" * depth + b"}")
        assert 190_000 < len(data) < 210_000
        return {message_subject(publish_raw(conn, data, "bomb")): "NestingTooDeepError"}

    valid, letters = around(conn, bad)
    read_three_times(nats_server, tmp_path, valid, letters)


def test_oversize_message(conn, nats_server, tmp_path, monkeypatch):
    import alchemist.events.envelope as envelope

    monkeypatch.setattr(envelope, "MAX_MESSAGE_BYTES", 64 * 1024)  # the server takes up to 1 MiB

    def bad(conn, last):
        event = new_event("node_added", GRAPH, {"node_id": "big", "label": "x" * 100_000}, previous_cid=last.cid)
        return {message_subject(publish_raw(conn, encode_event(event), "big")): "MessageTooLargeError"}

    valid, letters = around(conn, bad)
    read_three_times(nats_server, tmp_path, valid, letters)


def test_bad_utf8(conn, nats_server, tmp_path):
    def bad(conn, last):
        event = new_event("node_added", GRAPH, {"node_id": "utf"}, previous_cid=last.cid)
        data = encode_event(event).replace(b'"utf"', b'"utf\xff\xfe"')
        return {message_subject(publish_raw(conn, data, "utf8")): "InvalidEventError"}

    valid, letters = around(conn, bad)
    read_three_times(nats_server, tmp_path, valid, letters)


def test_wrong_schema(conn, nats_server, tmp_path):
    def bad(conn, last):
        event = new_event("node_added", GRAPH, {"node_id": 12345}, previous_cid=last.cid, validate=False)
        seq = publish_raw(conn, encode_event(event), "schema")
        return {event_subject(seq, event.event_id): "InvalidEventError"}

    valid, letters = around(conn, bad)
    read_three_times(nats_server, tmp_path, valid, letters)


def _non_canonical(cid: str) -> str:
    """Another spelling of ``cid``: the last base32 character with a padding bit set (it holds
    288 mod 5 = 3 data bits and 2 padding bits, which must be zero)."""
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    value = alphabet.index(cid[-1])
    assert value & 3 == 0
    return cid[:-1] + alphabet[value | 1]


def test_non_canonical_cid(conn, nats_server, tmp_path):
    def bad(conn, last):
        event = new_event("node_added", GRAPH, {"node_id": "spelled"}, previous_cid=last.cid)
        forged = msgspec.structs.replace(event, cid=_non_canonical(event.cid))
        seq = publish_raw(conn, encode_event(forged), "spelling")
        return {event_subject(seq, event.event_id): "NonCanonicalCIDError"}

    valid, letters = around(conn, bad)
    read_three_times(nats_server, tmp_path, valid, letters)


def test_wrong_previous_cid(conn, nats_server, tmp_path):
    def bad(conn, last):
        elsewhere = new_event("node_added", "elsewhere", {"node_id": "z"})  # a real CID, never on this graph
        event = new_event("node_added", GRAPH, {"node_id": "orphan"}, previous_cid=elsewhere.cid)
        seq = publish_raw(conn, encode_event(event), "orphan")
        return {event_subject(seq, event.event_id): "UnknownPredecessorError"}

    valid, letters = around(conn, bad)
    read_three_times(nats_server, tmp_path, valid, letters)


def test_fork(conn, nats_server, tmp_path):
    valid = valid_chain(4)
    for event in valid[:3]:
        publish_valid(conn, event)
    # v2 already follows v1: a second successor of v1 is a fork, refused as the later one
    fork = new_event("node_added", GRAPH, {"node_id": "fork"}, previous_cid=valid[1].cid)
    seq = publish_raw(conn, encode_event(fork), "fork")
    publish_valid(conn, valid[3])
    read_three_times(nats_server, tmp_path, valid, {event_subject(seq, fork.event_id): "ForkError"})


def test_conflicting_duplicate(conn, nats_server, tmp_path):
    def bad(conn, last):
        # the id of an applied event with other content (a CID true to that content); another
        # Nats-Msg-Id so that JetStream stores it
        other = new_event("node_added", GRAPH, {"node_id": "impostor"}, previous_cid=last.cid,
                          event_id=last.event_id)
        assert other.event_id == last.event_id and other.cid != last.cid
        seq = publish_raw(conn, encode_event(other), "impostor")
        return {event_subject(seq, other.event_id): "ConflictingDuplicateError"}

    valid, letters = around(conn, bad)
    read_three_times(nats_server, tmp_path, valid, letters)


def test_poison_insight(nats_server, tmp_path):
    """A malformed insight between two good ones: handled once, terminated, dead-lettered once;
    three consumers in a row on fresh connections."""
    seqs = []
    with connect(nats_server.url, outbox=tmp_path / "outbox.sqlite") as conn:
        for i, data in enumerate([json.dumps({"kind": "a"}).encode(), b'{"kind": "b", ', json.dumps(
                {"kind": "c"}).encode()]):
            ack = conn.run(conn.js.publish("ai.insights.graph", data, headers={"Nats-Msg-Id": f"insight-{i}"}))
            seqs.append(ack.seq)
    seen, counts = [], []
    for attempt in range(3):
        with connect(nats_server.url, outbox=tmp_path / f"outbox-{attempt}.sqlite") as conn:
            counts.append(conn.consume_insights(seen.append, timeout=1.0))
            info = conn.run(conn.js.stream_info(DLQ_STREAM, subjects_filter="alchemist.dlq.AI_INSIGHTS.>"))
            assert dict(info.state.subjects or {}) == {f"alchemist.dlq.AI_INSIGHTS.{seqs[1]}": 1}
            letter = conn.run(conn.js.get_last_msg(DLQ_STREAM, f"alchemist.dlq.AI_INSIGHTS.{seqs[1]}"))
            assert letter.data == b'{"kind": "b", ' and letter.headers["Alchemist-Dlq-Error"] == "JSONDecodeError"
    assert counts == [{"acked": 2, "naked": 0, "dead_lettered": 1}] + [{"acked": 0, "naked": 0,
                                                                        "dead_lettered": 0}] * 2
    assert [s["kind"] for s in seen] == ["a", "c"]


def test_control_characters_in_an_event_id(conn, nats_server, tmp_path):
    """An event id that would break a NATS header block (CR LF) on an event that fails its schema:
    the dead letter's headers carry it escaped, and it is stored once."""
    def bad(conn, last):
        event = new_event("node_added", GRAPH, {"node_id": ["not", "a", "string"]}, previous_cid=last.cid,
                          event_id="evil\r\nNats-Msg-Id: forged", validate=False)
        seq = publish_raw(conn, encode_event(event), "evil")
        return {event_subject(seq, event.event_id): "InvalidEventError"}

    valid, letters = around(conn, bad)
    read_three_times(nats_server, tmp_path, valid, letters)
    (subject,) = letters
    letter = conn.run(conn.js.get_last_msg(DLQ_STREAM, subject))
    assert letter.headers["Cim-Event-Id"] == "evil\\r\\nNats-Msg-Id: forged"
    assert letter.headers["Nats-Msg-Id"].startswith("dlq:GRAPH_EVENTS:")


def test_a_durable_consumer_alchemist_did_not_create_is_left_alone(conn):
    from nats.js.api import ConsumerConfig

    from alchemist.errors import CIMError

    publish_valid(conn, valid_chain(1)[0])
    theirs = ConsumerConfig(durable_name="theirs", filter_subject=f"graph.events.{GRAPH}.*")
    conn.run(conn.js.add_consumer("GRAPH_EVENTS", theirs))
    with pytest.raises(CIMError, match="'theirs' .* was not created by alchemist"):
        conn.graph(GRAPH, live=False, durable="theirs")
    info = conn.run(conn.js.consumer_info("GRAPH_EVENTS", "theirs"))
    assert info.delivered.stream_seq == 0  # untouched


def test_a_poison_last_message_does_not_hide_the_last_event(conn):
    """The graph's last message is poison: last_event is the newest decodable event (a replay can
    resume), last_sequence is the poison's (what optimistic concurrency compares with)."""
    valid = valid_chain(3)
    seqs = [publish_valid(conn, e) for e in valid]
    poison = publish_raw(conn, b'{"event_id": ' + b"[" * 5000, "poison-last",
                         subject=f"graph.events.{GRAPH}.edge_added")
    last = conn.last_event(GRAPH)
    assert (last.event_id, last.sequence) == (valid[-1].event_id, seqs[-1])
    assert conn.run(conn.consumer.last_sequence(GRAPH)) == poison
