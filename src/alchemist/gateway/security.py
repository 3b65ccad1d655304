"""Authentication and authorization of gateway requests (first version: API keys and anonymous).

:func:`authenticate` turns a request's credentials into a :class:`~alchemist.gateway.context.Principal`;
:func:`authorize` checks one action on one graph. Every part calls both before it reads or
publishes anything.
"""

from __future__ import annotations

from alchemist.errors import ForbiddenError, UnauthorizedError
from alchemist.gateway.context import ANONYMOUS, GatewayContext, Principal

__all__ = ["authenticate", "authorize", "middleware"]


def authenticate(ctx: GatewayContext, headers) -> Principal:
    """The principal making a request.

    Parameters
    ----------
    ctx : GatewayContext
        The gateway (its settings hold the keys).
    headers : Mapping of str to str
        The request's (or WebSocket handshake's) headers: ``X-API-Key`` or
        ``Authorization: Bearer <key>``.

    Returns
    -------
    Principal

    Raises
    ------
    UnauthorizedError
        Credentials that do not verify, or none where anonymous access is off.
    """
    settings = ctx.settings
    key = headers.get("x-api-key")
    auth = headers.get("authorization", "")
    if not key and auth.lower().startswith("bearer "):
        key = auth[7:].strip()
    if key:
        spec = settings.api_keys.get(key)
        if spec is None:
            raise UnauthorizedError("the API key is not known to this gateway")
        return Principal(spec.get("subject", "api-key"), read=frozenset(spec.get("read", ())),
                         write=frozenset(spec.get("write", ())))
    if settings.anonymous_allowed:
        return ANONYMOUS
    raise UnauthorizedError("credentials required: send X-API-Key or Authorization: Bearer <token>")


def authorize(principal: Principal, graph_id: str, action: str) -> None:
    """Check that ``principal`` may ``action`` (``"read"`` or ``"write"``) the graph ``graph_id``.

    Raises
    ------
    ForbiddenError
        When it may not.
    """
    allowed = principal.can_write(graph_id) if action == "write" else principal.can_read(graph_id)
    if not allowed:
        raise ForbiddenError(f"{principal.subject!r} may not {action} graph {graph_id!r}")


def middleware(ctx: GatewayContext) -> list:
    """The application's middleware (none yet: CORS, rate limiting and metrics come here)."""
    return []
