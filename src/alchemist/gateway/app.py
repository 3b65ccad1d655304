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
import threading
import time
import uuid

from alchemist.gateway.context import GatewayContext
from alchemist.gateway.settings import GatewaySettings

__all__ = ["create_app", "start_in_thread", "BackgroundGateway", "PARTS"]

PARTS = ("alchemist.gateway.rest", "alchemist.gateway.graphql_api", "alchemist.gateway.collab",
         "alchemist.gateway.webhooks", "alchemist.gateway.plugins")


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


class BackgroundGateway:
    """A gateway served by uvicorn in a thread of this process (a notebook, a test, a benchmark).

    Made by :func:`start_in_thread`; stop it with :meth:`stop` or a ``with`` block.

    Attributes
    ----------
    app : starlette.applications.Starlette
    url : str
        ``http://host:port`` (GraphQL at ``url + "/graphql"``).
    ws_url : str
        ``ws://host:port``.
    """

    def __init__(self, app, server, thread: threading.Thread, sock):
        self.app, self.server, self.thread, self.socket = app, server, thread, sock
        host, port = sock.getsockname()[:2]
        self.url, self.ws_url = f"http://{host}:{port}", f"ws://{host}:{port}"

    def stop(self, timeout: float = 15.0) -> None:
        """Shut the server down (open requests finish, the parts' shutdown runs) and wait for it.

        Parameters
        ----------
        timeout : float
            Seconds to wait for the thread.

        Returns
        -------
        None
        """
        self.server.should_exit = True
        self.thread.join(timeout)
        self.socket.close()

    def __enter__(self) -> "BackgroundGateway":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.thread.is_alive() else "stopped"
        return f"<BackgroundGateway {self.url} {state}>"


def start_in_thread(connection, settings: GatewaySettings | None = None, *, host: str = "127.0.0.1", port: int = 0,
                    timeout: float = 30.0) -> BackgroundGateway:
    """Serve a gateway over ``connection`` from a background thread and return once it answers.

    Parameters
    ----------
    connection : alchemist.cim.Connection
    settings : GatewaySettings, optional
    host : str
    port : int
        0: a free port (see ``.url``).
    timeout : float
        Seconds to wait for the server to start.

    Returns
    -------
    BackgroundGateway

    Raises
    ------
    GatewayError
        The port is in use, or the server did not start within ``timeout``.
    MissingDependencyError
        Without the ``gateway`` extra.

    Examples
    --------
    >>> import alchemist, httpx, tempfile
    >>> tmp = tempfile.mkdtemp()
    >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")  # doctest: +SKIP
    >>> with start_in_thread(connection) as gateway:  # doctest: +SKIP
    ...     httpx.post(gateway.url + "/graphql", json={"query": "{ graphs { totalCount } }"}).json()
    {'data': {'graphs': {'totalCount': 0}}}
    """
    from alchemist._optional import require

    require("uvicorn", extra="gateway", feature="start_in_thread")
    import uvicorn

    from alchemist.errors import GatewayError
    from alchemist.gateway.cli import listening_socket

    sock = listening_socket(host, port)
    app = create_app(connection, settings)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="alchemist-gateway", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(5)
            sock.close()
            raise GatewayError(f"the gateway did not start within {timeout} s (see the log)")
        time.sleep(0.02)
    return BackgroundGateway(app, server, thread, sock)
