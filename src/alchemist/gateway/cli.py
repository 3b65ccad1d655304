"""``alchemist serve``: the gateway (GraphQL, REST, WebSocket collaboration) on uvicorn.

Connects to the CIM with the shared connection flags (:func:`alchemist.cim.cli.connection_parent`:
an embedded ``nats-server`` under ``$ALCHEMIST_HOME`` by default, or ``--url`` and credentials of a
real one), builds the application (:func:`alchemist.gateway.create_app`) and serves it until
SIGTERM (exit 0) or Ctrl-C (exit 130), shutting down cleanly: open requests finish, the parts'
shutdown runs, the connection closes (and the embedded server stops). A port already in use, a
missing ``gateway`` extra or an unreachable CIM is one line on standard error and exit 2.
Several instances over one NATS serve the same graphs.
"""

from __future__ import annotations

import argparse
import signal
import socket
import sys

__all__ = ["add_commands", "serve", "listening_socket"]

EPILOG = """\
examples:
  alchemist serve                                  # embedded CIM, http://127.0.0.1:8000/graphql
  alchemist serve --port 9000 --url nats://cim:4222 --creds me.creds
  alchemist serve --host 0.0.0.0 --api-keys keys.toml --cors-origin https://app.example

exit statuses: 0 stopped by SIGTERM, 2 error (one line: port in use, missing extra, CIM unreachable),
130 interrupted (Ctrl-C)."""


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``serve`` to the ``alchemist`` command's subparsers.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The subparsers of the ``alchemist`` parser.

    Returns
    -------
    None

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="alchemist")
    >>> add_commands(parser.add_subparsers())
    >>> args = parser.parse_args(["serve", "--port", "9000", "--max-page-size", "200"])
    >>> args.host, args.port, args.max_page_size
    ('127.0.0.1', 9000, 200)
    """
    from alchemist.cim.cli import connection_parent
    from alchemist.gateway import settings as settings_module

    p = sub.add_parser("serve", help="serve the CIM's graphs over GraphQL, REST and WebSocket collaboration",
                       parents=[connection_parent()], epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    p.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"),
                   help="uvicorn's log level (default: info)")
    limits = p.add_argument_group("GraphQL limits")
    limits.add_argument("--graphql-max-depth", type=int, metavar="N", help="deepest query served (default 12)")
    limits.add_argument("--graphql-max-complexity", type=int, metavar="N",
                        help="costliest query served: fields, each list counted once per item (default 10000)")
    limits.add_argument("--max-page-size", type=int, metavar="N", help="largest first/limit (default 1000)")
    limits.add_argument("--request-timeout-s", type=float, metavar="S", help="longest resolver (default 30)")
    # credentials, CORS and rate limits: the security part's flags (alchemist.gateway.settings)
    add_security_flags = getattr(settings_module, "add_security_flags", None)
    if add_security_flags is not None:
        add_security_flags(p)
    p.set_defaults(func=serve)


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` and listening, for uvicorn (so a taken port is reported
    before anything starts).

    Parameters
    ----------
    host : str
    port : int
        0 for a free one.

    Returns
    -------
    socket.socket

    Raises
    ------
    GatewayError
        The address is in use or cannot be bound; the message names it and the fix.

    Examples
    --------
    >>> s = listening_socket("127.0.0.1", 0)
    >>> listening_socket("127.0.0.1", s.getsockname()[1])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    alchemist.errors.GatewayError: cannot listen on 127.0.0.1:...: ... choose another --port, or stop what uses it
    >>> s.close()
    """
    from alchemist.errors import GatewayError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise GatewayError(f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose another --port, or stop "
                           "what uses it") from None
    sock.set_inheritable(True)
    return sock


def serve(args: argparse.Namespace) -> int:
    """Run ``alchemist serve`` with parsed arguments (see :func:`add_commands`).

    Parameters
    ----------
    args : argparse.Namespace

    Returns
    -------
    int
        0 after SIGTERM, 130 after Ctrl-C (SIGINT), 2 when the application failed to start.

    Raises
    ------
    MissingDependencyError
        Without the ``gateway`` extra.
    GatewayError
        The port is in use.
    CIMError
        The CIM cannot be reached or a connection flag is wrong.
    """
    from alchemist._optional import require

    for module, package in (("uvicorn", None), ("starlette", None), ("strawberry", "strawberry-graphql")):
        require(module, extra="gateway", feature="alchemist serve", package=package)
    import uvicorn

    from alchemist.cim.cli import connect_from_args
    from alchemist.gateway import settings as settings_module
    from alchemist.gateway.app import create_app

    settings_from_args = getattr(settings_module, "settings_from_args", None)
    if settings_from_args is not None:
        settings = settings_from_args(args)
    else:  # the security part's flags not there: the limits and address only
        fields = ("host", "port", "graphql_max_depth", "graphql_max_complexity", "max_page_size", "request_timeout_s")
        settings = settings_module.GatewaySettings(**{k: getattr(args, k) for k in fields
                                                      if getattr(args, k, None) is not None})
    sock = listening_socket(args.host, args.port)
    received: list[int] = []

    def handle(signum, frame) -> None:  # uvicorn re-raises the signal it shut down for: record it here
        received.append(signum)

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        with connect_from_args(args) as connection:
            app = create_app(connection, settings)
            config = uvicorn.Config(app, log_level=args.log_level, lifespan="on",
                                    timeout_graceful_shutdown=10)
            server = uvicorn.Server(config)
            host, port = sock.getsockname()[:2]
            print(f"alchemist serve: http://{host}:{port}/graphql (GraphiQL in a browser), CIM {connection.url}",
                  flush=True)
            server.run(sockets=[sock])
            if not server.started and not received:
                print("alchemist serve: error: the gateway did not start (see the log above)", file=sys.stderr)
                return 2
    finally:
        sock.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if signal.SIGINT in received:
        print("alchemist serve: interrupted", file=sys.stderr)
        return 130
    return 0
