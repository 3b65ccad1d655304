"""A real analysis agent as a NATS micro service: discovery, request/reply, insights, timeout."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import networkx as nx
import pytest

from alchemist.errors import AgentError, AgentTimeout

pytestmark = pytest.mark.integration

EDGES = [("a", "b"), ("b", "c"), ("c", "a"), ("d", "e"), ("e", "f"), ("f", "d"), ("c", "d")]


@pytest.fixture
def agent_process(nats_server, tmp_path):
    env = {**os.environ, "ALCHEMIST_HOME": str(tmp_path / "agent-home")}
    proc = subprocess.Popen([sys.executable, "-m", "alchemist.cli", "agent", "analysis", "--url", nats_server.url,
                             "--metrics-port", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                            text=True)
    line = proc.stdout.readline()
    assert "agent analysis serving" in line, line
    yield proc, line
    proc.send_signal(signal.SIGTERM)
    proc.wait(30)


def test_discovery_request_reply_and_insights(conn, agent_process, tmp_path):
    path = tmp_path / "edges.txt"
    path.write_text("".join(f"{u} {v} {i}\n" for i, (u, v) in enumerate(EDGES, start=1)))
    conn.replay(path, graph_id="tri", batch=100)
    found = conn.discover_agents("central_nodes")
    assert [a["name"] for a in found] == ["analysis"]
    assert {"communities", "central_nodes", "layout"} <= set(found[0]["capabilities"])
    assert conn.discover_agents("no-such-capability") == []

    answer = conn.request("analysis", "central_nodes", {"graph_id": "tri", "top": 3}, timeout=60,
                          correlation_id="corr-1")
    G = nx.DiGraph(EDGES)
    expected = sorted(nx.pagerank(G).items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    assert [c["node"] for c in answer["central_nodes"]] == [n for n, _ in expected]
    assert answer["central_nodes"][0]["pagerank"] == pytest.approx(expected[0][1], rel=1e-6)
    assert answer["_headers"]["Cim-Correlation-Id"] == "corr-1"

    communities = conn.request("analysis", "communities", {"graph_id": "tri"}, timeout=60)
    assert sorted(map(sorted, communities["communities"])) == [["a", "b", "c"], ["d", "e", "f"]]
    layout = conn.request("analysis", "layout", {"graph_id": "tri", "iterations": 20}, timeout=60)
    assert set(layout["positions"]) == set("abcdef")

    with pytest.raises(AgentError, match="graph_id"):
        conn.request("analysis", "communities", {}, timeout=60)

    seen = []
    counts = conn.consume_insights(seen.append, max_messages=3, timeout=5)
    assert counts == {"acked": 3, "naked": 0, "dead_lettered": 0}
    assert [s["kind"] for s in seen] == ["central_nodes", "communities", "layout"]
    assert seen[0]["_headers"]["Cim-Correlation-Id"] == "corr-1"
    assert seen[0]["_headers"]["Cim-Causation-Id"] == answer["_headers"]["Cim-Request-Id"]

    metrics_url = agent_process[1].rsplit("metrics at ", 1)[1].strip()
    assert "alchemist_events_received" in urllib.request.urlopen(metrics_url, timeout=10).read().decode()


def test_insight_handler_error_is_nacked_and_redelivered(conn):
    conn.run(conn.js.publish("ai.insights.graph", json.dumps({"kind": "test", "n": 1}).encode()))
    calls = []

    def flaky(insight):
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise RuntimeError("not now")

    first = conn.consume_insights(flaky, max_messages=1, timeout=5, nak_delay=0.5)
    assert first == {"acked": 0, "naked": 1, "dead_lettered": 0}
    second = conn.consume_insights(flaky, max_messages=1, timeout=10)
    assert second == {"acked": 1, "naked": 0, "dead_lettered": 0}
    assert calls[1] - calls[0] >= 0.4  # redelivered after the nak delay


def test_request_without_agent_times_out(conn):
    with pytest.raises(AgentTimeout, match="no agent 'nobody'"):
        conn.request("nobody", "anything", {}, timeout=0.5)


def test_discovery_with_no_agent_listening_is_an_empty_list(conn):
    # the server answers $SRV.INFO with a no-responders status (503, empty body) when no service
    # listens: nats-py's own request sees it as NoRespondersError
    from nats.errors import NoRespondersError

    async def raw_info():
        await conn.nc.request("$SRV.INFO", b"", timeout=2)

    with pytest.raises(NoRespondersError):
        conn.run(raw_info())
    assert conn.discover_agents() == []
    assert conn.discover_agents("central_nodes") == []

    # a responder on $SRV.INFO that is not a micro service (not a JSON object) is no agent either
    async def foreign():
        async def answer(msg):
            await msg.respond(b"not json")

        return await conn.nc.subscribe("$SRV.INFO", cb=answer)

    sub = conn.run(foreign())
    try:
        assert conn.discover_agents() == []
    finally:
        conn.run(sub.unsubscribe())


def test_discovery_ignores_replies_that_are_not_micro_services(conn):
    """Foreign responders on $SRV.INFO: nested deeper than the JSON parser goes, an object whose
    metadata is not an object, invalid UTF-8 — none is an agent and none raises."""
    replies = [b"[" * 100_000 + b"]" * 100_000, json.dumps({"name": "odd", "metadata": ["x"]}).encode(), b"\xff\xfe"]

    async def foreign():
        subs = []
        for body in replies:
            async def answer(msg, body=body):
                await msg.respond(body)

            subs.append(await conn.nc.subscribe("$SRV.INFO", cb=answer))
        return subs

    subs = conn.run(foreign())
    try:
        found = conn.discover_agents()
        assert [(a["name"], a["capabilities"]) for a in found] == [("odd", [])]
        assert conn.discover_agents("layout") == []
    finally:
        for sub in subs:
            conn.run(sub.unsubscribe())
