"""A real nats-server per test: its own temporary data folder and free port."""

from __future__ import annotations

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


def count_file(path) -> tuple[int, int]:
    """(lines, distinct nodes) of a SNAP edge list, counted with the standard library only."""
    import gzip

    opener = gzip.open if str(path).endswith(".gz") else open
    lines, nodes = 0, set()
    with opener(path, "rt") as fh:
        for line in fh:
            if line.startswith(("#", "%")) or not line.strip():
                continue
            a, b = line.split()[:2]
            nodes.update((a, b))
            lines += 1
    return lines, len(nodes)


@pytest.fixture
def file_counts():
    """``file_counts(path) -> (lines, distinct nodes)``, counted independently of alchemist."""
    return count_file


@pytest.fixture
def cluster3(tmp_path):
    """A 3-node JetStream cluster on loopback (``tests/cim/cluster.py``), reaped even on failure."""
    from .cluster import Cluster

    cluster = Cluster(tmp_path / "cluster", size=3)
    try:
        yield cluster.start()
    finally:
        cluster.stop()
