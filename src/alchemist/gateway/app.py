"""The gateway's ASGI application: :func:`create_app` puts the parts together.

Each part is a module with ``routes(ctx) -> list`` of Starlette routes, and optionally
``async startup(ctx)`` / ``async shutdown(ctx)`` run by the application's lifespan:
:mod:`~alchemist.gateway.rest`, :mod:`~alchemist.gateway.graphql_api`,
:mod:`~alchemist.gateway.collab`, :mod:`~alchemist.gateway.webhooks`. The middleware (authentication, rate
limiting, CORS, metrics) comes from :func:`alchemist.gateway.security.middleware`.
"""

from __future__ import annotations

import contextlib
import importlib
import uuid

from alchemist.gateway.context import GatewayContext
from alchemist.gateway.settings import GatewaySettings

__all__ = ["create_app", "PARTS"]

PARTS = ("alchemist.gateway.rest", "alchemist.gateway.graphql_api", "alchemist.gateway.collab",
         "alchemist.gateway.webhooks")


def create_app(connection, settings: GatewaySettings | None = None):
    """Build the gateway's Starlette application over a CIM connection.

    Parameters
    ----------
    connection : alchemist.cim.Connection
        The CIM to serve (it stays open when the application stops; its owner closes it).
    settings : GatewaySettings, optional
        Limits, credentials, CORS and webhooks (default: :class:`GatewaySettings()`).

    Returns
    -------
    starlette.applications.Starlette
        The application; ``app.state.gateway`` is its :class:`GatewayContext`.

    Raises
    ------
    MissingDependencyError
        Without the ``gateway`` extra.
    """
    from alchemist._optional import require

    require("starlette", extra="gateway", feature="alchemist serve")
    from starlette.applications import Starlette

    from alchemist.gateway import security

    ctx = GatewayContext(connection=connection, settings=settings or GatewaySettings(),
                         instance_id=uuid.uuid4().hex[:12])
    parts = [importlib.import_module(name) for name in PARTS]
    routes = [route for part in parts for route in part.routes(ctx)]

    @contextlib.asynccontextmanager
    async def lifespan(app):
        started = []
        try:
            for part in parts:
                if hasattr(part, "startup"):
                    await part.startup(ctx)
                started.append(part)
            yield
        finally:
            for part in reversed(started):
                if hasattr(part, "shutdown"):
                    await part.shutdown(ctx)

    app = Starlette(routes=routes, middleware=security.middleware(ctx), lifespan=lifespan)
    app.state.gateway = ctx
    return app
