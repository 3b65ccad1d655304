"""Child processes die with their parent (issue 13): a parent killed with SIGKILL runs no clean-up,
yet its ``nats-server`` must stop and free its port. The child is found through
``/proc/<pid>/task/*/children`` and watched through ``/proc/<pid>/stat`` (Linux)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from alchemist.cim.server import free_port

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux's")]


def children(pid: int) -> list[int]:
    """PIDs of a process's children, from every thread's ``children`` file."""
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def comm(pid: int) -> str:
    return Path(f"/proc/{pid}/comm").read_text().strip()


def alive(pid: int) -> bool:
    """Running (a zombie waiting for a reaper has exited)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def nats_child(pid: int, timeout: float = 30.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [c for c in children(pid) if comm(c) == "nats-server"]
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"no nats-server child of {pid}")


def wait_gone(pid: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def reap():
    """PIDs to SIGKILL at the end whatever happened (the processes these tests start)."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_alchemist_server_killed_with_sigkill_takes_nats_server_along(tmp_path, reap):
    port = free_port()
    parent = subprocess.Popen([sys.executable, "-m", "alchemist.cli", "server", "--data-dir", str(tmp_path / "js"),
                               "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    reap.append(parent.pid)
    url = parent.stdout.readline().strip()
    assert url == f"nats://127.0.0.1:{port}" and listening(port)
    server = nats_child(parent.pid)
    reap.append(server)
    parent.kill()  # SIGKILL: no signal handler, no atexit
    parent.wait()
    assert wait_gone(server), f"nats-server {server} outlived its parent"
    deadline = time.monotonic() + 10
    while listening(port) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not listening(port)
    # the port can be bound again
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))


SCRIPT = textwrap.dedent("""
    import os, sys, threading, time
    from alchemist.cim import connect

    holder = {}

    def open_it():
        holder["conn"] = connect(outbox=sys.argv[1] + "/outbox.sqlite", data_dir=sys.argv[1] + "/js")

    if sys.argv[2] == "thread":  # connect from a short-lived thread, which then ends
        worker = threading.Thread(target=open_it)
        worker.start()
        worker.join()
    else:
        open_it()
    print(holder["conn"].server.url, holder["conn"].server.process.pid, flush=True)
    time.sleep(600)
""")


@pytest.mark.parametrize("where", ["main", "thread"])
def test_embedded_server_of_a_killed_process_stops(tmp_path, reap, where):
    parent = subprocess.Popen([sys.executable, "-c", SCRIPT, str(tmp_path), where], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env={**os.environ, "ALCHEMIST_HOME": str(tmp_path)})
    reap.append(parent.pid)
    line = parent.stdout.readline().split()
    assert line, parent.stderr.read()
    url, server = line[0], int(line[1])
    reap.append(server)
    port = int(url.rsplit(":", 1)[1])
    assert comm(server) == "nats-server"
    # the thread that connected has ended: the server is still there, serving
    time.sleep(0.5)
    assert alive(server) and listening(port)
    parent.kill()
    parent.wait()
    assert wait_gone(server), f"nats-server {server} outlived its parent"
    assert not listening(port)
