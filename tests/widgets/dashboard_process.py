"""``alchemist dashboard`` run as a user runs it: a subprocess, its URL read from its output, its
process tree watched with psutil (used by tests/widgets/test_dashboard_command.py and the browser test)."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Whether a server could listen on the port now (as servers do, with SO_REUSEADDR: connections
    of the old one left in TIME_WAIT do not count)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class Dashboard:
    """``alchemist dashboard --no-browser --port P [args]`` in a temporary ``ALCHEMIST_HOME``."""

    def __init__(self, tmp_path: Path, *args: str, timeout: float = 180):
        self.port = free_port()
        env = dict(os.environ, ALCHEMIST_HOME=str(tmp_path / "home"), JUPYTER_CONFIG_DIR=str(tmp_path / "jcfg"),
                   JUPYTER_RUNTIME_DIR=str(tmp_path / "jrt"), PYTHONPATH=str(ROOT / "src"))
        for name in ("ALCHEMIST_NATS_URL", "NATS_URL"):
            env.pop(name, None)
        self.lines: list[str] = []
        self._queue: queue.Queue = queue.Queue()
        self.proc = subprocess.Popen([sys.executable, "-m", "alchemist.cli", "dashboard", "--no-browser", "--port",
                                      str(self.port), *args], cwd=str(tmp_path), env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, start_new_session=True)
        threading.Thread(target=self._read, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.port}/"
        try:
            self._wait_for_line(re.escape(f"alchemist dashboard: {self.url}"), timeout)
            self._wait_for_port(timeout)
        except BaseException:
            self.kill()
            raise

    def output(self) -> str:
        return "".join(self.lines)

    def descendants(self) -> list[psutil.Process]:
        return psutil.Process(self.proc.pid).children(recursive=True)

    def wait_for_processes(self, names: set[str], timeout: float = 180) -> list[psutil.Process]:
        """Wait until the command's descendants include each kind in ``names`` (``voila``,
        ``kernel``, ``nats-server``); returns the descendants then."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            procs = self.descendants()
            if names <= {kind(p) for p in procs}:
                return procs
            if self.proc.poll() is not None:
                raise AssertionError(f"the dashboard exited ({self.proc.returncode}): {self.output()[-3000:]}")
            time.sleep(0.5)
        raise AssertionError(f"no {names} among {[kind(p) for p in self.descendants()]} after {timeout} s: "
                             f"{self.output()[-3000:]}")

    def open_page_in_background(self) -> None:
        """GET the page (Voilà starts a kernel for it and runs the notebook) without waiting."""
        def get():
            try:
                urllib.request.urlopen(self.url, timeout=300).read()
            except Exception:
                pass

        threading.Thread(target=get, daemon=True).start()

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 90, *, group: bool = False) -> int:
        """Send ``signum`` to the command (``group``: to its whole process group, as a terminal's
        Ctrl-C does) and wait for its exit status."""
        if group:
            os.killpg(self.proc.pid, signum)  # the command leads its own group (start_new_session)
        else:
            self.proc.send_signal(signum)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        """Clean-up after a failed test: the command and everything under it."""
        procs = self.descendants() if self.proc.poll() is None else []
        for p in [*procs]:
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)
            self._queue.put(line)

    def _wait_for_line(self, pattern: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None:
                    raise AssertionError(f"the dashboard exited ({self.proc.returncode}): {self.output()[-3000:]}")
                continue
            if re.search(pattern, line):
                return line
        raise AssertionError(f"no line matching {pattern!r} in {timeout} s: {self.output()[-3000:]}")

    def _wait_for_port(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise AssertionError(f"the dashboard exited ({self.proc.returncode}): {self.output()[-3000:]}")
                time.sleep(0.3)
        raise AssertionError(f"Voilà did not listen on {self.port} in {timeout} s: {self.output()[-3000:]}")


def kind(p: psutil.Process) -> str:
    """``voila``, ``kernel``, ``nats-server`` or the process name."""
    try:
        cmd = " ".join(p.cmdline())
    except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
        return "gone"
    if "-m voila" in cmd:
        return "voila"
    if "ipykernel" in cmd:
        return "kernel"
    if "nats-server" in cmd:
        return "nats-server"
    return p.name()


def listening_ports(procs: list[psutil.Process]) -> set[int]:
    """TCP ports the processes listen on."""
    ports = set()
    for p in procs:
        try:
            ports |= {c.laddr.port for c in p.net_connections(kind="tcp") if c.status == psutil.CONN_LISTEN}
        except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
            pass
    return ports
