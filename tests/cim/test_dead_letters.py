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
