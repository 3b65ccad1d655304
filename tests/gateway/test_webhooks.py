"""Outgoing webhooks against real HTTP receivers (http.server in a thread): the Standard Webhooks
signature verified by the ``standardwebhooks`` package itself, retries, and the dead letter."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks import Webhook

from alchemist.cim.deadletters import dead_letter_subject
from alchemist.gateway import GatewaySettings
from alchemist.gateway.responses import GatewayConfigError
from alchemist.gateway.webhooks import WEBHOOKS_KEY, WebhookSpec

pytestmark = pytest.mark.integration

SECRET = "whsec_" + base64.b64encode(os.urandom(24)).decode()


class Receiver:
    """An HTTP endpoint on a free loopback port that records every POST and answers ``status``."""

    def __init__(self, status: int = 204):
        self.status = status
        self.posts: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.posts.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def wait(self, count: int, timeout: float = 30.0) -> list:
        deadline = time.monotonic() + timeout
        while len(self.posts) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.posts

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(status=204):
        made.append(Receiver(status))
        return made[-1]

    yield make
    for r in made:
        r.stop()


def test_chosen_events_arrive_signed_and_verify(gateway_factory, conn, receiver):
    hook = receiver(204)
    gw = gateway_factory(GatewaySettings(webhooks=({"url": hook.url, "secret": SECRET,
                                                    "event_types": ["node_added", "edge_added"]},)))
    conn.append("g1", "node_added", {"node_id": "a"})
    conn.append("g1", "node_updated", {"node_id": "a", "properties": {"x": 1}})  # not chosen
    conn.append("g1", "node_added", {"node_id": "b"})
    edge = conn.append("g1", "edge_added", {"edge_id": "e1", "source": "a", "target": "b"})
    posts = hook.wait(3)
    time.sleep(0.5)  # nothing more arrives (the node_updated is filtered out)
    assert len(hook.posts) == 3
    verifier = Webhook(SECRET)
    bodies = [verifier.verify(body, headers) for headers, body in posts]  # raises on a bad signature
    assert [b["type"] for b in bodies] == ["graph.node_added", "graph.node_added", "graph.edge_added"]
    assert [b["data"]["payload"].get("node_id") for b in bodies[:2]] == ["a", "b"]
    assert bodies[2]["data"]["event_id"] == edge.event_id == posts[2][0]["webhook-id"]
    assert bodies[2]["data"]["sequence"] == edge.sequence
    # a body changed in transit, or signed with another secret, does not verify
    headers, body = posts[0]
    with pytest.raises(Exception, match="signature"):
        verifier.verify(body.replace(b'"a"', b'"z"'), headers)
    with pytest.raises(Exception, match="signature"):
        Webhook("whsec_" + base64.b64encode(os.urandom(24)).decode()).verify(body, headers)
    worker = gw.app.state.gateway.extras[WEBHOOKS_KEY][0]
    assert (worker.delivered, worker.dead_lettered, worker.attempts) == (3, 0, 3)


def test_two_instances_deliver_each_event_once(gateway_factory, conn, receiver):
    hook = receiver(200)
    settings = GatewaySettings(webhooks=({"url": hook.url, "secret": SECRET, "event_types": "*"},))
    one, two = gateway_factory(settings), gateway_factory(settings)
    events = [conn.append("g2", "node_added", {"node_id": f"n{i}"}) for i in range(20)]
    hook.wait(20)
    time.sleep(1.0)
    ids = [headers["webhook-id"] for headers, _ in hook.posts]
    assert sorted(ids) == sorted(e.event_id for e in events)  # each once, by one instance or the other
    counts = [gw.app.state.gateway.extras[WEBHOOKS_KEY][0].delivered for gw in (one, two)]
    assert sum(counts) == 20


def test_a_failing_endpoint_is_retried_then_the_event_is_dead_lettered(gateway_factory, conn, receiver):
    hook = receiver(500)
    gw = gateway_factory(GatewaySettings(webhooks=({"url": hook.url, "secret": SECRET, "event_types": ["node_added"],
                                                    "name": "failing", "max_attempts": 3, "backoff_s": 0.05},)))
    event = conn.append("g3", "node_added", {"node_id": "a"})
    posts = hook.wait(3)
    worker = gw.app.state.gateway.extras[WEBHOOKS_KEY][0]
    deadline = time.monotonic() + 20
    while worker.dead_lettered < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert worker.dead_lettered == 1 and worker.delivered == 0
    assert len(posts) == 3 and {h["webhook-id"] for h, _ in posts} == {event.event_id}  # same id each attempt
    subject = dead_letter_subject("g3", event.sequence, event.event_id, stream="WEBHOOK_failing")

    async def read():
        return await conn.js.get_last_msg(conn.streams.dlq, subject)

    letter = conn.run(read())
    assert letter.headers["Alchemist-Dlq-Error"] == "WebhookDeliveryError"
    reason = letter.headers["Alchemist-Dlq-Reason"]
    assert "HTTP 500" in reason and hook.url in reason and "attempt 3 of 3" in reason
    assert letter.headers["Cim-Event-Id"] == event.event_id and letter.headers["Alchemist-Dlq-Graph"] == "g3"
    assert json.loads(letter.data)["data"]["event_id"] == event.event_id  # the payload, to send again
    time.sleep(0.5)
    assert len(hook.posts) == 3  # acknowledged after the dead letter: not delivered again


def test_an_unreachable_endpoint_is_dead_lettered_too(gateway_factory, conn):
    from tests.gateway.conftest import free_port

    url = f"http://127.0.0.1:{free_port()}/nobody"
    gw = gateway_factory(GatewaySettings(webhooks=({"url": url, "secret": SECRET, "max_attempts": 2,
                                                    "backoff_s": 0.05, "timeout_s": 2},)))
    conn.append("g4", "node_added", {"node_id": "a"})
    worker = gw.app.state.gateway.extras[WEBHOOKS_KEY][0]
    deadline = time.monotonic() + 20
    while worker.dead_lettered < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (worker.dead_lettered, worker.attempts) == (1, 2)


@pytest.mark.parametrize("entry, words", [
    ({"url": "ftp://x", "secret": SECRET}, "http"),
    ({"url": "http://x", "secret": "plain"}, "whsec_"),
    ({"url": "http://x", "secret": SECRET, "event_types": ["node_teleported"]}, "node_teleported"),
    ({"url": "http://x", "secret": SECRET, "retries": 3}, "retries"),
    ({"url": "http://x", "secret": SECRET, "max_attempts": 0}, "max_attempts"),
])
def test_bad_webhook_settings_are_refused_with_the_reason(entry, words):
    with pytest.raises(GatewayConfigError, match=words):
        WebhookSpec.from_dict(entry)
