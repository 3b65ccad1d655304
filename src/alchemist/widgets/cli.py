"""The ``alchemist dashboard`` and ``alchemist report`` subcommands.

``dashboard`` serves ``notebooks/02-live-cim-dashboard.ipynb`` with Voilà (:mod:`alchemist.widgets.dashboard`:
the CIM, the analysis agent, Voilà and its kernels, all stopped by SIGTERM or Ctrl-C); ``report`` executes
``notebooks/05-scheduled-report.ipynb`` with papermill (its ``parameters`` cell: ``source``,
``window_days``, ``output``) and exports the executed notebook to HTML, where every widget shows
its static view.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from alchemist._notebooks import execute_to_html, notebook_path
from alchemist.errors import InputFormatError

__all__ = ["add_commands", "notebook_path", "run_report"]


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add the ``dashboard`` and ``report`` subcommands to the ``alchemist`` command.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The subparsers of the ``alchemist`` parser.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="alchemist")
    >>> add_commands(parser.add_subparsers())
    >>> parser.parse_args(["report", "--window-days", "7"]).window_days
    7.0
    """
    from alchemist.cim.cli import connection_parent

    p = sub.add_parser("dashboard", help="serve the live CIM dashboard notebook with Voilà",
                       parents=[connection_parent(outbox=False)])
    p.add_argument("--port", type=int, default=8866, help="port (default: 8866)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.add_argument("--source", help="SNAP edge list replayed live (default: the shipped CollegeMsg sample)")
    p.add_argument("--graph-id", help="its graph id (default: college)")
    p.add_argument("--rate", type=float, help="events per second of the live replay (default: 1500)")
    p.add_argument("--limit", type=int, help="events replayed at most (default: 60000)")
    p.add_argument("--no-agent", action="store_true", help="do not start the analysis agent on the CIM")
    p.set_defaults(func=_dashboard)

    p = sub.add_parser("report", help="run the scheduled-report notebook with papermill and export HTML")
    p.add_argument("--source", help="SNAP edge list (default: the shipped CollegeMsg sample)")
    p.add_argument("--window-days", type=float, default=30, help="days of activity up to the last event (default: 30)")
    p.add_argument("--output", default="alchemist-out/report", help="output folder (default: alchemist-out/report)")
    p.set_defaults(func=_report)


def run_report(source: str | None = None, *, window_days: float = 30, output: str = "alchemist-out/report") -> Path:
    """Execute the scheduled-report notebook and export it to HTML; returns the HTML file.

    Raises
    ------
    InputFormatError
        If ``source`` does not exist.
    """
    parameters = {"window_days": window_days, "output": str(Path(output).resolve())}
    if source is not None:
        src = Path(source).resolve()
        if not src.exists():
            raise InputFormatError(f"{source}: no such file", path=str(source))
        parameters["source"] = str(src)
    return execute_to_html("05-scheduled-report.ipynb", Path(output), parameters)


def _dashboard(args) -> int:
    from alchemist.cim.cli import connect_kwargs, connection_environment
    from alchemist.widgets.dashboard import serve_dashboard

    kwargs = {k: v for k, v in connect_kwargs(args).items() if v is not None}
    return serve_dashboard(port=args.port, open_browser=not args.no_browser, connect_kwargs=kwargs,
                           environment=connection_environment(args),  # the notebook's connect() reads them
                           agent=not args.no_agent, source=args.source, graph_id=args.graph_id, rate=args.rate,
                           limit=args.limit, announce=lambda line: print(line, flush=True))


def _report(args) -> int:
    html = run_report(args.source, window_days=args.window_days, output=args.output)
    print(f"alchemist report: {html}")
    return 0
