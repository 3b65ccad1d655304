"""Interop profiles: the dialects of the CIM, read (and written) as they are on the wire.

The CIM repositories never settled on one convention (DESIGN.md §2). A :class:`Profile` knows one
dialect's subjects, envelopes, headers and CIDs, decodes each of its messages into a
:class:`DialectEvent` (kept whole: the dialect's own type name, ids, CID, headers, JetStream time
and sequence) and maps the semantic variants onto alchemist's Graph: states, concepts, entities and
CIDs become nodes; transitions, relations and links become edges; UUIDs are kept as ids. A variant
with no graph meaning (``WorkflowDefined``, ``PropertyInferred``, a payload carried by CID) is
kept as a typed event in ``graph.dialect_events``, never dropped nor dead-lettered.

========================  =====================================================================
profile                   what it speaks
========================  =====================================================================
``"alchemist"``           alchemist's own envelopes (:mod:`alchemist.events`), the default
``"cim-graph"``           TheCowboyAI/cim-graph: ``local.cim.{type}.{uuid}`` (``JetStreamEventStore``)
                          and ``cim.graph.{type}.{uuid}.{event}`` (``events/subjects.rs``);
                          ``{event: GraphEvent, cid, sequence, headers}``, externally tagged payloads
``"cim-domain-graph"``    TheCowboyAI/cim-domain-graph: ``graphs.{entity}.{action}.v1`` (cim-subject's
                          four tokens), bare events or cim-domain's ``DomainEventEnvelope``
                          (``{"kind": "Single", "value": ...}`` correlation, ``Left``/``Right`` payload),
                          cim-subject's ``X-Message-ID``/``X-Correlation-ID``/``X-Causation-ID`` headers
``"alchemist-rs"``        TheCowboyAI/alchemist (the original app): ``graph.{id}.node.added``,
                          ``serde(tag = "type")`` PascalCase bodies, Unix-millisecond timestamps
========================  =====================================================================

Use one with ``alchemist.connect(url, profile="cim-graph")``; ``connection.graph(graph_id)`` then
folds the dialect's stream (see :mod:`alchemist.cim.profiles.reading`).
"""

from __future__ import annotations

import abc
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterable

from alchemist.errors import CIMError

__all__ = [
    "DialectEvent", "GraphChange", "Profile", "PROFILES", "get_profile", "register_profile", "fold_dialect",
    "snake_case", "deterministic_id", "json_body", "header", "message_headers", "read_dialect_file",
]


@dataclass(frozen=True)
class DialectEvent:
    """One message of a dialect, decoded and kept whole.

    Attributes
    ----------
    profile : str
        The profile that decoded it.
    event_type : str
        The dialect's own name of the variant, e.g. ``"Workflow.StateAdded"`` (cim-graph),
        ``"NodeAdded"`` (cim-domain-graph, alchemist-rs).
    aggregate_id : str
        The aggregate (graph) it belongs to, as the dialect writes it (UUIDs kept).
    payload : dict
        The variant's body.
    event_id, correlation_id, causation_id : str or None
        As the envelope or the headers give them (None where the dialect has none).
    time : float or None
        Unix seconds: the envelope's timestamp, else JetStream's message time.
    cid : str or None
        The dialect's CID of the event or of its payload (cim-graph's ``cid``, cim-domain's
        ``Left`` payload); kept as written, not recomputed.
    subject : str
    sequence : int or None
        JetStream stream sequence.
    headers : dict
        The NATS headers.
    graph_type : str or None
        cim-graph's graph type (``workflow``, ``concept``, ...), where known.
    """

    profile: str
    event_type: str
    aggregate_id: str
    payload: dict
    event_id: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    time: float | None = None
    cid: str | None = None
    subject: str = ""
    sequence: int | None = None
    headers: dict = field(default_factory=dict)
    graph_type: str | None = None


@dataclass(frozen=True)
class GraphChange:
    """What a dialect event does to the Graph: one alchemist event type and its payload.

    Attributes
    ----------
    event_type : str
        ``node_added``, ``node_updated``, ``node_removed``, ``edge_added``, ``edge_updated``,
        ``edge_removed``, ``graph_created`` or ``reset`` (a snapshot that replaces the state).
    payload : dict
        In that type's schema (:mod:`alchemist.events.types`).
    """

    event_type: str
    payload: dict


class Profile(abc.ABC):
    """A CIM dialect: its subjects, envelopes, headers and how its variants map onto the Graph.

    Subclasses set the class attributes and implement :meth:`decode` and :meth:`changes`
    (and :meth:`encode` when the dialect may be written).

    Attributes
    ----------
    name : str
        The name :func:`get_profile` knows it by.
    stream, stream_subjects : str, tuple of str
        The stream the Rust code creates for it, and its subjects (used only when alchemist must
        create it itself, e.g. to write to an empty server; an existing stream is found by subject).
    writable : bool
        Whether alchemist may publish in this dialect.
    """

    name = "profile"
    stream = ""
    stream_subjects: tuple[str, ...] = ()
    writable = False

    @abc.abstractmethod
    def filters(self, graph_id: str) -> list[str]:
        """The subjects to read for one graph (``"*"``: all graphs of the dialect).

        Parameters
        ----------
        graph_id : str

        Returns
        -------
        list of str
        """

    @abc.abstractmethod
    def decode(self, subject: str, data: bytes, headers: dict | None = None, *, sequence: int | None = None,
               time: float | None = None) -> DialectEvent:
        """Decode one message.

        Parameters
        ----------
        subject : str
        data : bytes
            The message body.
        headers : dict, optional
        sequence : int, optional
            JetStream stream sequence.
        time : float, optional
            JetStream's time of the message (Unix seconds), used when the envelope has none.

        Returns
        -------
        DialectEvent

        Raises
        ------
        InvalidEventError
            Not a message of this dialect (the message names the subject and what is missing).
        """

    @abc.abstractmethod
    def changes(self, event: DialectEvent) -> list[GraphChange]:
        """What ``event`` does to the Graph (empty: a typed event with no graph meaning).

        Parameters
        ----------
        event : DialectEvent

        Returns
        -------
        list of GraphChange
        """

    def belongs(self, event: DialectEvent, graph_id: str) -> bool:
        """Whether ``event`` is one of ``graph_id``'s (``"*"``: every graph).

        Parameters
        ----------
        event : DialectEvent
        graph_id : str

        Returns
        -------
        bool
        """
        return graph_id == "*" or event.aggregate_id == graph_id

    def encode(self, graph_id: str, event_type: str, payload: dict, *, event_id: str | None = None,
               correlation_id: str | None = None, causation_id: str | None = None,
               time: float | None = None) -> tuple[str, dict, bytes]:
        """A message in this dialect for one alchemist graph event (``node_added``, ``edge_added``...).

        Parameters
        ----------
        graph_id : str
        event_type : str
        payload : dict
            In alchemist's schema of ``event_type``.
        event_id, correlation_id, causation_id : str, optional
        time : float, optional
            Unix seconds (now when omitted), for dialects whose bodies carry a timestamp.

        Returns
        -------
        (subject, headers, body)

        Raises
        ------
        CIMError
            The dialect is read-only here, or has no variant for ``event_type``.
        """
        raise CIMError(f"profile {self.name!r} is read-only in alchemist; write with profile='alchemist', "
                       f"or with one of {[n for n, p in PROFILES.items() if p.writable]}")

    def __repr__(self) -> str:
        return f"<alchemist profile {self.name!r}>"


PROFILES: dict[str, Profile] = {}


def register_profile(profile: Profile) -> Profile:
    """Make ``profile`` known to :func:`get_profile` (and ``connect(profile=...)``) by its name.

    Parameters
    ----------
    profile : Profile

    Returns
    -------
    Profile
        The same object.

    Raises
    ------
    TypeError
        Not a Profile.
    """
    if not isinstance(profile, Profile):
        raise TypeError(f"register_profile takes a Profile, not {type(profile).__name__}")
    PROFILES[profile.name] = profile
    return profile


def get_profile(name: "str | Profile") -> Profile:
    """The profile called ``name``.

    Parameters
    ----------
    name : str or Profile

    Returns
    -------
    Profile

    Raises
    ------
    ValueError
        An unknown name; the message lists the known ones.

    Examples
    --------
    >>> get_profile("cim-graph")
    <alchemist profile 'cim-graph'>
    >>> get_profile("cim")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown profile 'cim'; use one of ['alchemist', 'alchemist-rs', 'cim-domain-graph', 'cim-graph']
    """
    if isinstance(name, Profile):
        return name
    try:
        return PROFILES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown profile {name!r}; use one of {sorted(PROFILES)}") from None


def fold_dialect(events: Iterable[DialectEvent], graph_id: str = "*", *, profile: "str | Profile | None" = None,
                 directed: bool = True):
    """Fold dialect events into a Graph (what ``connection.graph`` does with a profile).

    Each event's :meth:`Profile.changes` become alchemist events (the dialect's event id, or a
    UUIDv5 derived from it, its correlation and causation, its time) applied to a lenient Graph (an
    edge brings its missing ends as bare nodes). What the Graph refuses (a node added twice, the
    removal of an unknown edge) is listed in ``graph.rejected``; every decoded event, mapped or
    not, is kept in ``graph.dialect_events`` and the unmapped ones in ``graph.unmapped``.

    Parameters
    ----------
    events : iterable of DialectEvent
        In stream order.
    graph_id : str
        The graph's id (``"*"``: events of every aggregate, folded into one graph).
    profile : str or Profile, optional
        Default: each event's own.
    directed : bool

    Returns
    -------
    Graph
        With ``dialect_events``, ``unmapped`` and ``rejected`` (``(sequence, event_id, reason)``).

    Raises
    ------
    ValueError
        An unknown profile.

    Notes
    -----
    Node ids are the dialect's own (a state id, a concept id, a UUID, a CID): folding several aggregates into one
    graph (``"*"``) merges nodes of the same id, and a second ``node_added`` of an id is listed in ``rejected``.
    The events are held in memory (a dialect graph is read once, not followed).

    Examples
    --------
    >>> p = get_profile("alchemist-rs")
    >>> body = b'{"type":"NodeAdded","graph_id":"g","node_id":"a","label":"A","position":[0,0,0],'
    >>> body += b'"metadata":null,"timestamp":1700000000000}'
    >>> g = fold_dialect([p.decode("graph.g.node.added", body, sequence=1)], "g")
    >>> g.node_ids, g.node("a")["label"]
    (['a'], 'A')
    """
    from alchemist.events import new_event
    from alchemist.graph import Graph

    fixed = get_profile(profile) if profile is not None else None
    graph = Graph(graph_id, directed=directed, strict=False)
    kept: list[DialectEvent] = []
    unmapped: list[DialectEvent] = []
    rejected: list[tuple] = []
    for event in events:
        kept.append(event)
        changes = (fixed or get_profile(event.profile)).changes(event)
        if not changes:
            unmapped.append(event)
            continue
        base = event.event_id or deterministic_id(event)
        for i, change in enumerate(changes):
            if change.event_type == "reset":
                graph = _reset(graph, graph_id, directed)
                continue
            event_id = base if i == 0 and _is_uuid(base) else str(uuid.uuid5(_NAMESPACE, f"{base}/{i}"))
            try:
                alchemist_event = new_event(
                    change.event_type, graph_id, change.payload,
                    event_id=event_id, timestamp=event.time if event.time is not None else 0.0,
                    correlation_id=event.correlation_id or base, causation_id=event.causation_id or
                    event.correlation_id or base,
                    metadata={"profile": event.profile, "dialect_type": event.event_type,
                              "aggregate_id": event.aggregate_id,
                              **({"cid": event.cid} if event.cid else {})})
                result = graph.apply(alchemist_event, errors="collect")
            except Exception as exc:  # a malformed body of a known variant: reported, the fold goes on
                rejected.append((event.sequence, event_id, f"{type(exc).__name__}: {exc}"))
                continue
            rejected.extend((event.sequence, e.event_id, f"{type(err).__name__}: {err}") for e, err in result)
    graph.dialect_events = kept
    graph.unmapped = unmapped
    graph.rejected = rejected
    return graph


def json_body(profile: str, subject: str, data: bytes) -> Any:
    """The JSON of a message body, or :class:`~alchemist.errors.InvalidEventError` naming the subject.

    Parameters
    ----------
    profile, subject : str
        For the message.
    data : bytes

    Returns
    -------
    JSON value

    Raises
    ------
    InvalidEventError
        Not UTF-8 JSON.

    Examples
    --------
    >>> json_body("cim-graph", "local.cim.x.y", b"{}")
    {}
    """
    import json

    from alchemist.errors import InvalidEventError

    try:
        return json.loads(data)
    except ValueError as exc:
        raise InvalidEventError(f"{profile}: message on {subject!r} is not JSON ({exc}); the dialect sends "
                                "serde_json bodies") from None


def header(headers: dict | None, *names: str) -> str | None:
    """The first of ``names`` present in ``headers`` (NATS header names are matched case-insensitively).

    Parameters
    ----------
    headers : dict or None
    *names : str

    Returns
    -------
    str or None

    Examples
    --------
    >>> header({"x-correlation-id": "c1"}, "X-Correlation-ID")
    'c1'
    """
    if not headers:
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    for name in names:
        value = lowered.get(name.lower())
        if value:
            return value
    return None


def message_headers(event_id: str, correlation_id: str, causation_id: str) -> dict:
    """cim-subject's identity headers (``MessageIdentity::to_nats_headers``) plus ``Nats-Msg-Id``.

    Parameters
    ----------
    event_id, correlation_id, causation_id : str

    Returns
    -------
    dict

    Examples
    --------
    >>> sorted(message_headers("m", "c", "m"))
    ['Nats-Msg-Id', 'X-Causation-ID', 'X-Correlation-ID', 'X-Message-ID']
    """
    return {"X-Message-ID": event_id, "X-Correlation-ID": correlation_id, "X-Causation-ID": causation_id,
            "Nats-Msg-Id": event_id}


def read_dialect_file(path, profile: "str | Profile" = "cim-graph", *, subject: str = "") -> list[DialectEvent]:
    """The events of a dialect saved to a file (no server): a JSON list, ``{"events": [...]}`` or JSON lines.

    Parameters
    ----------
    path : str or Path
        E.g. cim-graph's ``example_events.json`` (bare ``GraphEvent`` objects).
    profile : str or Profile
    subject : str
        The subject to decode them as (where the dialect reads ids from it).

    Returns
    -------
    list of DialectEvent
        In file order, ``sequence`` the 1-based position; ``time`` is the body's own or None (a file
        has no JetStream time: :func:`fold_dialect` then stamps them at the Unix epoch).

    Raises
    ------
    InputFormatError
        Not JSON, or an entry the dialect cannot decode (the message names its position).

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp(), "events.json")
    >>> _ = path.write_text(json.dumps({"events": [{"event_id": "e1", "aggregate_id": "w1", "correlation_id": "c",
    ...     "causation_id": None, "payload": {"Concept": {"ConceptDefined": {"concept_id": "order", "name": "Order",
    ...     "definition": ""}}}}]}))
    >>> fold_dialect(read_dialect_file(path), "w1").node_ids
    ['order']
    """
    import json
    from pathlib import Path

    from alchemist.errors import EventError, InputFormatError

    path = Path(path)
    profile = get_profile(profile)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise InputFormatError(f"{path}: no such file", path=str(path)) from None
    try:
        data = json.loads(text)
        entries = data.get("events") if isinstance(data, dict) else data
    except ValueError:
        try:
            entries = [json.loads(line) for line in text.splitlines() if line.strip()]
        except ValueError as exc:
            raise InputFormatError(f"{path}: neither JSON nor JSON lines ({exc})", path=str(path)) from None
    if not isinstance(entries, list):
        raise InputFormatError(f"{path}: expected a list of events or an object with 'events'", path=str(path))
    out = []
    for i, entry in enumerate(entries):
        try:
            out.append(profile.decode(subject, json.dumps(entry).encode(), sequence=i + 1))
        except (EventError, KeyError, TypeError, ValueError) as exc:
            raise InputFormatError(f"{path}: event {i} is not a {profile.name} message: {exc}", path=str(path)) \
                from None
    return out


def snake_case(name: str) -> str:
    """``"StateAdded"`` -> ``"state_added"``.

    Parameters
    ----------
    name : str

    Returns
    -------
    str

    Examples
    --------
    >>> snake_case("CidLinkAdded")
    'cid_link_added'
    """
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def deterministic_id(event: DialectEvent) -> str:
    """A UUIDv5 for an event whose dialect gives it no id (the original app's bodies).

    Derived from the profile, subject, stream sequence and body, so a re-read gives the same id.

    Parameters
    ----------
    event : DialectEvent

    Returns
    -------
    str

    Examples
    --------
    >>> e = DialectEvent("alchemist-rs", "NodeAdded", "g", {"node_id": "a"}, subject="graph.g.node.added", sequence=3)
    >>> deterministic_id(e) == deterministic_id(e)
    True
    """
    import json

    body = json.dumps(event.payload, sort_keys=True, separators=(",", ":"), default=str)
    return str(uuid.uuid5(_NAMESPACE, f"{event.profile}|{event.subject}|{event.sequence}|{body}"))


_NAMESPACE = uuid.UUID("6f1c3c2e-6d0a-5b8e-9a53-0b7c1e2a9d41")


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _reset(graph, graph_id: str, directed: bool):
    """A fresh graph for a snapshot event (the original app's ``GraphSnapshot`` replaces the state)."""
    from alchemist.graph import Graph

    fresh = Graph(graph_id, directed=directed, strict=False)
    fresh.name = graph.name
    return fresh


def _register_builtin() -> None:
    from alchemist.cim.profiles.alchemist import AlchemistProfile
    from alchemist.cim.profiles.alchemist_rs import AlchemistRsProfile
    from alchemist.cim.profiles.cim_domain_graph import CimDomainGraphProfile
    from alchemist.cim.profiles.cim_graph import CimGraphProfile

    for cls in (AlchemistProfile, CimGraphProfile, CimDomainGraphProfile, AlchemistRsProfile):
        register_profile(cls())


_register_builtin()
