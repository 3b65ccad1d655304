"""``alchemist dashboard``: the live CIM dashboard served with Voilà, and every process it starts.

The command owns what it starts (a process that starts another owns it):

- the CIM connection, with the embedded ``nats-server`` when no URL is given;
- the analysis agent (:class:`~alchemist.cim.agents.AnalysisAgent`), a NATS micro service on that
  connection, which answers the dashboard's agent panel;
- Voilà, serving a copy of ``notebooks/02-live-cim-dashboard.ipynb`` with the command's
  parameters injected by papermill, and the kernel Voilà starts for each page.

SIGTERM, SIGINT (Ctrl-C) or Voilà exiting stop all of them: Voilà is sent SIGTERM (it shuts its
kernels down), whatever still runs after ``grace`` seconds is killed — on Linux the command is a
*child subreaper* (``prctl(PR_SET_CHILD_SUBREAPER)``), so a kernel that Voilà left behind is still
its descendant and is found — and last the agent and the embedded server stop with the
connection. Voilà is started with a parent-death signal, so even a SIGKILL of the command takes it
down. Voilà and JupyterLab come with the ``dashboard`` extra (``make demo`` installs it).
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from alchemist.errors import MissingDependencyError, WidgetError

__all__ = ["serve_dashboard", "dashboard_parameters"]

_PR_SET_CHILD_SUBREAPER = 36  # <linux/prctl.h>


def serve_dashboard(*, port: int = 8866, open_browser: bool = True, connect_kwargs: dict | None = None,
                    environment: dict[str, str] | None = None, agent: bool = True, source: str | None = None,
                    graph_id: str | None = None, rate: float | None = None, limit: int | None = None,
                    grace: float = 10.0, announce: Callable[[str], None] = print) -> int:
    """Serve the live dashboard until SIGTERM, SIGINT or Voilà's exit, then stop everything started.

    Parameters
    ----------
    port : int
        Voilà's port on 127.0.0.1 (it must be free: Voilà is told not to try another one).
    open_browser : bool
        Open the page in a browser.
    connect_kwargs : dict, optional
        :func:`alchemist.connect`'s arguments (URL, credentials, TLS); none: ``$ALCHEMIST_NATS_URL``,
        else the embedded server.
    environment : dict, optional
        Extra environment variables for Voilà's kernels (the connection flags as variables, so that
        the notebook's ``connect()`` uses the same credentials).
    agent : bool
        Serve the analysis agent on the connection.
    source, graph_id, rate, limit : optional
        The notebook's parameters (the edge list replayed live, its graph id, events per second,
        events at most); the notebook's defaults when omitted.
    grace : float
        Seconds Voilà gets to shut its kernels down before what is left is killed.
    announce : callable
        Called with the line that gives the URL, once Voilà listens on it.

    Returns
    -------
    int
        0 after SIGTERM, 130 after SIGINT, else Voilà's exit status.

    Raises
    ------
    MissingDependencyError
        If Voilà or psutil is not installed (``pip install 'alchemist[dashboard]'``).
    WidgetError
        If ``port`` is in use.
    CIMConnectionError, CIMAuthenticationError, ServerStartError
        As :func:`alchemist.connect`.
    """
    from alchemist._optional import missing

    for package in ("voila", "psutil"):
        if missing(package):
            raise MissingDependencyError(f"alchemist dashboard needs {package}, which is not installed: "
                                         "pip install 'alchemist[dashboard]' (make demo installs it)")
    if not _port_free(port):
        raise WidgetError(f"port {port} on 127.0.0.1 is in use; pass --port with a free one")
    _become_subreaper()

    import psutil

    from alchemist.cim import connect
    from alchemist.cim.server import spawn

    stop = {"signal": None}

    def handle(signum, _frame) -> None:
        stop["signal"] = signum

    previous = {s: signal.signal(s, handle) for s in (signal.SIGTERM, signal.SIGINT)}
    connection = voila = None
    folder = tempfile.TemporaryDirectory(prefix="alchemist-dashboard-")
    try:
        connection = connect(**(connect_kwargs or {}))
        if agent:
            from alchemist.cim.agents import AnalysisAgent

            connection.serve_agent(AnalysisAgent())
        env = dict(os.environ, **(environment or {}))
        if connection.server is not None:  # the kernels reach the embedded server this command owns
            env["ALCHEMIST_NATS_URL"] = connection.url
        notebook = _parameterized_notebook(Path(folder.name), source=source, graph_id=graph_id, rate=rate,
                                           limit=limit)
        command = [sys.executable, "-m", "voila", str(notebook), f"--port={port}", "--Voila.ip=127.0.0.1",
                   "--Voila.port_retries=0", f"--Voila.root_dir={notebook.parent}"]
        if not open_browser:
            command.append("--no-browser")
        if stop["signal"] is None:
            voila = spawn(command, cwd=str(notebook.parent), env=env, start_new_session=True)
        announced = False
        while stop["signal"] is None and voila is not None and voila.poll() is None:
            if not announced and _listening(port):  # Voilà listens: the URL answers from now on
                announce(f"alchemist dashboard: http://127.0.0.1:{port}/ (CIM {_where(connection)}; "
                         f"Ctrl-C stops it)")
                announced = True
            time.sleep(0.2)
    finally:
        _stop_voila(voila, grace)
        _reap_descendants(psutil, keep={connection.server.process.pid}
                          if connection is not None and getattr(connection.server, "process", None) else set())
        if connection is not None:
            connection.close()  # the agent, the NATS client, the embedded server
        _reap_descendants(psutil, keep=set())
        folder.cleanup()
        for signum, old in previous.items():
            signal.signal(signum, old)
    if stop["signal"] == signal.SIGINT:
        return 130
    if stop["signal"] == signal.SIGTERM or voila is None:
        return 0
    return int(voila.returncode or 0)


def dashboard_parameters(*, source: str | None = None, graph_id: str | None = None, rate: float | None = None,
                         limit: int | None = None) -> dict:
    """The notebook parameters of the dashboard for the given command-line values.

    Parameters
    ----------
    source : str, optional
        An edge list; resolved to an absolute path (the notebook runs from a temporary folder).
        Default: the shipped CollegeMsg sample.
    graph_id : str, optional
    rate : float, optional
    limit : int, optional

    Returns
    -------
    dict
        Only the parameters given, plus ``source`` as an absolute path.

    Raises
    ------
    InputFormatError
        If ``source`` does not exist.

    Examples
    --------
    >>> dashboard_parameters(rate=300, graph_id="g")["rate"]
    300.0
    """
    from alchemist._notebooks import notebook_path
    from alchemist.errors import InputFormatError

    if source is None:
        path = (notebook_path("02-live-cim-dashboard.ipynb").parent / "../data/samples/CollegeMsg.txt.gz").resolve()
    else:
        path = Path(source).resolve()
        if not path.exists():
            raise InputFormatError(f"{source}: no such file", path=str(source))
    parameters: dict = {"source": str(path)}
    if graph_id is not None:
        parameters["graph_id"] = str(graph_id)
    if rate is not None:
        if not rate > 0:
            raise WidgetError(f"rate={rate!r}; give events per second above 0")
        parameters["rate"] = float(rate)
    if limit is not None:
        parameters["limit"] = int(limit)
    return parameters


# --------------------------------------------------------------------------- helpers
def _parameterized_notebook(folder: Path, **values) -> Path:
    """A copy of the dashboard notebook in ``folder`` with papermill's injected-parameters cell."""
    import nbformat
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    from alchemist._notebooks import notebook_path

    nb = load_notebook_node(str(notebook_path("02-live-cim-dashboard.ipynb")))
    nb = parameterize_notebook(nb, dashboard_parameters(**values))
    path = folder / "dashboard.ipynb"
    nbformat.write(nb, str(path))
    return path


def _where(connection) -> str:
    return f"embedded at {connection.url}" if connection.server is not None else "remote"


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", int(port)))
        except OSError:
            return False
    return True


def _listening(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:``port`` (a connect, never a bind, which
    could take the port from under Voilà)."""
    try:
        socket.create_connection(("127.0.0.1", int(port)), timeout=0.5).close()
    except OSError:
        return False
    return True


def _become_subreaper() -> None:
    """Orphaned descendants (a kernel whose Voilà died) are re-parented to this process, not to init."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _stop_voila(voila, grace: float) -> None:
    if voila is None or voila.poll() is not None:
        return
    voila.send_signal(signal.SIGTERM)  # Voilà stops its loop and shuts its kernels down
    try:
        voila.wait(grace)
    except Exception:
        voila.kill()
        voila.wait(5)


def _reap_descendants(psutil, keep: set[int], timeout: float = 5.0) -> None:
    """SIGTERM every descendant not in ``keep``, then SIGKILL those still there after ``timeout`` s."""
    me = psutil.Process()
    procs = [p for p in me.children(recursive=True) if p.pid not in keep]
    for p in procs:
        try:
            p.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    for p in alive:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=timeout)  # as their parent (or subreaper), collect their exit statuses
