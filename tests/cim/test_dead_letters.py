"""A thousand malformed messages from a foreign producer: all dead-lettered with reasons, the
consumer alive, the good events around them applied."""

import asyncio
import json
import random

import nats
import pytest

from alchemist.cim import DLQ_STREAM
from alchemist.cim.observability import metrics_text
from alchemist.events import encode_event, headers_for, new_event

pytestmark = pytest.mark.integration


def malformed(i: int, rng: random.Random):
    kind = i % 5
    if kind == 0:
        return "garbage", bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 60)))
    if kind == 1:
        return "missing", json.dumps({"event_id": f"x{i}", "event_type": "node_added"}).encode()
    if kind == 2:
        return "unknown", encode_event(new_event("mystery_happened", "dlq", {"n": i}, validate=False))
    if kind == 3:
        return "schema", encode_event(new_event("node_added", "dlq", {"node_id": i}, validate=False))
    event = new_event("node_added", "dlq", {"node_id": f"t{i}"})
    return "cid", encode_event(event).replace(f't{i}'.encode(), f'T{i}'.encode())


async def produce(url, messages):
    nc = await nats.connect(url)
    js = nc.jetstream()
    for subject, data, headers in messages:
        await js.publish(subject, data, headers=headers)
    await nc.close()


async def dead_letters(url, n):
    nc = await nats.connect(url)
    js = nc.jetstream()
    sub = await js.pull_subscribe("alchemist.dlq.dlq.>", stream=DLQ_STREAM)
    out = []
    while len(out) < n:
        out += await sub.fetch(batch=min(500, n - len(out)), timeout=5)
    await nc.close()
    return out


def test_thousand_malformed_messages(conn, nats_server):
    rng = random.Random(3)
    good, messages, kinds = [], [], []
    previous = None
    for i in range(1100):
        if i % 11 == 0:  # a good event every 11 messages
            event = new_event("node_added", "dlq", {"node_id": f"good{i}"}, previous_cid=previous)
            previous = event.cid
            good.append(event)
            messages.append(("graph.events.dlq.node_added", encode_event(event), headers_for(event)))
        else:
            kind, data = malformed(i, rng)
            kinds.append(kind)
            messages.append((f"graph.events.dlq.{kind}", data, {"Nats-Msg-Id": f"bad-{i}"}))
    assert len(kinds) == 1000
    asyncio.run(produce(nats_server.url, messages))
    graph = conn.graph("dlq")
    assert sorted(graph.node_ids) == sorted(e.payload["node_id"] for e in good)
    assert len(graph.rejected) == 1000 and conn.dead_lettered == 1000
    letters = asyncio.run(dead_letters(nats_server.url, 1000))
    reasons = [m.headers["Alchemist-Dlq-Error"] for m in letters]
    assert {"InvalidEventError", "UnknownEventTypeError", "CIDMismatchError"} <= set(reasons)
    assert reasons.count("CIDMismatchError") == kinds.count("cid")
    assert reasons.count("UnknownEventTypeError") == kinds.count("unknown")
    assert all(m.headers["Alchemist-Dlq-Reason"] for m in letters)
    assert 'alchemist_events_dead_lettered_total{reason="CIDMismatchError"}' in metrics_text()
    # the consumer is still alive: a new good event arrives in the live graph
    late = new_event("node_added", "dlq", {"node_id": "late"}, previous_cid=previous)
    seq = conn.publish(late)
    assert conn.feeds["dlq"].wait_for(seq, timeout=20)
    assert "late" in graph


def test_a_dead_letter_is_refused_after_the_duplicate_window(conn, monkeypatch):
    """Beyond JetStream's 2-minute duplicate window the Nats-Msg-Id no longer protects; the DLQ
    stream's one-message-per-subject rule does. Simulated without waiting: the second send carries
    another Nats-Msg-Id (as if the first were forgotten)."""
    from nats.js.errors import APIError

    letters = conn.consumer.dead_letters
    assert conn.run(letters.send(b"poison", ValueError("bad bytes"), graph_id="late", sequence=7)) is True
    with pytest.raises(APIError, match="maximum messages per subject exceeded"):  # the server's own answer
        conn.run(conn.js.publish("alchemist.dlq.late.7", b"again", headers={"Nats-Msg-Id": "forgotten"}))
    publish = conn.js.publish

    async def forgetful(subject, payload=b"", **kwargs):
        kwargs["headers"] = {**kwargs["headers"], "Nats-Msg-Id": "another-id"}
        return await publish(subject, payload, **kwargs)

    monkeypatch.setattr(conn.js, "publish", forgetful)
    assert conn.run(letters.send(b"poison", ValueError("bad bytes"), graph_id="late", sequence=7)) is False
    info = conn.run(conn.js.stream_info(DLQ_STREAM, subjects_filter="alchemist.dlq.late.>"))
    assert info.state.subjects == {"alchemist.dlq.late.7": 1}
    letter = conn.run(conn.js.get_last_msg(DLQ_STREAM, "alchemist.dlq.late.7"))
    assert letter.data == b"poison" and letter.headers["Alchemist-Dlq-Error"] == "ValueError"
    assert letter.headers["Alchemist-Dlq-Reason"] == "bad bytes"


def test_an_exception_while_folding_dead_letters_only_that_event(conn, monkeypatch):
    """Any exception, not only the expected event errors: the event that raised it is dead-lettered
    with it, the others of the same fetch (and of the same batch message) are applied."""
    from alchemist.cim.fold import GraphFold

    feed = GraphFold.feed

    def fragile(self, events, **kwargs):
        if any(e.payload.get("node_id") == "boom" for e in events):
            raise RuntimeError("the fold tripped on boom")
        return feed(self, events, **kwargs)

    chain, previous = [], None
    for name in ["a", "b", "c", "d"]:
        chain.append(new_event("node_added", "fragile", {"node_id": name}, previous_cid=previous))
        previous = chain[-1].cid
    boom = new_event("node_added", "fragile", {"node_id": "boom"}, previous_cid=previous)  # nothing waits on it
    conn.publish_many(chain[:2], batch=1)
    conn.publish_many([boom] + chain[2:], batch=3)  # boom shares a batch message with c and d
    monkeypatch.setattr(GraphFold, "feed", fragile)
    graph = conn.graph("fragile", live=False)
    assert sorted(graph.node_ids) == ["a", "b", "c", "d"]
    assert [(r[1], r[2]) for r in graph.rejected] == [(boom.event_id, "the fold tripped on boom")]
    info = conn.run(conn.js.stream_info(DLQ_STREAM, subjects_filter="alchemist.dlq.fragile.>"))
    assert list((info.state.subjects or {}).values()) == [1]


def test_a_dead_letter_that_cannot_be_stored_is_judged_again_later(conn, nats_server):
    """With ALCHEMIST_DLQ gone the read says so (DeadLetterError), and once it is back the next
    read stores the dead letter: nothing is lost."""
    from alchemist.cim.deadletters import DeadLetterError

    good = new_event("node_added", "lost", {"node_id": "a"})
    conn.publish(good)
    asyncio.run(produce(nats_server.url, [("graph.events.lost.x", b"not json", {"Nats-Msg-Id": "lost-1"})]))
    conn.run(conn.js.delete_stream(DLQ_STREAM))
    conn.consumer.dead_letters.attempts, conn.consumer.dead_letters.backoff = 2, 0.01
    with pytest.raises(DeadLetterError, match="sequence 2"):
        conn.graph("lost", live=False)
    conn.ensure_streams()
    graph = conn.graph("lost", live=False)
    assert graph.node_ids == ["a"] and len(graph.rejected) == 1
    info = conn.run(conn.js.stream_info(DLQ_STREAM, subjects_filter="alchemist.dlq.lost.>"))
    assert info.state.subjects == {"alchemist.dlq.lost.2": 1}
