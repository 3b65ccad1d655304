"""The collaboration channel's messages and limits (:mod:`alchemist.gateway.collab`).

:class:`CollaborationEvent` is what travels on :data:`COLLAB_SUBJECT` (``alchemist.collab.<graph_id>``)
and reaches the WebSocket clients; :data:`ClientMessage` is what a client may send, validated by
msgspec (:func:`decode_client`): ``cursor_moved`` ``{x, y}``, ``selection_changed`` ``{node_ids}``,
``join`` ``{name, color}``, ``leave``, ``ping``. :class:`CollabLimits` bounds one gateway instance.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated

import msgspec

__all__ = ["COLLAB_SUBJECT", "PRESENCE_BUCKET", "ACTIVITY_TYPES", "COLORS", "COLOR_PATTERN", "MAX_NAME", "MAX_NODE_ID",
           "MAX_SELECTION", "CollabLimits", "User", "CollaborationEvent", "CursorMoved", "SelectionChanged", "Join",
           "Leave", "Ping", "ClientMessage", "collab_subject", "decode_event", "decode_client", "encode", "user_color",
           "now", "presence_key"]

#: NATS subject of one graph's collaboration events (:class:`CollaborationEvent` as JSON);
#: ``COLLAB_SUBJECT.format(graph_id=...)``, or :func:`collab_subject`.
COLLAB_SUBJECT = "alchemist.collab.{graph_id}"
#: JetStream key-value bucket of who is present: key ``g<16 hex of the graph id>.<session>``,
#: value the :class:`CollaborationEvent` of the session's presence (type ``"join"``).
PRESENCE_BUCKET = "alchemist_collab_presence"
#: The event types a subscriber (GraphQL ``collaboratorActivity``) sees on :data:`COLLAB_SUBJECT`.
ACTIVITY_TYPES = ("join", "leave", "cursor_moved", "selection_changed")
#: Colours given to users who do not choose one (Sasha Trubetskoy's 20 distinct colours, first 12).
COLORS = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45",
          "#469990", "#9a6324", "#800000", "#000075")
#: A colour as users may choose one.
COLOR_PATTERN = re.compile(r"^#[0-9a-fA-F]{6}$")
#: Longest display name, node id, and selection (node ids) a client may send.
MAX_NAME = 64
MAX_NODE_ID = 512
MAX_SELECTION = 5_000


@dataclass(frozen=True)
class CollabLimits:
    """Bounds of the collaboration part (per gateway instance).

    Parameters
    ----------
    max_frame_bytes : int
        Largest client frame; a larger one is answered with an ``too_large`` error frame.
    max_sessions_per_graph, max_sessions : int
        Clients of one graph, of every graph, on this instance; one more is closed with code 1013.
    max_peers_per_graph : int
        Sessions of one graph (every instance) this instance keeps track of.
    send_queue : int
        Frames waiting for one client; a client that lets it fill is dropped (code 1013).
    cursor_rate, selection_rate : float
        Updates per second forwarded per session (the latest one at the end of each interval).
    presence_ttl_s, heartbeat_s : float
        A presence key expires this long after its last refresh; refreshed (and the peers
        re-read) every ``heartbeat_s`` seconds.
    max_errors : int
        Error frames one session may earn before it is closed (code 1008).
    """

    max_frame_bytes: int = 64 * 1024
    max_sessions_per_graph: int = 100
    max_sessions: int = 2_000
    max_peers_per_graph: int = 500
    send_queue: int = 256
    cursor_rate: float = 20.0
    selection_rate: float = 5.0
    presence_ttl_s: float = 30.0
    heartbeat_s: float = 10.0
    max_errors: int = 100


# --------------------------------------------------------------------------- protocol
class User(msgspec.Struct, frozen=True):
    """Who a session is: ``id`` (the authenticated subject), display ``name`` and ``color`` (``#rrggbb``)."""

    id: str
    name: str
    color: str


class CollaborationEvent(msgspec.Struct, frozen=True, omit_defaults=True):
    """One collaboration event as it travels on :data:`COLLAB_SUBJECT` and reaches the clients.

    Parameters
    ----------
    type : str
        One of :data:`ACTIVITY_TYPES`.
    graph_id : str
    session : str
        The WebSocket session (one user may have several).
    user : User
    timestamp : str
        RFC 3339, UTC.
    x, y : float, optional
        ``cursor_moved``: the cursor in graph (layout) coordinates; also the last cursor in a
        ``welcome``'s peers.
    node_ids : list of str, optional
        ``selection_changed``: the session's whole selection.
    instance : str
        The gateway instance the session is connected to.

    Examples
    --------
    >>> event = CollaborationEvent("cursor_moved", "g1", "s1", User("ana", "Ana", "#e6194b"),
    ...                            "2026-01-01T00:00:00.000Z", x=1.5, y=2.0)
    >>> decode_event(msgspec.json.encode(event)) == event
    True
    """

    type: str
    graph_id: str
    session: str
    user: User
    timestamp: str
    x: float | None = None
    y: float | None = None
    node_ids: list[str] | None = None
    instance: str = ""


_Coordinate = Annotated[float, msgspec.Meta(ge=-1e15, le=1e15)]
_NodeId = Annotated[str, msgspec.Meta(max_length=MAX_NODE_ID)]
_Name = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NAME)]
_Color = Annotated[str, msgspec.Meta(pattern=COLOR_PATTERN.pattern)]


class CursorMoved(msgspec.Struct, tag="cursor_moved", tag_field="type", forbid_unknown_fields=True):
    """A client's cursor, in graph (layout) coordinates."""

    x: _Coordinate
    y: _Coordinate


class SelectionChanged(msgspec.Struct, tag="selection_changed", tag_field="type", forbid_unknown_fields=True):
    """A client's whole selection (node ids)."""

    node_ids: Annotated[list[_NodeId], msgspec.Meta(max_length=MAX_SELECTION)]


class Join(msgspec.Struct, tag="join", tag_field="type", forbid_unknown_fields=True):
    """A client's new display name and/or colour."""

    name: _Name | None = None
    color: _Color | None = None


class Leave(msgspec.Struct, tag="leave", tag_field="type", forbid_unknown_fields=True):
    """A client leaves (its socket is closed)."""


class Ping(msgspec.Struct, tag="ping", tag_field="type", forbid_unknown_fields=True):
    """Answered with ``{"type": "pong"}``."""


#: What a client may send (a tagged union on ``type``).
ClientMessage = CursorMoved | SelectionChanged | Join | Leave | Ping
_CLIENT = msgspec.json.Decoder(ClientMessage)
_EVENT = msgspec.json.Decoder(CollaborationEvent)
_ENCODER = msgspec.json.Encoder()


def decode_client(data) -> ClientMessage:
    """Decode and validate one client frame.

    Parameters
    ----------
    data : str or bytes
        JSON.

    Returns
    -------
    CursorMoved, SelectionChanged, Join, Leave or Ping

    Raises
    ------
    msgspec.ValidationError, msgspec.DecodeError
        Not JSON, an unknown ``type``, a missing or extra field, a coordinate that is not a finite
        number within ±1e15, more than :data:`MAX_SELECTION` node ids, a colour not ``#rrggbb``.

    Examples
    --------
    >>> decode_client('{"type": "cursor_moved", "x": 1, "y": 2.5}')
    CursorMoved(x=1.0, y=2.5)
    """
    return _CLIENT.decode(data)


def encode(value) -> bytes:
    """Compact JSON of a message (a :class:`CollaborationEvent` or a dict).

    Parameters
    ----------
    value : object

    Returns
    -------
    bytes
    """
    return _ENCODER.encode(value)


def collab_subject(graph_id: str) -> str:
    """The NATS subject of a graph's collaboration events.

    Parameters
    ----------
    graph_id : str
        One subject token (no ``.``, ``*``, ``>`` or whitespace).

    Returns
    -------
    str

    Raises
    ------
    ValueError
        A graph id that cannot be a subject token.

    Examples
    --------
    >>> collab_subject("g1")
    'alchemist.collab.g1'
    """
    from alchemist.events.subjects import validate_token

    return COLLAB_SUBJECT.format(graph_id=validate_token(graph_id, "graph id"))


def decode_event(data: bytes) -> CollaborationEvent:
    """Decode a message of :data:`COLLAB_SUBJECT`.

    Parameters
    ----------
    data : bytes

    Returns
    -------
    CollaborationEvent

    Raises
    ------
    msgspec.ValidationError, msgspec.DecodeError
        Not a collaboration event.
    """
    return _EVENT.decode(data)


def user_color(user_id: str) -> str:
    """The colour of a user who chose none: one of :data:`COLORS`, the same on every instance.

    Parameters
    ----------
    user_id : str

    Returns
    -------
    str
        ``#rrggbb``.

    Examples
    --------
    >>> user_color("ana") == user_color("ana"), user_color("ana") in COLORS
    (True, True)
    """
    digest = hashlib.blake2b(user_id.encode("utf-8", "surrogatepass"), digest_size=4).digest()
    return COLORS[int.from_bytes(digest, "big") % len(COLORS)]


def now() -> str:
    """The current time, RFC 3339 UTC with milliseconds (``2026-01-01T00:00:00.000Z``)."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def presence_key(graph_id: str, session: str = "") -> str:
    """The presence bucket key of a session (``g<16 hex of the graph id>.<session>``), or of the graph's prefix."""
    digest = hashlib.blake2b(graph_id.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()
    return f"g{digest}.{session}" if session else f"g{digest}"
