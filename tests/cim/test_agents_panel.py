"""AgentPanel's Python side on a real nats-server with the analysis agent on its own connection:
health, a request's progress, a suggestion with its confidence, Accept/Reject through the front
end's messages, an open circuit shown, and no agents shown as no agents."""

from __future__ import annotations

import numpy as np
import pytest

from alchemist.cim.agents import Agent
from alchemist.cim.suggestions import decision_of
from alchemist.errors import WidgetError
from alchemist.widgets import AgentPanel

from . import test_agents_suggestions as shared
from .test_agents_suggestions import EDGES, brute_force_preservation

agent_conn, graph = shared.agent_conn, shared.graph  # the fixtures, not written twice

pytestmark = pytest.mark.integration


def test_panel_suggestion_progress_accept_and_reject(conn, agent_conn, graph):
    panel = AgentPanel(conn, graph, timeout=120)  # the first ForceAtlas2 call compiles its kernels
    assert [a["name"] for a in panel.agents] == ["analysis"]
    [health] = panel.health
    assert health["name"] == "analysis" and health["answering"] and health["latency_ms"] > 0
    assert health["breaker"] == "closed" and health["last_heartbeat"]

    # the front end's form: answered in the background, tracked while it runs
    panel._on_custom_msg(panel, {"type": "request", "agent": "analysis", "capability": "suggest_layout"}, [])
    panel.wait(120)
    [req] = panel.requests
    assert req["state"] == "done" and req["fraction"] == 1.0 and req["error"] is None
    assert req["progress"][0] == "analysis started suggest_layout" and "folding graph 'tri'" in req["progress"]
    row = panel.insights[0]
    assert row["id"] == req["suggestion_id"] and row["kind"] == "layout" and row["suggestion"]
    assert (row["event_type"], row["n_events"], row["status"]) == ("layout_applied", 1, "new")
    positions = conn.events(graph)  # nothing appended yet
    assert all(e.event_type != "layout_applied" for e in positions)
    suggestion = panel._suggestions[row["id"]]
    proposed = suggestion.events[0].payload["positions"]
    assert row["confidence"] == pytest.approx(brute_force_preservation(proposed, EDGES), abs=1e-12)

    panel._on_custom_msg(panel, {"type": "accept", "id": row["id"]}, [])
    last = conn.last_event(graph)
    assert last.event_type == "layout_applied" and last.causation_id == row["id"]
    assert last.correlation_id == suggestion.correlation_id
    assert panel.insights[0]["status"] == "accepted" and panel.insights[0]["sequence"] == last.sequence
    folded = conn.graph(graph, live=False)
    np.testing.assert_array_equal(folded.positions, np.array([proposed[n] for n in folded.node_ids], np.float32))

    panel._on_custom_msg(panel, {"type": "accept", "id": row["id"]}, [])  # twice: refused, shown
    assert f"insight {row['id']!r} was already accepted" in panel.status
    with pytest.raises(WidgetError, match="already accepted"):
        panel.accept(row["id"])
    assert conn.last_event(graph).event_id == last.event_id

    panel.ask("analysis", "suggest_communities")
    communities = panel.insights[0]
    assert communities["kind"] == "communities" and communities["n_events"] == 6
    panel._on_custom_msg(panel, {"type": "reject", "id": communities["id"], "reason": "not now"}, [])
    record = decision_of(conn, communities["id"])
    assert (record.decision, record.reason) == ("rejected", "not now")
    assert panel.insights[0]["status"] == "rejected" and panel.insights[0]["sequence"] == record.sequence
    assert conn.last_event(graph).event_id == last.event_id  # the rejection changed nothing


class Broken(Agent):
    name = "broken"
    capabilities = ("work",)

    def handle(self, capability, payload, headers):
        raise RuntimeError("out of memory")


def test_panel_shows_an_open_circuit_and_fails_fast(conn):
    conn.serve_agent(Broken())
    panel = AgentPanel(conn, "g", timeout=10)
    for _ in range(3):
        panel._on_custom_msg(panel, {"type": "request", "agent": "broken", "capability": "work"}, [])
        panel.wait(30)
    assert [r["state"] for r in panel.requests] == ["failed"] * 3
    assert "RuntimeError: out of memory" in panel.requests[0]["error"]
    panel._on_custom_msg(panel, {"type": "request", "agent": "broken", "capability": "work"}, [])
    assert "circuit is open" in panel.status and len(panel.requests) == 3  # not sent
    panel._on_custom_msg(panel, {"type": "refresh"}, [])
    [health] = panel.health
    assert (health["name"], health["failures"], health["breaker"], health["errors"]) == ("broken", 3, "open", 3)


def test_panel_with_no_agent_listening(conn):
    panel = AgentPanel(conn, "g")
    assert panel.agents == [] and panel.health == [] and panel.status == ""
    assert "<ul></ul>" in panel.static_html()
