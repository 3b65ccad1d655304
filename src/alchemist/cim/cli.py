"""The ``alchemist`` subcommands of the CIM layer: ``server``, ``replay``, ``stats``, ``agent``.

The command line is a black-box contract (issue 3); keep flags and JSON keys stable.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time

__all__ = ["add_commands"]


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("server", help="run the embedded nats-server (JetStream) in the foreground")
    p.add_argument("--data-dir", help="JetStream storage folder (default $ALCHEMIST_HOME/jetstream)")
    p.add_argument("--port", type=int, help="client port (default: a free one)")
    p.set_defaults(func=_server)

    p = sub.add_parser("replay", help="publish a SNAP edge list as CIM graph events")
    p.add_argument("source", help="edge list file: 'src dst [unixtime]' per line, optionally .gz")
    p.add_argument("--url", help="NATS URL (default: $ALCHEMIST_NATS_URL, else an embedded server)")
    p.add_argument("--graph-id", help="aggregate id (default: the file name)")
    p.add_argument("--batch", type=int, default=1000, help="events per JetStream message (1 = one per event)")
    p.add_argument("--import", dest="import_", action="store_true",
                   help="publish one graph_imported event carrying an Arrow object of every event (large files)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=_replay)

    p = sub.add_parser("stats", help="consume a graph's events and print its size")
    p.add_argument("--url", help="NATS URL (default: $ALCHEMIST_NATS_URL, else an embedded server)")
    p.add_argument("--graph-id", required=True)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=_stats)

    p = sub.add_parser("agent", help="run an AI agent (a NATS micro service) in the foreground")
    p.add_argument("name", help="the agent: analysis (communities, central_nodes, layout)")
    p.add_argument("--url", help="NATS URL (default: $ALCHEMIST_NATS_URL, else an embedded server)")
    p.add_argument("--metrics-port", type=int, help="serve Prometheus metrics over HTTP on this port")
    p.set_defaults(func=_agent)


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


def _replay(args) -> int:
    from alchemist.cim import connect
    from alchemist.graph.io import read_edge_list

    edges = read_edge_list(args.source)  # errors before any connection
    with connect(args.url) as connection:
        if args.import_:
            result = connection.import_graph(edges, graph_id=args.graph_id)
        else:
            result = connection.replay(edges, graph_id=args.graph_id, batch=args.batch, progress=not args.json)
    out = {"published": result.published, "duplicates": result.duplicates, "last_sequence": result.last_sequence,
           "seconds": round(result.seconds, 3)}
    print(json.dumps(out) if args.json else
          f"published {result.published:,} events ({result.duplicates:,} already there) "
          f"in {result.seconds:.2f} s; last sequence {result.last_sequence}")
    return 0


def _stats(args) -> int:
    from alchemist.cim import connect

    with connect(args.url) as connection:
        graph = connection.graph(args.graph_id, progress=not args.json and sys.stderr.isatty())
    out = {"nodes": graph.number_of_nodes(), "edges": graph.number_of_edges(), "version": graph.version,
           "dead_lettered": len(getattr(graph, "rejected", []))}
    print(json.dumps(out) if args.json else ", ".join(f"{k}: {v:,}" for k, v in out.items()))
    return 0


def _agent(args) -> int:
    from alchemist.cim import connect
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
    with connect(args.url, metrics_port=args.metrics_port) as connection:
        def ready() -> None:
            print(f"agent {args.name} serving on {connection.url}"
                  + (f"; metrics at {connection.metrics_url}" if connection.metrics_url else ""), flush=True)

        run_agent(args.name, connection, lambda: stop["now"], ready=ready)
    return 0
