"""SIGKILL the server in the middle of replaying 61,735 real events, restart it, finish."""

import json
import os
import subprocess
import sys
import time

import pytest

from alchemist.cim import connect
from alchemist.cim.publisher import WINDOW_EVENTS
from alchemist.graph import Graph
from alchemist.graph.io import read_edge_list

pytestmark = pytest.mark.integration


def test_server_killed_mid_replay(nats_server, tmp_path, shared_data):
    college = shared_data("temporal_graphs/CollegeMsg.txt.gz")
    env = {**os.environ, "ALCHEMIST_HOME": str(tmp_path / "home")}
    command = [sys.executable, "-m", "alchemist.cli", "replay", str(college), "--url", nats_server.url,
               "--graph-id", "crash", "--batch", "40", "--json"]
    replay = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watcher = connect(nats_server.url, outbox=tmp_path / "watcher.sqlite", max_reconnects=-1, reconnect_wait=0.2)
    try:
        deadline = time.monotonic() + 120
        while watcher.stream_info("crash").state.messages < 200:  # some 8,000 events in
            assert replay.poll() is None, replay.stderr.read()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        nats_server.kill()  # SIGKILL, mid-replay
        killed_at = time.monotonic()
        time.sleep(1.0)
        nats_server.start()  # same port, same storage
        try:
            replay.wait(timeout=180)
        except subprocess.TimeoutExpired:
            replay.kill()
        assert time.monotonic() - killed_at > 1.0
        # finish: the same command again resumes after the last stored event (or finds it all there)
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=True)
        result = json.loads(done.stdout)
        graph = watcher.graph("crash", live=False)
        stored = watcher.events("crash")  # in stream order
    finally:
        if replay.poll() is None:
            replay.kill()
        watcher.close()
    expected = Graph.from_edge_list(read_edge_list(college), graph_id="crash", directed=True)
    assert result["published"] + result["duplicates"] > 0
    assert graph.rejected == []
    assert graph.version == expected.version  # every event applied exactly once
    assert graph.nodes.equals(expected.nodes) and graph.edges.equals(expected.edges)
    # the outage may store events out of order, but never further than the publisher's window of
    # unacknowledged events, which consumers can park (DEFAULT_MAX_PARKED is five times that)
    position = {e.cid: k for k, e in enumerate(stored)}
    ahead = [k - position[e.previous_cid] for k, e in enumerate(stored) if e.previous_cid in position]
    assert len(stored) == expected.version and len(ahead) == len(stored) - 1
    assert -min(ahead) <= WINDOW_EVENTS
