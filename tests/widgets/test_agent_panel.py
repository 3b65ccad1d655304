"""AgentPanel against a real analysis agent on an embedded CIM: discovery, answers as sentences,
accepting the proposed event."""

from __future__ import annotations

import re

import networkx as nx
import pytest

import alchemist
from alchemist.cim.agents import AnalysisAgent
from alchemist.widgets import AgentPanel
from alchemist.widgets.agent_panel import _insights_of

EDGES = [("a", "b"), ("b", "c"), ("c", "a"), ("d", "e"), ("e", "f"), ("f", "d"), ("c", "d"), ("x", "c"), ("y", "c")]


@pytest.mark.integration
def test_panel_discovers_the_agent_and_shows_its_answers(tmp_path):
    with alchemist.connect(data_dir=str(tmp_path / "js")) as con:
        panel = AgentPanel(con, "kg")
        assert panel.agents == [] and panel.status == ""  # nobody listening: no agents, no error
        path = tmp_path / "edges.txt"
        path.write_text("".join(f"{u} {v} {i}\n" for i, (u, v) in enumerate(EDGES, start=1)))
        con.replay(path, graph_id="kg", batch=100)
        con.serve_agent(AnalysisAgent())
        panel.refresh()
        assert [a["name"] for a in panel.agents] == ["analysis"]
        assert panel.agents[0]["capabilities"] == ["communities", "central_nodes", "layout", "suggest_layout",
                                                   "suggest_communities"]

        panel.ask("analysis", "central_nodes")
        text = panel.insights[0]["text"]
        scores = nx.pagerank(nx.DiGraph(EDGES))
        best = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        assert text.startswith("Most central by PageRank at version ") and f": {best} ({scores[best]:.4f})" in text
        assert panel.insights[0]["confidence"] is None  # the agent gives none; the panel invents none
        assert "_headers" not in text and "{" not in text

        panel.ask("analysis", "communities")
        parts = nx.community.louvain_communities(nx.Graph(EDGES), seed=0)
        assert re.match(rf"{len(parts)} Louvain communities at version \d+, modularity "
                        rf"{nx.community.modularity(nx.Graph(EDGES), parts):.3f}", panel.insights[0]["text"])

        central = panel.insights[1]
        sequence = panel.accept(central["id"])
        last = con.last_event("kg")
        assert last.event_type == "node_updated" and last.payload["node_id"] == best
        assert last.payload["properties"]["pagerank"] == pytest.approx(scores[best], rel=1e-6)
        assert sequence == last.sequence


def test_replies_never_show_transport_details_or_raw_reprs():
    reply = {"central_nodes": [], "graph_id": "g", "version": 3, "_headers": {"Cim-Request-Id": "r"}}
    [insight] = _insights_of(reply, "central_nodes")
    assert "_headers" not in insight["text"] and "Cim-Request-Id" not in insight["text"]
    assert _insights_of({"text": "hello", "confidence": 0.7})[0] == {"text": "hello", "confidence": 0.7, "event": None}
