"""Event types of a CIM graph and the schema of each payload (DESIGN.md §2).

Node and edge ids are strings; properties are JSON objects. ``edge_added`` has ``source``,
``target``, ``relationship`` (the edge type) and ``weight``. Domain extensions carry conceptual
positions, strategies, utilities and coalitions. Unknown event types are rejected by
:func:`validate_payload` so that a consumer dead-letters them instead of guessing.
"""

from __future__ import annotations

import math
from operator import attrgetter
from typing import Any

import msgspec

from alchemist.errors import InvalidEventError, UnknownEventTypeError

__all__ = ["EVENT_TYPES", "GRAPH_EVENT_TYPES", "validate_payload", "validate_payloads", "register_event_type"]


class GraphCreated(msgspec.Struct, forbid_unknown_fields=False):
    """Payload schema of ``graph_created``: a graph aggregate begins.

    Parameters
    ----------
    name : str
        Display name.
    directed : bool
        Whether its edges are directed.
    properties : dict
        Graph-level properties.

    Raises
    ------
    msgspec.ValidationError
        On ``msgspec.convert(payload, GraphCreated)``: a required field is missing or a field has the
        wrong type (:func:`validate_payload` reports it as :class:`~alchemist.errors.InvalidEventError`).
        Unknown fields are allowed.
    """
    name: str = ""
    directed: bool = False
    properties: dict[str, Any] = {}


class NodeAdded(msgspec.Struct, forbid_unknown_fields=False):
    """Payload schema of ``node_added``: a node joins the graph.

    Parameters
    ----------
    node_id : str
    label : str
        The node's label (type).
    labels : list of str
        Further labels, kept as given.
    properties : dict
        JSON properties, one typed column per key in the Graph.

    Raises
    ------
    msgspec.ValidationError
        On ``msgspec.convert(payload, NodeAdded)``: a required field is missing or a field has the
        wrong type (:func:`validate_payload` reports it as :class:`~alchemist.errors.InvalidEventError`).
        Unknown fields are allowed.
    """
    node_id: str
    label: str = ""
    labels: list[str] = []
    properties: dict[str, Any] = {}


class NodeUpdated(msgspec.Struct, forbid_unknown_fields=False):
    """Payload schema of ``node_updated``: a node's label or properties change.

    Parameters
    ----------
    node_id : str
    label : str or None
        A new label; unchanged when None.
    properties : dict
        Properties to set (merged into the node's).

    Raises
    ------
    msgspec.ValidationError
        On ``msgspec.convert(payload, NodeUpdated)``: a required field is missing or a field has the
        wrong type (:func:`validate_payload` reports it as :class:`~alchemist.errors.InvalidEventError`).
        Unknown fields are allowed.
    """
    node_id: str
    label: str | None = None
    properties: dict[str, Any] = {}


class NodeRemoved(msgspec.Struct, forbid_unknown_fields=False):
    """Payload schema of ``node_removed``: a node leaves the graph (with its edges).

    Parameters
    ----------
    node_id : str

    Raises
    ------
    msgspec.ValidationError
        On ``msgspec.convert(payload, NodeRemoved)``: a required field is missing or a field has the
        wrong type (:func:`validate_payload` reports it as :class:`~alchemist.errors.InvalidEventError`).
        Unknown fields are allowed.
    """
    node_id: str


class EdgeAdded(msgspec.Struct, forbid_unknown_fields=False):
    """Payload schema of ``edge_added``: an edge joins the graph.

    Parameters
    ----------
    edge_id : str
    source, target : str
        Node ids.
    relationship : str
        The edge type.
    weight : float
        Finite (checked by :func:`validate_payload`).
    properties : dict

    Raises
    ------
    msgspec.ValidationError
        On ``msgspec.convert(payload, EdgeAdded)``: a required field is missing or a field has the
        wrong type (:func:`validate_payload` reports it as :class:`~alchemist.errors.InvalidEventError`).
        Unknown fields are allowed.
    """
    edge_id: str
    source: str
    target: str
    relationship: str = ""
    weight: float = 1.0
    properties: dict[str, Any] = {}


class EdgeUpdated(msgspec.Struct, forbid_unknown_fields=False):
    """Payload schema of ``edge_updated``: an edge's weight, type or properties change.

    Parameters
    ----------
    edge_id : str
    weight : float or None
        A new finite weight; unchanged when None.
    relationship : str or None
        A new edge type; unchanged when None.
    properties : dict
        Properties to set.

    Raises
    ------
    msgspec.ValidationError
        On ``msgspec.convert(payload, EdgeUpdated)``: a required field is missing or a field has the
        wrong type (:func:`validate_payload` reports it as :class:`~alchemist.errors.InvalidEventError`).
        Unknown fields are allowed.
    """
    edge_id: str
    weight: float | None = None
    relationship: str | None = None
    properties: dict[str, Any] = {}


class EdgeRemoved(msgspec.Struct, forbid_unknown_fields=False):
    """Payload schema of ``edge_removed``: an edge leaves the graph.

    Parameters
    ----------
    edge_id : str

    Raises
    ------
    msgspec.ValidationError
        On ``msgspec.convert(payload, EdgeRemoved)``: a required field is missing or a field has the
        wrong type (:func:`validate_payload` reports it as :class:`~alchemist.errors.InvalidEventError`).
        Unknown fields are allowed.
    """
    edge_id: str


class LayoutApplied(msgspec.Struct, forbid_unknown_fields=False):
    """Payload schema of ``layout_applied``: node positions computed by a layout.

    Parameters
    ----------
    algorithm : str
        E.g. ``"forceatlas2"``.
    positions : dict of str to [x, y]
        Positions by node id (small graphs).
    positions_cid : str or None
        CID of the positions in the object store (large graphs).

    Raises
    ------
    msgspec.ValidationError
        On ``msgspec.convert(payload, LayoutApplied)``: a required field is missing or a field has the
        wrong type (:func:`validate_payload` reports it as :class:`~alchemist.errors.InvalidEventError`).
        Unknown fields are allowed.
    """
    algorithm: str = "forceatlas2"
    positions: dict[str, list[float]] = {}
    positions_cid: str | None = None


class ConceptualPositionSet(msgspec.Struct, forbid_unknown_fields=False):
    """Payload schema of ``conceptual_position_set``: a node's coordinates in a conceptual space.

    Parameters
    ----------
    node_id : str
    coordinates : list of float
        One per quality dimension.
    space_id : str
        The conceptual space.

    Raises
    ------
    msgspec.ValidationError
        On ``msgspec.convert(payload, ConceptualPositionSet)``: a required field is missing or a field has the
        wrong type (:func:`validate_payload` reports it as :class:`~alchemist.errors.InvalidEventError`).
        Unknown fields are allowed.
    """
    node_id: str
    coordinates: list[float]
    space_id: str = ""


class StrategyAssigned(msgspec.Struct, forbid_unknown_fields=False):
    """Payload schema of ``strategy_assigned``: a node (player) is assigned a strategy.

    Parameters
    ----------
    node_id : str
    strategy : any JSON value
        An action label, an index, or a mixed strategy.

    Raises
    ------
    msgspec.ValidationError
        On ``msgspec.convert(payload, StrategyAssigned)``: a required field is missing or a field has the
        wrong type (:func:`validate_payload` reports it as :class:`~alchemist.errors.InvalidEventError`).
        Unknown fields are allowed.
    """
    node_id: str
    strategy: Any


class UtilityUpdated(msgspec.Struct, forbid_unknown_fields=False):
    """Payload schema of ``utility_updated``: a node's (player's) utility changes.

    Parameters
    ----------
    node_id : str
    utility : float
        Finite (checked by :func:`validate_payload`).

    Raises
    ------
    msgspec.ValidationError
        On ``msgspec.convert(payload, UtilityUpdated)``: a required field is missing or a field has the
        wrong type (:func:`validate_payload` reports it as :class:`~alchemist.errors.InvalidEventError`).
        Unknown fields are allowed.
    """
    node_id: str
    utility: float


class CoalitionFormed(msgspec.Struct, forbid_unknown_fields=False):
    """Payload schema of ``coalition_formed``: a coalition of nodes forms.

    Parameters
    ----------
    coalition_id : str
    members : list of str
        Node ids (all in the graph when applied).
    value : float or None
        The coalition's worth.

    Raises
    ------
    msgspec.ValidationError
        On ``msgspec.convert(payload, CoalitionFormed)``: a required field is missing or a field has the
        wrong type (:func:`validate_payload` reports it as :class:`~alchemist.errors.InvalidEventError`).
        Unknown fields are allowed.
    """
    coalition_id: str
    members: list[str]
    value: float | None = None


class GraphImported(msgspec.Struct, forbid_unknown_fields=False):
    """Payload schema of ``graph_imported``: a whole graph was imported as an object in the CIM's object store.

    Parameters
    ----------
    object_cid : str
        CID of the object (e.g. the Parquet file).
    format : str
        The object's format.
    nodes, edges : int
        Counts, for display.

    Raises
    ------
    msgspec.ValidationError
        On ``msgspec.convert(payload, GraphImported)``: a required field is missing or a field has the
        wrong type (:func:`validate_payload` reports it as :class:`~alchemist.errors.InvalidEventError`).
        Unknown fields are allowed.
    """
    object_cid: str
    format: str = "parquet"
    nodes: int = 0
    edges: int = 0


class Free(msgspec.Struct, forbid_unknown_fields=False):
    """Payload of event types whose content alchemist stores but does not interpret.

    Any JSON object passes (``conceptual_space_created``, ``concept_added``, ``region_added``, and
    types registered with :func:`register_event_type` without a schema).

    Raises
    ------
    msgspec.ValidationError
        The payload is not a JSON object.
    """


_SCHEMAS: dict[str, type] = {
    "graph_created": GraphCreated,
    "node_added": NodeAdded,
    "node_updated": NodeUpdated,
    "node_removed": NodeRemoved,
    "edge_added": EdgeAdded,
    "edge_updated": EdgeUpdated,
    "edge_removed": EdgeRemoved,
    "layout_applied": LayoutApplied,
    "graph_imported": GraphImported,
    "conceptual_position_set": ConceptualPositionSet,
    "strategy_assigned": StrategyAssigned,
    "utility_updated": UtilityUpdated,
    "coalition_formed": CoalitionFormed,
    "conceptual_space_created": Free,
    "concept_added": Free,
    "region_added": Free,
}
_FINITE = {"edge_added": ("weight",), "edge_updated": ("weight",), "utility_updated": ("utility",)}

GRAPH_EVENT_TYPES = (
    "graph_created", "node_added", "node_updated", "node_removed",
    "edge_added", "edge_updated", "edge_removed", "layout_applied", "graph_imported",
)
EVENT_TYPES = tuple(_SCHEMAS)


def register_event_type(event_type: str, schema: type = Free) -> None:
    """Accept a further event type (a msgspec Struct schema, or free-form content).

    Parameters
    ----------
    event_type : str
        The new type's name (replaces the schema of a known type).
    schema : type
        A ``msgspec.Struct`` the payload must convert to; :class:`Free` by default.

    Returns
    -------
    None
        :data:`EVENT_TYPES` is extended.

    Raises
    ------
    None

    Examples
    --------
    >>> register_event_type("note_taken")
    >>> validate_payload("note_taken", {"text": "anything"})
    >>> from alchemist.events import types
    >>> "note_taken" in types.EVENT_TYPES
    True
    """
    global EVENT_TYPES
    _SCHEMAS[event_type] = schema
    EVENT_TYPES = tuple(_SCHEMAS)


def validate_payload(event_type: str, payload: Any, event_id: str | None = None) -> None:
    """Check ``payload`` against the schema of ``event_type``.

    Parameters
    ----------
    event_type : str
    payload : dict
    event_id : str, optional
        Named in the error message.

    Returns
    -------
    None

    Raises
    ------
    UnknownEventTypeError
        ``event_type`` is not known.
    InvalidEventError
        The payload is not an object, lacks a required field, has a field of the wrong type, or
        a non-finite weight/utility. The message names the event and the field.

    Examples
    --------
    >>> validate_payload("edge_added", {"edge_id": "e0", "source": "a", "target": "b"})
    >>> validate_payload("edge_added", {"edge_id": "e0", "source": "a", "target": "b", "weight": float("nan")})
    Traceback (most recent call last):
    ...
    alchemist.errors.InvalidEventError: (edge_added) weight must be finite, got nan
    """
    where = f"event {event_id} " if event_id else ""
    schema = _SCHEMAS.get(event_type)
    if schema is None:
        raise UnknownEventTypeError(
            f"{where}has unknown event_type {event_type!r}; known types: {', '.join(sorted(_SCHEMAS))}"
        )
    if not isinstance(payload, dict):
        raise InvalidEventError(f"{where}({event_type}) payload must be a JSON object, not {type(payload).__name__}")
    try:
        msgspec.convert(payload, schema)
    except msgspec.ValidationError as exc:
        raise InvalidEventError(f"{where}({event_type}) payload is invalid: {exc}") from None
    for name in _FINITE.get(event_type, ()):
        value = payload.get(name)
        if value is not None and not math.isfinite(value):
            raise InvalidEventError(f"{where}({event_type}) {name} must be finite, got {value!r}")


def validate_payloads(items: list[tuple[str, Any, str | None]]) -> list[tuple[int, Exception]]:
    """Validate many ``(event_type, payload, event_id)`` at once; returns ``(index, error)`` of
    the failures (empty when all pass).

    The payloads of each event type are converted in one ``msgspec.convert`` call; only a group
    that fails is checked event by event to name the culprit.

    Parameters
    ----------
    items : list of (str, dict, str or None)
        Event type, payload and event id (for the messages) of each event.

    Returns
    -------
    list of (int, Exception)
        Index and :class:`~alchemist.errors.InvalidEventError` or
        :class:`~alchemist.errors.UnknownEventTypeError` of each failure, in order.

    Raises
    ------
    None
        Failures are returned, not raised.

    Examples
    --------
    >>> [(i, type(e).__name__) for i, e in validate_payloads([
    ...     ("node_added", {"node_id": "a"}, None), ("edge_added", {"edge_id": "e"}, None),
    ...     ("no_such_type", {}, None)])]
    [(1, 'InvalidEventError'), (2, 'UnknownEventTypeError')]
    """
    groups: dict[str, list[int]] = {}
    for i, (event_type, _payload, _id) in enumerate(items):
        groups.setdefault(event_type, []).append(i)
    bad: list[tuple[int, Exception]] = []
    for event_type, rows in groups.items():
        schema = _SCHEMAS.get(event_type)
        ok = schema is not None
        if ok:
            payloads = [items[i][1] for i in rows]
            try:
                converted = msgspec.convert(payloads, list[schema])
            except (msgspec.ValidationError, TypeError):
                ok = False
            else:
                ok = all(_all_finite(converted, name) for name in _FINITE.get(event_type, ()))
        if not ok:
            for i in rows:
                try:
                    validate_payload(*items[i])
                except (InvalidEventError, UnknownEventTypeError) as exc:
                    bad.append((i, exc))
    bad.sort(key=lambda item: item[0])
    return bad


def _all_finite(items: list, name: str) -> bool:
    """Whether attribute ``name`` of every item is finite or None (a sum is finite only if every
    term is; the exact check runs only when the sum is not)."""
    try:
        if math.isfinite(sum(map(attrgetter(name), items))):
            return True
    except (TypeError, OverflowError):
        pass
    return all(v is None or math.isfinite(v) for v in map(attrgetter(name), items))
