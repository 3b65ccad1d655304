"""``alchemist serve`` as a process: it starts on the embedded CIM, answers /graphql, and stops cleanly
(SIGTERM: exit 0, Ctrl-C: exit 130); a port in use is one line and exit 2."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import psutil
import pytest

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(tmp_path, *args):
    env = {**os.environ, "ALCHEMIST_HOME": str(tmp_path / "home")}
    for name in ("ALCHEMIST_NATS_URL", "NATS_URL"):
        env.pop(name, None)
    return subprocess.Popen([sys.executable, "-m", "alchemist.cli", "serve", *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_until_answering(process, url, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"alchemist serve exited with {process.returncode}: {process.stderr.read()}")
        try:
            response = httpx.post(url, json={"query": "{ graphs { totalCount } }"}, timeout=5)
            if response.status_code == 200:
                return response.json()
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("alchemist serve did not answer in time")


@pytest.fixture
def processes():
    started = []
    yield started
    for process in started:  # reap what a failed test left running, by PID
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


@pytest.mark.parametrize("sig, status", [(signal.SIGTERM, 0), (signal.SIGINT, 130)])
def test_serve_answers_graphql_and_stops_cleanly(tmp_path, processes, sig, status):
    port = free_port()
    process = start(tmp_path, "--port", port, "--log-level", "warning")
    processes.append(process)
    url = f"http://127.0.0.1:{port}/graphql"
    assert wait_until_answering(process, url) == {"data": {"graphs": {"totalCount": 0}}}
    created = httpx.post(url, json={"query": 'mutation { createGraph(input: {id: "cli", name: "C"}) { id version } }'},
                         timeout=30).json()
    assert created == {"data": {"createGraph": {"id": "cli", "version": 1}}}
    ide = httpx.get(url, headers={"Accept": "text/html"}, timeout=10)
    assert ide.status_code == 200 and "graphiql" in ide.text.lower()
    children = psutil.Process(process.pid).children(recursive=True)
    assert any("nats-server" in c.name() for c in children)  # the embedded CIM
    process.send_signal(sig)
    out, err = process.communicate(timeout=60)
    assert process.returncode == status, err
    assert f"127.0.0.1:{port}/graphql" in out
    with socket.socket() as s:  # the port is free again
        s.bind(("127.0.0.1", port))
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]  # stopped with it


def test_a_port_in_use_is_one_line_and_exit_2(tmp_path, processes):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        process = start(tmp_path, "--port", port)
        processes.append(process)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0] and "--port" in lines[0], err
