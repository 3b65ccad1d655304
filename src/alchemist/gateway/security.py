"""Authentication, authorization, rate limiting and CORS of gateway requests.

:func:`authenticate` turns a request's credentials into a :class:`~alchemist.gateway.context.Principal`:
an API key (``X-API-Key``, or ``Authorization: Bearer <key>``) looked up in the settings, or a JWT
bearer token verified with PyJWT (HS* with the secret, RS*/ES* with the public key; ``exp`` and
``sub`` required, ``aud``/``iss`` checked when configured; ``alg: none`` never accepted), whose
claims ``read`` and ``write`` list the graphs it may read and change. :func:`authorize` checks one
action on one graph. :func:`actor_metadata` is what every mutation records in its event
(``Connection.append(..., metadata=actor_metadata(principal))``): the stream is the audit log.

:func:`middleware` gives the application's middleware, outermost first: request metrics
(:mod:`alchemist.gateway.metrics`), CORS (Starlette's ``CORSMiddleware`` over ``cors_origins``),
and :class:`GuardMiddleware`, a pure ASGI middleware (so WebSocket handshakes go through it too)
that authenticates every request but those on ``public_paths`` (401 otherwise), applies the
per-principal rate limit (429 with ``Retry-After``) and turns the gateway's errors raised by
endpoints (403 from :func:`authorize`, ...) into JSON ``{"error": ..., "code": ...}``. A request
refused here never reaches an endpoint, so it changes nothing.
"""

from __future__ import annotations

import hmac
import math
import time

from alchemist.errors import ForbiddenError, RateLimitedError, UnauthorizedError
from alchemist.gateway.context import ANONYMOUS, GatewayContext, Principal
from alchemist.gateway.responses import GatewayConfigError, send_error, status_of

__all__ = ["authenticate", "authorize", "verify_jwt", "actor_metadata", "principal_of", "middleware",
           "GuardMiddleware", "RateLimit", "PRINCIPAL_KEY"]

PRINCIPAL_KEY = "alchemist.principal"
"""Key of the authenticated :class:`Principal` in the ASGI scope (``request.scope[PRINCIPAL_KEY]``)."""


def authenticate(ctx: GatewayContext, headers, query=None) -> Principal:
    """The principal making a request.

    Parameters
    ----------
    ctx : GatewayContext
        The gateway (its settings hold the keys and the JWT verifier).
    headers : Mapping of str to str
        The request's (or WebSocket handshake's) headers, lower-case names: ``x-api-key`` or
        ``authorization: Bearer <API key or JWT>``.
    query : Mapping of str to str, optional
        Query parameters ``api_key`` or ``token``, read only when the headers hold no credentials
        (for browsers' WebSockets, which cannot set headers; pass them only for WebSocket handshakes).

    Returns
    -------
    Principal
        ``via`` is ``"api-key"``, ``"jwt"`` or ``"anonymous"``.

    Raises
    ------
    UnauthorizedError
        Credentials that do not verify, another ``Authorization`` scheme than Bearer, or none
        where anonymous access is off. The message never holds the credential.

    Examples
    --------
    >>> from alchemist.gateway.settings import GatewaySettings
    >>> ctx = GatewayContext(None, GatewaySettings(api_keys={"k1": {"subject": "ana", "read": ["*"]}}))
    >>> authenticate(ctx, {"x-api-key": "k1"})
    Principal(subject='ana', read=frozenset({'*'}), write=frozenset(), via='api-key')
    >>> authenticate(ctx, {})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    alchemist.errors.UnauthorizedError: credentials required: ...
    """
    settings = ctx.settings
    key = headers.get("x-api-key")
    auth = headers.get("authorization")
    bearer = None
    if auth:
        scheme, _, bearer = auth.partition(" ")
        if scheme.lower() != "bearer" or not bearer.strip():
            raise UnauthorizedError(f"Authorization scheme {scheme!r} is not accepted; send 'Authorization: Bearer "
                                    "<API key or JWT>' or X-API-Key")
        bearer = bearer.strip()
    if not key and not bearer and query is not None:
        key, bearer = query.get("api_key"), query.get("token")
    if key:
        return _api_key_principal(settings, key)
    if bearer:
        if bearer.count(".") == 2 and (settings.jwt_secret or settings.jwt_public_key):
            return verify_jwt(settings, bearer)
        return _api_key_principal(settings, bearer)
    if settings.anonymous_allowed:
        return ANONYMOUS
    raise UnauthorizedError("credentials required: send X-API-Key or Authorization: Bearer <API key or JWT>")


def verify_jwt(settings, token: str) -> Principal:
    """The principal of a JWT bearer token (PyJWT), after checking signature, expiry, audience, issuer.

    Parameters
    ----------
    settings : GatewaySettings
        ``jwt_secret`` (HS*), ``jwt_public_key`` (RS*, PS*, ES*, EdDSA; needs ``cryptography``),
        ``jwt_algorithms``, ``jwt_audience``, ``jwt_issuer``.
    token : str

    Returns
    -------
    Principal
        ``subject`` from ``sub``; ``read``/``write`` from the claims of those names (a list of
        graph ids or ``"*"``, or one such string).

    Raises
    ------
    UnauthorizedError
        A malformed token, an algorithm not accepted (``none`` never is) or without its key, a
        bad signature, an expired token, a wrong or missing ``aud``/``iss``, no ``exp`` or ``sub``.

    Examples
    --------
    >>> import time, jwt
    >>> from alchemist.gateway.settings import GatewaySettings
    >>> settings = GatewaySettings(jwt_secret="a-secret-of-at-least-32-bytes-for-hs256")
    >>> token = jwt.encode({"sub": "ana", "read": "*", "exp": time.time() + 60}, settings.jwt_secret)
    >>> verify_jwt(settings, token).can_read("g1")
    True
    """
    import jwt

    try:
        alg = jwt.get_unverified_header(token).get("alg")
    except jwt.PyJWTError:
        raise UnauthorizedError("the bearer token is not a well-formed JWT") from None
    allowed = [a for a in settings.jwt_algorithms if a.lower() != "none"]
    if alg not in allowed:
        raise UnauthorizedError(f"JWT algorithm {alg!r} is not accepted here; sign with one of {allowed}")
    key = settings.jwt_secret if str(alg).startswith("HS") else settings.jwt_public_key
    if not key:
        raise UnauthorizedError(f"JWT algorithm {alg!r} has no verification key on this gateway")
    required = ["exp", "sub"] + (["aud"] if settings.jwt_audience else []) + (["iss"] if settings.jwt_issuer else [])
    try:
        claims = jwt.decode(token, key, algorithms=[alg], audience=settings.jwt_audience, issuer=settings.jwt_issuer,
                            options={"require": required})
    except jwt.ExpiredSignatureError:
        raise UnauthorizedError("the JWT has expired; get a new token") from None
    except jwt.PyJWTError as exc:
        raise UnauthorizedError(f"the JWT does not verify: {exc}") from None
    return Principal(str(claims["sub"]), read=_graphs(claims.get("read")), write=_graphs(claims.get("write")),
                     via="jwt")


def authorize(principal: Principal, graph_id: str, action: str) -> None:
    """Check that ``principal`` may ``action`` (``"read"`` or ``"write"``) the graph ``graph_id``.

    Parameters
    ----------
    principal : Principal
    graph_id : str
    action : {"read", "write"}

    Returns
    -------
    None

    Raises
    ------
    ForbiddenError
        When it may not (HTTP 403).
    ValueError
        ``action`` is neither ``"read"`` nor ``"write"``.

    Examples
    --------
    >>> reader = Principal("ana", read=frozenset({"g1"}))
    >>> authorize(reader, "g1", "read")
    >>> authorize(reader, "g1", "write")
    Traceback (most recent call last):
    ...
    alchemist.errors.ForbiddenError: 'ana' may not write graph 'g1'
    """
    if action not in ("read", "write"):
        raise ValueError(f"action={action!r}; use 'read' or 'write'")
    allowed = principal.can_write(graph_id) if action == "write" else principal.can_read(graph_id)
    if not allowed:
        raise ForbiddenError(f"{principal.subject!r} may not {action} graph {graph_id!r}")


def actor_metadata(principal: Principal) -> dict:
    """The metadata every event a request publishes carries: who, and how they were authenticated.

    Pass it to ``Connection.append(..., metadata=...)`` or ``new_event(..., metadata=...)``; it
    is part of the event's CID, so the stream is a tamper-evident audit log
    (``[e.metadata for e in connection.events(graph_id)]``).

    Parameters
    ----------
    principal : Principal

    Returns
    -------
    dict
        ``{"actor": subject, "via": "api-key" | "jwt" | "anonymous"}``.

    Examples
    --------
    >>> actor_metadata(Principal("ana", via="jwt"))
    {'actor': 'ana', 'via': 'jwt'}
    """
    return {"actor": principal.subject, "via": principal.via or "unknown"}


def principal_of(connection) -> Principal:
    """The principal :class:`GuardMiddleware` authenticated for a request or WebSocket.

    Parameters
    ----------
    connection : starlette.requests.HTTPConnection
        A ``Request`` or ``WebSocket`` of the gateway's application.

    Returns
    -------
    Principal

    Raises
    ------
    UnauthorizedError
        The request went around the middleware (a public path) and its credentials do not
        verify, or it has none where anonymous access is off.
    """
    principal = connection.scope.get(PRINCIPAL_KEY)
    if principal is not None:
        return principal
    ctx = connection.app.state.gateway
    query = connection.query_params if connection.scope["type"] == "websocket" else None
    return authenticate(ctx, connection.headers, query)


def middleware(ctx: GatewayContext) -> list:
    """The application's middleware, outermost first: metrics, CORS, :class:`GuardMiddleware`.

    Parameters
    ----------
    ctx : GatewayContext

    Returns
    -------
    list of starlette.middleware.Middleware

    Raises
    ------
    GatewayConfigError
        ``rate_limit`` is not in the ``limits`` notation.
    """
    from starlette.middleware import Middleware
    from starlette.middleware.cors import CORSMiddleware

    from alchemist.gateway.metrics import MetricsMiddleware

    settings = ctx.settings
    stack = [Middleware(MetricsMiddleware, ctx=ctx)]
    if settings.cors_origins:
        stack.append(Middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["*"],
                                allow_headers=["Authorization", "X-API-Key", "Content-Type"],
                                expose_headers=["Retry-After"], max_age=600))
    limit = RateLimit(settings.rate_limit) if settings.rate_limit else None  # a bad spec fails here, not later
    stack.append(Middleware(GuardMiddleware, ctx=ctx, limit=limit))
    return stack


class RateLimit:
    """A per-key moving-window limit (the ``limits`` package, in-memory storage).

    Each gateway instance counts on its own: N instances behind a load balancer allow up to N
    times the limit in all (use a shared ``limits`` storage, e.g. Redis, to count together).

    Parameters
    ----------
    spec : str
        ``"100/second"``, ``"1000 per minute"``, ... (``limits.parse``).

    Raises
    ------
    GatewayConfigError
        ``spec`` cannot be parsed.

    Examples
    --------
    >>> import asyncio
    >>> limit = RateLimit("2/minute")
    >>> asyncio.run(limit.retry_after("ana")), asyncio.run(limit.retry_after("ana")) is None
    (None, True)
    """

    def __init__(self, spec: str):
        from limits import parse

        try:
            self.item = parse(spec)
        except ValueError:
            raise GatewayConfigError(f"rate_limit={spec!r} is not a rate limit; write e.g. '100/second' or "
                                     "'1000 per minute'") from None
        self.spec = spec
        self._limiter = None

    async def retry_after(self, key: str) -> float | None:
        """Count one request of ``key``: None when allowed, else seconds until one is allowed again.

        Parameters
        ----------
        key : str

        Returns
        -------
        float or None
        """
        if self._limiter is None:  # made on the serving event loop
            from limits.aio.storage import MemoryStorage
            from limits.aio.strategies import MovingWindowRateLimiter

            self._limiter = MovingWindowRateLimiter(MemoryStorage())
        if await self._limiter.hit(self.item, key):
            return None
        stats = await self._limiter.get_window_stats(self.item, key)
        return max(0.0, stats.reset_time - time.time())


class GuardMiddleware:
    """Pure ASGI middleware: authentication, the rate limit, and JSON errors (see the module docstring).

    Parameters
    ----------
    app : ASGI application
    ctx : GatewayContext
    limit : RateLimit, optional
        The per-principal limit (:func:`middleware` makes it from ``ctx.settings.rate_limit``);
        None: no limit.
    """

    def __init__(self, app, ctx: GatewayContext, limit: RateLimit | None = None):
        self.app = app
        self.ctx = ctx
        self.limit = limit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        from starlette.datastructures import Headers, QueryParams

        public = scope["path"] in self.ctx.settings.public_paths
        query = QueryParams(scope.get("query_string", b"")) if scope["type"] == "websocket" else None
        try:
            principal = authenticate(self.ctx, Headers(scope=scope), query)
        except UnauthorizedError as exc:
            if not public:
                await send_error(scope, send, exc, headers={"WWW-Authenticate": "Bearer"})
                return
            principal = None
        scope[PRINCIPAL_KEY] = principal
        if self.limit is not None and not public:
            client = (scope.get("client") or ("?", 0))[0]
            key = f"anonymous@{client}" if principal.via == "anonymous" else f"{principal.via}:{principal.subject}"
            wait = await self.limit.retry_after(key)
            if wait is not None:
                retry = max(1, math.ceil(wait))
                await send_error(scope, send, RateLimitedError(
                    f"{principal.subject!r} sent more than {self.limit.spec} requests; retry in {retry} s"),
                    headers={"Retry-After": retry})
                return
        started = False

        async def tracked(message) -> None:
            nonlocal started
            if message["type"] in ("http.response.start", "websocket.accept", "websocket.http.response.start"):
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            if started or status_of(exc) is None:
                raise
            await send_error(scope, send, exc)


# ---------------------------------------------------------------------- helpers
def _api_key_principal(settings, key: str) -> Principal:
    """The principal of an API key (compared in constant time with every known key)."""
    found = None
    for known, spec in settings.api_keys.items():
        if hmac.compare_digest(known.encode(), key.encode()):
            found = spec
    if found is None:
        raise UnauthorizedError("the API key is not known to this gateway")
    return Principal(found.get("subject", "api-key"), read=_graphs(found.get("read")),
                     write=_graphs(found.get("write")), via="api-key")


def _graphs(value) -> frozenset:
    """A ``read``/``write`` claim or key entry as a set of graph ids (one string or a list)."""
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset(value.split())
    return frozenset(str(v) for v in value)
