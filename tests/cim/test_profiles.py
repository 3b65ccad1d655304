"""Interop profiles on a real nats-server: each dialect's messages published exactly as its Rust crate builds them
(``tests/cim/rust_wire.py``, nats-py only), folded by ``connect(profile=...)``, counted against the fixtures."""

from __future__ import annotations

import json
import uuid
from collections import Counter

import pytest

from alchemist.cim import connect
from alchemist.errors import CIMError

from .rust_wire import (
    ALCHEMIST_RS_STREAM,
    CIM_GRAPH_STREAM,
    DOMAIN_GRAPH_STREAM,
    alchemist_rs_message,
    cim_graph_message,
    publish_all,
    publish_plain,
    stream_bodies,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def dialect(nats_server, tmp_path):
    opened = []

    def open_(profile):
        connection = connect(nats_server.url, profile=profile, outbox=tmp_path / f"outbox-{profile}.sqlite")
        opened.append(connection)
        return connection

    yield open_
    for connection in opened:
        connection.close()


def _variants(events, domain):
    return Counter(next(iter(e["payload"][domain])) for e in events if domain in e["payload"])


def test_cim_graph_fixture_gives_its_workflow_and_concept_graph(nats_server, dialect, shared_data):
    events = json.loads(shared_data("cim_fixtures/cim-graph-example_events.json").read_text())["events"]
    seqs = publish_all(nats_server.url, CIM_GRAPH_STREAM, [cim_graph_message(e) for e in events])
    assert seqs == list(range(1, 8))
    workflow, concept = json.loads(shared_data("cim_fixtures/cim-graph-example_events.json").read_text())[
        "metadata"]["aggregate_ids"]
    states = [e["payload"]["Workflow"]["StateAdded"] for e in events
              if "StateAdded" in e["payload"].get("Workflow", {})]
    concepts = [e["payload"]["Concept"]["ConceptDefined"] for e in events
                if "ConceptDefined" in e["payload"].get("Concept", {})]
    relations = [e["payload"]["Concept"]["RelationAdded"] for e in events
                 if "RelationAdded" in e["payload"].get("Concept", {})]
    assert (len(states), len(concepts), len(relations)) == (3, 2, 1)  # by hand from the file

    conn = dialect("cim-graph")
    everything = conn.graph("*")
    assert everything.number_of_nodes() == len(states) + len(concepts) == 5
    assert everything.number_of_edges() == len(relations) == 1
    assert everything.rejected == []
    assert [e.event_id for e in everything.dialect_events] == [e["event_id"] for e in events]  # UUIDs kept
    assert [e.event_type for e in everything.unmapped] == ["Workflow.WorkflowDefined"]  # kept, typed

    flow = conn.graph(workflow)
    assert sorted(flow.node_ids) == sorted(s["state_id"] for s in states)
    assert flow.number_of_edges() == 0
    assert flow.node("new")["state_type"] == "initial"
    stamps = flow.nodes["first_seen"].dt.year().to_list()
    assert min(stamps) >= 2025  # JetStream's time, not 1970

    knowledge = conn.graph(concept)
    assert sorted(knowledge.node_ids) == ["customer", "order"]
    edge = knowledge.edges.row(0, named=True)
    assert (edge["source"], edge["target"], edge["relationship"], edge["weight"]) == (
        relations[0]["source_concept"], relations[0]["target_concept"], "placed_by", 1.0)
    correlation = {e.correlation_id for e in knowledge.dialect_events}
    assert correlation == {events[4]["correlation_id"]}


def test_cim_graph_example_workflow_with_transitions_and_unknown_variant(nats_server, dialect):
    # examples/nats_event_driven.rs: WorkflowDefined, 5 StateAdded, 5 TransitionAdded, InstanceCreated,
    # StateTransitioned; plus a variant this reader does not know, which must be kept (not rejected)
    wf, corr = str(uuid.uuid4()), str(uuid.uuid4())
    first = str(uuid.uuid4())

    def ev(payload, causation=first, event_id=None):
        return {"event_id": event_id or str(uuid.uuid4()), "aggregate_id": wf, "correlation_id": corr,
                "causation_id": causation, "payload": {"Workflow": payload}}

    events = [ev({"WorkflowDefined": {"workflow_id": wf, "name": "Order Processing", "version": "1.0.0"}},
                 causation=None, event_id=first)]
    states = ["pending", "processing", "shipped", "delivered", "cancelled"]
    events += [ev({"StateAdded": {"workflow_id": wf, "state_id": s, "state_type": "state"}}) for s in states]
    transitions = [("pending", "processing", "process"), ("processing", "shipped", "ship"),
                   ("shipped", "delivered", "deliver"), ("pending", "cancelled", "cancel"),
                   ("processing", "cancelled", "cancel")]
    events += [ev({"TransitionAdded": {"workflow_id": wf, "from_state": a, "to_state": b, "trigger": t}})
               for a, b, t in transitions]
    instance = str(uuid.uuid4())
    events.append(ev({"InstanceCreated": {"workflow_id": wf, "instance_id": instance, "initial_state": "pending"}},
                     causation=None))
    events.append(ev({"StateTransitioned": {"instance_id": instance, "from_state": "pending",
                                            "to_state": "processing"}}))
    events.append(ev({"StateArchived": {"workflow_id": wf, "state_id": "cancelled"}}))  # not in the crate
    publish_all(nats_server.url, CIM_GRAPH_STREAM, [cim_graph_message(e) for e in events])

    graph = dialect("cim-graph").graph(wf)
    counts = _variants(events, "Workflow")
    assert graph.number_of_nodes() == counts["StateAdded"] == 5
    assert graph.number_of_edges() == counts["TransitionAdded"] == 5
    assert sorted(graph.edges["relationship"].to_list()) == sorted(t for _, _, t in transitions)
    assert [e.event_type.split(".")[1] for e in graph.unmapped] == [
        "WorkflowDefined", "InstanceCreated", "StateTransitioned", "StateArchived"]
    assert graph.rejected == []
    assert graph.dialect_events[1].causation_id == first


def test_cim_graph_subjects_of_events_subjects_rs(nats_server, dialect):
    # events/subjects.rs: cim.graph.{type}.{uuid}.{event}, a bare GraphEvent, on a stream of its own
    from nats.js.api import StreamConfig

    agg = str(uuid.uuid4())
    bodies = [{"event_id": str(uuid.uuid4()), "aggregate_id": agg, "correlation_id": agg, "causation_id": None,
               "payload": {"Ipld": {"CidAdded": {"cid": c, "codec": "dag-cbor", "size": 10, "data": {}}}}}
              for c in ("bafyA", "bafyB")]
    bodies.append({"event_id": str(uuid.uuid4()), "aggregate_id": agg, "correlation_id": agg, "causation_id": None,
                   "payload": {"Ipld": {"CidLinkAdded": {"cid": "bafyA", "link_name": "prev", "target_cid": "bafyB"}}}})
    subjects = [f"cim.graph.ipld.{agg}.node_added"] * 2 + [f"cim.graph.ipld.{agg}.edge_added"]
    publish_all(nats_server.url, StreamConfig(name="CIM_GRAPH", subjects=["cim.graph.>"]),
                [(s, {}, json.dumps(b).encode()) for s, b in zip(subjects, bodies)])
    graph = dialect("cim-graph").graph(agg)
    assert sorted(graph.node_ids) == ["bafyA", "bafyB"]  # CIDs become nodes
    assert graph.edges["relationship"].to_list() == ["prev"]  # links become edges


def test_cim_graph_writes_as_publish_event(nats_server, dialect):
    conn = dialect("cim-graph")
    g = str(uuid.uuid4())
    conn.append(g, "node_added", {"node_id": "order", "label": "Order", "properties": {"definition": "an order"}})
    conn.append(g, "node_added", {"node_id": "customer", "label": "Customer"})
    stored = conn.append(g, "edge_added", {"edge_id": "e", "source": "order", "target": "customer",
                                           "relationship": "placed_by", "weight": 0.5})
    assert stored.sequence == 3
    ((subject, headers, body),) = [m for m in stream_bodies(nats_server.url, "CIM_GRAPH_EVENTS")
                                   if "RelationAdded" in json.dumps(m[2])]
    assert subject == f"local.cim.concept.{g}"
    assert set(body) == {"event", "cid", "sequence", "headers"} and body["cid"] is None
    assert body["event"]["payload"] == {"Concept": {"RelationAdded": {
        "source_concept": "order", "target_concept": "customer", "relation_type": "placed_by", "strength": 0.5}}}
    assert headers["Cim-Event-Type"] == "edgeadded" and headers["Nats-Msg-Id"] == body["event"]["event_id"]
    graph = conn.graph(g)
    assert (graph.number_of_nodes(), graph.number_of_edges()) == (2, 1)
    with pytest.raises(CIMError, match="UUIDs"):
        conn.append("not-a-uuid", "node_added", {"node_id": "x"})


def test_original_app_sample_graph(nats_server, dialect, shared_data):
    sample = json.loads(shared_data("cim_fixtures/alchemist-examples-sample_graph.json").read_text())
    gid, ms = "sample", 1_752_700_000_000
    bodies = [{"type": "GraphCreated", "graph_id": gid, "name": "Sample", "metadata": {}, "timestamp": ms}]
    for i, n in enumerate(sample["nodes"]):
        bodies.append({"type": "NodeAdded", "graph_id": gid, "node_id": n["id"], "label": n["caption"],
                       "position": [float(n["position"]["x"]), float(n["position"]["y"]), 0.0],
                       "metadata": n["properties"], "timestamp": ms + 1000 * (i + 1)})
    for r in sample["relationships"]:
        bodies.append({"type": "EdgeAdded", "graph_id": gid, "edge_id": r["id"], "source_id": r["fromId"],
                       "target_id": r["toId"], "label": r["type"], "weight": 1.0, "timestamp": ms + 10_000})
    bodies.append({"type": "LayoutChanged", "graph_id": gid, "layout_type": "ForceDirected", "timestamp": ms + 20_000})
    publish_all(nats_server.url, ALCHEMIST_RS_STREAM, [alchemist_rs_message(b) for b in bodies])

    graph = dialect("alchemist-rs").graph(gid)
    assert graph.number_of_nodes() == len(sample["nodes"]) == 3
    assert graph.number_of_edges() == len(sample["relationships"]) == 2
    assert graph.name == "Sample"
    first = sample["nodes"][1]
    row = graph.node(first["id"])
    assert (row["label"], row["x"], row["y"], row["duration"]) == (first["caption"], 100.0, 50.0, "5m")
    assert sorted(graph.edges["relationship"].to_list()) == sorted(r["type"] for r in sample["relationships"])
    seen = graph.nodes.sort("id")["first_seen"].dt.epoch("ms").to_list()
    assert seen == [ms + 1000, ms + 2000, ms + 3000]  # the body's Unix milliseconds
    assert [e.event_type for e in graph.unmapped] == ["LayoutChanged"]


def test_original_app_snapshot_and_bulk(nats_server, dialect, shared_data):
    exported = json.loads(shared_data("cim_fixtures/alchemist-examples-exported_graph.json").read_text())
    gid, ms = "exported", 1_752_700_000_000
    node_ids = sorted({n["id"] for n in exported["nodes"]} | {x for e in exported["edges"]
                                                              for x in (e["source"], e["target"])})
    nodes = [{"id": n, "label": n[:8], "position": [0.0, 0.0, 0.0], "color": None, "size": None, "metadata": None}
             for n in node_ids]
    edges = [{"id": e["id"], "source_id": e["source"], "target_id": e["target"], "label": e["relationship"],
              "weight": 1.0, "color": None, "metadata": None} for e in exported["edges"]]
    bodies = [{"type": "NodeAdded", "graph_id": gid, "node_id": "stale", "label": "gone", "position": [0, 0, 0],
               "metadata": None, "timestamp": ms},
              {"type": "GraphSnapshot", "graph_id": gid, "nodes": nodes[:2], "edges": [], "metadata": {},
               "timestamp": ms + 1},
              {"type": "BulkNodesAdded", "graph_id": gid, "nodes": nodes[2:], "timestamp": ms + 2},
              {"type": "BulkEdgesAdded", "graph_id": gid, "edges": edges, "timestamp": ms + 3}]
    publish_all(nats_server.url, ALCHEMIST_RS_STREAM, [alchemist_rs_message(b) for b in bodies])
    graph = dialect("alchemist-rs").graph(gid)
    assert "stale" not in graph.node_ids  # the snapshot replaced the state, as ReplayedGraph::apply_event
    assert graph.number_of_nodes() == len(node_ids)
    assert graph.number_of_edges() == len(exported["edges"])


def test_original_app_writes_its_bodies(nats_server, dialect):
    conn = dialect("alchemist-rs")
    conn.append("g1", "node_added", {"node_id": "a", "label": "A", "properties": {"x": 1.0, "y": 2.0}}, time=1.0)
    conn.append("g1", "node_added", {"node_id": "b", "label": "B"}, time=2.0)
    conn.append("g1", "edge_added", {"edge_id": "ab", "source": "a", "target": "b", "relationship": "KNOWS",
                                     "weight": 2.0}, time=3.0)
    conn.append("g1", "node_removed", {"node_id": "b"}, time=4.0)
    stored = stream_bodies(nats_server.url, "GRAPH_EVENTS")
    assert [s for s, _, _ in stored] == ["graph.g1.node.added", "graph.g1.node.added", "graph.g1.edge.added",
                                        "graph.g1.node.removed"]
    assert stored[0][2] == {"type": "NodeAdded", "graph_id": "g1", "node_id": "a", "label": "A",
                            "position": [1.0, 2.0, 0.0], "metadata": None, "timestamp": 1000}
    assert stored[2][2] == {"type": "EdgeAdded", "graph_id": "g1", "edge_id": "ab", "source_id": "a",
                            "target_id": "b", "label": "KNOWS", "weight": 2.0, "timestamp": 3000}
    assert all(h == {} for _, h, _ in stored)  # the original app sends no headers
    graph = conn.graph("g1")
    assert (graph.number_of_nodes(), graph.number_of_edges()) == (1, 0)  # b removed with its edge


def test_cim_domain_graph_envelopes_and_headers(nats_server, dialect):
    g, other = str(uuid.uuid4()), str(uuid.uuid4())
    n = [str(uuid.uuid4()) for _ in range(3)]
    corr, cause = str(uuid.uuid4()), str(uuid.uuid4())

    def x_headers():  # MessageIdentity::to_nats_headers of a message caused by `cause`
        return {"X-Message-ID": str(uuid.uuid4()), "X-Correlation-ID": corr, "X-Causation-ID": cause}

    def node(i):
        return {"graph_id": {"id": g}, "node_id": n[i], "position": {"x": float(i), "y": 0.0, "z": 0.0},
                "node_type": "Task", "metadata": {"rank": i}}

    def envelope(event, payload_type, left=False):
        return {"event_id": str(uuid.uuid4()), "aggregate_id": g,
                "correlation_id": {"kind": "Single", "value": corr}, "causation_id": cause,
                "payload_metadata": {"source": "cim-domain-graph", "version": "v1", "properties": {},
                                     "payload_type": payload_type},
                "payload": ({"kind": "Left", "value": {"inner": event, "domain": None, "content_type": "Event"}}
                            if left else {"kind": "Right", "value": event})}

    created = {"graph_id": {"id": g}, "name": "Plan", "description": "a plan", "graph_type": "Workflow",
               "metadata": {}, "created_at": "2025-07-23T11:20:20.123456789Z"}
    dep = {"graph_id": {"id": g}, "edge_id": str(uuid.uuid4()), "source": n[0], "target": n[1],
           "relationship": {"Dependency": {"dependency_type": "blocks", "strength": 0.5}}, "edge_type": "dep",
           "metadata": {}}
    sim = {"graph_id": {"id": g}, "edge_id": str(uuid.uuid4()), "source": n[1], "target": n[2],
           "relationship": {"Similarity": {"score": 0.25}}, "edge_type": "sim", "metadata": {}}
    messages = [
        ("graphs.graph.created.v1", x_headers(), created),                       # bare struct
        ("graphs.node.added.v1", x_headers(), node(0)),                          # bare struct
        ("graphs.node.added.v1", {}, {"NodeAdded": node(1)}),                  # GraphDomainEvent
        ("graphs.node.added.v1", {}, envelope(node(2), "NodeAdded")),          # DomainEventEnvelope::inline
        ("graphs.edge.added.v1", x_headers(), dep),
        ("graphs.edge.added.v1", {}, envelope(sim, "EdgeAdded")),
        ("graphs.node.added.v1", {}, envelope("bafyr4igx", "NodeAdded", left=True)),  # ::by_cid
        ("graphs.node.added.v1", {}, {**node(0), "graph_id": {"id": other}}),  # another graph
        ("graphs.node.added", {}, node(0)),                                     # 3 tokens: not the dialect's
        ("graphs.node.added.1", {}, node(0)),                                   # no v-version: refused
    ]
    publish_all(nats_server.url, DOMAIN_GRAPH_STREAM, [(s, h, json.dumps(b).encode()) for s, h, b in messages])

    graph = dialect("cim-domain-graph").graph(g)
    assert graph.number_of_nodes() == 3 and sorted(graph.node_ids) == sorted(n)
    assert graph.number_of_edges() == 2
    weights = dict(zip(graph.edges["relationship"].to_list(), graph.edges["weight"].to_list()))
    assert weights == {"Dependency": 0.5, "Similarity": 0.25}
    assert graph.name == "Plan"
    by_type = [e for e in graph.dialect_events if e.event_type == "NodeAdded"]
    assert by_type[0].correlation_id == corr and by_type[0].causation_id == cause  # from X-* headers
    assert by_type[2].correlation_id == corr  # from {"kind": "Single", "value": ...}
    assert [(e.event_type, e.cid) for e in graph.unmapped] == [("NodeAdded", "bafyr4igx")]  # by CID: kept
    assert [r[0] for r in graph.rejected] == [10] and "must start with 'v'" in graph.rejected[0][2]
    assert len(graph.dialect_events) == 7  # messages 1-7; 8 is another graph's, 9 is not on graphs.*.*.*
    assert graph.dialect_events[0].time == pytest.approx(1753269620.123456)  # created_at, not JetStream's


def test_cim_domain_graph_writes_domain_event_envelopes(nats_server, dialect):
    from nats.js.api import StreamConfig

    publish_all(nats_server.url, StreamConfig(name="GRAPHS", subjects=["graphs.>"]), [])
    conn = dialect("cim-domain-graph")
    g, a, b, e = (str(uuid.uuid4()) for _ in range(4))
    conn.append(g, "node_added", {"node_id": a, "label": "Task"})
    conn.append(g, "node_added", {"node_id": b, "label": "Task"})
    conn.append(g, "edge_added", {"edge_id": e, "source": a, "target": b, "relationship": "next"})
    subject, headers, body = stream_bodies(nats_server.url, "GRAPHS")[2]
    assert subject == "graphs.edge.added.v1"
    assert body["correlation_id"] == {"kind": "Single", "value": body["event_id"]}
    assert body["payload"]["kind"] == "Right" and body["payload"]["value"]["graph_id"] == {"id": g}
    assert headers["X-Message-ID"] == body["event_id"] == headers["X-Causation-ID"]
    graph = conn.graph(g)
    assert (graph.number_of_nodes(), graph.number_of_edges()) == (2, 1)
    with pytest.raises(CIMError, match="UUID"):
        conn.append(g, "node_added", {"node_id": "not-a-uuid"})


def test_a_dialect_connection_leaves_alchemist_streams_alone(nats_server, dialect):
    publish_all(nats_server.url, ALCHEMIST_RS_STREAM, [])  # the original app's GRAPH_EVENTS on graph.>
    conn = dialect("alchemist-rs")  # no StreamConflictError: alchemist's own streams are not set up
    assert conn.graph("nothing").number_of_nodes() == 0
    with pytest.raises(CIMError, match="live=True"):
        conn.graph("nothing", live=True)
    with pytest.raises(CIMError, match="subject token"):
        conn.graph("a.b")
    publish_plain(nats_server.url, [alchemist_rs_message({"type": "NodeAdded", "graph_id": "x", "node_id": "a",
                                                          "label": "", "position": [0, 0, 0], "metadata": None,
                                                          "timestamp": 0})])
    assert conn.graph("x").node_ids == ["a"]


def test_objects_written_by_cim_ipld_are_read_and_verified(nats_server, dialect):
    import zstandard

    from alchemist.cim.profiles.cim_ipld import get_cim_object
    from alchemist.errors import CIDMismatchError, ObjectNotFoundError
    from alchemist.events.codecs import cim_cid

    from .rust_wire import put_objects

    # an event content (ContentType::Event, CODEC 0x300000): bucket cim-documents, as for_content_type falls through
    content = {"event_id": str(uuid.uuid4()), "payload": {"text": "state " * 400}}
    raw = json.dumps(content, separators=(",", ":")).encode()
    key = cim_cid(raw, "cim-event")
    small = {"a": 1}
    small_key = cim_cid(b'{"a":1}', "dag-json")
    bad_key = cim_cid(b'{"a":2}', "dag-json")
    put_objects(nats_server.url, "cim-documents", {
        key: zstandard.ZstdCompressor(level=3).compress(raw),  # above the threshold: zstd
        small_key: b'{"a":1}',                                  # below it: as it is
        bad_key: b'{"a":1}',                                    # stored under another content's CID
    })
    conn = dialect("cim-domain-graph")
    assert conn.run(get_cim_object(conn, key)) == content
    assert conn.run(get_cim_object(conn, small_key, bucket="cim-documents")) == small
    with pytest.raises(CIDMismatchError):
        conn.run(get_cim_object(conn, bad_key))
    with pytest.raises(ObjectNotFoundError, match="cim-events"):
        conn.run(get_cim_object(conn, cim_cid(b"absent", "cim-event")))


def test_cim_subject_headers_give_ids_where_the_body_has_none(nats_server, dialect):
    # MessageIdentity::to_nats_headers on a relayed original-app body (which has no ids of its own)
    corr, cause, message = (str(uuid.uuid4()) for _ in range(3))
    subject, _, body = alchemist_rs_message({"type": "NodeAdded", "graph_id": "relayed", "node_id": "a",
                                             "label": "A", "position": [0, 0, 0], "metadata": None, "timestamp": 5})
    publish_all(nats_server.url, ALCHEMIST_RS_STREAM, [(subject, {"X-Message-ID": message, "X-Correlation-ID": corr,
                                                                  "X-Causation-ID": cause}, body)])
    graph = dialect("alchemist-rs").graph("relayed")
    (event,) = graph.dialect_events
    assert (event.event_id, event.correlation_id, event.causation_id) == (message, corr, cause)
    assert graph.node_ids == ["a"]


def test_cim_domain_left_payloads_are_lifted_from_cim_ipld_buckets(nats_server, dialect):
    from alchemist.events.codecs import cim_cid

    from .rust_wire import put_objects

    g, a, b = (str(uuid.uuid4()) for _ in range(3))
    stored = {"graph_id": {"id": g}, "node_id": a, "position": {"x": 0.0, "y": 0.0, "z": 0.0}, "node_type": "Task",
              "metadata": {}}
    raw = json.dumps(stored, separators=(",", ":")).encode()
    key = cim_cid(raw, "raw")  # DomainCid::from_content: raw codec over the payload bytes
    put_objects(nats_server.url, "cim-events", {key: raw})
    missing = cim_cid(b"never stored", "raw")

    def by_cid(cid_text):  # DomainEventEnvelope::by_cid
        return {"event_id": str(uuid.uuid4()), "aggregate_id": g, "correlation_id": {"kind": "Single", "value": g},
                "causation_id": g, "payload_metadata": {"source": "cim-domain-graph", "version": "v1",
                                                        "properties": {}, "payload_type": "NodeAdded"},
                "payload": {"kind": "Left", "value": {"inner": cid_text, "domain": None, "content_type": "Event"}}}

    inline = {"graph_id": {"id": g}, "node_id": b, "position": {"x": 1.0, "y": 0.0, "z": 0.0}, "node_type": "Task",
              "metadata": {}}
    publish_all(nats_server.url, DOMAIN_GRAPH_STREAM, [
        ("graphs.node.added.v1", {}, json.dumps(by_cid(key)).encode()),
        ("graphs.node.added.v1", {}, json.dumps(by_cid(missing)).encode()),
        ("graphs.node.added.v1", {}, json.dumps(inline).encode())])
    graph = dialect("cim-domain-graph").graph(g)
    assert sorted(graph.node_ids) == sorted([a, b])  # the stored payload folded as if inline
    assert [e.cid for e in graph.unmapped] == [missing]  # the absent one kept, typed, with its CID

