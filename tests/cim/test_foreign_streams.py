"""Do no harm on a shared CIM: streams alchemist did not create are never changed (issue 13, item 9).

The foreign streams are created the way their owners create them:

- the original Information Alchemist (Rust, TheCowboyAI/alchemist ``src/jetstream_persistence.rs``,
  ``GraphPersistence::new``): ``GRAPH_EVENTS`` on ``graph.>``, limits retention,
  ``max_messages_per_subject: 10_000``, ``max_bytes: 1_073_741_824``, ``max_age`` 30 days, the
  rest async-nats defaults;
- cim-graph (TheCowboyAI/cim-graph ``src/nats/jetstream.rs``, ``JetStreamEventStore::ensure_stream``
  with ``default_prefix() == "local.cim"``): ``CIM_GRAPH_EVENTS`` on ``local.cim.>``, ``max_age`` 30
  days, ``duplicate_window`` 120 s.

Their state is read with raw JetStream API requests (``$JS.API.STREAM.INFO``) on a client of
their own, and compared as the server's JSON before and after alchemist connects.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from alchemist.cim import EmbeddedServer, connect
from alchemist.cim.streams import subject_covers, subjects_overlap
from alchemist.errors import StreamConflictError
from alchemist.events import SubjectTemplate

from .conftest import count_file

pytestmark = pytest.mark.integration

_DAY_NS = 24 * 3600 * 10**9
ORIGINAL_APP = {"name": "GRAPH_EVENTS", "subjects": ["graph.>"], "retention": "limits", "storage": "file",
                "max_msgs_per_subject": 10_000, "max_bytes": 1_073_741_824, "max_age": 30 * _DAY_NS,
                "num_replicas": 1}
CIM_GRAPH = {"name": "CIM_GRAPH_EVENTS", "subjects": ["local.cim.>"], "max_age": 30 * _DAY_NS,
             "duplicate_window": 120 * 10**9}


def api(url: str, subject: str, payload: dict | bytes | None = None) -> dict:
    """One request on a client of its own; the JSON answer."""
    import nats

    data = payload if isinstance(payload, bytes) else json.dumps(payload or {}).encode() if payload else b""

    async def go():
        nc = await nats.connect(url)
        try:
            return json.loads((await nc.request(subject, data, timeout=5)).data)
        finally:
            await nc.close()

    return asyncio.run(go())


def create_stream(url: str, config: dict) -> dict:
    answer = api(url, f"$JS.API.STREAM.CREATE.{config['name']}", config)
    assert "error" not in answer, answer
    return answer


def raw_config(url: str, name: str) -> tuple[dict, str]:
    """The server's JSON ``config`` of a stream and its creation time."""
    info = api(url, f"$JS.API.STREAM.INFO.{name}")
    assert "error" not in info, info
    return info["config"], info["created"]


def stream_names(url: str) -> list[str]:
    return sorted(api(url, "$JS.API.STREAM.NAMES", {"offset": 0})["streams"] or [])


@pytest.fixture
def small_file(tmp_path):
    path = tmp_path / "edges.txt"
    path.write_text("".join(f"{i % 17} {(i * 7) % 23 + 100} {1000 + i}\n" for i in range(60)))
    return path


def _connect(server, tmp_path, **kw):
    return connect(server.url, outbox=tmp_path / "outbox.sqlite", **kw)


def _graph_matches_file(conn, path, graph_id):
    conn.replay(path, graph_id=graph_id, batch=10)
    graph = conn.graph(graph_id, live=False)
    lines, nodes = count_file(path)
    assert (graph.number_of_nodes(), graph.number_of_edges(), graph.rejected) == (nodes, lines, [])


# --------------------------------------------------------------------------- the original app's GRAPH_EVENTS
def test_original_app_stream_is_left_unchanged_and_named(nats_server, tmp_path):
    create_stream(nats_server.url, ORIGINAL_APP)
    before = raw_config(nats_server.url, "GRAPH_EVENTS")
    assert before[0]["max_msgs_per_subject"] == 10_000 and before[0]["subjects"] == ["graph.>"]
    with pytest.raises(StreamConflictError) as caught:
        _connect(nats_server, tmp_path)
    message = str(caught.value)
    assert "\n" not in message
    assert "GRAPH_EVENTS" in message and "graph.>" in message and "use_existing_streams=True" in message
    assert raw_config(nats_server.url, "GRAPH_EVENTS") == before  # byte for byte the same JSON
    # the original app's next publish is still stored by its stream
    ack = api(nats_server.url, "graph.g1.node.added", b'{"NodeAdded":{}}')
    assert ack.get("stream") == "GRAPH_EVENTS" and ack.get("seq") == 1


def test_original_app_stream_read_and_written_as_it_is(nats_server, tmp_path, small_file):
    create_stream(nats_server.url, ORIGINAL_APP)
    before = raw_config(nats_server.url, "GRAPH_EVENTS")
    conn = _connect(nats_server, tmp_path, use_existing_streams=True)
    try:
        assert conn.graph_stream == "GRAPH_EVENTS"
        _graph_matches_file(conn, small_file, "shared")
        # alchemist's other streams are its own, marked
        assert conn.stream_info(stream="ALCHEMIST_DLQ").config.metadata["created_by"] == "alchemist"
    finally:
        conn.close()
    assert raw_config(nats_server.url, "GRAPH_EVENTS") == before
    ack = api(nats_server.url, "graph.g1.node.added", b"{}")
    assert ack.get("stream") == "GRAPH_EVENTS"


def test_another_stream_name_needs_other_subjects_beside_graph_dot_all(nats_server, tmp_path, small_file):
    create_stream(nats_server.url, ORIGINAL_APP)
    before = raw_config(nats_server.url, "GRAPH_EVENTS")
    # another name alone still overlaps graph.>: the error says so and offers other subjects
    with pytest.raises(StreamConflictError, match=r"GRAPH_EVENTS.*graph\.>.*SubjectTemplate\(prefix="):
        _connect(nats_server, tmp_path, stream_name="ALCHEMIST_GRAPH_EVENTS")
    conn = _connect(nats_server, tmp_path, stream_name="ALCHEMIST_GRAPH_EVENTS",
                    subjects=SubjectTemplate(prefix="alchemist."))
    try:
        assert conn.graph_stream == "ALCHEMIST_GRAPH_EVENTS"
        assert conn.stream_info().config.subjects == ["alchemist.graph.events.>"]
        _graph_matches_file(conn, small_file, "apart")
    finally:
        conn.close()
    assert raw_config(nats_server.url, "GRAPH_EVENTS") == before
    assert stream_names(nats_server.url) == ["AI_INSIGHTS", "ALCHEMIST_DLQ", "ALCHEMIST_GRAPH_EVENTS", "GRAPH_EVENTS"]


def test_name_taken_by_unrelated_subjects_offers_another_name(nats_server, tmp_path, small_file):
    create_stream(nats_server.url, {"name": "GRAPH_EVENTS", "subjects": ["orders.>"]})
    before = raw_config(nats_server.url, "GRAPH_EVENTS")
    with pytest.raises(StreamConflictError, match=r'GRAPH_EVENTS.*orders\.>.*stream_name="ALCHEMIST_GRAPH_EVENTS"'):
        _connect(nats_server, tmp_path)
    with pytest.raises(StreamConflictError):  # it does not cover graph.events.>: not readable as it is either
        _connect(nats_server, tmp_path, use_existing_streams=True)
    conn = _connect(nats_server, tmp_path, stream_name="ALCHEMIST_GRAPH_EVENTS")
    try:
        _graph_matches_file(conn, small_file, "named")
    finally:
        conn.close()
    assert raw_config(nats_server.url, "GRAPH_EVENTS") == before


# --------------------------------------------------------------------------- cim-graph's CIM_GRAPH_EVENTS
def test_cim_graph_stream_is_left_unchanged_and_read_as_it_is(nats_server, tmp_path, small_file):
    create_stream(nats_server.url, CIM_GRAPH)
    before = raw_config(nats_server.url, "CIM_GRAPH_EVENTS")
    local = SubjectTemplate(prefix="local.cim.")
    with pytest.raises(StreamConflictError) as caught:
        _connect(nats_server, tmp_path, subjects=local)
    message = str(caught.value)
    assert "CIM_GRAPH_EVENTS" in message and "local.cim.>" in message and "use_existing_streams=True" in message
    assert raw_config(nats_server.url, "CIM_GRAPH_EVENTS") == before
    conn = _connect(nats_server, tmp_path, subjects=local, use_existing_streams=True)
    try:
        assert conn.graph_stream == "CIM_GRAPH_EVENTS"
        _graph_matches_file(conn, small_file, "leaf")
        stored = conn.stream_info("leaf")
        assert stored.state.messages > 0 and stored.config.name == "CIM_GRAPH_EVENTS"
    finally:
        conn.close()
    assert raw_config(nats_server.url, "CIM_GRAPH_EVENTS") == before
    assert "GRAPH_EVENTS" not in stream_names(nats_server.url)


def test_account_that_may_not_list_streams_still_gets_the_conflict_named(tmp_path, small_file):
    """Without permission to list streams, the server's refusal (10065) is looked up by subject."""
    conf = tmp_path / "auth.conf"
    conf.write_text("authorization { users = [ {user: admin, password: adminpw}, {user: app, password: apppw, "
                    'permissions: {publish: {deny: ["$JS.API.STREAM.LIST"]}}} ] }\n')
    with EmbeddedServer(data_dir=tmp_path / "js", args=["-c", str(conf)]) as server:
        admin = server.url.replace("nats://", "nats://admin:adminpw@")
        create_stream(admin, CIM_GRAPH)
        before = raw_config(admin, "CIM_GRAPH_EVENTS")
        local = SubjectTemplate(prefix="local.cim.")
        login = {"user": "app", "password": "apppw", "outbox": tmp_path / "outbox.sqlite", "subjects": local}
        with pytest.raises(StreamConflictError, match=r"CIM_GRAPH_EVENTS.*local\.cim\.>.*use_existing_streams=True"):
            connect(server.url, **login)
        conn = connect(server.url, use_existing_streams=True, **login)
        try:
            assert conn.graph_stream == "CIM_GRAPH_EVENTS"
            _graph_matches_file(conn, small_file, "restricted")
        finally:
            conn.close()
        assert raw_config(admin, "CIM_GRAPH_EVENTS") == before


# --------------------------------------------------------------------------- alchemist's own
def test_own_stream_with_an_older_configuration_is_updated(nats_server, tmp_path):
    old = {"name": "GRAPH_EVENTS", "subjects": ["graph.events.>"], "retention": "limits", "storage": "file",
           "max_age": 7 * _DAY_NS, "duplicate_window": 60 * 10**9, "metadata": {"created_by": "alchemist"}}
    create_stream(nats_server.url, old)
    conn = _connect(nats_server, tmp_path)
    conn.close()
    config, _ = raw_config(nats_server.url, "GRAPH_EVENTS")
    assert (config["max_age"], config["duplicate_window"]) == (30 * _DAY_NS, 120 * 10**9)
    assert config["metadata"]["created_by"] == "alchemist"


def test_own_stream_keeps_its_subjects(nats_server, tmp_path, small_file):
    """Another subject convention never moves alchemist's own stream (its first clients publish
    there): the error offers a stream of another name, which then works beside it."""
    _connect(nats_server, tmp_path).close()
    before = raw_config(nats_server.url, "GRAPH_EVENTS")
    local = SubjectTemplate(prefix="local.cim.")
    own = r"GRAPH_EVENTS, created by alchemist, captures \['graph\.events\.>'\]"
    with pytest.raises(StreamConflictError, match=own):
        _connect(nats_server, tmp_path, subjects=local)
    assert raw_config(nats_server.url, "GRAPH_EVENTS") == before
    conn = _connect(nats_server, tmp_path, subjects=local, stream_name="LOCAL_GRAPH_EVENTS")
    try:
        assert conn.stream_info().config.subjects == ["local.cim.graph.events.>"]
        _graph_matches_file(conn, small_file, "local")
    finally:
        conn.close()
    assert raw_config(nats_server.url, "GRAPH_EVENTS") == before


def test_unmarked_stream_with_alchemists_configuration_is_used_unchanged(nats_server, tmp_path, small_file):
    """What an older alchemist created (no mark) is used as it is, not marked afterwards."""
    same = {"name": "GRAPH_EVENTS", "subjects": ["graph.events.>"], "retention": "limits", "storage": "file",
            "max_age": 30 * _DAY_NS, "duplicate_window": 120 * 10**9}
    create_stream(nats_server.url, same)
    before = raw_config(nats_server.url, "GRAPH_EVENTS")
    conn = _connect(nats_server, tmp_path)
    try:
        _graph_matches_file(conn, small_file, "older")
    finally:
        conn.close()
    assert raw_config(nats_server.url, "GRAPH_EVENTS") == before


def test_dead_letter_stream_of_an_older_alchemist_is_adopted(nats_server, tmp_path):
    """``ALCHEMIST_DLQ`` on ``alchemist.dlq.>`` without the mark (versions before it) is alchemist's by
    name: marked and brought up to date, its messages kept."""
    create_stream(nats_server.url, {"name": "ALCHEMIST_DLQ", "subjects": ["alchemist.dlq.>"], "retention": "limits",
                                    "storage": "file", "max_age": 30 * _DAY_NS, "duplicate_window": 120 * 10**9})
    assert api(nats_server.url, "alchemist.dlq.old", b"letter")["seq"] == 1
    _connect(nats_server, tmp_path).close()
    info = api(nats_server.url, "$JS.API.STREAM.INFO.ALCHEMIST_DLQ")
    assert info["config"]["metadata"]["created_by"] == "alchemist" and info["state"]["messages"] == 1


def test_foreign_consumer_of_alchemists_name_is_left_unchanged(nats_server, tmp_path):
    create_stream(nats_server.url, {"name": "AI_INSIGHTS", "subjects": ["ai.insights.>"], "retention": "workqueue",
                                    "storage": "file", "max_age": 30 * _DAY_NS, "duplicate_window": 120 * 10**9})
    theirs = {"durable_name": "information-alchemist", "ack_policy": "explicit", "ack_wait": 5 * 10**9,
              "max_deliver": 3, "filter_subject": "ai.insights.graph"}
    made = api(nats_server.url, "$JS.API.CONSUMER.CREATE.AI_INSIGHTS.information-alchemist",
               {"stream_name": "AI_INSIGHTS", "config": theirs})
    assert "error" not in made, made
    subject = "$JS.API.CONSUMER.INFO.AI_INSIGHTS.information-alchemist"
    before = api(nats_server.url, subject)["config"]
    _connect(nats_server, tmp_path).close()
    assert api(nats_server.url, subject)["config"] == before


# --------------------------------------------------------------------------- subject algebra, checked by the server
PAIRS = [("graph.>", "graph.events.>"), ("graph.events.>", "graph.>"), ("local.cim.>", "local.cim.graph.events.>"),
         ("ai.insights.>", "graph.events.>"), ("a.*.c", "a.b.>"), ("a.b", "a.b.>"), ("a.*", "a.b"),
         ("a.b.c", "a.*.c"), ("x.>", "x"), ("a.*.>", "a.b"), ("a.*.d", "a.b.c")]


def test_subjects_overlap_agrees_with_the_server(nats_server):
    """The server refuses a second stream whose subjects overlap the first's (error 10065)."""
    for i, (a, b) in enumerate(PAIRS):
        create_stream(nats_server.url, {"name": f"A{i}", "subjects": [a], "storage": "memory"})
        answer = api(nats_server.url, f"$JS.API.STREAM.CREATE.B{i}", {"name": f"B{i}", "subjects": [b],
                                                                      "storage": "memory"})
        server_says = answer.get("error", {}).get("err_code") == 10065
        assert subjects_overlap(a, b) == server_says, (a, b, answer)
        for name in (f"A{i}", f"B{i}"):
            api(nats_server.url, f"$JS.API.STREAM.DELETE.{name}")


def test_subject_covers_by_hand():
    # (pattern, subject, covers): worked out token by token
    table = [("graph.>", "graph.events.>", True), ("graph.events.>", "graph.>", False),
             ("local.cim.>", "local.cim.graph.events.>", True), ("a.*.c", "a.b.c", True), ("a.*.c", "a.*.c", True),
             ("a.b.c", "a.*.c", False), ("a.>", "a", False), ("a.*", "a.>", False), ("*.>", "a.b.>", True),
             ("a.b", "a.b", True), ("a.b", "a.b.c", False)]
    assert [subject_covers(p, s) for p, s, _ in table] == [c for _, _, c in table]
