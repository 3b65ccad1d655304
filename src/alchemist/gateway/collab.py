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

from typing import Any

from alchemist.errors import ForbiddenError, GatewayError, UnauthorizedError
from alchemist.gateway.collab_hub import CollaborationHub
from alchemist.gateway.collab_protocol import (
    ACTIVITY_TYPES,
    COLLAB_SUBJECT,
    COLOR_PATTERN,
    MAX_NAME,
    PRESENCE_BUCKET,
    CollabLimits,
    CollaborationEvent,
    User,
    collab_subject,
    decode_event,
    encode,
    user_color,
)

__all__ = ["COLLAB_SUBJECT", "PRESENCE_BUCKET", "ACTIVITY_TYPES", "CollaborationEvent", "User", "CollabLimits",
           "CollaborationHub", "collab_subject", "decode_event", "user_color", "routes", "startup", "shutdown",
           "serve_socket", "HUB_KEY", "subscribe_activity"]

#: The collaboration hub in :attr:`GatewayContext.extras <alchemist.gateway.context.GatewayContext.extras>`.
HUB_KEY = "alchemist.gateway.collab"


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
    color = query.get("color") if COLOR_PATTERN.match(query.get("color") or "") else user_color(user_id)
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
        await websocket.send_text(encode({"type": "error", "code": code, "message": message}).decode())
        await websocket.close(code, reason=message.encode()[:120].decode("utf-8", "ignore"))
    except Exception:  # the client went away first
        pass


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
