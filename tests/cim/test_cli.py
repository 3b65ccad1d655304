"""The real ``alchemist`` command against real nats-servers: honest exit statuses, the outbox
commands, and the connection flags.

Exit statuses (alchemist --help): 0 every event stored, 2 error, 3 events left queued, 130
interrupted. Event counts are computed from the file independently (conftest.count_file):
1 graph_created + one node_added per distinct node + one edge_added per line.
"""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from alchemist.cim import EmbeddedServer, connect

from .conftest import count_file

pytestmark = pytest.mark.integration

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "samples" / "CollegeMsg.txt.gz"
QUEUED_LINE = re.compile(r"alchemist (?:replay|outbox): ([\d,]+) events queued in the outbox (\S+), not yet stored")


def alchemist(*args, env, timeout=240, **kwargs):
    return subprocess.run([sys.executable, "-m", "alchemist.cli", *map(str, args)], env=env, capture_output=True,
                          text=True, timeout=timeout, **kwargs)


def start_replay(*args, env):
    return subprocess.Popen([sys.executable, "-m", "alchemist.cli", "replay", *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture
def env(tmp_path):
    home = tmp_path / "home"
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("NATS_", "ALCHEMIST_NATS"))}
    return {**environment, "ALCHEMIST_HOME": str(home)}


@pytest.fixture
def sample_counts():
    lines, nodes = count_file(SAMPLE)
    return lines, nodes, 1 + nodes + lines


def read_graph(url, graph_id, tmp_path):
    with connect(url, outbox=tmp_path / "reader.sqlite") as reader:
        graph = reader.graph(graph_id, live=False)
    return graph


def wait_for_messages(watcher, graph_id, at_least, process):
    deadline = time.monotonic() + 120
    while watcher.stream_info(graph_id).state.messages < at_least:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_replay_complete_exits_0(nats_server, env, tmp_path, sample_counts):
    lines, nodes, events = sample_counts
    done = alchemist("replay", SAMPLE, "--url", nats_server.url, "--graph-id", "college", "--json", env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["published"], result["duplicates"], result["queued"], result["outbox"]) == (events, 0, 0, None)
    graph = read_graph(nats_server.url, "college", tmp_path)
    assert (graph.number_of_nodes(), graph.number_of_edges(), graph.version) == (nodes, lines, events)


def test_server_gone_exits_3_then_outbox_status_and_flush(tmp_path, env, sample_counts):
    lines, nodes, events = sample_counts
    server = EmbeddedServer(data_dir=tmp_path / "js").start()
    outbox = Path(env["ALCHEMIST_HOME"]) / "outbox.sqlite"
    watcher = connect(server.url, outbox=tmp_path / "watcher.sqlite", max_reconnects=-1, reconnect_wait=0.2)
    try:
        replay = start_replay(SAMPLE, "--url", server.url, "--graph-id", "gone", "--batch", "10", "--wait", "2",
                              env=env)
        wait_for_messages(watcher, "gone", 100, replay)  # about 1,000 of 61,735 events stored
        server.kill()  # SIGKILL, not restarted
        out, err = replay.communicate(timeout=180)
        assert replay.returncode == 3, err
        match = QUEUED_LINE.search(err.strip().splitlines()[-1])
        assert match, err
        queued = int(match.group(1).replace(",", ""))
        assert Path(match.group(2)) == outbox
        # events stored whose acknowledgement never reached the client count as queued too (on a
        # loaded machine that can be every one): the flush below has JetStream de-duplicate them
        assert 0 < queued <= events

        status = alchemist("outbox", "status", "--json", env=env)
        assert status.returncode == 3, status.stderr
        assert json.loads(status.stdout)["events"] == queued
        assert json.loads(status.stdout)["outbox"] == str(outbox)

        server.start()  # the same port and store
        flush = alchemist("outbox", "flush", "--url", server.url, "--json", env=env)
        assert flush.returncode == 0, flush.stderr
        assert json.loads(flush.stdout)["events"] == 0
        assert alchemist("outbox", "status", env=env).returncode == 0
        graph = watcher.graph("gone", live=False)
    finally:
        watcher.close()
        server.stop()
    assert graph.rejected == []
    assert (graph.number_of_nodes(), graph.number_of_edges(), graph.version) == (nodes, lines, events)


def test_server_back_within_the_wait_exits_0_complete(tmp_path, env, sample_counts):
    lines, nodes, events = sample_counts
    server = EmbeddedServer(data_dir=tmp_path / "js").start()
    watcher = connect(server.url, outbox=tmp_path / "watcher.sqlite", max_reconnects=-1, reconnect_wait=0.2)
    try:
        replay = start_replay(SAMPLE, "--url", server.url, "--graph-id", "back", "--batch", "10", "--json",
                              env=env)
        wait_for_messages(watcher, "back", 100, replay)
        server.kill()
        time.sleep(3.0)
        server.start()
        out, err = replay.communicate(timeout=240)
        assert replay.returncode == 0, err
        result = json.loads(out)
        assert result["queued"] == 0
        assert result["published"] + result["duplicates"] + result["flushed"] >= events
        graph = watcher.graph("back", live=False)
    finally:
        watcher.close()
        server.stop()
    assert graph.rejected == []
    assert (graph.number_of_nodes(), graph.number_of_edges(), graph.version) == (nodes, lines, events)


@pytest.mark.parametrize("auth, flags", [
    (["--auth", "s3cret-token"], ["--token", "s3cret-token"]),
    (["--user", "alice", "--pass", "pa55word"], ["--user", "alice", "--password", "pa55word"]),
])
def test_credential_flags(tmp_path, env, auth, flags, sample_counts):
    lines, nodes, events = sample_counts
    server = EmbeddedServer(data_dir=tmp_path / "js", args=auth).start()
    try:
        refused = alchemist("stats", "--graph-id", "secured", "--url", server.url, "--json", env=env)
        assert refused.returncode == 2 and "refused the credentials" in refused.stderr
        done = alchemist("replay", SAMPLE, "--url", server.url, "--graph-id", "secured", "--json", *flags, env=env)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["published"] == events
        stats = alchemist("stats", "--graph-id", "secured", "--url", server.url, "--json", *flags, env=env)
        assert stats.returncode == 0, stats.stderr
        assert (json.loads(stats.stdout)["nodes"], json.loads(stats.stdout)["edges"]) == (nodes, lines)
        wrong = alchemist("stats", "--graph-id", "secured", "--url", server.url, *flags[:-1], "wrong-secret", env=env)
        assert wrong.returncode == 2 and "refused the credentials" in wrong.stderr
        for output in (done, stats, wrong):  # the secret is never echoed
            assert flags[-1] not in output.stdout + output.stderr and "wrong-secret" not in wrong.stderr
    finally:
        server.stop()


def test_bad_flags_exit_2_on_one_line(env, tmp_path):
    done = alchemist("replay", SAMPLE, "--password", "pw-zz9", "--url", "nats://127.0.0.1:1", env=env)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "--user" in done.stderr and "pw-zz9" not in done.stderr
    missing = alchemist("replay", tmp_path / "nope.txt", env=env)
    assert missing.returncode == 2 and "nope.txt" in missing.stderr
    helped = alchemist("--help", env=env)
    assert all(f"\n  {status}  " in helped.stdout for status in (0, 2, 3, 130))
