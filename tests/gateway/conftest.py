"""A real nats-server and a real gateway (uvicorn on a free loopback port, in a thread) per test.

``gateway_factory(settings=None, connection=None)`` starts one more gateway instance (over the same
CIM by default), so tests can run two instances side by side; every instance is stopped at the
end of the test.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

import pytest

from alchemist.cim import EmbeddedServer, connect


@pytest.fixture
def nats_server(tmp_path):
    server = EmbeddedServer(data_dir=tmp_path / "jetstream").start()
    yield server
    server.stop()


@pytest.fixture
def conn(nats_server, tmp_path):
    connection = connect(nats_server.url, outbox=tmp_path / "outbox.sqlite")
    yield connection
    connection.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RunningGateway:
    app: object
    server: object
    thread: threading.Thread
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@pytest.fixture
def gateway_factory(conn):
    import uvicorn

    from alchemist.gateway import create_app

    running: list[RunningGateway] = []

    def start(settings=None, connection=None) -> RunningGateway:
        app = create_app(connection or conn, settings)
        port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name=f"gateway-{port}", daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the gateway did not start")
            time.sleep(0.02)
        gw = RunningGateway(app, server, thread, port)
        running.append(gw)
        return gw

    yield start
    for gw in running:
        gw.stop()


@pytest.fixture
def gateway(gateway_factory):
    """One gateway with the default settings (anonymous read and write) over ``conn``."""
    return gateway_factory()
