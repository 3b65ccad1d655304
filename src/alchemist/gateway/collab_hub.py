"""The collaboration hub of one gateway instance: sessions (one per client WebSocket), rooms (one per
graph with local clients, each with its NATS subscription), the presence bucket and its heartbeat
(:mod:`alchemist.gateway.collab` describes the channel).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass

import msgspec

from alchemist.errors import GatewayError
from alchemist.gateway.collab_protocol import (
    MAX_SELECTION,
    PRESENCE_BUCKET,
    CollabLimits,
    CollaborationEvent,
    CursorMoved,
    Join,
    Leave,
    SelectionChanged,
    User,
    collab_subject,
    decode_client,
    decode_event,
    encode,
    now,
    presence_key,
)

__all__ = ["CollaborationHub", "Session", "close_quietly"]


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
                           "selection_changed": _Throttle(hub.limits.selection_rate, self._publish),
                           "join": _Throttle(hub.limits.selection_rate, self._announce)}

    def event(self, kind: str, **fields) -> CollaborationEvent:
        """A :class:`CollaborationEvent` of this session."""
        return CollaborationEvent(kind, self.graph_id, self.id, self.user, now(), instance=self.hub.instance_id,
                                  **fields)

    async def receive(self, data) -> None:
        """Handle one client frame (``str`` or ``bytes``): validate, then publish or answer."""
        limits = self.hub.limits
        size = len(data.encode("utf-8", "surrogatepass")) if isinstance(data, str) else len(data)
        if size > limits.max_frame_bytes:
            return self.error("too_large", f"a frame of {size} bytes is over the limit of {limits.max_frame_bytes}; "
                                           f"send at most {MAX_SELECTION} node ids per selection")
        try:
            message = decode_client(data)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            return self.error("invalid_message", f"{exc}; expected e.g. {{\"type\": \"cursor_moved\", \"x\": 1.0, "
                                                 f"\"y\": 2.0}} (types: cursor_moved, selection_changed, join, leave, ping)")
        if isinstance(message, CursorMoved):
            self._throttles["cursor_moved"].offer(self.event("cursor_moved", x=message.x, y=message.y))
        elif isinstance(message, SelectionChanged):
            if not self.can_write:
                return self.error("forbidden", f"{self.user.id!r} may not write graph {self.graph_id!r}, so it "
                                               "cannot share a selection")
            ids = list(dict.fromkeys(message.node_ids))
            self._throttles["selection_changed"].offer(self.event("selection_changed", node_ids=ids))
        elif isinstance(message, Join):
            self.user = User(self.user.id, message.name or self.user.name, message.color or self.user.color)
            self._throttles["join"].offer(self)
        elif isinstance(message, Leave):
            self.closed = True
        else:
            self.send({"type": "pong"})

    def send(self, frame: dict | bytes) -> None:
        """Queue a frame for the client (JSON bytes or a dict); a full queue drops cursor frames
        and closes a client too slow for anything else (code 1013)."""
        data = frame if isinstance(frame, bytes) else encode(frame)
        try:
            self.queue.put_nowait(data)
        except asyncio.QueueFull:
            if b'"type":"cursor_moved"' in data[:40]:
                self.dropped += 1
                return
            self.closed = True
            self.sender.cancel()
            self.hub.spawn(close_quietly(self.websocket, 1013, "too slow: frames were waiting; reconnect"))

    def error(self, code: str, message: str) -> None:
        """Send an ``error`` frame; after ``max_errors`` of them the socket is closed (1008)."""
        self.errors += 1
        self.send({"type": "error", "code": code, "message": message})
        if self.errors > self.hub.limits.max_errors:
            self.closed = True
            self.hub.spawn(close_quietly(self.websocket, 1008, "too many invalid frames"))

    async def _publish(self, event: CollaborationEvent) -> None:
        await self.hub.publish(event)

    async def _announce(self, _session) -> None:
        if not self.closed:
            await self.hub.announce(self)

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


async def close_quietly(websocket, code: int, reason: str) -> None:
    """Close a WebSocket, ignoring a client that is already gone."""
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
                await close_quietly(session.websocket, 1001, "the gateway is shutting down")
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
            await self.kv.delete(presence_key(session.graph_id, session.id))
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
        await self.nc.publish(collab_subject(event.graph_id), encode(event))

    async def _on_message(self, msg) -> None:
        try:
            event = decode_event(msg.data)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return  # not ours to judge: another publisher on the subject
        room = self.rooms.get(event.graph_id)
        if room is None:
            return
        self._note(room, event)
        data = None
        for sid, session in list(room.sessions.items()):
            if sid != event.session and not session.closed:
                data = data or encode(event)
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
        await self.kv.put(presence_key(session.graph_id, session.id), encode(event))

    def _selection_of(self, session: Session) -> list[str] | None:
        room = self.rooms.get(session.graph_id)
        peer = room.peers.get(session.id) if room else None
        return peer.node_ids if peer else None

    async def _read_presence(self, room: _Room) -> set[str]:
        """Merge the presence bucket's sessions of ``room``'s graph into its peers; their ids."""
        present: set[str] = set()
        watcher = await self.kv.watch(presence_key(room.graph_id) + ".*", ignore_deletes=True)
        try:
            while True:
                entry = await watcher.updates(timeout=5.0)
                if entry is None:
                    break
                try:
                    event = decode_event(entry.value)
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
                        gone = CollaborationEvent("leave", room.graph_id, sid, peer.user, now(), instance=peer.instance)
                        for session in list(room.sessions.values()):
                            session.send(encode(gone))
