"""Ingested events on a real nats-server: published, they fold into the same graph; the extractor hook
answered by an agent on the CIM gives the same graph as the extractor called in process."""

from __future__ import annotations

import pytest

import alchemist
from alchemist.errors import AgentError
from alchemist.ingest import AgentExtractor, TermExtractionAgent, YakeExtractor, ingest
from tests.ingest.pdfs import pdf_bytes

pytestmark = pytest.mark.integration

CORPUS = [
    {"document_id": "layouts", "content": "Force layouts place graph nodes in the plane. Springs pull connected "
                                          "nodes together while repulsion pushes all nodes apart."},
    {"document_id": "gravity", "content": "Gravity keeps disconnected components near the centre. Force layouts "
                                          "converge when springs and repulsion balance.", "metadata": {"year": 2014}},
]


def frames(graph):
    nodes, edges = graph.to_frames()
    drop = [c for c in ("first_seen", "timestamp", "degree") if c in nodes.columns or c in edges.columns]
    nodes = nodes.drop([c for c in drop if c in nodes.columns]).sort("id")
    edges = edges.drop([c for c in drop if c in edges.columns]).sort("id")
    return nodes.to_dicts(), edges.to_dicts()


def test_published_events_fold_into_the_same_graph(conn, tmp_path):
    pdf = tmp_path / "paper.pdf"
    pdf.write_bytes(pdf_bytes(["Springs pull nodes.", "Repulsion pushes nodes apart; springs resist."]))
    events = list(ingest(CORPUS + [pdf], "papers", max_terms=6))
    local = alchemist.Graph("papers")
    local.apply(events)
    result = conn.publish_many(events, batch=7)
    assert result.published == len(events) and result.complete
    folded = conn.graph("papers", live=False)
    assert folded.version == local.version == len(events)
    assert frames(folded) == frames(local)
    assert folded.node("doc:paper.pdf")["pages"] == 2
    assert folded.node("doc:gravity")["year"] == 2014


def test_an_agent_on_the_cim_can_replace_the_extractor(conn):
    conn.serve_agent(TermExtractionAgent(YakeExtractor(max_ngram=1), name="terms"))
    remote = alchemist.Graph("r")
    remote.apply(ingest(CORPUS, "r", extractor=AgentExtractor(conn, "terms"), max_terms=5))
    direct = alchemist.Graph("r")
    direct.apply(ingest(CORPUS, "r", extractor=YakeExtractor(max_ngram=1), max_terms=5))
    assert frames(remote)[1] == frames(direct)[1]
    assert sorted(remote.node_ids) == sorted(direct.node_ids)
    assert len([n for n in remote.node_ids if n.startswith("term:")]) >= 5


def test_an_agent_answer_without_terms_is_an_agent_error(conn):
    class Wrong(TermExtractionAgent):
        def handle(self, capability, payload, headers):
            return {"keywords": ["x"]}

    conn.serve_agent(Wrong(name="wrong"))
    with pytest.raises(AgentError, match="agent 'wrong' answered 'extract_terms' without a 'terms' list"):
        list(ingest(CORPUS, "w", extractor=AgentExtractor(conn, "wrong", timeout=5)))
