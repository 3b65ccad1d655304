"""AgentPanel in a real browser against a real nats-server and the analysis agent: its health, a
layout suggestion asked from the form, tracked to done with the agent's progress, accepted with the
Accept button (the layout_applied event caused by the suggestion, its positions folded into the
graph, the confidence shown being the neighbourhood preservation of those positions), and a
community suggestion rejected with the Reject button (recorded on the insights stream)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from alchemist.cim import EmbeddedServer, connect
from alchemist.cim.agents import AnalysisAgent
from alchemist.cim.suggestions import decision_of
from tests.browser.conftest import screenshot
from tests.cim.test_agents_suggestions import EDGES, brute_force_preservation

pytestmark = pytest.mark.browser

NOTEBOOK = json.dumps({
    "nbformat": 4, "nbformat_minor": 5,
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "cells": [
        {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "execution_count": None, "outputs": [], "id": "p",
         "source": "url = ''"},
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "id": "a", "source": (
            "import alchemist\n"
            "from alchemist.widgets import AgentPanel\n"
            "con = alchemist.connect(url)\n"
            "panel = AgentPanel(con, 'tri', timeout=240)\n"
            "display(panel)")},
    ],
})


@pytest.fixture
def cim(tmp_path):
    server = EmbeddedServer(data_dir=tmp_path / "jetstream").start()
    connection = connect(server.url, outbox=tmp_path / "outbox.sqlite")
    try:
        path = tmp_path / "edges.txt"
        path.write_text("".join(f"{u} {v} {i}\n" for i, (u, v) in enumerate(EDGES, start=1)))
        assert connection.replay(path, graph_id="tri", batch=100).complete
        connection.serve_agent(AnalysisAgent())
        yield server, connection
    finally:
        connection.close()
        server.stop()


def test_agent_panel_suggest_accept_reject(voila, page, notebook_copy, cim):
    server, con = cim
    page.goto(voila(notebook_copy(NOTEBOOK, "agents.ipynb", url=server.url)), timeout=120_000, wait_until="commit")
    health = page.locator("[data-testid=agent][data-agent=analysis] [data-testid=agent-health]")
    health.wait_for(timeout=120_000)
    assert health.get_attribute("data-breaker") == "closed" and health.get_attribute("data-answering") == "true"
    assert re.search(r"ping [\d.]+ ms · last heartbeat \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", health.text_content())

    page.select_option("[data-testid=agent-select]", label="analysis · suggest_layout")
    page.click("[data-testid=agent-ask]")
    page.wait_for_selector("[data-testid=agent-request][data-state=done]", timeout=240_000)
    request = page.locator("[data-testid=agent-request]").first
    assert request.locator("[data-testid=request-message]").text_content() == "publishing the insight"
    assert request.locator("[data-testid=request-progress]").get_attribute("data-value") == "1"

    card = page.locator("[data-testid=insight][data-kind=layout]").first
    card.wait_for(timeout=30_000)
    suggestion_id = card.get_attribute("data-id")
    assert card.locator("[data-testid=insight-proposes]").text_content().strip() == "proposes layout_applied"
    shown = card.locator("[data-testid=insight-confidence]").text_content()
    card.locator("[data-testid=insight-accept]").click()
    decision = page.locator(f"[data-testid=insight][data-id='{suggestion_id}'] [data-testid=insight-decision]")
    decision.wait_for(timeout=60_000)

    last = con.last_event("tri")
    assert decision.text_content().strip() == f"accepted (stream sequence {last.sequence})"
    assert last.event_type == "layout_applied" and last.causation_id == suggestion_id
    positions = last.payload["positions"]
    assert shown == f" · {round(100 * brute_force_preservation(positions, EDGES))}% confidence"
    folded = con.graph("tri", live=False)
    np.testing.assert_array_equal(folded.positions, np.array([positions[n] for n in folded.node_ids], np.float32))

    page.select_option("[data-testid=agent-select]", label="analysis · suggest_communities")
    page.click("[data-testid=agent-ask]")
    other = page.locator("[data-testid=insight][data-kind=communities]").first
    other.wait_for(timeout=120_000)
    assert other.locator("[data-testid=insight-proposes]").text_content().strip() == "proposes 6 node_updated events"
    other.locator("[data-testid=insight-reject]").click()
    other_id = other.get_attribute("data-id")
    rejected = page.locator(f"[data-testid=insight][data-id='{other_id}'] [data-testid=insight-decision]")
    rejected.wait_for(timeout=60_000)
    record = decision_of(con, other_id)
    assert record.decision == "rejected"
    assert rejected.text_content().strip() == f"rejected (recorded at insights sequence {record.sequence})"
    assert con.last_event("tri").event_id == last.event_id
    screenshot(page, "agent-panel")
    assert page.dialogs == []
