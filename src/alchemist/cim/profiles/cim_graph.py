"""The cim-graph dialect (TheCowboyAI/cim-graph @ 7e1f784d).

Wire, as the crate writes it:

- ``nats/jetstream.rs`` (``JetStreamEventStore::publish_event``): subject
  ``{prefix}.{graph_type}.{aggregate_id}`` (prefix ``$CIM_SUBJECT_PREFIX``, default ``local.cim``;
  stream ``CIM_GRAPH_EVENTS`` on ``{prefix}.>``, duplicate window 120 s), body
  ``{"event": GraphEvent, "cid": str|null, "sequence": 0, "headers": {aggregate_id, event_type,
  graph_type, correlation_id, causation_id}}``, NATS headers ``Cim-Event-Id``, ``Cim-Aggregate-Id``,
  ``Cim-Event-Type`` (``nodeadded``, ``edgeadded``, ``created``, ``updated``, ``statechanged``:
  Rust's ``{:?}`` lower-cased), ``Cim-Graph-Type``, ``Cim-Correlation-Id``, ``Cim-Causation-Id``
  (when set), ``Nats-Msg-Id``;
- ``events/subjects.rs``: ``cim.graph.{type}.{uuid}.{event}`` (``created``, ``node_added``, ...);
- ``GraphEvent`` = ``{event_id, aggregate_id, correlation_id, causation_id|null, payload}`` with an
  externally tagged payload ``{"Workflow": {"StateAdded": {...}}}`` (``events/graph_events.rs``),
  no timestamp (JetStream's time is the event's time), UUID ids.

cim-graph's ``cid`` (``core/ipld_chain.rs``) is ``"Qm" + hex(DefaultHasher)`` — not a real CID —
so it is kept as written and never verified.

Mapping onto the Graph: ``StateAdded``, ``ConceptDefined``, ``CidAdded``, ``BoundedContextCreated``,
``AggregateAdded``, ``EntityAdded``, ``SubGraphAdded`` add nodes; ``TransitionAdded``,
``RelationAdded``, ``CidLinkAdded``, ``RelationshipEstablished``, ``CrossGraphLinkCreated`` (and the
containment of aggregates and entities) add edges; ``PropertiesAdded`` updates a concept.
``WorkflowDefined``, ``InstanceCreated``, ``StateTransitioned``, ``PropertyInferred``, pins and
``Generic`` payloads are kept as typed events.
"""

from __future__ import annotations

import json
import os
import uuid

from alchemist.cim.profiles import DialectEvent, GraphChange, Profile, header, json_body
from alchemist.errors import CIMError, InvalidEventError

__all__ = ["CimGraphProfile", "GRAPH_TYPES", "event_type_header"]

#: cim-graph's graph types (``GraphType::as_str``) by payload domain.
GRAPH_TYPES = {"Ipld": "ipld", "Context": "context", "Workflow": "workflow", "Concept": "concept",
               "Composed": "composed", "Generic": "composed"}
# determine_event_type (nats/jetstream.rs): the Cim-Event-Type header of each variant, {:?} lower-cased
_EVENT_TYPE_HEADER = {
    "CidAdded": "nodeadded", "CidLinkAdded": "edgeadded", "CidPinned": "updated", "CidUnpinned": "updated",
    "BoundedContextCreated": "created", "AggregateAdded": "nodeadded", "EntityAdded": "nodeadded",
    "ValueObjectAttached": "updated", "RelationshipEstablished": "updated",
    "WorkflowDefined": "created", "StateAdded": "nodeadded", "TransitionAdded": "edgeadded",
    "StateTransitioned": "statechanged", "InstanceCreated": "updated",
    "ConceptDefined": "created", "RelationAdded": "edgeadded", "PropertiesAdded": "updated",
    "PropertyInferred": "updated", "SubGraphAdded": "nodeadded", "CrossGraphLinkCreated": "edgeadded",
}


class CimGraphProfile(Profile):
    """cim-graph's subjects and envelopes (see the module notes).

    Parameters
    ----------
    prefix : str, optional
        The subject prefix (``$CIM_SUBJECT_PREFIX``, default ``local.cim``).

    Examples
    --------
    >>> p = CimGraphProfile()
    >>> p.filters("106f7673-0aa3-4311-8c67-2f69be0ebad9")[0]
    'local.cim.*.106f7673-0aa3-4311-8c67-2f69be0ebad9'
    >>> body = {"event_id": "80eb2cd0-127f-4f14-b25f-7e6a99c157c0",
    ...         "aggregate_id": "106f7673-0aa3-4311-8c67-2f69be0ebad9",
    ...         "correlation_id": "be54ecce-5033-4d61-b10d-77cca280f04d", "causation_id": None,
    ...         "payload": {"Workflow": {"StateAdded": {"workflow_id": "106f7673-0aa3-4311-8c67-2f69be0ebad9",
    ...                                                  "state_id": "new", "state_type": "initial"}}}}
    >>> e = p.decode("local.cim.workflow.106f7673-0aa3-4311-8c67-2f69be0ebad9",
    ...              json.dumps({"event": body, "cid": None, "sequence": 0, "headers": {}}).encode(), time=5.0)
    >>> e.event_type, e.graph_type, e.time, [c.event_type for c in p.changes(e)]
    ('Workflow.StateAdded', 'workflow', 5.0, ['node_added'])
    """

    name = "cim-graph"
    stream = "CIM_GRAPH_EVENTS"
    writable = True

    def __init__(self, prefix: str | None = None):
        self.prefix = prefix or os.environ.get("CIM_SUBJECT_PREFIX", "local.cim")
        self.stream_subjects = (f"{self.prefix}.>",)

    def filters(self, graph_id: str) -> list[str]:
        """``{prefix}.*.{id}`` and ``cim.graph.*.{id}.*`` (``*``: every type and aggregate).

        Parameters
        ----------
        graph_id : str

        Returns
        -------
        list of str
        """
        aggregate = "*" if graph_id == "*" else graph_id
        return [f"{self.prefix}.*.{aggregate}", f"cim.graph.*.{aggregate}.*"]

    def decode(self, subject, data, headers=None, *, sequence=None, time=None) -> DialectEvent:
        """Decode a ``{event, cid, sequence, headers}`` envelope or a bare ``GraphEvent``.

        Parameters
        ----------
        subject : str
        data : bytes
        headers : dict, optional
        sequence : int, optional
        time : float, optional
            JetStream's time (the event's time: cim-graph's events carry none).

        Returns
        -------
        DialectEvent

        Raises
        ------
        InvalidEventError
            Not JSON, or no externally tagged payload ``{Domain: {Variant: {...}}}``.
        """
        body = json_body(self.name, subject, data)
        envelope = body if isinstance(body, dict) and isinstance(body.get("event"), dict) else None
        event = envelope["event"] if envelope else body
        try:
            domain, variant, fields = _untag(event["payload"])
        except (KeyError, TypeError, ValueError):
            raise InvalidEventError(
                f"cim-graph: message on {subject!r} has no externally tagged payload {{Domain: {{Variant: {{...}}}}}} "
                "(a GraphEvent or its {event, cid, sequence, headers} envelope)") from None
        meta = (envelope or {}).get("headers") or {}
        aggregate = (event.get("aggregate_id") or meta.get("aggregate_id") or header(headers, "Cim-Aggregate-Id")
                     or _subject_aggregate(subject, self.prefix))
        if not aggregate:
            raise InvalidEventError(f"cim-graph: message on {subject!r} names no aggregate_id")
        return DialectEvent(
            self.name, f"{domain}.{variant}", str(aggregate), fields,
            event_id=_str(event.get("event_id") or header(headers, "Cim-Event-Id", "X-Message-ID", "Nats-Msg-Id")),
            correlation_id=_str(event.get("correlation_id")
                                or header(headers, "Cim-Correlation-Id", "X-Correlation-ID")),
            causation_id=_str(event.get("causation_id") or header(headers, "Cim-Causation-Id", "X-Causation-ID")),
            time=time, cid=(envelope or {}).get("cid"), subject=subject, sequence=sequence,
            headers=dict(headers or {}),
            graph_type=meta.get("graph_type") or header(headers, "Cim-Graph-Type") or GRAPH_TYPES.get(domain))

    def changes(self, event: DialectEvent) -> list[GraphChange]:
        """The Graph changes of one cim-graph variant (see the module notes).

        Parameters
        ----------
        event : DialectEvent

        Returns
        -------
        list of GraphChange
        """
        f = event.payload
        variant = event.event_type.split(".", 1)[-1]
        rule = _RULES.get(variant)
        return rule(f) if rule is not None else []

    def encode(self, graph_id, event_type, payload, *, event_id=None, correlation_id=None, causation_id=None,
               time=None) -> tuple[str, dict, bytes]:
        """A concept-graph message as ``JetStreamEventStore::publish_event`` sends it.

        ``node_added`` becomes ``Concept.ConceptDefined`` (label as name, ``properties.definition``
        as definition), ``edge_added`` ``Concept.RelationAdded`` (relationship, weight as strength).

        Parameters
        ----------
        graph_id : str
            A UUID (cim-graph's aggregate ids are UUIDs).
        event_type : str
        payload : dict
        event_id, correlation_id, causation_id : str, optional
        time : float, optional
            Unused (cim-graph carries no timestamp).

        Returns
        -------
        (subject, headers, body)

        Raises
        ------
        CIMError
            ``graph_id`` is not a UUID, or the event type has no concept-graph variant.
        """
        try:
            aggregate = str(uuid.UUID(graph_id))
        except ValueError:
            raise CIMError(f"cim-graph aggregate ids are UUIDs; {graph_id!r} is not one (use str(uuid.uuid4()))") \
                from None
        if event_type == "node_added":
            variant = {"ConceptDefined": {"concept_id": payload["node_id"], "name": payload.get("label") or
                                          payload["node_id"],
                                          "definition": str((payload.get("properties") or {}).get("definition", ""))}}
        elif event_type == "edge_added":
            variant = {"RelationAdded": {"source_concept": payload["source"], "target_concept": payload["target"],
                                         "relation_type": payload.get("relationship") or "related_to",
                                         "strength": float(payload.get("weight", 1.0))}}
        else:
            raise CIMError(f"cim-graph has no concept-graph variant for {event_type!r}; it writes node_added "
                           "(ConceptDefined) and edge_added (RelationAdded)")
        event_id = event_id or str(uuid.uuid4())
        correlation_id = correlation_id or event_id
        (name,) = variant
        event = {"event_id": event_id, "aggregate_id": aggregate, "correlation_id": correlation_id,
                 "causation_id": causation_id, "payload": {"Concept": variant}}
        kind = _EVENT_TYPE_HEADER[name]
        envelope = {"event": event, "cid": None, "sequence": 0,
                    "headers": {"aggregate_id": aggregate, "event_type": kind, "graph_type": "concept",
                                "correlation_id": correlation_id, "causation_id": causation_id}}
        headers = {"Cim-Event-Id": event_id, "Cim-Aggregate-Id": aggregate, "Cim-Event-Type": kind,
                   "Cim-Graph-Type": "concept", "Cim-Correlation-Id": correlation_id, "Nats-Msg-Id": event_id}
        if causation_id:
            headers["Cim-Causation-Id"] = causation_id
        return f"{self.prefix}.concept.{aggregate}", headers, json.dumps(envelope).encode()


def event_type_header(variant: str) -> str:
    """The ``Cim-Event-Type`` header cim-graph sends for a variant (``determine_event_type``).

    Parameters
    ----------
    variant : str
        E.g. ``"StateAdded"``.

    Returns
    -------
    str

    Examples
    --------
    >>> event_type_header("StateAdded"), event_type_header("WorkflowDefined")
    ('nodeadded', 'created')
    """
    return _EVENT_TYPE_HEADER.get(variant, "updated")



def _node(node_id, label="", labels=(), **properties) -> GraphChange:
    props = {k: v for k, v in properties.items() if v is not None}
    return GraphChange("node_added", {"node_id": str(node_id), "label": str(label or ""),
                                      "labels": [str(x) for x in labels], "properties": props})


def _edge(source, target, relationship, weight=1.0, edge_id=None, **properties) -> GraphChange:
    source, target = str(source), str(target)
    return GraphChange("edge_added", {
        "edge_id": edge_id or f"{source}-[{relationship}]->{target}", "source": source, "target": target,
        "relationship": str(relationship), "weight": float(weight),
        "properties": {k: v for k, v in properties.items() if v is not None}})


_RULES = {
    # Workflow
    "StateAdded": lambda f: [_node(f["state_id"], f["state_id"], ["State", f.get("state_type", "")],
                                   state_type=f.get("state_type"), workflow_id=f.get("workflow_id"))],
    "TransitionAdded": lambda f: [_edge(f["from_state"], f["to_state"], f.get("trigger") or "transition",
                                        trigger=f.get("trigger"), workflow_id=f.get("workflow_id"))],
    # Concept
    "ConceptDefined": lambda f: [_node(f["concept_id"], f.get("name"), ["Concept"],
                                       definition=f.get("definition"))],
    "RelationAdded": lambda f: [_edge(f["source_concept"], f["target_concept"], f.get("relation_type") or "related",
                                      f.get("strength", 1.0))],
    "PropertiesAdded": lambda f: [GraphChange("node_updated", {
        "node_id": str(f["concept_id"]), "properties": {str(k): v for k, v in f.get("properties") or []}})],
    # Ipld
    "CidAdded": lambda f: [_node(f["cid"], f["cid"], ["Cid", f.get("codec", "")], codec=f.get("codec"),
                                 size=f.get("size"))],
    "CidLinkAdded": lambda f: [_edge(f["cid"], f["target_cid"], f.get("link_name") or "link")],
    # Context
    "BoundedContextCreated": lambda f: [_node(f["context_id"], f.get("name"), ["BoundedContext"],
                                              description=f.get("description"))],
    "AggregateAdded": lambda f: [_node(f["aggregate_id"], f.get("aggregate_type"), ["Aggregate"]),
                                 _edge(f["context_id"], f["aggregate_id"], "contains")],
    "EntityAdded": lambda f: [_node(f["entity_id"], f.get("entity_type"), ["Entity"],
                                    **{f"p_{k}": v for k, v in (f.get("properties") or {}).items()
                                       if isinstance(v, (str, int, float, bool))}),
                              _edge(f["aggregate_id"], f["entity_id"], "has_entity")],
    "RelationshipEstablished": lambda f: [_edge(f["source_id"], f["target_id"], f.get("relationship_type") or
                                                "related")],
    # Composed
    "SubGraphAdded": lambda f: [_node(f["subgraph_id"], f.get("namespace"), ["SubGraph", f.get("graph_type", "")],
                                      graph_type=f.get("graph_type"))],
    "CrossGraphLinkCreated": lambda f: [_edge(f["source_node"], f["target_node"], "cross_graph",
                                              source_graph=str(f.get("source_graph")),
                                              target_graph=str(f.get("target_graph")))],
}


def _untag(payload) -> tuple[str, str, dict]:
    """``{"Workflow": {"StateAdded": {...}}}`` -> ("Workflow", "StateAdded", {...}); ``Generic`` is a struct."""
    ((domain, inner),) = payload.items()
    if domain == "Generic":
        return domain, str(inner.get("event_type") or "Generic"), dict(inner)
    if isinstance(inner, str):  # a unit variant
        return domain, inner, {}
    ((variant, fields),) = inner.items()
    return domain, variant, dict(fields) if isinstance(fields, dict) else {"value": fields}


def _subject_aggregate(subject: str, prefix: str) -> str | None:
    tokens = subject.split(".")
    if subject.startswith("cim.graph.") and len(tokens) == 5:
        return tokens[3]
    if subject.startswith(prefix + ".") and len(tokens) == len(prefix.split(".")) + 2:
        return tokens[-1]
    return None


def _str(value) -> str | None:
    return None if value is None else str(value)
