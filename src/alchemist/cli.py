"""The ``alchemist`` command.

Subcommands: ``demo`` (the main job end to end), ``cid FILE``, the CIM layer's ``server``,
``replay``, ``stats``, ``agent`` and ``outbox``, and the notebooks' ``dashboard`` (Voilà) and
``report`` (papermill). Bad input gives a one-line error naming the file and line, exit status
2, never a traceback; the exit statuses are listed in ``alchemist --help``
(:data:`alchemist.cim.cli.EXIT_STATUSES`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from alchemist.errors import AlchemistError

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run the ``alchemist`` command.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 done, 2 error (one line on standard error), 3 events left queued in
        the outbox, 130 interrupted.

    Raises
    ------
    SystemExit
        From argparse: ``--help`` and ``--version`` (status 0), unknown flags (status 2).
        An :class:`~alchemist.errors.AlchemistError` is not raised: it is the one-line error
        and status 2.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp(), "hello.txt")
    >>> _ = path.write_bytes(b"hello")
    >>> main(["cid", str(path)])
    bafkr4ihkr4ld3m4gqkjf4reryxsy2s5tkbxprqkow6fin2iiyvreuzzab4
    0
    >>> main(["cid", str(path.with_name("missing.txt"))])  # one line on standard error
    2
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except AlchemistError as exc:
        print(f"alchemist {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"alchemist {args.command}: interrupted", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    """The ``alchemist`` command's argument parser (subcommands from the CIM layer and the widgets).

    Returns
    -------
    argparse.ArgumentParser
        Each subcommand sets ``func`` (called with the parsed arguments, returning the exit
        status).

    Examples
    --------
    >>> args = build_parser().parse_args(["stats", "--graph-id", "g", "--json"])
    >>> args.command, args.graph_id, args.json
    ('stats', 'g', True)
    """
    from alchemist import __version__
    from alchemist.cim.cli import EXIT_STATUSES, connection_parent
    from alchemist.cim.cli import add_commands as add_cim_commands
    from alchemist.gateway.cli import add_commands as add_gateway_commands
    from alchemist.widgets.cli import add_commands as add_widget_commands

    parser = argparse.ArgumentParser(prog="alchemist", description="Knowledge graphs on the CIM: events, layout, analytics.",
                                     epilog=EXIT_STATUSES + "\n\nEach command's --help lists its flags.",
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"alchemist {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("demo", help="replay a real temporal graph through the embedded CIM, lay it out, render it, write a report",
                       parents=[connection_parent(outbox=False)])
    p.add_argument("--source", help="SNAP edge list 'src dst [unixtime]' (default: the shipped CollegeMsg sample)")
    p.add_argument("--graph-id", help="aggregate id (default: the file name)")
    p.add_argument("--output", default="alchemist-out", help="output folder (default: alchemist-out)")
    p.add_argument("--iterations", type=int, default=300, help="ForceAtlas2 iterations (default: 300)")
    p.add_argument("--batch", type=int, default=1000, help="events per JetStream message (default: 1000)")
    p.add_argument("--no-report", action="store_true", help="skip the papermill report")
    p.set_defaults(func=_demo)

    p = sub.add_parser("cid", help="print the CIM content identifier (CIDv1, raw, BLAKE3-256) of a file")
    p.add_argument("file", help="file to hash ('-' for standard input)")
    p.set_defaults(func=_cid)

    add_cim_commands(sub)
    add_widget_commands(sub)
    add_gateway_commands(sub)
    return parser


def _demo(args) -> int:
    from alchemist.cim.cli import apply_connection_environment
    from alchemist.demo import run_demo

    apply_connection_environment(args)  # the demo connects with connect(), which reads them

    run_demo(source=args.source, graph_id=args.graph_id, output=args.output, iterations=args.iterations,
             batch=args.batch, report=not args.no_report)
    return 0


def _cid(args) -> int:
    from alchemist.errors import InputFormatError
    from alchemist.events import cid

    if args.file == "-":
        data = sys.stdin.buffer.read()
    else:
        path = Path(args.file)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputFormatError(f"{path}: cannot be read ({exc.strerror or exc})", path=str(path)) from None
    print(cid(data))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
