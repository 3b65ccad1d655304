"""The ``alchemist`` subcommands of the CIM layer: ``server``, ``replay``, ``stats``, ``agent``, ``outbox``.

The command line is a black-box contract (issue 3); keep flags, JSON keys and exit statuses stable.

Every command that connects takes the same connection flags (:func:`connection_parent`), mapped
onto :func:`alchemist.cim.connect`'s arguments; each falls back on the environment variable of
:mod:`alchemist.cim.options` when it is not given. Secrets are never printed.

Exit statuses (:data:`EXIT_STATUSES`): 0 done (for ``replay`` and ``outbox flush``: every event is
stored on the server), 2 an error reported on one line (bad input, no server, credentials
refused), 3 events left queued in the local outbox (the line says how many and where), 130
interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

__all__ = ["add_commands", "connection_parent", "connect_kwargs", "connect_from_args", "connection_environment",
           "apply_connection_environment", "EXIT_OK", "EXIT_ERROR", "EXIT_QUEUED", "EXIT_INTERRUPTED", "EXIT_STATUSES"]

EXIT_OK, EXIT_ERROR, EXIT_QUEUED, EXIT_INTERRUPTED = 0, 2, 3, 130
EXIT_STATUSES = """\
exit statuses:
  0    done (replay, outbox flush: every event is stored on the server)
  2    error, reported on one line (bad input file or flag, no server, credentials refused)
  3    events left queued in the local outbox, not yet on the server (the last line says how
       many and where; send them with `alchemist outbox flush` and the same connection flags)
  130  interrupted (Ctrl-C)"""

_ENVIRONMENT = """\
connection flags fall back on environment variables: --url ALCHEMIST_NATS_URL (or NATS_URL),
--replicas ALCHEMIST_NATS_REPLICAS, --creds NATS_CREDS, --nkey NATS_NKEY, --token NATS_TOKEN,
--user NATS_USER, --password NATS_PASSWORD, --tls-ca NATS_CA, --tls-cert NATS_CERT, --tls-key NATS_KEY.
Prefer the environment (or a --creds file) for secrets: command lines are visible to other users."""

# flag destination -> environment variable read by alchemist.cim.options / connect()
_FLAG_ENV = {
    "url": "ALCHEMIST_NATS_URL", "replicas": "ALCHEMIST_NATS_REPLICAS", "creds": "NATS_CREDS", "nkey": "NATS_NKEY",
    "token": "NATS_TOKEN", "user": "NATS_USER", "password": "NATS_PASSWORD", "tls_ca": "NATS_CA",
    "tls_cert": "NATS_CERT", "tls_key": "NATS_KEY",
}


def connection_parent(outbox: bool = True) -> argparse.ArgumentParser:
    """The connection flags shared by every command that connects (an argparse parent).

    Parameters
    ----------
    outbox : bool
        Also add ``--outbox`` (the durable outbox file).

    Returns
    -------
    argparse.ArgumentParser
        Use it as ``sub.add_parser(..., parents=[connection_parent()])``.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(parents=[connection_parent()])
    >>> args = parser.parse_args(["--url", "nats://a:4222,nats://b:4222", "--token", "s3cret"])
    >>> sorted(k for k, v in connect_kwargs(args).items() if v is not None)
    ['token', 'url']
    """
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("connection (each falls back on its environment variable)")
    group.add_argument("--url", metavar="URL[,URL...]",
                       help="NATS server URL(s) of the CIM, comma separated (a cluster); default $ALCHEMIST_NATS_URL "
                            "or $NATS_URL, else an embedded server under $ALCHEMIST_HOME")
    group.add_argument("--replicas", type=int, metavar="N",
                       help="replicas of the streams alchemist creates (a cluster; default $ALCHEMIST_NATS_REPLICAS, "
                            "else 1)")
    group.add_argument("--creds", metavar="FILE", help="NATS .creds file: JWT and NKey seed ($NATS_CREDS)")
    group.add_argument("--nkey", metavar="FILE", help="NKey seed file ($NATS_NKEY)")
    group.add_argument("--token", metavar="TOKEN", help="authentication token ($NATS_TOKEN)")
    group.add_argument("--user", metavar="USER", help="user name ($NATS_USER)")
    group.add_argument("--password", metavar="PASSWORD", help="password, with --user ($NATS_PASSWORD)")
    group.add_argument("--tls-ca", metavar="PEM", help="CA bundle that signs the server's certificate ($NATS_CA)")
    group.add_argument("--tls-cert", metavar="PEM", help="client certificate, with --tls-key ($NATS_CERT)")
    group.add_argument("--tls-key", metavar="PEM", help="client certificate's key ($NATS_KEY)")
    if outbox:
        group.add_argument("--outbox", metavar="FILE",
                           help="the durable outbox of events waiting for the server (default "
                                "$ALCHEMIST_HOME/outbox.sqlite)")
    return parent


def connect_kwargs(args: argparse.Namespace) -> dict:
    """:func:`~alchemist.cim.connect`'s keyword arguments from parsed connection flags (None where a
    flag was not given, so the environment variable applies).

    Parameters
    ----------
    args : argparse.Namespace
        Parsed with :func:`connection_parent` among the parents (a missing flag reads as None).

    Returns
    -------
    dict
        ``url``, ``replicas``, ``creds``, ``nkey``, ``token``, ``user``, ``password``,
        ``tls_ca``, ``tls_cert``, ``tls_key`` and ``outbox``.

    Examples
    --------
    >>> connect_kwargs(argparse.Namespace(url="nats://a:4222"))["url"]
    'nats://a:4222'
    >>> connect_kwargs(argparse.Namespace())["token"] is None
    True
    """
    get = lambda name: getattr(args, name, None)  # noqa: E731
    return {"url": get("url"), "replicas": get("replicas"), "creds": get("creds"), "nkey": get("nkey"),
            "token": get("token"), "user": get("user"), "password": get("password"), "tls_ca": get("tls_ca"),
            "tls_cert": get("tls_cert"), "tls_key": get("tls_key"), "outbox": get("outbox")}


def connection_environment(args: argparse.Namespace) -> dict[str, str]:
    """The environment variables that carry the given connection flags to code that reads them
    (a child process such as Voilà, or :func:`~alchemist.cim.connect` called without arguments).

    Parameters
    ----------
    args : argparse.Namespace

    Returns
    -------
    dict of str to str
        Only the flags given (``--url`` → ``ALCHEMIST_NATS_URL``, ``--token`` → ``NATS_TOKEN``, ...).

    Examples
    --------
    >>> connection_environment(argparse.Namespace(url="nats://a:4222", replicas=3, token=None))
    {'ALCHEMIST_NATS_URL': 'nats://a:4222', 'ALCHEMIST_NATS_REPLICAS': '3'}
    """
    env = {}
    for name, variable in _FLAG_ENV.items():
        value = getattr(args, name, None)
        if value is not None:
            env[variable] = str(value)
    return env


def connect_from_args(args: argparse.Namespace, **extra):
    """:func:`~alchemist.cim.connect` with the command's connection flags.

    The command line reconnects without a limit (the commands bound their own waits) and the
    circuit breaker tries the server again every 2 seconds.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed connection flags (:func:`connection_parent`).
    **extra
        More :func:`~alchemist.cim.connect` arguments (they win over the flags).

    Returns
    -------
    Connection

    Raises
    ------
    CIMConnectionError, CIMAuthenticationError, ServerStartError
        As :func:`~alchemist.cim.connect`.
    CIMError
        A flag is inconsistent (``--password`` without ``--user``, ``--tls-cert`` without
        ``--tls-key``, ``--replicas`` below 1).
    """
    from alchemist.cim import CircuitBreaker, connect
    from alchemist.errors import CIMError

    kwargs = {k: v for k, v in connect_kwargs(args).items() if v is not None}
    if kwargs.get("replicas") is not None and kwargs["replicas"] < 1:
        raise CIMError(f"--replicas {kwargs['replicas']}: a stream needs at least 1 replica")
    kwargs.setdefault("max_reconnects", -1)
    kwargs.setdefault("reconnect_wait", 1.0)
    kwargs.setdefault("breaker", CircuitBreaker(threshold=3, cooldown=2.0))
    kwargs.update(extra)
    try:
        return connect(**kwargs)
    except (ValueError, TypeError) as exc:
        flags = str(exc).replace("tls_cert=", "--tls-cert").replace("tls_key=", "--tls-key").replace(
            "password=", "--password").replace("user=", "--user")
        raise CIMError(flags) from None


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``server``, ``replay``, ``stats``, ``agent`` and ``outbox`` to the ``alchemist`` command.

    Each subparser sets ``func`` (called with the parsed arguments; it returns the exit status,
    :data:`EXIT_STATUSES`).

    Parameters
    ----------
    sub : argparse._SubParsersAction
        What ``parser.add_subparsers()`` returned.

    Returns
    -------
    None

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="alchemist")
    >>> add_commands(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["replay", "edges.txt", "--batch", "100"])
    >>> args.source, args.batch, args.wait, args.func.__name__
    ('edges.txt', 100, 60.0, '_replay')
    """
    formatter = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser("server", help="run the embedded nats-server (JetStream) in the foreground")
    p.add_argument("--data-dir", help="JetStream storage folder (default $ALCHEMIST_HOME/jetstream)")
    p.add_argument("--port", type=int, help="client port (default: a free one)")
    p.set_defaults(func=_server)

    p = sub.add_parser("replay", help="publish a SNAP edge list as CIM graph events", parents=[connection_parent()],
                       formatter_class=formatter, epilog=EXIT_STATUSES + "\n\n" + _ENVIRONMENT,
                       description="Publish a SNAP edge list as CIM graph events. Exits 0 only when every event "
                                   "is stored on the server; while the server is away it waits (--wait), then "
                                   "leaves the rest in the outbox and exits 3.")
    p.add_argument("source", help="edge list file: 'src dst [unixtime]' per line, optionally .gz")
    p.add_argument("--graph-id", help="aggregate id (default: the file name)")
    p.add_argument("--batch", type=int, default=1000, help="events per JetStream message (1 = one per event)")
    p.add_argument("--import", dest="import_", action="store_true",
                   help="publish one graph_imported event carrying an Arrow object of every event (large files)")
    p.add_argument("--wait", type=float, default=60.0, metavar="SECONDS",
                   help="how long to wait for an absent server, per outage during the replay and again for the "
                        "events still queued at the end (default: 60; 0: do not wait)")
    p.add_argument("--chunk", type=int, default=None, metavar="N",
                   help="events generated at a time: bounds the memory (default: 16384)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=_replay)

    p = sub.add_parser("stats", help="consume a graph's events and print its size", parents=[connection_parent()],
                       formatter_class=formatter, epilog=_ENVIRONMENT)
    p.add_argument("--graph-id", required=True)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=_stats)

    p = sub.add_parser("agent", help="run an AI agent (a NATS micro service) in the foreground",
                       parents=[connection_parent()], formatter_class=formatter, epilog=_ENVIRONMENT)
    p.add_argument("name", help="the agent: analysis (communities, central_nodes, layout, suggest_layout, suggest_communities)")
    p.add_argument("--metrics-port", type=int, help="serve Prometheus metrics over HTTP on this port")
    p.set_defaults(func=_agent)

    p = sub.add_parser("outbox", help="show or send the events queued in the local outbox",
                       parents=[connection_parent()], formatter_class=formatter,
                       epilog=EXIT_STATUSES + "\n\n" + _ENVIRONMENT,
                       description="The outbox holds events published while the server did not answer. "
                                   "'status' shows them (no server needed); 'flush' sends them, in order.")
    p.add_argument("action", choices=["status", "flush"], help="status: count them; flush: send them")
    p.add_argument("--wait", type=float, default=60.0, metavar="SECONDS",
                   help="flush: how long to keep trying while the server does not answer (default: 60)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=_outbox)


def _server(args) -> int:
    from alchemist.cim.server import EmbeddedServer

    server = EmbeddedServer(data_dir=args.data_dir, port=args.port).start()
    print(server.url, flush=True)
    stop = {"now": False}

    def handle(signum, frame):
        stop["now"] = True

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    try:
        while not stop["now"] and server.running:
            time.sleep(0.2)
    finally:
        server.stop()
    return 0


def _queued_line(command: str, events: int, path) -> str:
    return (f"alchemist {command}: {events:,} events queued in the outbox {path}, not yet stored on the server; "
            f"send them with `alchemist outbox flush` and the same connection flags")


def _replay(args) -> int:
    from alchemist.errors import InputFormatError
    from alchemist.events.wire import WirePlan, plan_edge_file
    from alchemist.graph.io import read_edge_list

    if args.batch < 1:
        raise InputFormatError(f"--batch {args.batch}: it must be at least 1")
    if args.chunk is not None and args.chunk < 1:
        raise InputFormatError(f"--chunk {args.chunk}: it must be at least 1")
    if args.wait < 0:
        raise InputFormatError(f"--wait {args.wait}: it must be 0 or more seconds")
    # read before any connection (errors first); the common form in blocks, without the whole text
    source = None if args.import_ else plan_edge_file(args.source, args.graph_id)
    if source is None:
        source = read_edge_list(args.source)
    with connect_from_args(args) as connection:
        if args.import_:
            result = connection.import_graph(source, graph_id=args.graph_id, wait=args.wait)
        else:
            result = connection.replay(source, graph_id=None if isinstance(source, WirePlan) else args.graph_id,
                                       batch=args.batch, progress=not args.json, wait=args.wait, chunk=args.chunk)
        queued = connection.outbox.events()
        flushed = 0
        if queued:
            if not args.json:
                print(f"alchemist replay: the server did not store {queued:,} events; waiting up to {args.wait:g} s "
                      "for it", file=sys.stderr, flush=True)
            connection.flush_outbox(timeout=args.wait, progress=not args.json)
            left = connection.outbox.events()
            flushed, queued = queued - left, left
        where = connection.outbox.path
    out = {"published": result.published, "duplicates": result.duplicates, "last_sequence": result.last_sequence,
           "seconds": round(result.seconds, 3), "queued": queued, "flushed": flushed,
           "outbox": str(where) if queued else None}
    if args.json:
        print(json.dumps(out))
    else:
        print(f"published {result.published:,} events ({result.duplicates:,} already there"
              + (f", {flushed:,} sent from the outbox" if flushed else "")
              + f") in {result.seconds:.2f} s; last sequence {result.last_sequence}")
    if queued:
        print(_queued_line("replay", queued, where), file=sys.stderr)
        return EXIT_QUEUED
    return EXIT_OK


def _outbox(args) -> int:
    from alchemist.cim import Outbox
    from alchemist.cim.server import alchemist_home
    from alchemist.errors import InputFormatError

    path = Path(args.outbox) if args.outbox else alchemist_home() / "outbox.sqlite"
    if args.action == "status":
        if path.exists():
            box = Outbox(path)
            messages, events = len(box), box.events()
            box.close()
        else:
            messages = events = 0
        report = {"messages": messages, "events": events, "outbox": str(path)}
        print(json.dumps(report) if args.json else
              f"{events:,} events ({messages:,} messages) queued in the outbox {path}")
        return EXIT_QUEUED if events else EXIT_OK
    if args.wait < 0:
        raise InputFormatError(f"--wait {args.wait}: it must be 0 or more seconds")
    before = Outbox(path).events() if path.exists() else 0  # connect() below already sends what it can
    with connect_from_args(args, outbox=path) as connection:
        connection.flush_outbox(timeout=args.wait, progress=not args.json)
        left, messages = connection.outbox.events(), len(connection.outbox)
    report = {"sent": before - left, "events": left, "messages": messages, "outbox": str(path)}
    print(json.dumps(report) if args.json else f"sent {before - left:,} events; {left:,} left in the outbox {path}")
    if left:
        print(_queued_line("outbox", left, path), file=sys.stderr)
        return EXIT_QUEUED
    return EXIT_OK


def _stats(args) -> int:
    with connect_from_args(args) as connection:
        graph = connection.graph(args.graph_id, live=False, progress=not args.json and sys.stderr.isatty())
    out = {"nodes": graph.number_of_nodes(), "edges": graph.number_of_edges(), "version": graph.version,
           "dead_lettered": len(getattr(graph, "rejected", []))}
    print(json.dumps(out) if args.json else ", ".join(f"{k}: {v:,}" for k, v in out.items()))
    return 0


def _agent(args) -> int:
    from alchemist.cim.agents import AGENTS, run_agent

    if args.name not in AGENTS:
        print(f"alchemist agent: no agent called {args.name!r}; available: {', '.join(sorted(AGENTS))}",
              file=sys.stderr)
        return 2
    stop = {"now": False}

    def handle(signum, frame):
        stop["now"] = True

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    with connect_from_args(args, metrics_port=args.metrics_port) as connection:
        def ready() -> None:
            print(f"agent {args.name} serving on {connection.url}"
                  + (f"; metrics at {connection.metrics_url}" if connection.metrics_url else ""), flush=True)

        run_agent(args.name, connection, lambda: stop["now"], ready=ready)
    return 0


def apply_connection_environment(args: argparse.Namespace) -> None:
    """Put the given connection flags in this process's environment (for code that calls
    :func:`~alchemist.cim.connect` without arguments, such as the demo).

    Parameters
    ----------
    args : argparse.Namespace

    Returns
    -------
    None
        ``os.environ`` is updated with :func:`connection_environment`.
    """
    os.environ.update(connection_environment(args))
