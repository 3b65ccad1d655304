"""Real-time collaboration: presence, cursors and shared selections over a WebSocket per graph.

The seed's ``CollaborationEvent::CursorMoved`` and friends (integration guide §4; plan §6.1
"multi-user cursors, shared selections"). A client opens ``/ws/graphs/{graph_id}`` (credentials in
the handshake headers, or ``?token=`` where a browser cannot set headers; ``?name=`` and
``?color=`` for how others see it). It must be allowed to read the graph to join and to write it
to share a selection (:func:`alchemist.gateway.security.authorize`).

Protocol (JSON text frames)
---------------------------
The client sends ``{"type": "cursor_moved", "x": 1.5, "y": -2.0}`` (graph coordinates, so every
viewer places the cursor on the same spot of the graph), ``{"type": "selection_changed",
"node_ids": ["a", "b"]}``, ``{"type": "join", "name": "Ana", "color": "#e6194b"}`` (rename),
``{"type": "leave"}`` and ``{"type": "ping"}``. It receives first ``{"type": "welcome", "session",
"user", "peers": [...]}`` (who is there, with their last cursor and selection), then every other
session's :class:`CollaborationEvent` (``join``, ``leave``, ``cursor_moved``,
``selection_changed``), ``{"type": "pong"}``, and ``{"type": "error", "code", "message"}`` for a
frame it got wrong (malformed, too large, not allowed): the socket stays open.

Across instances
----------------
Every event travels on the NATS subject :data:`COLLAB_SUBJECT` (``alchemist.collab.<graph_id>``,
JSON of :class:`CollaborationEvent`); each gateway instance subscribes while it has a client on that
graph and forwards to its own clients, so clients of different instances over one NATS see each
other. Who is there is also kept in the JetStream key-value bucket :data:`PRESENCE_BUCKET` (one
key per session, refreshed every ``heartbeat_s``, expiring ``presence_ttl_s`` after the last
refresh), so a newcomer on any instance is welcomed with everyone present, and the sessions of an
instance that died disappear with their keys.

Bounds: per-frame size (``max_frame_bytes``), selection length, sessions per graph and per instance,
known peers per graph, a bounded send queue per client (a client too slow for it is dropped with
close code 1013), and cursor and selection updates throttled to ``cursor_rate`` and
``selection_rate`` per second with the latest value sent at the end of each interval (never lost).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated, Any

import msgspec

from alchemist.errors import ForbiddenError, GatewayError, UnauthorizedError

__all__ = ["COLLAB_SUBJECT", "PRESENCE_BUCKET", "ACTIVITY_TYPES", "CollaborationEvent", "User", "CollabLimits",
           "CollaborationHub", "collab_subject", "decode_event", "user_color", "routes", "startup", "shutdown",
           "HUB_KEY", "subscribe_activity"]

#: NATS subject of one graph's collaboration events (:class:`CollaborationEvent` as JSON);
#: ``COLLAB_SUBJECT.format(graph_id=...)``, or :func:`collab_subject`.
COLLAB_SUBJECT = "alchemist.collab.{graph_id}"
#: JetStream key-value bucket of who is present: key ``g<16 hex of the graph id>.<session>``,
#: value the :class:`CollaborationEvent` of the session's presence (type ``"join"``).
PRESENCE_BUCKET = "alchemist_collab_presence"
#: The event types a subscriber (GraphQL ``collaboratorActivity``) sees on :data:`COLLAB_SUBJECT`.
ACTIVITY_TYPES = ("join", "leave", "cursor_moved", "selection_changed")
#: The collaboration hub in :attr:`GatewayContext.extras <alchemist.gateway.context.GatewayContext.extras>`.
HUB_KEY = "alchemist.gateway.collab"

#: Colours given to users who do not choose one (Sasha Trubetskoy's 20 distinct colours, first 12).
COLORS = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45",
          "#469990", "#9a6324", "#800000", "#000075")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
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
_Color = Annotated[str, msgspec.Meta(pattern=_COLOR.pattern)]


class _CursorMoved(msgspec.Struct, tag="cursor_moved", tag_field="type", forbid_unknown_fields=True):
    x: _Coordinate
    y: _Coordinate


class _SelectionChanged(msgspec.Struct, tag="selection_changed", tag_field="type", forbid_unknown_fields=True):
    node_ids: Annotated[list[_NodeId], msgspec.Meta(max_length=MAX_SELECTION)]


class _Join(msgspec.Struct, tag="join", tag_field="type", forbid_unknown_fields=True):
    name: _Name | None = None
    color: _Color | None = None


class _Leave(msgspec.Struct, tag="leave", tag_field="type", forbid_unknown_fields=True):
    pass


class _Ping(msgspec.Struct, tag="ping", tag_field="type", forbid_unknown_fields=True):
    pass


_CLIENT = msgspec.json.Decoder(_CursorMoved | _SelectionChanged | _Join | _Leave | _Ping)
_EVENT = msgspec.json.Decoder(CollaborationEvent)
_ENCODE = msgspec.json.Encoder().encode


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


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _presence_key(graph_id: str, session: str = "") -> str:
    digest = hashlib.blake2b(graph_id.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()
    return f"g{digest}.{session}" if session else f"g{digest}"


# --------------------------------------------------------------------------- the gateway part
def routes(ctx) -> list:
    """The collaboration WebSocket route, ``/ws/graphs/{graph_id}``.

    Parameters
    ----------
    ctx : GatewayContext

    Returns
    -------
    list of starlette.routing.WebSocketRoute
    """
    from starlette.routing import WebSocketRoute

    async def endpoint(websocket):
        await serve_socket(ctx, websocket)

    return [WebSocketRoute("/ws/graphs/{graph_id}", endpoint, name="collaboration")]


async def startup(ctx) -> None:
    """Open the shared NATS client and the presence bucket; start the heartbeat.

    The limits are ``ctx.settings.collab_limits`` (a :class:`CollabLimits`) where the settings
    have one, else the defaults.

    Parameters
    ----------
    ctx : GatewayContext

    Returns
    -------
    None
    """
    from alchemist.gateway import bus

    limits = getattr(ctx.settings, "collab_limits", None) or CollabLimits()
    nc = await bus.acquire(ctx)
    hub = CollaborationHub(nc, ctx.instance_id, limits)
    await hub.start()
    ctx.extras[HUB_KEY] = hub


async def shutdown(ctx) -> None:
    """Close every session (each leaves), stop the heartbeat and give the NATS client back.

    Parameters
    ----------
    ctx : GatewayContext

    Returns
    -------
    None
    """
    from alchemist.gateway import bus

    hub = ctx.extras.pop(HUB_KEY, None)
    if hub is not None:
        await hub.stop()
        await bus.release(ctx)


async def serve_socket(ctx, websocket) -> None:
    """Serve one collaboration WebSocket until the client leaves.

    Parameters
    ----------
    ctx : GatewayContext
    websocket : starlette.websockets.WebSocket
        Not yet accepted.

    Returns
    -------
    None

    Notes
    -----
    The handshake is refused before the socket opens: HTTP 401 without valid credentials (by
    :class:`~alchemist.gateway.security.GuardMiddleware`, or here on a public path), 403 when the
    principal may not read the graph or the ``Origin`` is not in ``cors_origins``, 400 for a graph id
    that cannot be a NATS subject token, 503 when the instance is full — where the server cannot
    answer a handshake with an HTTP response, the socket is opened and closed at once with an
    ``error`` frame and the code 4401, 4403, 4400 or 1013.
    """
    from alchemist.gateway import security

    graph_id = websocket.path_params["graph_id"]
    try:
        principal = security.principal_of(websocket)
        _check_origin(ctx, websocket.headers.get("origin"))
        security.authorize(principal, graph_id, "read")
        collab_subject(graph_id)
    except (UnauthorizedError, ForbiddenError, ValueError) as exc:
        return await _refuse(websocket, exc)
    hub: CollaborationHub | None = ctx.extras.get(HUB_KEY)
    if hub is None:
        return await _refuse(websocket, GatewayError("collaboration is not running on this gateway instance"))
    try:
        security.authorize(principal, graph_id, "write")
        can_write = True
    except ForbiddenError:
        can_write = False
    query = websocket.query_params
    user_id = principal.subject
    if principal.subject == "anonymous" and query.get("user"):
        user_id = f"anonymous:{query['user'][:MAX_NAME]}"
    name = (query.get("name") or user_id)[:MAX_NAME]
    color = query.get("color") if _COLOR.match(query.get("color") or "") else user_color(user_id)
    try:
        hub.check_capacity(graph_id)
    except GatewayError as exc:
        return await _refuse(websocket, exc)
    await websocket.accept()
    try:
        session = await hub.join(graph_id, websocket, User(user_id, name, color), can_write=can_write)
    except Exception as exc:  # NATS unreachable: say so rather than drop the socket silently
        return await _close_with_error(websocket, 1011, f"could not join: {exc.__class__.__name__}: {exc}")
    try:
        while not session.closed:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            data = message.get("text")
            await session.receive(data if data is not None else message.get("bytes") or b"")
    finally:
        await hub.leave(session)


def _check_origin(ctx, origin: str | None) -> None:
    allowed = ctx.settings.cors_origins
    if origin and allowed and "*" not in allowed and origin not in allowed:
        raise ForbiddenError(f"origin {origin!r} is not in the gateway's cors_origins; add it to collaborate from there")


#: HTTP status and WebSocket close code of each refusal.
_REFUSALS = {UnauthorizedError: (401, 4401), ForbiddenError: (403, 4403), ValueError: (400, 4400)}


async def _refuse(websocket, exc: BaseException) -> None:
    from starlette.responses import JSONResponse

    from alchemist.gateway.responses import error_body

    status, code = next((v for k, v in _REFUSALS.items() if isinstance(exc, k)), (503, 1013))
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(JSONResponse(error_body(exc), status_code=status))
        return
    try:
        await websocket.accept()
    except Exception:  # the client went away first
        return
    await _close_with_error(websocket, code, str(exc))


async def _close_with_error(websocket, code: int, message: str) -> None:
    try:
        await websocket.send_text(_ENCODE({"type": "error", "code": code, "message": message}).decode())
        await websocket.close(code, reason=message.encode()[:120].decode("utf-8", "ignore"))
    except Exception:  # the client went away first
        pass


# --------------------------------------------------------------------------- sessions
class Session:
    """One client WebSocket on one graph (made by :meth:`CollaborationHub.join`).

    Attributes
    ----------
    id : str
    graph_id : str
    user : User
    can_write : bool
        Whether the client may share a selection.
    dropped : int
        Cursor frames not sent because the client's queue was full.
    errors : int
        Error frames sent to the client.
    """

    def __init__(self, hub: "CollaborationHub", graph_id: str, websocket, user: User, can_write: bool):
        self.hub = hub
        self.id = uuid.uuid4().hex[:16]
        self.graph_id = graph_id
        self.websocket = websocket
        self.user = user
        self.can_write = can_write
        self.closed = False
        self.dropped = 0
        self.errors = 0
        self.queue: asyncio.Queue = asyncio.Queue(hub.limits.send_queue)
        self.sender = asyncio.get_running_loop().create_task(self._send_loop())
        self._throttles = {"cursor_moved": _Throttle(hub.limits.cursor_rate, self._publish),
                           "selection_changed": _Throttle(hub.limits.selection_rate, self._publish)}

    def event(self, kind: str, **fields) -> CollaborationEvent:
        """A :class:`CollaborationEvent` of this session."""
        return CollaborationEvent(kind, self.graph_id, self.id, self.user, _now(), instance=self.hub.instance_id,
                                  **fields)

    async def receive(self, data) -> None:
        """Handle one client frame (``str`` or ``bytes``): validate, then publish or answer."""
        limits = self.hub.limits
        size = len(data.encode("utf-8", "surrogatepass")) if isinstance(data, str) else len(data)
        if size > limits.max_frame_bytes:
            return self.error("too_large", f"a frame of {size} bytes is over the limit of {limits.max_frame_bytes}; "
                                           f"send at most {MAX_SELECTION} node ids per selection")
        try:
            message = _CLIENT.decode(data)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            return self.error("invalid_message", f"{exc}; expected e.g. {{\"type\": \"cursor_moved\", \"x\": 1.0, "
                                                 f"\"y\": 2.0}} (types: cursor_moved, selection_changed, join, leave, ping)")
        if isinstance(message, _CursorMoved):
            self._throttles["cursor_moved"].offer(self.event("cursor_moved", x=message.x, y=message.y))
        elif isinstance(message, _SelectionChanged):
            if not self.can_write:
                return self.error("forbidden", f"{self.user.id!r} may not write graph {self.graph_id!r}, so it "
                                               "cannot share a selection")
            ids = list(dict.fromkeys(message.node_ids))
            self._throttles["selection_changed"].offer(self.event("selection_changed", node_ids=ids))
        elif isinstance(message, _Join):
            self.user = User(self.user.id, message.name or self.user.name, message.color or self.user.color)
            await self.hub.announce(self)
        elif isinstance(message, _Leave):
            self.closed = True
        else:
            self.send({"type": "pong"})

    def send(self, frame: dict | bytes) -> None:
        """Queue a frame for the client (JSON bytes or a dict); a full queue drops cursor frames
        and closes a client too slow for anything else (code 1013)."""
        data = frame if isinstance(frame, bytes) else _ENCODE(frame)
        try:
            self.queue.put_nowait(data)
        except asyncio.QueueFull:
            if b'"type":"cursor_moved"' in data[:40]:
                self.dropped += 1
                return
            self.closed = True
            self.sender.cancel()
            self.hub.spawn(_close(self.websocket, 1013, "too slow: frames were waiting; reconnect"))

    def error(self, code: str, message: str) -> None:
        """Send an ``error`` frame; after ``max_errors`` of them the socket is closed (1008)."""
        self.errors += 1
        self.send({"type": "error", "code": code, "message": message})
        if self.errors > self.hub.limits.max_errors:
            self.closed = True
            self.hub.spawn(_close(self.websocket, 1008, "too many invalid frames"))

    async def _publish(self, event: CollaborationEvent) -> None:
        await self.hub.publish(event)

    async def _send_loop(self) -> None:
        try:
            while True:
                data = await self.queue.get()
                await self.websocket.send_text(data.decode())
        except asyncio.CancelledError:
            raise
        except Exception:  # the client went away: the receive loop ends too
            self.closed = True

    def stop(self) -> None:
        """Stop sending (the socket itself is closed by its endpoint)."""
        self.closed = True
        for throttle in self._throttles.values():
            throttle.cancel()
        self.sender.cancel()


class _Throttle:
    """At most ``rate`` sends per second; an offer inside the interval replaces the waiting one,
    which is sent at the end of the interval (the last value always goes out)."""

    def __init__(self, rate: float, send):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.send = send
        self.last = -1e18
        self.waiting = None
        self.timer: asyncio.TimerHandle | None = None
        self.tasks: set = set()

    def offer(self, item) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        if self.timer is None and now - self.last >= self.interval:
            self.last = now
            self._go(item)
        else:
            self.waiting = item
            if self.timer is None:
                self.timer = loop.call_later(self.interval - (now - self.last), self._flush)

    def _flush(self) -> None:
        self.timer = None
        item, self.waiting = self.waiting, None
        if item is not None:
            self.last = asyncio.get_running_loop().time()
            self._go(item)

    def _go(self, item) -> None:
        task = asyncio.get_running_loop().create_task(self.send(item))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.waiting = None


async def _close(websocket, code: int, reason: str) -> None:
    try:
        await websocket.close(code, reason=reason)
    except Exception:
        pass


# --------------------------------------------------------------------------- the hub
@dataclass
class _Peer:
    user: User
    instance: str
    seen: float
    x: float | None = None
    y: float | None = None
    node_ids: list[str] | None = None

    def summary(self, session: str) -> dict:
        out = {"session": session, "user": msgspec.structs.asdict(self.user), "instance": self.instance}
        if self.x is not None:
            out["x"], out["y"] = self.x, self.y
        if self.node_ids is not None:
            out["node_ids"] = self.node_ids
        return out


class _Room:
    """One graph on this instance: its NATS subscription, local sessions and known peers."""

    def __init__(self, graph_id: str):
        self.graph_id = graph_id
        self.sub = None
        self.sessions: dict[str, Session] = {}
        self.peers: dict[str, _Peer] = {}


class CollaborationHub:
    """The collaboration state of one gateway instance: rooms (graphs with local clients), their
    NATS subscriptions, the presence bucket and the heartbeat that refreshes it.

    Parameters
    ----------
    nc : nats.aio.client.Client
        A client on the running loop (:func:`alchemist.gateway.bus.acquire`).
    instance_id : str
    limits : CollabLimits

    Attributes
    ----------
    rooms : dict of str to _Room
    """

    def __init__(self, nc, instance_id: str, limits: CollabLimits):
        self.nc = nc
        self.js = nc.jetstream()
        self.instance_id = instance_id
        self.limits = limits
        self.kv = None
        self.rooms: dict[str, _Room] = {}
        self._heartbeat: asyncio.Task | None = None
        self._tasks: set = set()

    @property
    def session_count(self) -> int:
        """Clients connected to this instance."""
        return sum(len(room.sessions) for room in self.rooms.values())

    async def start(self) -> None:
        """Create (or open) :data:`PRESENCE_BUCKET` and start the heartbeat."""
        from nats.js.api import KeyValueConfig, StorageType

        config = KeyValueConfig(bucket=PRESENCE_BUCKET, history=1, ttl=self.limits.presence_ttl_s,
                                storage=StorageType.MEMORY, max_value_size=64 * 1024,
                                description="alchemist gateway: who is collaborating on which graph")
        try:
            self.kv = await self.js.create_key_value(config=config)
        except Exception:  # made by another instance with other settings: use it as it is
            self.kv = await self.js.key_value(PRESENCE_BUCKET)
        self._heartbeat = asyncio.get_running_loop().create_task(self._beat())

    def stop_heartbeat(self) -> None:
        """Stop refreshing this instance's presence keys (they expire ``presence_ttl_s`` later)."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            self._heartbeat = None

    async def stop(self) -> None:
        """Close every session (each leaves) and stop the heartbeat."""
        self.stop_heartbeat()
        for room in list(self.rooms.values()):
            for session in list(room.sessions.values()):
                await _close(session.websocket, 1001, "the gateway is shutting down")
                await self.leave(session)
        for task in list(self._tasks):
            task.cancel()

    def spawn(self, coro) -> None:
        """Run ``coro`` in the background, keeping a reference until it is done."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def join(self, graph_id: str, websocket, user: User, *, can_write: bool) -> Session:
        """Add a client to a graph: subscribe the room, store the presence, welcome the client
        with everyone present and announce it to them.

        Parameters
        ----------
        graph_id : str
        websocket : starlette.websockets.WebSocket
            Accepted.
        user : User
        can_write : bool

        Returns
        -------
        Session

        Raises
        ------
        GatewayError
            The graph or the instance has as many clients as its limits allow.
        """
        self.check_capacity(graph_id)
        room = self.rooms.get(graph_id)
        if room is None:
            room = self.rooms[graph_id] = _Room(graph_id)
            room.sub = await self.nc.subscribe(collab_subject(graph_id), cb=self._on_message)
        session = Session(self, graph_id, websocket, user, can_write)
        room.sessions[session.id] = session
        try:
            await self._store_presence(session)
            await self._read_presence(room)
            peers = [peer.summary(sid) for sid, peer in room.peers.items() if sid != session.id]
            session.send({"type": "welcome", "graph_id": graph_id, "session": session.id,
                          "user": msgspec.structs.asdict(user), "can_write": can_write, "peers": peers})
            await self.publish(session.event("join"))
        except BaseException:
            await self.leave(session)
            raise
        return session

    def check_capacity(self, graph_id: str) -> None:
        """Raise :class:`GatewayError` when one more client of ``graph_id`` is over the limits."""
        limits = self.limits
        room = self.rooms.get(graph_id)
        if self.session_count >= limits.max_sessions:
            raise GatewayError(f"this gateway instance serves {limits.max_sessions} collaboration clients already; "
                               "try another instance or later")
        if room is not None and len(room.sessions) >= limits.max_sessions_per_graph:
            raise GatewayError(f"graph {graph_id!r} has {limits.max_sessions_per_graph} collaborators on this "
                               "instance already; try another instance or later")

    async def announce(self, session: Session) -> None:
        """Store and publish a session's (new) name and colour as a ``join``."""
        await self._store_presence(session)
        await self.publish(session.event("join"))

    async def leave(self, session: Session) -> None:
        """Remove a client: ``leave`` published, its presence key deleted, the room closed when empty."""
        room = self.rooms.get(session.graph_id)
        if room is None or room.sessions.pop(session.id, None) is None:
            return
        session.stop()
        room.peers.pop(session.id, None)
        try:
            await self.publish(session.event("leave"))
            await self.kv.delete(_presence_key(session.graph_id, session.id))
        except Exception:  # NATS gone: the key expires with its TTL
            pass
        if not room.sessions:
            self.rooms.pop(session.graph_id, None)
            try:
                if room.sub is not None:
                    await room.sub.unsubscribe()
            except Exception:
                pass

    async def publish(self, event: CollaborationEvent) -> None:
        """Publish an event on its graph's :data:`COLLAB_SUBJECT` (every instance forwards it)."""
        await self.nc.publish(collab_subject(event.graph_id), _ENCODE(event))

    async def _on_message(self, msg) -> None:
        try:
            event = _EVENT.decode(msg.data)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return  # not ours to judge: another publisher on the subject
        room = self.rooms.get(event.graph_id)
        if room is None:
            return
        self._note(room, event)
        data = None
        for sid, session in list(room.sessions.items()):
            if sid != event.session and not session.closed:
                data = data or _ENCODE(event)
                session.send(data)

    def _note(self, room: _Room, event: CollaborationEvent) -> None:
        """Keep the room's view of its peers (bounded by ``max_peers_per_graph``)."""
        if event.type == "leave":
            room.peers.pop(event.session, None)
            return
        peer = room.peers.get(event.session)
        if peer is None:
            if len(room.peers) >= self.limits.max_peers_per_graph:
                return
            peer = room.peers[event.session] = _Peer(event.user, event.instance, time.monotonic())
        peer.user, peer.seen = event.user, time.monotonic()
        if event.type == "cursor_moved":
            peer.x, peer.y = event.x, event.y
        elif event.type == "selection_changed":
            peer.node_ids = event.node_ids

    async def _store_presence(self, session: Session) -> None:
        selection = self._selection_of(session)
        event = session.event("join", node_ids=selection)
        await self.kv.put(_presence_key(session.graph_id, session.id), _ENCODE(event))

    def _selection_of(self, session: Session) -> list[str] | None:
        room = self.rooms.get(session.graph_id)
        peer = room.peers.get(session.id) if room else None
        return peer.node_ids if peer else None

    async def _read_presence(self, room: _Room) -> set[str]:
        """Merge the presence bucket's sessions of ``room``'s graph into its peers; their ids."""
        present: set[str] = set()
        watcher = await self.kv.watch(_presence_key(room.graph_id) + ".*", ignore_deletes=True)
        try:
            while True:
                entry = await watcher.updates(timeout=5.0)
                if entry is None:
                    break
                try:
                    event = _EVENT.decode(entry.value)
                except (msgspec.ValidationError, msgspec.DecodeError):
                    continue
                present.add(event.session)
                if event.session not in room.peers and len(room.peers) < self.limits.max_peers_per_graph:
                    room.peers[event.session] = _Peer(event.user, event.instance, time.monotonic(),
                                                      node_ids=event.node_ids)
        finally:
            await watcher.stop()
        return present

    async def _beat(self) -> None:
        """Every ``heartbeat_s``: refresh this instance's presence keys and drop the peers whose key
        expired (their instance died without saying ``leave``), telling the local clients."""
        while True:
            await asyncio.sleep(self.limits.heartbeat_s)
            for room in list(self.rooms.values()):
                try:
                    for session in list(room.sessions.values()):
                        await self._store_presence(session)
                    present = await self._read_presence(room)
                except Exception:  # NATS unreachable for now: try again next beat
                    continue
                stale = time.monotonic() - self.limits.heartbeat_s
                for sid, peer in list(room.peers.items()):
                    if sid not in present and sid not in room.sessions and peer.seen < stale:
                        del room.peers[sid]
                        gone = CollaborationEvent("leave", room.graph_id, sid, peer.user, _now(), instance=peer.instance)
                        for session in list(room.sessions.values()):
                            session.send(_ENCODE(gone))


def subscribe_activity(ctx) -> Any:
    """The NATS client GraphQL's ``collaboratorActivity`` may subscribe with (on the ASGI loop).

    Parameters
    ----------
    ctx : GatewayContext

    Returns
    -------
    nats.aio.client.Client or None
        The collaboration hub's client (None before start-up); subscribe to
        :func:`collab_subject` and decode with :func:`decode_event`.
    """
    hub = ctx.extras.get(HUB_KEY)
    return hub.nc if hub is not None else None
