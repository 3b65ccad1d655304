"""Readers for the other CIM conventions, as alchemist events ready to publish.

- cim-graph envelopes (``TheCowboyAI/cim-graph``: ``{event_id, aggregate_id, correlation_id,
  causation_id, payload}`` with an externally tagged payload ``{"Workflow": {"StateAdded": {...}}}``):
  the event type is the snake-cased variant (``state_added``), the aggregate type the snake-cased
  domain (``workflow``), the payload the variant's object.
- Arrows.app graphs (the original Information Alchemist's models: ``nodes {id, position, caption,
  labels, properties, style}``, ``relationships {id, fromId, toId, type, properties}``): a
  ``graph_created``, a ``node_added`` per node (caption as label), an ``edge_added`` per
  relationship (type as relationship) and a ``layout_applied`` with the drawn positions, chained
  by CID.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from alchemist.errors import InputFormatError
from alchemist.events import Event, new_event, register_event_type

__all__ = ["read_cim_graph_events", "arrows_events"]


def read_cim_graph_events(path: str | Path) -> list[Event]:
    """The envelopes of a cim-graph event file as :class:`~alchemist.events.Event` objects.

    Unknown variants are registered as free-form event types, so that they verify and publish;
    a missing causation id makes the event a root (causation = correlation, DESIGN.md §2).

    Parameters
    ----------
    path : str or Path
        A JSON list of envelopes, or an object with ``events``.

    Returns
    -------
    list of Event
        In file order, each aggregate's events chained by CID (``previous_cid``), with
        timestamp 0.

    Raises
    ------
    InputFormatError
        The file is not a cim-graph event list (the message names the entry and the field).

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp(), "events.json")
    >>> _ = path.write_text(json.dumps([{"event_id": "e1", "aggregate_id": "w1", "payload": "StateAdded"}]))
    >>> read_cim_graph_events(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    alchemist.errors.InputFormatError: .../events.json: event 0 is not a cim-graph envelope with an externally tagged payload {Domain: {Variant: {...}}}
    """
    path = Path(path)
    data = _load(path)
    entries = data.get("events") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise InputFormatError(f"{path}: expected a list of events or an object with 'events'", path=str(path))
    out: list[Event] = []
    previous: dict[str, str] = {}
    for i, entry in enumerate(entries):
        try:
            payload = entry["payload"]
            ((domain, inner),) = payload.items()
            ((variant, body),) = inner.items()
            event_id, aggregate = str(entry["event_id"]), str(entry["aggregate_id"])
        except (KeyError, TypeError, ValueError, AttributeError):
            raise InputFormatError(f"{path}: event {i} is not a cim-graph envelope with an externally tagged "
                                   "payload {Domain: {Variant: {...}}}", path=str(path)) from None
        event_type = _snake(variant)
        register_event_type(event_type)
        correlation = str(entry.get("correlation_id") or event_id)
        event = new_event(event_type, aggregate, dict(body), event_id=event_id, timestamp=0,
                          correlation_id=correlation, causation_id=str(entry.get("causation_id") or correlation),
                          aggregate_type=_snake(domain), previous_cid=previous.get(aggregate), validate=False)
        previous[aggregate] = event.cid
        out.append(event)
    return out


def arrows_events(path: str | Path, graph_id: str | None = None, *, directed: bool = True) -> list[Event]:
    """The events that build an Arrows.app graph (see the module notes), chained by CID.

    Parameters
    ----------
    path : str or Path
        An Arrows.app JSON export.
    graph_id : str, optional
        Default: the file's stem, with characters other than letters, digits, ``_`` and ``-``
        replaced by ``_``.
    directed : bool
        Recorded in ``graph_created``.

    Returns
    -------
    list of Event

    Raises
    ------
    InputFormatError
        A node without ``id`` or a relationship without ``fromId``/``toId`` (the message names it).

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp(), "team.json")
    >>> _ = path.write_text(json.dumps({
    ...     "nodes": [{"id": "n0", "caption": "Ada", "position": {"x": 0, "y": 0}},
    ...               {"id": "n1", "caption": "Alan", "position": {"x": 100, "y": 50}}],
    ...     "relationships": [{"id": "r0", "fromId": "n0", "toId": "n1", "type": "KNOWS"}]}))
    >>> events = arrows_events(path)
    >>> [e.event_type for e in events]
    ['graph_created', 'node_added', 'node_added', 'edge_added', 'layout_applied']
    >>> events[3].payload["relationship"], events[-1].payload["positions"]["n1"]
    ('KNOWS', [100.0, 50.0])
    >>> events[1].previous_cid == events[0].cid
    True
    """
    path = Path(path)
    data = _load(path)
    graph_id = graph_id or re.sub(r"[^\w-]", "_", path.stem)
    events: list[Event] = []

    def add(event_type: str, payload: dict) -> None:
        events.append(new_event(event_type, graph_id, payload, timestamp=0,
                                previous_cid=events[-1].cid if events else None))

    add("graph_created", {"name": path.name, "directed": directed, "properties": {"format": "arrows"}})
    positions = {}
    for i, node in enumerate(data.get("nodes", [])):
        if "id" not in node:
            raise InputFormatError(f"{path}: node {i} has no 'id'", path=str(path))
        add("node_added", {"node_id": str(node["id"]), "label": str(node.get("caption") or ""),
                           "labels": [str(x) for x in node.get("labels") or []],
                           "properties": dict(node.get("properties") or {})})
        pos = node.get("position") or {}
        if "x" in pos and "y" in pos:
            positions[str(node["id"])] = [float(pos["x"]), float(pos["y"])]
    for i, rel in enumerate(data.get("relationships", [])):
        if "fromId" not in rel or "toId" not in rel:
            raise InputFormatError(f"{path}: relationship {i} needs 'fromId' and 'toId'", path=str(path))
        add("edge_added", {"edge_id": str(rel.get("id", f"r{i}")), "source": str(rel["fromId"]),
                           "target": str(rel["toId"]), "relationship": str(rel.get("type") or ""), "weight": 1.0,
                           "properties": dict(rel.get("properties") or {})})
    if positions:
        add("layout_applied", {"algorithm": "arrows", "positions": positions})
    return events


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _load(path: Path):
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise InputFormatError(f"{path}: no such file", path=str(path)) from None
    except json.JSONDecodeError as exc:
        raise InputFormatError(f"{path}: not JSON ({exc.msg} at line {exc.lineno})", path=str(path),
                               line=exc.lineno) from None
