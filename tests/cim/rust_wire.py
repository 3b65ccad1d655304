"""Messages built exactly as the Rust crates build them, with nats-py only (no alchemist code).

- cim-graph @ 7e1f784d ``src/nats/jetstream.rs``: ``JetStreamConfig::default`` (stream ``CIM_GRAPH_EVENTS`` on
  ``local.cim.>``, 30 days, duplicate window 120 s) and ``publish_event`` (subject
  ``{prefix}.{graph_type}.{aggregate_id}``, envelope ``{event, cid, sequence: 0, headers}``, ``Cim-*`` headers,
  ``Nats-Msg-Id``); ``determine_event_type`` gives the header's event type (Rust's ``{:?}`` lower-cased).
- alchemist @ b7e1a332 ``src/jetstream_persistence.rs``: ``GraphPersistence::new`` (``GRAPH_EVENTS`` on ``graph.>``,
  limits, 10,000 per subject, 1 GiB, 30 days) and ``publish_event`` (``serde(tag = "type")`` JSON, no headers).
- cim-domain-graph @ 2b51353b: ``DomainEvent::subject`` (``graphs.node.added.v1``), serde of the event structs;
  cim-domain @ 33414ffa ``DomainEventEnvelope::inline`` / ``by_cid``; cim-subject @ ecf16081
  ``MessageIdentity::to_nats_headers``.
"""

from __future__ import annotations

import asyncio
import json

import nats
from nats.js.api import RetentionPolicy, StreamConfig

DETERMINE_EVENT_TYPE = {  # cim-graph's determine_event_type, {:?} of EventType lower-cased
    "WorkflowDefined": "created", "StateAdded": "nodeadded", "TransitionAdded": "edgeadded",
    "StateTransitioned": "statechanged", "InstanceCreated": "updated", "ConceptDefined": "created",
    "RelationAdded": "edgeadded", "PropertiesAdded": "updated", "PropertyInferred": "updated",
}
GRAPH_TYPE = {"Workflow": "workflow", "Concept": "concept", "Ipld": "ipld", "Context": "context",
              "Composed": "composed"}


def cim_graph_message(event: dict, prefix: str = "local.cim") -> tuple[str, dict, bytes]:
    """``JetStreamEventStore::publish_event(event, None)``."""
    ((domain, inner),) = event["payload"].items()
    ((variant, _),) = inner.items()
    graph_type, event_type = GRAPH_TYPE[domain], DETERMINE_EVENT_TYPE.get(variant, "updated")
    envelope = {"event": event, "cid": None, "sequence": 0,
                "headers": {"aggregate_id": event["aggregate_id"], "event_type": event_type, "graph_type": graph_type,
                            "correlation_id": event["correlation_id"], "causation_id": event["causation_id"]}}
    headers = {"Cim-Event-Id": event["event_id"], "Cim-Aggregate-Id": event["aggregate_id"],
               "Cim-Event-Type": event_type, "Cim-Graph-Type": graph_type,
               "Cim-Correlation-Id": event["correlation_id"]}
    if event["causation_id"] is not None:
        headers["Cim-Causation-Id"] = event["causation_id"]
    headers["Nats-Msg-Id"] = event["event_id"]
    return f"{prefix}.{graph_type}.{event['aggregate_id']}", headers, json.dumps(envelope).encode()


CIM_GRAPH_STREAM = StreamConfig(name="CIM_GRAPH_EVENTS", subjects=["local.cim.>"], max_age=30 * 86400.0,
                                duplicate_window=120.0)
ALCHEMIST_RS_STREAM = StreamConfig(name="GRAPH_EVENTS", subjects=["graph.>"], retention=RetentionPolicy.LIMITS,
                                   max_msgs_per_subject=10_000, max_bytes=1_073_741_824, max_age=30 * 86400.0)
DOMAIN_GRAPH_STREAM = StreamConfig(name="GRAPHS", subjects=["graphs.>"])

RS_SUBJECT = {"GraphCreated": "created", "NodeAdded": "node.added", "EdgeAdded": "edge.added",
              "NodeRemoved": "node.removed", "LayoutChanged": "layout", "BulkNodesAdded": "bulk.nodes",
              "BulkEdgesAdded": "bulk.edges", "GraphSnapshot": "snapshot"}


def alchemist_rs_message(body: dict) -> tuple[str, dict, bytes]:
    """``GraphPersistence::publish_event``: ``graph.{graph_id}.{suffix}``, the tagged JSON, no headers."""
    return f"graph.{body['graph_id']}.{RS_SUBJECT[body['type']]}", {}, json.dumps(body).encode()


def publish_all(url: str, stream: StreamConfig, messages: list[tuple[str, dict, bytes]]) -> list[int]:
    """Create ``stream`` and publish ``messages`` with nats-py; the stream sequences."""

    async def go():
        nc = await nats.connect(url)
        try:
            js = nc.jetstream()
            try:
                await js.add_stream(stream)
            except Exception:  # already there (a second batch on the same stream)
                pass
            seqs = []
            for subject, headers, body in messages:
                ack = await js.publish(subject, body, headers=headers or None)
                seqs.append(ack.seq)
            return seqs
        finally:
            await nc.close()

    return asyncio.run(go())


def publish_plain(url: str, messages: list[tuple[str, dict, bytes]]) -> None:
    """Publish into whatever stream holds the subjects (no stream created)."""

    async def go():
        nc = await nats.connect(url)
        try:
            js = nc.jetstream()
            for subject, headers, body in messages:
                await js.publish(subject, body, headers=headers or None)
        finally:
            await nc.close()

    asyncio.run(go())


def stream_bodies(url: str, stream: str) -> list[tuple[str, dict, dict]]:
    """Every message of ``stream`` as (subject, headers, JSON body), read with nats-py's direct get."""

    async def go():
        nc = await nats.connect(url)
        try:
            js = nc.jetstream()
            info = await js.stream_info(stream)
            out = []
            for seq in range(info.state.first_seq, info.state.last_seq + 1):
                msg = await js.get_msg(stream, seq)
                out.append((msg.subject, dict(msg.headers or {}), json.loads(msg.data)))
            return out
        finally:
            await nc.close()

    return asyncio.run(go())


def put_objects(url: str, bucket: str, objects: dict[str, bytes]) -> None:
    """``NatsObjectStore::put``: each object under its CID in ``bucket`` (created with nats-py's defaults)."""

    async def go():
        nc = await nats.connect(url)
        try:
            js = nc.jetstream()
            store = await js.create_object_store(bucket)
            for key, data in objects.items():
                await store.put(key, data)
        finally:
            await nc.close()

    asyncio.run(go())
