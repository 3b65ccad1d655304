"""Content-addressed objects and graph snapshots on real JetStream buckets."""

import os

import pytest

from alchemist.cim import LRUCache
from alchemist.cim.replay import edge_list_events
from alchemist.errors import CIDMismatchError, ObjectNotFoundError
from alchemist.events import cid, new_event
from alchemist.graph.io import read_edge_list

pytestmark = pytest.mark.integration


def test_put_get_dedup_progress_and_corruption(conn):
    store = conn.objects
    data = os.urandom(1_300_000)  # three chunks of 512 KiB
    calls = []
    key = store.put(data, progress=lambda done, total: calls.append((done, total)))
    assert key == cid(data)
    assert calls[-1] == (len(data), len(data)) and len(calls) >= 3  # several chunks
    info = conn.run(conn.js.stream_info("OBJ_alchemist-objects"))
    stored_bytes = info.state.bytes
    assert store.put(data) == key  # same content: not stored again
    assert conn.run(conn.js.stream_info("OBJ_alchemist-objects")).state.bytes == stored_bytes
    store.cache = LRUCache(10)  # an empty cache: read from the server
    got = []
    assert store.get(key, progress=lambda d, t: got.append(d)) == data and got[-1] == len(data)
    with pytest.raises(ObjectNotFoundError):
        store.get(cid(b"never stored"))
    # corrupt content under a CID: refused
    wrong = cid(b"something else")
    conn.run(store._bucket())
    conn.run(store._store.put(wrong, b"not the content of that CID"))
    with pytest.raises(CIDMismatchError):
        store.get(wrong)


def test_lru_cache_respects_its_byte_budget():
    cache = LRUCache(max_bytes=100)
    for i in range(5):
        cache.put(f"k{i}", bytes(30))
    assert cache.bytes <= 100 and len(cache) == 3 and "k0" not in cache and "k4" in cache
    cache.get("k2")
    cache.put("k5", bytes(30))
    assert "k2" in cache and "k3" not in cache
    cache.put("huge", bytes(1000))
    assert "huge" not in cache


def test_snapshot_then_tail_replay_equals_full_replay(conn, shared_data, tmp_path):
    college = shared_data("temporal_graphs/CollegeMsg.txt.gz")
    edges = read_edge_list(college)
    conn.replay(edges, graph_id="snap", batch=1000)
    graph = conn.graph("snap", live=False)
    pointer = conn.save_snapshot(graph)
    assert pointer["sequence"] == graph.last_sequence and pointer["version"] == graph.version
    last = conn.last_event("snap")
    tail = [new_event("node_added", "snap", {"node_id": "after-snapshot"}, previous_cid=last.cid)]
    tail.append(new_event("node_updated", "snap", {"node_id": "1", "label": "first"}, previous_cid=tail[0].cid))
    conn.publish_many(tail, batch=1)
    loaded = conn.graph("snap", live=False, snapshot=True)
    full = conn.graph("snap", live=False)
    assert loaded.version == full.version == graph.version + 2
    assert loaded.nodes.equals(full.nodes) and loaded.edges.equals(full.edges)
    # the events before the snapshot are not applied again when they come back
    again = conn.publish_many(list(edge_list_events(edges, "snap"))[:100], batch=50)
    assert again.published == 100
    assert conn.graph("snap", live=False, snapshot=True).version == full.version


def test_graph_imported_event_equals_the_file(conn, shared_data, file_counts):
    from alchemist.graph import Graph

    path = shared_data("temporal_graphs/CollegeMsg.txt.gz")
    lines, nodes = file_counts(path)
    result = conn.import_graph(path, graph_id="imported")
    assert result.messages == 2 and result.published == 1 + nodes + lines
    graph = conn.graph("imported", live=False)
    expected = Graph.from_edge_list(read_edge_list(path), graph_id="imported", directed=True)
    assert graph.rejected == []
    assert graph.version == expected.version
    assert graph.nodes.equals(expected.nodes) and graph.edges.equals(expected.edges)


def test_replay_import_from_the_command_line(nats_server, shared_data, file_counts, tmp_path):
    import json
    import os
    import subprocess
    import sys

    path = shared_data("temporal_graphs/CollegeMsg.txt.gz")
    lines, nodes = file_counts(path)
    env = {**os.environ, "ALCHEMIST_HOME": str(tmp_path / "home")}
    cli = [sys.executable, "-m", "alchemist.cli"]
    out = subprocess.run([*cli, "replay", str(path), "--url", nats_server.url, "--graph-id", "cli", "--import",
                          "--json"], env=env, capture_output=True, text=True, timeout=300, check=True)
    assert json.loads(out.stdout)["published"] == 1 + nodes + lines
    out = subprocess.run([*cli, "stats", "--url", nats_server.url, "--graph-id", "cli", "--json"], env=env,
                         capture_output=True, text=True, timeout=300, check=True)
    assert json.loads(out.stdout) == {"nodes": nodes, "edges": lines, "version": 1 + nodes + lines,
                                      "dead_lettered": 0}
