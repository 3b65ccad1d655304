"""Agents you can act on, on a real nats-server with the analysis agent on its own connection:
progress while a request runs, typed suggestions, accept (events caused by the insight, positions
folded), reject (recorded), a suggestion decided once, the circuit breaker, health, and discovery
with no agent."""

from __future__ import annotations

import json
import threading

import networkx as nx
import numpy as np
import pytest

from alchemist.cim import connect
from alchemist.cim.agent_requests import AgentRequests
from alchemist.cim.agents import Agent, AnalysisAgent
from alchemist.cim.suggestions import accept_suggestion, decision_of, make_suggestion, reject_suggestion
from alchemist.errors import AgentError, AgentTimeout, AgentUnavailableError

pytestmark = pytest.mark.integration

EDGES = [("a", "b"), ("b", "c"), ("c", "a"), ("d", "e"), ("e", "f"), ("f", "d"), ("c", "d")]


@pytest.fixture
def agent_conn(nats_server, tmp_path):
    """The analysis agent served on a second connection to the same server (a separate NATS client)."""
    connection = connect(nats_server.url, outbox=tmp_path / "agent-outbox.sqlite")
    connection.serve_agent(AnalysisAgent())
    yield connection
    connection.close()


@pytest.fixture
def graph(conn, tmp_path):
    path = tmp_path / "edges.txt"
    path.write_text("".join(f"{u} {v} {i}\n" for i, (u, v) in enumerate(EDGES, start=1)))
    assert conn.replay(path, graph_id="tri", batch=100).complete
    return "tri"


def brute_force_preservation(positions: dict, edges) -> float:
    """Neighbourhood preservation by all pairwise distances (no KD-tree), from the edge list."""
    G = nx.Graph(edges)
    nodes = sorted(positions)
    xy = np.array([positions[n] for n in nodes], dtype=np.float64)
    dist = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    scores = []
    for i, n in enumerate(nodes):
        neigh = set(G[n])
        order = [nodes[j] for j in np.argsort(dist[i], kind="stable") if j != i][:len(neigh)]
        scores.append(len(neigh & set(order)) / len(neigh | set(order)))
    return float(np.mean(scores))


def test_layout_suggestion_progress_accept_and_positions_folded(conn, agent_conn, graph):
    states, messages = [], []

    def changed(req):
        states.append(req.state)
        messages.append(req.message)

    req = conn.agent_requests.submit("analysis", "suggest_layout", {"graph_id": graph, "iterations": 50},
                                     timeout=120, correlation_id="corr-layout", on_change=changed)
    suggestion = req.wait(150)
    assert req.state == "done" and states[-1] == "done"
    assert "running" in states and states.index("running") < states.index("done")
    assert messages[0] == "analysis started suggest_layout"
    assert "folding graph 'tri'" in messages and "ForceAtlas2: 50/50 iterations" not in messages
    assert any(m.startswith("ForceAtlas2: ") and m.endswith("/50 iterations") for m in messages)
    assert len(req.progress) == int(req.reply["_headers"]["Cim-Progress-Count"])  # every report was seen

    assert suggestion.kind == "layout" and suggestion.agent == "analysis" and suggestion.graph_id == graph
    assert suggestion.correlation_id == "corr-layout" and suggestion.request_id == req.id
    [proposed] = suggestion.events
    positions = proposed.payload["positions"]
    assert proposed.event_type == "layout_applied" and set(positions) == set("abcdef")
    assert suggestion.confidence == pytest.approx(brute_force_preservation(positions, EDGES), abs=1e-12)

    # the insight the agent published has the suggestion's id
    insights = []
    conn.consume_insights(insights.append, max_messages=1, timeout=5)
    assert insights[0]["insight_id"] == suggestion.id
    assert insights[0]["result"]["suggestion"]["confidence"] == suggestion.confidence

    before = len(conn.events(graph))
    [stored] = accept_suggestion(conn, suggestion)
    events = conn.events(graph)
    assert len(events) == before + 1
    last = events[-1]
    assert (last.event_type, last.event_id, last.sequence) == ("layout_applied", stored.event_id, stored.sequence)
    assert last.correlation_id == "corr-layout" and last.causation_id == suggestion.id
    assert last.payload["positions"] == positions

    folded = conn.graph(graph, live=False)
    expected = np.array([positions[n] for n in folded.node_ids], dtype=np.float32)
    np.testing.assert_array_equal(folded.positions, expected)

    record = decision_of(conn, suggestion.id)
    assert record.decision == "applied" and record.events[0]["event_id"] == stored.event_id
    with pytest.raises(AgentError, match=f"suggestion '{suggestion.id}' was already applied"):
        accept_suggestion(conn, suggestion)
    with pytest.raises(AgentError, match="already applied"):
        reject_suggestion(conn, suggestion)
    assert len(conn.events(graph)) == before + 1  # the refused accept published nothing


def test_community_suggestion_accepts_as_node_updates(conn, agent_conn, graph):
    suggestion = conn.agent_requests.call("analysis", "suggest_communities", {"graph_id": graph, "seed": 1},
                                          timeout=120)
    G = nx.Graph(EDGES)
    parts = nx.community.louvain_communities(G, seed=1)
    assert sorted(map(sorted, parts)) == [["a", "b", "c"], ["d", "e", "f"]]
    assert suggestion.kind == "communities"
    assert suggestion.confidence == pytest.approx(nx.community.modularity(G, parts), rel=1e-12)
    assert [e.event_type for e in suggestion.events] == ["node_updated"] * 6

    stored = accept_suggestion(conn, suggestion)
    assert {e.causation_id for e in stored} == {suggestion.id}
    assert {e.correlation_id for e in stored} == {suggestion.correlation_id}
    folded = conn.graph(graph, live=False)
    community = {n: folded.node(n)["community"] for n in "abcdef"}
    assert community["a"] == community["b"] == community["c"] != community["d"] == community["e"] == community["f"]


def test_reject_is_recorded_on_the_insights_stream(conn, agent_conn, graph):
    suggestion = conn.agent_requests.call("analysis", "suggest_layout", {"graph_id": graph, "iterations": 10},
                                          timeout=120)
    before = [e.event_id for e in conn.events(graph)]
    decision = reject_suggestion(conn, suggestion, "the drawing crosses edges")

    # read the record back with the bare client, not through alchemist's reader
    msg = conn.run(conn.js.get_last_msg("AI_INSIGHTS", f"ai.insights.decisions.{suggestion.id}"))
    body = json.loads(msg.data)
    assert body["decision"] == "rejected" and body["reason"] == "the drawing crosses edges"
    assert body["suggestion_id"] == suggestion.id and msg.seq == decision.sequence
    assert msg.headers["Cim-Causation-Id"] == suggestion.id
    assert msg.headers["Cim-Correlation-Id"] == suggestion.correlation_id
    assert [e.event_id for e in conn.events(graph)] == before  # nothing reached the graph
    with pytest.raises(AgentError, match="already rejected"):
        accept_suggestion(conn, suggestion)


def test_two_concurrent_accepts_append_once(conn, graph, nats_server, tmp_path):
    other = connect(nats_server.url, outbox=tmp_path / "other.sqlite")
    try:
        suggestion = make_suggestion(agent="analysis", kind="layout", text="by hand", confidence=0.5, graph_id=graph,
                                     events=[{"event_type": "layout_applied",
                                              "payload": {"positions": {n: [i, -i] for i, n in enumerate("abcdef")}}}])
        outcomes, barrier = [], threading.Barrier(2)

        def accept(connection):
            barrier.wait()
            try:
                outcomes.append(accept_suggestion(connection, suggestion))
            except AgentError as exc:
                outcomes.append(exc)

        threads = [threading.Thread(target=accept, args=(c,)) for c in (conn, other)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        other.close()
    assert sorted(type(o).__name__ for o in outcomes) == ["AgentError", "list"]
    caused = [e for e in conn.events(graph) if e.causation_id == suggestion.id]
    assert len(caused) == 1 and caused[0].event_type == "layout_applied"


class Flaky(Agent):
    """Fails (an exception of its own: service error 500) while ``broken``; refuses bad input (400)."""

    name = "flaky"
    capabilities = ("work",)

    def __init__(self):
        self.calls, self.broken = 0, True

    def handle(self, capability, payload, headers):
        self.calls += 1
        if payload.get("bad"):
            raise AgentError("bad input")
        if self.broken:
            raise RuntimeError("disk full")
        return {"ok": True}


def test_breaker_opens_after_failures_fails_fast_and_closes_after_a_trial(conn):
    agent = Flaky()
    conn.serve_agent(agent)
    requests = AgentRequests(conn, threshold=3, cooldown=1.0)

    for _ in range(5):  # refusals (400) are the caller's fault: they never open the circuit
        with pytest.raises(AgentError, match="bad input"):
            requests.call("flaky", "work", {"bad": True}, timeout=10)
    assert requests.breaker("flaky").state == "closed"

    for _ in range(3):
        with pytest.raises(AgentError, match="RuntimeError: disk full"):
            requests.call("flaky", "work", {}, timeout=10)
    assert requests.breaker("flaky").state == "open" and agent.calls == 8
    with pytest.raises(AgentUnavailableError, match="circuit is open and requests to it fail at once"):
        requests.submit("flaky", "work", {}, timeout=10)
    assert agent.calls == 8  # the refused request never reached the agent
    [row] = [h for h in requests.health() if h.name == "flaky"]
    assert (row.failures, row.breaker, row.answering) == (3, "open", True)
    assert row.requests == 8 and row.errors == 8  # the agent's own $SRV.STATS

    agent.broken = False
    while requests.breaker("flaky").state == "open":  # the cooldown
        threading.Event().wait(0.1)
    assert requests.call("flaky", "work", {}, timeout=10)["ok"] is True  # the half-open trial
    assert requests.breaker("flaky").state == "closed" and agent.calls == 9


def test_timeouts_open_the_circuit_of_an_absent_agent(conn):
    requests = AgentRequests(conn, threshold=2, cooldown=60)
    for _ in range(2):
        with pytest.raises(AgentTimeout, match="no agent 'ghost'"):
            requests.call("ghost", "anything", timeout=0.5)
    with pytest.raises(AgentError, match="'ghost' failed 2 requests in a row"):
        requests.call("ghost", "anything", timeout=0.5)
    [row] = requests.health()
    assert (row.name, row.answering, row.breaker, row.last_heartbeat) == ("ghost", False, "open", None)
    assert 0 < row.retry_in <= 60


def test_health_of_a_served_agent(conn, agent_conn, graph):
    conn.request("analysis", "central_nodes", {"graph_id": graph}, timeout=60)
    with pytest.raises(AgentError):
        conn.request("analysis", "central_nodes", {}, timeout=60)
    [row] = conn.agent_requests.health()
    assert row.name == "analysis" and row.answering and row.id
    assert row.version == AnalysisAgent.version and row.latency_ms > 0 and row.last_heartbeat
    assert (row.requests, row.errors, row.failures, row.breaker) == (2, 1, 0, "closed")


def test_discovery_and_health_with_no_agent_are_empty(conn):
    assert conn.discover_agents() == []
    assert conn.discover_agents("suggest_layout") == []
    assert conn.agent_requests.health() == []


class Reporter(Agent):
    """Reports three steps with fractions, then answers a bad suggestion when asked to."""

    name = "reporter"
    capabilities = ("steps", "bad")

    def handle(self, capability, payload, headers):
        for i in range(3):
            self.report(headers, f"step {i + 1} of 3", (i + 1) / 3)
        if capability == "bad":
            return {"suggestion": {"id": "s-1", "agent": "reporter", "kind": "layout", "text": "?",
                                   "confidence": 7, "graph_id": "g"}}
        return {"done": True}


def test_progress_of_a_custom_agent_and_a_bad_suggestion(conn):
    conn.serve_agent(Reporter())
    requests = AgentRequests(conn, threshold=1, cooldown=60)
    req = requests.submit("reporter", "steps", timeout=10)
    assert req.wait(20)["done"] is True
    assert [(p.message, p.fraction) for p in req.progress] == [
        ("reporter started steps", 0.0), ("step 1 of 3", 1 / 3), ("step 2 of 3", 2 / 3), ("step 3 of 3", 1.0)]
    assert req.to_dict()["fraction"] == 1.0 and req.suggestion is None

    bad = requests.submit("reporter", "bad", timeout=10)
    with pytest.raises(AgentError, match=r"confidence=7\.0; an agent's confidence must lie in"):
        bad.wait(20)
    assert bad.state == "failed" and requests.breaker("reporter").state == "open"  # a bad answer is a failure


def test_a_suggestion_larger_than_one_message_is_chained_across_messages(conn, graph):
    """3,000 node updates of ~600 bytes each (about 1.8 MB): several messages under the server's
    1 MiB max_payload, one chain; the folded graph has every property, nothing dead-lettered."""
    nodes = [f"n{i}" for i in range(3000)]
    events = [{"event_type": "node_added", "payload": {"node_id": n, "properties": {"note": "x" * 500}}}
              for n in nodes]
    suggestion = make_suggestion(agent="analysis", kind="insight", text="many nodes", confidence=0.5,
                                 graph_id=graph, events=events)
    stored = accept_suggestion(conn, suggestion)
    sequences = sorted({e.sequence for e in stored})
    assert len(stored) == 3000 and len(sequences) >= 2  # more than one message
    assert all(b.previous_cid == a.cid for a, b in zip(stored, stored[1:]))
    folded = conn.graph(graph, live=False)
    assert folded.number_of_nodes() == 6 + 3000 and folded.node("n2999")["note"] == "x" * 500
    assert conn.run(conn.js.stream_info("ALCHEMIST_DLQ")).state.messages == 0
    record = decision_of(conn, suggestion.id)
    assert (record.n_events, list(record.sequences), len(record.events)) == (3000, sequences, 100)
