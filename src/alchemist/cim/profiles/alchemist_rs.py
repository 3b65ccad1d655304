"""The original Information Alchemist's dialect (TheCowboyAI/alchemist @ b7e1a332, ``src/jetstream_persistence.rs``).

Wire, as ``GraphPersistence::publish_event`` sends it: stream ``GRAPH_EVENTS`` on ``graph.>`` (limits
retention, 10,000 messages per subject, 1 GiB, 30 days); subjects ``graph.{graph_id}.created``,
``.deleted``, ``.node.added``, ``.node.updated``, ``.node.removed``, ``.edge.added``,
``.edge.updated``, ``.edge.removed``, ``.bulk.nodes``, ``.bulk.edges``, ``.layout``, ``.snapshot``;
body ``GraphPersistenceEvent`` with ``#[serde(tag = "type")]`` — ``{"type": "NodeAdded", "graph_id",
"node_id", "label", "position": [x, y, z], "metadata", "timestamp"}`` — where ``timestamp`` is Unix
*milliseconds* (``current_timestamp``: ``as_millis``); no headers, no event id, no CID (cim-subject's
``X-Message-ID``/``X-Correlation-ID``/``X-Causation-ID`` are read when a relay adds them).

Mapping: ``GraphCreated`` -> ``graph_created``; ``NodeAdded``/``Updated``/``Removed`` and
``EdgeAdded``/``Updated``/``Removed`` -> the same alchemist events (the position as properties
``x, y, z``, the edge label as relationship); ``BulkNodesAdded``/``BulkEdgesAdded`` -> one event
per ``NodeData``/``EdgeData``; ``GraphSnapshot`` replaces the state (as ``ReplayedGraph::apply_event``);
``GraphDeleted`` and ``LayoutChanged`` are kept as typed events.
"""

from __future__ import annotations

import json
import time as _time

from alchemist.cim.profiles import DialectEvent, GraphChange, Profile, header, json_body
from alchemist.errors import CIMError, InvalidEventError

__all__ = ["AlchemistRsProfile", "SUBJECT_SUFFIX"]

#: The subject suffix of each ``GraphPersistenceEvent`` variant.
SUBJECT_SUFFIX = {
    "GraphCreated": "created", "GraphDeleted": "deleted", "NodeAdded": "node.added", "NodeUpdated": "node.updated",
    "NodeRemoved": "node.removed", "EdgeAdded": "edge.added", "EdgeUpdated": "edge.updated",
    "EdgeRemoved": "edge.removed", "BulkNodesAdded": "bulk.nodes", "BulkEdgesAdded": "bulk.edges",
    "LayoutChanged": "layout", "GraphSnapshot": "snapshot",
}


class AlchemistRsProfile(Profile):
    """The original Rust app's subjects and bodies (see the module notes).

    Examples
    --------
    >>> p = AlchemistRsProfile()
    >>> subject, headers, body = p.encode("g1", "edge_added", {"edge_id": "e", "source": "a", "target": "b",
    ...                                                        "relationship": "KNOWS", "weight": 2.0}, time=1.5)
    >>> subject, json.loads(body)["type"], json.loads(body)["timestamp"]
    ('graph.g1.edge.added', 'EdgeAdded', 1500)
    >>> [c.event_type for c in p.changes(p.decode(subject, body))]
    ['edge_added']
    """

    name = "alchemist-rs"
    stream = "GRAPH_EVENTS"
    stream_subjects = ("graph.>",)
    writable = True

    def filters(self, graph_id: str) -> list[str]:
        """``graph.{id}.>`` (``*``: ``graph.*.>``).

        Parameters
        ----------
        graph_id : str

        Returns
        -------
        list of str
        """
        return [f"graph.{graph_id}.>"]

    def decode(self, subject, data, headers=None, *, sequence=None, time=None) -> DialectEvent:
        """Decode a ``GraphPersistenceEvent`` body.

        Parameters
        ----------
        subject : str
        data : bytes
        headers : dict, optional
        sequence : int, optional
        time : float, optional
            JetStream's time, used only when the body has no ``timestamp``.

        Returns
        -------
        DialectEvent

        Raises
        ------
        InvalidEventError
            Not JSON, or no ``type`` tag.
        """
        body = json_body(self.name, subject, data)
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            raise InvalidEventError(f"alchemist-rs: message on {subject!r} has no 'type' tag (GraphPersistenceEvent "
                                    "is #[serde(tag = \"type\")])")
        fields = {k: v for k, v in body.items() if k != "type"}
        stamp = fields.get("timestamp")
        graph_id = fields.get("graph_id") or (subject.split(".")[1] if subject.count(".") >= 2 else "")
        return DialectEvent(self.name, body["type"], str(graph_id), fields,
                            event_id=header(headers, "X-Message-ID", "Nats-Msg-Id"),  # the app sends none; a
                            correlation_id=header(headers, "X-Correlation-ID"),     # relay may add cim-subject's
                            causation_id=header(headers, "X-Causation-ID"),
                            time=stamp / 1000.0 if isinstance(stamp, (int, float)) else time,
                            subject=subject, sequence=sequence, headers=dict(headers or {}))

    def changes(self, event: DialectEvent) -> list[GraphChange]:
        """The Graph changes of one ``GraphPersistenceEvent`` (see the module notes).

        Parameters
        ----------
        event : DialectEvent

        Returns
        -------
        list of GraphChange
        """
        f = event.payload
        kind = event.event_type
        if kind == "GraphCreated":
            meta = f.get("metadata")
            return [GraphChange("graph_created", {"name": str(f.get("name") or ""), "directed": True,
                                                  "properties": meta if isinstance(meta, dict) else {}})]
        if kind == "NodeAdded":
            return [_node(f)]
        if kind == "NodeUpdated":
            props = dict(f["metadata"]) if isinstance(f.get("metadata"), dict) else {}
            if f.get("position"):
                props.update(_xyz(f["position"]))
            return [GraphChange("node_updated", {"node_id": str(f["node_id"]), "label": f.get("label"),
                                                 "properties": props})]
        if kind == "NodeRemoved":
            return [GraphChange("node_removed", {"node_id": str(f["node_id"])})]
        if kind == "EdgeAdded":
            return [_edge(f["edge_id"], f["source_id"], f["target_id"], f.get("label"), f.get("weight", 1.0))]
        if kind == "EdgeUpdated":
            return [GraphChange("edge_updated", {"edge_id": str(f["edge_id"]), "relationship": f.get("label"),
                                                 "weight": f.get("weight")})]
        if kind == "EdgeRemoved":
            return [GraphChange("edge_removed", {"edge_id": str(f["edge_id"])})]
        if kind == "BulkNodesAdded":
            return [_node({**n, "node_id": n["id"]}) for n in f.get("nodes") or []]
        if kind == "BulkEdgesAdded":
            return [_edge(e["id"], e["source_id"], e["target_id"], e.get("label"), e.get("weight", 1.0))
                    for e in f.get("edges") or []]
        if kind == "GraphSnapshot":
            return ([GraphChange("reset", {})] + [_node({**n, "node_id": n["id"]}) for n in f.get("nodes") or []]
                    + [_edge(e["id"], e["source_id"], e["target_id"], e.get("label"), e.get("weight", 1.0))
                       for e in f.get("edges") or []])
        return []

    def encode(self, graph_id, event_type, payload, *, event_id=None, correlation_id=None, causation_id=None,
               time=None) -> tuple[str, dict, bytes]:
        """The ``GraphPersistenceEvent`` the original app would publish for an alchemist event.

        Parameters
        ----------
        graph_id : str
        event_type : str
            ``graph_created``, ``node_added``, ``node_updated``, ``node_removed``, ``edge_added``,
            ``edge_updated`` or ``edge_removed``.
        payload : dict
        event_id, correlation_id, causation_id : str, optional
            Not carried: the original app's messages have no ids or headers.
        time : float, optional
            Unix seconds (now when omitted), written as milliseconds.

        Returns
        -------
        (subject, headers, body)
            ``headers`` is empty, as the original app sends none.

        Raises
        ------
        CIMError
            An event type the original app has no variant for.
        """
        ms = int(round((time if time is not None else _time.time()) * 1000))
        p = payload
        if event_type == "graph_created":
            body = {"type": "GraphCreated", "graph_id": graph_id, "name": p.get("name", ""),
                    "metadata": p.get("properties") or {}, "timestamp": ms}
        elif event_type == "node_added":
            props = dict(p.get("properties") or {})
            position = [float(props.pop(k, 0.0)) for k in ("x", "y", "z")]
            body = {"type": "NodeAdded", "graph_id": graph_id, "node_id": p["node_id"], "label": p.get("label", ""),
                    "position": position, "metadata": props or None, "timestamp": ms}
        elif event_type == "node_updated":
            body = {"type": "NodeUpdated", "graph_id": graph_id, "node_id": p["node_id"], "label": p.get("label"),
                    "position": None, "metadata": p.get("properties") or None, "timestamp": ms}
        elif event_type == "node_removed":
            body = {"type": "NodeRemoved", "graph_id": graph_id, "node_id": p["node_id"], "timestamp": ms}
        elif event_type == "edge_added":
            body = {"type": "EdgeAdded", "graph_id": graph_id, "edge_id": p["edge_id"], "source_id": p["source"],
                    "target_id": p["target"], "label": p.get("relationship") or None,
                    "weight": float(p.get("weight", 1.0)), "timestamp": ms}
        elif event_type == "edge_updated":
            body = {"type": "EdgeUpdated", "graph_id": graph_id, "edge_id": p["edge_id"],
                    "label": p.get("relationship"), "weight": p.get("weight"), "timestamp": ms}
        elif event_type == "edge_removed":
            body = {"type": "EdgeRemoved", "graph_id": graph_id, "edge_id": p["edge_id"], "timestamp": ms}
        else:
            raise CIMError(f"the original alchemist has no GraphPersistenceEvent for {event_type!r}; it writes "
                           "graph_created, node_added/updated/removed and edge_added/updated/removed")
        return f"graph.{graph_id}.{SUBJECT_SUFFIX[body['type']]}", {}, json.dumps(body).encode()


def _xyz(position) -> dict:
    return {k: float(v) for k, v in zip(("x", "y", "z"), position or ())}


def _node(f: dict) -> GraphChange:
    props = dict(f["metadata"]) if isinstance(f.get("metadata"), dict) else {}
    props.update(_xyz(f.get("position")))
    return GraphChange("node_added", {"node_id": str(f["node_id"]), "label": str(f.get("label") or ""),
                                      "labels": [], "properties": props})


def _edge(edge_id, source, target, label, weight) -> GraphChange:
    return GraphChange("edge_added", {"edge_id": str(edge_id), "source": str(source), "target": str(target),
                                      "relationship": str(label or ""), "weight": float(weight)})
