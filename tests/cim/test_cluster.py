"""A real 3-node JetStream cluster on loopback (tests/cim/cluster.py): streams with three replicas,
and the stream leader killed with SIGKILL in the middle of a replay (issue 13)."""

from __future__ import annotations

import inspect
import threading
import time

import pytest

from alchemist.cim import connect
from alchemist.cim.streams import DLQ_STREAM, INSIGHTS_STREAM

pytestmark = pytest.mark.integration


def drain(conn, timeout: float = 30.0) -> None:
    """Empty the connection's outbox onto the cluster within ``timeout`` seconds."""
    if "timeout" in inspect.signature(conn.flush_outbox).parameters:
        conn.flush_outbox(timeout=timeout)
    else:  # before Connection.flush_outbox(timeout=) existed: one pass per try
        deadline = time.monotonic() + timeout
        while len(conn.outbox) and time.monotonic() < deadline:
            conn.flush_outbox()
            time.sleep(0.5)
    assert len(conn.outbox) == 0


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
            drain(conn)
        graph = conn.graph("college", live=False)
        assert graph.rejected == []
        assert (graph.number_of_nodes(), graph.number_of_edges(), graph.version) == (n_nodes, lines,
                                                                                     1 + n_nodes + lines)
        after = conn.stream_info()
        assert after.cluster.leader in set(cluster3.servers) - {leader}
    finally:
        conn.close()
