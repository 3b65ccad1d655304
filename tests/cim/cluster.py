"""A real JetStream cluster on loopback for tests: ``nats-server`` processes with ``-js``, server
names, one cluster name, routes to each other, distinct client and cluster ports and store
folders (NATS's own cluster tests do the same in Go)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from alchemist.cim.server import EmbeddedServer, free_port

__all__ = ["Cluster"]


class Cluster:
    """``size`` clustered ``nats-server -js`` nodes named ``n1``, ``n2``, ... under ``root``.

    Parameters
    ----------
    root : Path
        Each node stores under ``root/<name>/jetstream`` and logs to ``root/<name>/``.
    size : int
        Nodes (3 for replicas=3).
    name : str
        The cluster name.

    Attributes
    ----------
    servers : dict of str to EmbeddedServer
        The nodes by server name (the names JetStream reports as stream leaders).
    """

    def __init__(self, root: Path, size: int = 3, name: str = "alchemist-test"):
        self.root = Path(root)
        self.name = name
        names = [f"n{i + 1}" for i in range(size)]
        routes = {n: free_port() for n in names}
        self.servers: dict[str, EmbeddedServer] = {}
        for node in names:
            others = ",".join(f"nats://127.0.0.1:{routes[o]}" for o in names if o != node)
            self.servers[node] = EmbeddedServer(
                data_dir=self.root / node / "jetstream", port=free_port(),
                args=["-n", node, "--cluster_name", name, "--cluster", f"nats://127.0.0.1:{routes[node]}",
                      "--routes", others])

    @property
    def urls(self) -> list[str]:
        """Client URLs of every node."""
        return [s.url for s in self.servers.values()]

    @property
    def url(self) -> str:
        """The client URLs comma separated (what ``connect`` and ``--url`` take)."""
        return ",".join(self.urls)

    def start(self, timeout: float = 30.0) -> "Cluster":
        """Start every node and wait until JetStream has a meta leader (it answers ``$JS.API.INFO``
        on every node)."""
        try:
            for server in self.servers.values():
                server.start()
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Block until every running node answers ``$JS.API.INFO`` without error."""
        import nats

        async def ready(url: str) -> bool:
            try:
                nc = await nats.connect(url, connect_timeout=1, max_reconnect_attempts=0, allow_reconnect=False)
            except Exception:
                return False
            try:
                msg = await nc.request("$JS.API.INFO", b"", timeout=1)
                return "error" not in json.loads(msg.data)
            except Exception:
                return False
            finally:
                await nc.close()

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            urls = [s.url for s in self.servers.values() if s.running]
            if all(asyncio.run(ready(u)) for u in urls):
                return
            time.sleep(0.2)
        raise TimeoutError(f"JetStream cluster {self.name} has no meta leader after {timeout} s")

    def stream_info(self, name: str) -> dict | None:
        """``$JS.API.STREAM.INFO`` of a stream as the server's JSON (``cluster.leader`` names the
        leader), asked of a running node on a client of its own; None while there is none or no
        answer."""
        import nats

        async def ask(url: str):
            nc = await nats.connect(url, connect_timeout=1, max_reconnect_attempts=0, allow_reconnect=False)
            try:
                return json.loads((await nc.request(f"$JS.API.STREAM.INFO.{name}", b"", timeout=2)).data)
            finally:
                await nc.close()

        for server in self.servers.values():
            if server.running:
                try:
                    info = asyncio.run(ask(server.url))
                except Exception:
                    continue
                return None if "error" in info else info
        return None

    def kill(self, node: str) -> None:
        """SIGKILL one node, as a crash would."""
        self.servers[node].kill()

    def stop(self) -> None:
        """Stop every node (SIGTERM, then SIGKILL)."""
        for server in self.servers.values():
            server.stop()

    def __enter__(self) -> "Cluster":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
