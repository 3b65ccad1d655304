"""The cim-domain-graph dialect (TheCowboyAI/cim-domain-graph @ 2b51353b; cim-domain, cim-subject).

Wire (cim-domain @ 33414ffa, cim-subject @ ecf16081):

- subjects ``graphs.{entity}.{action}.v1`` (``events/graph_events.rs``: ``graphs.graph.created.v1``,
  ``graphs.node.added.v1``, ``graphs.edge.removed.v1``, ...): exactly four tokens, the last a
  ``v``-version, as cim-subject's ``SubjectParts::parse`` demands. The graph is *not* in the
  subject: every graph shares them, and the graph id is read from the body;
- bodies: the event struct as serde writes it (``NodeAdded {graph_id, node_id, position {x, y, z},
  node_type, metadata}``, ``EdgeAdded {graph_id, edge_id, source, target, relationship, edge_type,
  metadata}`` with ``relationship`` an externally tagged ``EdgeRelationship``: ``{"Dependency":
  {"dependency_type", "strength"}}``, ``{"Similarity": {"score"}}``, ...), ``GraphId`` an
  ``EntityId`` (``{"id": uuid}``), ``NodeId``/``EdgeId`` bare UUIDs; optionally ``GraphDomainEvent``'s
  tag (``{"NodeAdded": {...}}``); or wrapped in cim-domain's ``DomainEventEnvelope``
  ``{event_id, aggregate_id, correlation_id: {"kind": "Single"|"Transaction", "value": uuid},
  causation_id, payload_metadata {source, version, properties, payload_type}, payload:
  {"kind": "Right", "value": event} | {"kind": "Left", "value": DomainCid}}``;
- headers: cim-subject's ``X-Message-ID``, ``X-Correlation-ID``, ``X-Causation-ID``
  (``MessageIdentity::to_nats_headers``).

The crate publishes through a ``GraphEventPublisher`` trait and creates no stream itself; alchemist
creates ``CIM_DOMAIN_GRAPH_EVENTS`` on ``graphs.>`` only when it must write to a server without one.

Mapping: ``NodeAdded``/``Updated``/``Removed``, ``EdgeAdded``/``Updated``/``Removed`` and
``GraphCreated`` -> the same alchemist events (node type as label, position as ``x, y, z``, the
relationship's kind and its ``strength``/``score`` as relationship and weight); ``GraphUpdated``,
``GraphArchived`` and payloads carried by CID (``Left``) that no cim-ipld bucket holds are kept as typed events
(a ``Left`` payload found in a bucket and verified against its CID is folded as if inline).
"""

from __future__ import annotations

import json
import uuid

from alchemist.cim.profiles import DialectEvent, GraphChange, Profile, header, json_body, message_headers
from alchemist.errors import CIMError, InvalidEventError

__all__ = ["CimDomainGraphProfile", "parse_subject", "EVENT_NAMES"]

#: (entity, action) of the subject -> the event's type name (``DomainEvent::event_type``).
EVENT_NAMES = {
    ("graph", "created"): "GraphCreated", ("graph", "updated"): "GraphUpdated", ("graph", "archived"): "GraphArchived",
    ("node", "added"): "NodeAdded", ("node", "updated"): "NodeUpdated", ("node", "removed"): "NodeRemoved",
    ("edge", "added"): "EdgeAdded", ("edge", "updated"): "EdgeUpdated", ("edge", "removed"): "EdgeRemoved",
}
_SUBJECTS = {name: f"graphs.{entity}.{action}.v1" for (entity, action), name in EVENT_NAMES.items()}


def parse_subject(subject: str) -> tuple[str, str, str, str]:
    """cim-subject's ``SubjectParts::parse``: exactly four non-empty tokens of letters, digits, ``_``
    and ``-`` (context, aggregate, event type, version), the version starting with ``v``.

    Parameters
    ----------
    subject : str

    Returns
    -------
    (context, aggregate, event_type, version)

    Raises
    ------
    InvalidEventError
        Another shape (the message says which rule fails, as cim-subject's does).

    Examples
    --------
    >>> parse_subject("graphs.node.added.v1")
    ('graphs', 'node', 'added', 'v1')
    >>> parse_subject("graphs.node.added")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    alchemist.errors.InvalidEventError: Subject must have exactly 4 parts separated by dots, got 3: 'graphs.node.added'
    """
    parts = subject.split(".")
    if len(parts) != 4:
        raise InvalidEventError(f"Subject must have exactly 4 parts separated by dots, got {len(parts)}: {subject!r}")
    for part in parts:
        if not part or not all(c.isalnum() or c in "_-" for c in part):
            raise InvalidEventError(f"Subject part {part!r} is empty or contains invalid characters in {subject!r}")
    if not parts[3].startswith("v"):
        raise InvalidEventError(f"Subject version {parts[3]!r} must start with 'v' in {subject!r}")
    return parts[0], parts[1], parts[2], parts[3]


class CimDomainGraphProfile(Profile):
    """cim-domain-graph's subjects, bodies, envelopes and headers (see the module notes).

    Examples
    --------
    >>> p = CimDomainGraphProfile()
    >>> g = "0190a3b2-0000-7000-8000-000000000001"
    >>> body = {"graph_id": {"id": g}, "node_id": "0190a3b2-0000-7000-8000-0000000000aa",
    ...         "position": {"x": 1.0, "y": 2.0, "z": 0.0}, "node_type": "Task", "metadata": {}}
    >>> e = p.decode("graphs.node.added.v1", json.dumps(body).encode(), {"X-Correlation-ID": g}, time=7.0)
    >>> e.event_type, e.aggregate_id == g, e.correlation_id == g, [c.event_type for c in p.changes(e)]
    ('NodeAdded', True, True, ['node_added'])
    """

    name = "cim-domain-graph"
    stream = "CIM_DOMAIN_GRAPH_EVENTS"
    stream_subjects = ("graphs.>",)
    writable = True

    def filters(self, graph_id: str) -> list[str]:
        """``graphs.*.*.*``: the graph is not in the subject, so every graph's events are read and
        :meth:`belongs` keeps one graph's.

        Parameters
        ----------
        graph_id : str

        Returns
        -------
        list of str
        """
        return ["graphs.*.*.*"]

    def decode(self, subject, data, headers=None, *, sequence=None, time=None) -> DialectEvent:
        """Decode a bare event, a ``GraphDomainEvent`` or a ``DomainEventEnvelope``.

        Parameters
        ----------
        subject : str
        data : bytes
        headers : dict, optional
        sequence : int, optional
        time : float, optional
            JetStream's time (the events carry none but ``created_at``/``archived_at``).

        Returns
        -------
        DialectEvent

        Raises
        ------
        InvalidEventError
            A subject cim-subject refuses, not JSON, or no graph id.
        """
        _, entity, action, _ = parse_subject(subject)
        body = json_body(self.name, subject, data)
        if not isinstance(body, dict):
            raise InvalidEventError(f"cim-domain-graph: message on {subject!r} is not a JSON object")
        envelope = body if isinstance(body.get("payload"), dict) and "kind" in body["payload"] else None
        name = EVENT_NAMES.get((entity, action)) or f"{entity.title()}{action.title()}"
        cid = None
        if envelope is not None:
            meta = envelope.get("payload_metadata") or {}
            name = meta.get("payload_type") or name
            kind, value = envelope["payload"].get("kind"), envelope["payload"].get("value")
            if kind == "Left":
                event, cid = {}, _domain_cid(value)
            else:
                event = value if isinstance(value, dict) else {}
        else:
            event = body
        if len(event) == 1 and next(iter(event)) in _SUBJECTS:  # GraphDomainEvent's external tag
            ((name, event),) = event.items()
        aggregate = _uuid_of(event.get("graph_id")) or (envelope or {}).get("aggregate_id")
        if not aggregate:
            raise InvalidEventError(f"cim-domain-graph: message on {subject!r} names no graph_id nor aggregate_id")
        stamp = event.get("created_at") or event.get("archived_at")
        if isinstance(stamp, str):
            from alchemist.events import parse_rfc3339

            try:
                time = parse_rfc3339(stamp).timestamp()
            except ValueError:
                pass  # JetStream's time stands
        correlation = (envelope or {}).get("correlation_id")
        if isinstance(correlation, dict):
            correlation = _uuid_of(correlation.get("value"))
        return DialectEvent(
            self.name, name, str(aggregate), dict(event),
            event_id=_str((envelope or {}).get("event_id") or header(headers, "X-Message-ID", "Nats-Msg-Id")),
            correlation_id=_str(correlation or header(headers, "X-Correlation-ID")),
            causation_id=_str(_uuid_of((envelope or {}).get("causation_id")) or header(headers, "X-Causation-ID")),
            time=time, cid=cid, subject=subject, sequence=sequence, headers=dict(headers or {}))

    def changes(self, event: DialectEvent) -> list[GraphChange]:
        """The Graph changes of one event (see the module notes).

        Parameters
        ----------
        event : DialectEvent

        Returns
        -------
        list of GraphChange
        """
        f = event.payload
        kind = event.event_type
        if event.cid is not None and not f:
            return []  # carried by CID and not found in cim-ipld's buckets: kept as a typed event
        if kind == "GraphCreated":
            props = dict(f.get("metadata") or {})
            if f.get("description"):
                props["description"] = f["description"]
            if f.get("graph_type"):
                props["graph_type"] = f["graph_type"]
            return [GraphChange("graph_created", {"name": str(f.get("name") or ""), "directed": True,
                                                  "properties": props})]
        if kind == "NodeAdded":
            props = {**(f.get("metadata") or {}), **_xyz(f.get("position"))}
            node_type = str(f.get("node_type") or "")
            return [GraphChange("node_added", {"node_id": str(f["node_id"]), "label": node_type,
                                               "labels": [node_type] if node_type else [], "properties": props})]
        if kind == "NodeUpdated":
            props = {**(f.get("metadata") or {}), **_xyz(f.get("position"))}
            return [GraphChange("node_updated", {"node_id": str(f["node_id"]), "properties": props})]
        if kind == "NodeRemoved":
            return [GraphChange("node_removed", {"node_id": str(f["node_id"])})]
        if kind == "EdgeAdded":
            relation, weight, detail = _relationship(f.get("relationship"))
            props = {**(f.get("metadata") or {}), **detail}
            if f.get("edge_type"):
                props["edge_type"] = f["edge_type"]
            return [GraphChange("edge_added", {"edge_id": str(f["edge_id"]), "source": str(f["source"]),
                                               "target": str(f["target"]), "relationship": relation,
                                               "weight": weight, "properties": props})]
        if kind == "EdgeUpdated":
            change = {"edge_id": str(f["edge_id"]), "properties": dict(f.get("metadata") or {})}
            if f.get("relationship") is not None:
                change["relationship"], change["weight"], detail = _relationship(f["relationship"])
                change["properties"].update(detail)
            return [GraphChange("edge_updated", change)]
        if kind == "EdgeRemoved":
            return [GraphChange("edge_removed", {"edge_id": str(f["edge_id"])})]
        return []

    def belongs(self, event: DialectEvent, graph_id: str) -> bool:
        """Whether the body's graph id (or the envelope's aggregate) is ``graph_id``.

        Parameters
        ----------
        event : DialectEvent
        graph_id : str

        Returns
        -------
        bool
        """
        return graph_id == "*" or event.aggregate_id == graph_id

    def encode(self, graph_id, event_type, payload, *, event_id=None, correlation_id=None, causation_id=None,
               time=None) -> tuple[str, dict, bytes]:
        """A ``DomainEventEnvelope`` with the event inline (``Right``), cim-subject's headers, on its subject.

        Parameters
        ----------
        graph_id : str
            A UUID.
        event_type : str
            ``node_added``, ``node_removed``, ``edge_added`` or ``edge_removed``.
        payload : dict
            Node and edge ids must be UUIDs (``NodeId(Uuid)``, ``EdgeId(Uuid)``).
        event_id, correlation_id, causation_id : str, optional
            A root event by default (correlation = causation = event id).
        time : float, optional
            Unused (the events carry no time).

        Returns
        -------
        (subject, headers, body)

        Raises
        ------
        CIMError
            A non-UUID id, or an event type without a variant here.
        """
        g = _require_uuid(graph_id, "graph_id")
        p = payload
        if event_type == "node_added":
            props = dict(p.get("properties") or {})
            position = {k: float(props.pop(k, 0.0)) for k in ("x", "y", "z")}
            name, event = "NodeAdded", {"graph_id": {"id": g}, "node_id": _require_uuid(p["node_id"], "node_id"),
                                        "position": position, "node_type": p.get("label") or "", "metadata": props}
        elif event_type == "node_removed":
            name, event = "NodeRemoved", {"graph_id": {"id": g}, "node_id": _require_uuid(p["node_id"], "node_id")}
        elif event_type == "edge_added":
            relation = {"Association": {"association_type": p.get("relationship") or "related"}}
            name, event = "EdgeAdded", {"graph_id": {"id": g}, "edge_id": _require_uuid(p["edge_id"], "edge_id"),
                                        "source": _require_uuid(p["source"], "source"),
                                        "target": _require_uuid(p["target"], "target"), "relationship": relation,
                                        "edge_type": p.get("relationship") or "", "metadata":
                                        dict(p.get("properties") or {})}
        elif event_type == "edge_removed":
            name, event = "EdgeRemoved", {"graph_id": {"id": g}, "edge_id": _require_uuid(p["edge_id"], "edge_id")}
        else:
            raise CIMError(f"cim-domain-graph writing covers node_added/removed and edge_added/removed, not "
                           f"{event_type!r}")
        event_id = event_id or str(uuid.uuid4())
        correlation_id = correlation_id or event_id
        causation_id = causation_id or event_id
        envelope = {"event_id": event_id, "aggregate_id": g,
                    "correlation_id": {"kind": "Single", "value": correlation_id}, "causation_id": causation_id,
                    "payload_metadata": {"source": "cim-domain-graph", "version": "v1", "properties": {},
                                         "payload_type": name},
                    "payload": {"kind": "Right", "value": event}}
        return _SUBJECTS[name], message_headers(event_id, correlation_id, causation_id), json.dumps(envelope).encode()


def _relationship(value) -> tuple[str, float, dict]:
    """``EdgeRelationship`` (externally tagged) -> (relationship, weight, details) as ``weight()`` reads it."""
    if isinstance(value, str):
        return value, 1.0, {}
    if isinstance(value, dict) and len(value) == 1:
        ((kind, fields),) = value.items()
        fields = fields if isinstance(fields, dict) else {}
        weight = fields.get("strength", fields.get("score", 1.0))
        label = fields.get("dependency_type") or fields.get("association_type") or fields.get("flow_type")
        detail = {"relationship_kind": kind, **({"relationship_type": label} if label else {})}
        return str(kind), float(weight if isinstance(weight, (int, float)) else 1.0), detail
    return "", 1.0, {}


def _xyz(position) -> dict:
    if not isinstance(position, dict):
        return {}
    return {k: float(position[k]) for k in ("x", "y", "z") if isinstance(position.get(k), (int, float))}


def _uuid_of(value) -> str | None:
    """A UUID written bare, as ``{"id": ...}`` (``EntityId``) or as a one-field newtype."""
    if isinstance(value, dict):
        value = value.get("id", value.get("value"))
    return None if value is None else str(value)


def _domain_cid(value) -> str | None:
    """The CID string of a serialised ``DomainCid`` (``inner`` as a string or as the CID's bytes)."""
    inner = value.get("inner") if isinstance(value, dict) else value
    if isinstance(inner, str):
        return inner
    if isinstance(inner, list) and all(isinstance(b, int) for b in inner):
        from alchemist._optional import require

        CID = require("multiformats", extra="interop", feature="cim-domain CIDs").CID
        try:
            return str(CID.decode(bytes(inner)).set(base="base32"))
        except Exception:  # a codec multiformats does not know: keep the bytes, as hex
            return bytes(inner).hex()
    return None


def _require_uuid(value, what: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise CIMError(f"cim-domain-graph's {what} is a UUID; {value!r} is not one") from None


def _str(value) -> str | None:
    return None if value is None else str(value)
