"""A real 3-node JetStream cluster on loopback (tests/cim/cluster.py): streams with three replicas,
and the stream leader killed with SIGKILL in the middle of a replay (issue 13)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest

from alchemist.cim import connect
from alchemist.cim.streams import DLQ_STREAM, INSIGHTS_STREAM

pytestmark = pytest.mark.integration


def test_streams_get_three_replicas_and_replicas_only_rise(cluster3, tmp_path):
    nodes = set(cluster3.servers)
    with connect(cluster3.url, outbox=tmp_path / "outbox.sqlite") as single:  # replicas=1 by default
        assert single.stream_info().config.num_replicas == 1
    with connect(cluster3.url, replicas=3, outbox=tmp_path / "outbox.sqlite") as conn:
        assert len(conn.options.servers) == 3
        for stream in (conn.graph_stream, INSIGHTS_STREAM, DLQ_STREAM):
            assert conn.stream_info(stream=stream).config.num_replicas == 3, stream
            deadline = time.monotonic() + 20  # the peers added by scaling up join the group
            while {(info := conn.stream_info(stream=stream)).cluster.leader,
                   *(r.name for r in info.cluster.replicas or ())} != nodes:
                assert time.monotonic() < deadline, (stream, info.cluster)
                time.sleep(0.1)
    # another client asking for fewer replicas does not scale alchemist's streams down
    with connect(cluster3.urls[1], outbox=tmp_path / "outbox.sqlite") as other:
        assert other.stream_info().config.num_replicas == 3


def test_stream_leader_sigkilled_mid_replay(cluster3, tmp_path, shared_data, file_counts):
    college = shared_data("temporal_graphs/CollegeMsg.txt.gz")
    lines, n_nodes = file_counts(college)
    conn = connect(cluster3.url, replicas=3, outbox=tmp_path / "outbox.sqlite", max_reconnects=-1,
                   reconnect_wait=0.2)
    try:
        outcome: dict = {}

        def replay() -> None:
            try:
                outcome["result"] = conn.replay(college, graph_id="college", batch=1000)
            except BaseException as exc:  # reported below
                outcome["error"] = exc

        worker = threading.Thread(target=replay)
        worker.start()
        deadline = time.monotonic() + 60
        while conn.stream_info("college").state.messages < 3:  # 3 of 62 messages stored
            assert worker.is_alive(), outcome
            assert time.monotonic() < deadline
            time.sleep(0.02)
        leader = conn.stream_info().cluster.leader
        cluster3.kill(leader)  # SIGKILL the stream leader
        killed_mid_replay = worker.is_alive()
        worker.join(120)
        assert not worker.is_alive() and "error" not in outcome, outcome
        assert killed_mid_replay
        result = outcome["result"]
        if result.queued:  # the replay said what it left behind: send it
            conn.flush_outbox(timeout=30)
            assert len(conn.outbox) == 0
        graph = conn.graph("college", live=False)
        assert graph.rejected == []
        assert (graph.number_of_nodes(), graph.number_of_edges(), graph.version) == (n_nodes, lines,
                                                                                     1 + n_nodes + lines)
        after = conn.stream_info()
        assert after.cluster.leader in set(cluster3.servers) - {leader}
    finally:
        conn.close()


def test_cli_replay_on_the_cluster_with_the_leader_killed(cluster3, tmp_path, shared_data, file_counts):
    """``alchemist replay --url u1,u2,u3 --replicas 3`` exits 0 (all stored) or 3 (some left queued,
    then sent by ``alchemist outbox flush``); ``alchemist stats`` then reads exactly the file's graph."""
    college = shared_data("temporal_graphs/CollegeMsg.txt.gz")
    lines, n_nodes = file_counts(college)
    env = {**os.environ, "ALCHEMIST_HOME": str(tmp_path / "home")}
    env.pop("ALCHEMIST_NATS_URL", None)
    cli = [sys.executable, "-m", "alchemist.cli"]
    where = ["--url", cluster3.url]
    replay = subprocess.Popen([*cli, "replay", str(college), *where, "--replicas", "3", "--graph-id", "cli",
                               "--batch", "1000", "--wait", "10", "--json"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while ((info := cluster3.stream_info("GRAPH_EVENTS")) is None or info["state"]["messages"] < 3):
            assert replay.poll() is None, replay.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert info["config"]["num_replicas"] == 3
        leader = info["cluster"]["leader"]
        cluster3.kill(leader)
        killed_mid_replay = replay.poll() is None
        out, err = replay.communicate(timeout=120)
    finally:
        if replay.poll() is None:
            replay.kill()
    assert killed_mid_replay
    assert replay.returncode in (0, 3), err
    report = json.loads(out)
    if replay.returncode == 3:
        assert report["queued"] > 0 and "outbox flush" in err
        flush = subprocess.run([*cli, "outbox", "flush", *where, "--wait", "30", "--json"], env=env,
                               capture_output=True, text=True, timeout=120)
        assert flush.returncode == 0, flush.stderr
        assert json.loads(flush.stdout)["events"] == 0
    else:
        assert report["queued"] == 0
    stats = subprocess.run([*cli, "stats", *where, "--graph-id", "cli", "--json"], env=env, capture_output=True,
                           text=True, timeout=120)
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout) == {"nodes": n_nodes, "edges": lines, "version": 1 + n_nodes + lines,
                                        "dead_lettered": 0}


def test_more_replicas_than_servers_is_one_clear_error(cluster3, tmp_path, monkeypatch):
    import alchemist.cim.streams as streams
    from alchemist.errors import CIMError

    monkeypatch.setattr(streams, "PLACEMENT_WAIT", 1.0)  # the wait for peers a starting cluster gets
    with pytest.raises(CIMError, match="wants 5 replicas"):
        connect(cluster3.url, replicas=5, outbox=tmp_path / "outbox.sqlite")
    with connect(cluster3.url, replicas=3, outbox=tmp_path / "outbox.sqlite") as conn:  # 3 fit
        assert conn.stream_info().config.num_replicas == 3
