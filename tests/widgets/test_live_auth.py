"""EventStream reaches secured servers with the connection's own options (issue 13, item 3).

Real nats-servers are started with a token, with a user and password, and with TLS client
certificates (as tests/cim/test_auth_tls.py does); events published through the connection must
arrive through an EventStream opened on that connection. Wrong credentials and unreachable servers
give a specific error within seconds, not an empty TimeoutError.
"""

import threading
import time
from types import SimpleNamespace

import pytest

from alchemist.cim import ConnectOptions, EmbeddedServer, connect
from alchemist.cim.server import free_port
from alchemist.errors import CIMAuthenticationError, CIMConnectionError, CIMError
from alchemist.events import DEFAULT_SUBJECTS, new_event
from alchemist.widgets.live import EventStream
from tests.cim.test_auth_tls import certificates  # noqa: F401  (fixture: a CA, server and client certificates)

pytestmark = pytest.mark.integration


def start(tmp_path, *args):
    return EmbeddedServer(data_dir=tmp_path / "js", args=list(args)).start()


def graph_events(graph_id: str, n: int):
    events = [new_event("graph_created", graph_id, {"name": graph_id}, timestamp=0)]
    previous = events[0].cid
    for i in range(n):
        events.append(new_event("node_added", graph_id, {"node_id": f"n{i}"}, timestamp=i, previous_cid=previous))
        previous = events[-1].cid
    return events


def collect(stream: EventStream, expected: int, timeout: float = 20.0) -> list:
    """Event ids delivered to a listener, once ``expected`` have arrived (or the time is up)."""
    got: list = []
    done = threading.Event()

    def listener(events, info):
        got.extend(e.event_id for e in events)
        if len(got) >= expected:
            done.set()

    stream.subscribe(listener)
    done.wait(timeout)
    return got


def follow_and_check(conn, graph_id: str):
    """Events stored before the stream opens and events published while it is open all arrive, in order."""
    events = graph_events(graph_id, 5)
    conn.publish_many(events[:3], batch=1)  # stored before the stream opens: 3 messages
    with EventStream(conn, graph_id) as stream:
        conn.publish_many(events[3:], batch=10)  # published while it is open: one events_batch message
        assert collect(stream, len(events)) == [e.event_id for e in events]
        assert stream.rejected == 0 and stream.delivered == 4


def test_event_stream_on_a_token_server(tmp_path):
    server = start(tmp_path, "--auth", "s3cret-token")
    try:
        with connect(server.url, token="s3cret-token", outbox=tmp_path / "o.sqlite") as conn:
            assert "s3cret" not in conn.url
            follow_and_check(conn, "tokened")
            # the same server and a wrong token: refused at once, with the specific error
            wrong = SimpleNamespace(options=ConnectOptions.resolve(server.url, token="wrong", timeout=3),
                                    subjects=conn.subjects)
            started = time.monotonic()
            with pytest.raises(CIMAuthenticationError, match="refused the credentials") as info:
                EventStream(wrong, "tokened")
            assert time.monotonic() - started < 10
            assert "wrong" not in str(info.value)
    finally:
        server.stop()


def test_event_stream_on_a_user_password_server(tmp_path):
    server = start(tmp_path, "--user", "alice", "--pass", "pa55word")
    try:
        with connect(server.url, user="alice", password="pa55word", outbox=tmp_path / "o.sqlite") as conn:
            follow_and_check(conn, "passworded")
        # credentials in the URL: the connection's url is redacted, its options are not
        url = server.url.replace("nats://", "nats://alice:pa55word@")
        with connect(url, outbox=tmp_path / "o2.sqlite") as conn:
            assert "pa55word" not in conn.url
            follow_and_check(conn, "in-url")
    finally:
        server.stop()


def test_event_stream_with_tls_client_certificates(tmp_path, certificates):  # noqa: F811
    d = certificates
    conf = tmp_path / "tls.conf"
    conf.write_text(f'tls {{\n  cert_file: "{d / "server.pem"}"\n  key_file: "{d / "server.key"}"\n'
                    f'  ca_file: "{d / "ca.pem"}"\n  verify: true\n  timeout: 2\n}}\n')
    server = start(tmp_path, "-c", str(conf))
    try:
        url = server.url.replace("nats://", "tls://")
        with connect(url, tls_ca=str(d / "ca.pem"), tls_cert=str(d / "client.pem"), tls_key=str(d / "client.key"),
                     outbox=tmp_path / "o.sqlite") as conn:
            follow_and_check(conn, "tls")
    finally:
        server.stop()


def test_event_stream_on_an_unreachable_server_is_a_prompt_connection_error():
    gone = SimpleNamespace(options=ConnectOptions.resolve(f"nats://127.0.0.1:{free_port()}", timeout=2),
                           subjects=DEFAULT_SUBJECTS)
    started = time.monotonic()
    with pytest.raises(CIMConnectionError, match="cannot reach a NATS server at nats://127.0.0.1"):
        EventStream(gone, "g")
    assert time.monotonic() - started < 10


def test_event_stream_names_a_missing_stream(conn_plain):
    with pytest.raises(CIMError, match="on stream 'NO_SUCH_STREAM'"):
        EventStream(conn_plain, "g", stream="NO_SUCH_STREAM", timeout=3)


@pytest.fixture
def conn_plain(tmp_path):
    server = start(tmp_path)
    try:
        with connect(server.url, outbox=tmp_path / "o.sqlite") as conn:
            yield conn
    finally:
        server.stop()
