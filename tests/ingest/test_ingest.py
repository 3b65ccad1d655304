"""Document ingestion: a hand-made corpus gives exactly the nodes, edges, weights and spans counted by
hand; YAKE's terms are YAKE's own; Markdown and PDF spans point into the source; bad input is named."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

import alchemist
from alchemist.errors import InputFormatError
from alchemist.ingest import Document, ingest, ingest_graph, read_document
from tests.ingest.pdfs import pdf_bytes

DOC_A = "Graph layouts use springs. Springs pull neighbours together. Repulsion pushes nodes apart."
DOC_B = "Repulsion and springs balance. A graph layout shows nodes. Nodes feel repulsion from nodes."
TERMS = ["springs", "repulsion", "nodes", "graph layout"]


def fixed(text, max_terms):
    """The extractor hook with known terms (the same for every document)."""
    return TERMS[:max_terms]


@pytest.fixture
def corpus():
    return [{"document_id": "a", "content": DOC_A, "metadata": {"source": "hand"}},
            {"document_id": "b", "content": DOC_B}]


def test_hand_made_corpus_gives_the_hand_counted_graph(corpus):
    g = ingest_graph(corpus, "hand", extractor=fixed)
    # "graph layout" is not in document a ("Graph layouts" is another word); it is once in b
    assert sorted(g.node_ids) == ["doc:a", "doc:b", "term:graph layout", "term:nodes", "term:repulsion",
                                  "term:springs"]
    mentions = {e: g.edge(e)["weight"] for e in g.edge_ids if e.startswith("mention:")}
    assert mentions == {"mention:a:springs": 2.0, "mention:a:repulsion": 1.0, "mention:a:nodes": 1.0,
                        "mention:b:springs": 1.0, "mention:b:repulsion": 2.0, "mention:b:nodes": 3.0,
                        "mention:b:graph layout": 1.0}
    # sentences of a: (springs) (springs) (repulsion, nodes); of b: (repulsion, springs) (graph layout, nodes)
    # (nodes, repulsion, nodes)
    cooc = {e: g.edge(e) for e in g.edge_ids if e.startswith("cooccurs:")}
    assert {e: c["weight"] for e, c in cooc.items()} == {
        "cooccurs:nodes|repulsion": 2.0, "cooccurs:repulsion|springs": 1.0, "cooccurs:graph layout|nodes": 1.0}
    assert cooc["cooccurs:nodes|repulsion"]["document_ids"] == ["a", "b"]
    assert cooc["cooccurs:nodes|repulsion"]["counts"] == [1, 1]
    s3a = DOC_A.index("Repulsion")
    assert cooc["cooccurs:nodes|repulsion"]["spans"][0] == [s3a, len(DOC_A)]  # the sentence, in a
    s3b = DOC_B.index("Nodes feel")
    assert cooc["cooccurs:nodes|repulsion"]["spans"][1] == [s3b, len(DOC_B)]
    nodes = g.node("term:nodes")
    assert (nodes["documents"], nodes["mentions"], nodes["document_id"]) == (2, 4, "a")
    assert nodes["span"] == [DOC_A.index("nodes"), DOC_A.index("nodes") + 5]
    assert g.node("term:springs")["text"] == "springs"  # as first written
    doc = g.node("doc:a")
    assert (doc["label"], doc["format"], doc["n_chars"], doc["source"]) == ("document", "text", len(DOC_A), "hand")


def test_every_span_points_to_its_term(corpus):
    texts = {"a": DOC_A, "b": DOC_B}
    g = ingest_graph(corpus, "spans", extractor=fixed)
    for edge_id in g.edge_ids:
        edge = g.edge(edge_id)
        if edge["relationship"] != "mentions":
            continue
        term = edge["target"].removeprefix("term:")
        text = texts[edge["document_id"]]
        # counted independently: case-folded find of the term followed by a non-letter
        expected = [m.start() for m in re.finditer(re.escape(term), text.casefold())
                    if not text[m.end():m.end() + 1].isalpha()]
        assert [s for s, _ in edge["spans"]] == expected
        for start, end in edge["spans"]:
            assert text[start:end].casefold() == term


def test_events_are_a_chain_that_folds_into_the_graph(corpus):
    events = list(ingest(corpus, "chain", extractor=fixed))
    assert events[0].event_type == "graph_created" and events[0].previous_cid is None
    assert all(b.previous_cid == a.cid for a, b in zip(events, events[1:]))
    assert len({e.correlation_id for e in events}) == 1
    kinds = [e.event_type for e in events]
    # 2 documents, 4 new terms, 3 updates (springs, repulsion, nodes met again), 7 mentions, 3 + 1 co-occurrences
    assert kinds.count("node_added") == 6 and kinds.count("node_updated") == 3
    assert kinds.count("edge_added") == 7 + 3 and kinds.count("edge_updated") == 1
    g = alchemist.Graph("chain")
    g.apply(events)
    assert g.number_of_nodes() == 6 and g.number_of_edges() == 10


def test_more_documents_chain_onto_an_existing_graph(corpus):
    first = list(ingest(corpus[:1], "more", extractor=fixed))
    second = list(ingest(corpus[1:], "more", extractor=fixed, create=False, previous_cid=first[-1].cid))
    assert second[0].previous_cid == first[-1].cid
    with pytest.raises(ValueError, match="previous_cid"):
        ingest(corpus, "more", create=False)


def test_yake_terms_are_yakes_own_and_counted():
    import yake

    text = ("Force layouts place graph nodes in the plane. Springs pull connected nodes together while "
            "repulsion pushes all nodes apart. Gravity keeps disconnected components near the centre. "
            "Force layouts converge when springs and repulsion balance.")
    g = ingest_graph([Document("t", text)], "yake", max_terms=8)
    reference = yake.KeywordExtractor(lan="en", n=2, dedup_lim=0.9, window_size=1, top=8).extract_keywords(text)
    words = re.findall(r"\w+", text.casefold())
    expected = {}
    for phrase, _ in reference:
        key = " ".join(phrase.casefold().split())
        gram = key.split()
        count = sum(words[i:i + len(gram)] == gram for i in range(len(words)))
        if count:
            expected[key] = count
    got = {e.removeprefix("mention:t:"): g.edge(e)["weight"] for e in g.edge_ids if e.startswith("mention:")}
    assert got == expected
    ranks = {e.removeprefix("mention:t:"): g.edge(e)["rank"] for e in g.edge_ids if e.startswith("mention:")}
    assert sorted(ranks, key=ranks.get) == [k for k in expected]  # YAKE's order
    created = next(iter(ingest([text], "y2", max_terms=2)))
    assert created.payload["properties"]["extractor"] == "YakeExtractor(language='en', max_ngram=2)"


def test_max_terms_caps_each_document(corpus):
    g = ingest_graph(corpus, "cap", extractor=fixed, max_terms=2)
    assert sorted(n for n in g.node_ids if n.startswith("term:")) == ["term:repulsion", "term:springs"]


def test_markdown_spans_point_into_the_source():
    source = ("# Force layouts\n\nSee [ForceAtlas2](https://doi.org/10.1371/journal.pone.0098679) for **springs**.\n"
              "```python\nsprings = compute()\n```\n- Repulsion pushes *nodes* apart.\n")
    doc = Document("md", source, format="markdown")
    assert len(doc.analysis_text) == len(source)
    assert "https" not in doc.analysis_text and "compute" not in doc.analysis_text and "#" not in doc.analysis_text
    g = ingest_graph([doc], "md", extractor=lambda text, n: ["springs", "forceatlas2", "doi", "nodes", "layouts"])
    mentions = {g.edge(e)["target"]: g.edge(e)["spans"] for e in g.edge_ids if e.startswith("mention:")}
    # the code block's "springs" and the URL's "doi" are markup, not prose
    assert set(mentions) == {"term:springs", "term:forceatlas2", "term:nodes", "term:layouts"}
    assert mentions["term:springs"] == [[source.index("springs**"), source.index("springs**") + 7]]
    for term, spans in mentions.items():
        for start, end in spans:
            assert source[start:end].casefold() == term.removeprefix("term:")


def test_pdf_is_read_back_with_pages(tmp_path):
    path = tmp_path / "layouts.pdf"
    path.write_bytes(pdf_bytes(["Springs pull nodes (gently).", "Repulsion pushes nodes apart; springs resist."]))
    doc = read_document(path)
    assert (doc.document_id, doc.format, doc.source) == ("layouts.pdf", "pdf", str(path))
    assert doc.text == "Springs pull nodes (gently).\n\nRepulsion pushes nodes apart; springs resist."
    assert doc.page_starts == (0, len("Springs pull nodes (gently).") + 2)
    g = ingest_graph([path], "pdf", extractor=lambda text, n: ["springs", "nodes", "repulsion"])
    springs = g.edge("mention:layouts.pdf:springs")
    assert springs["weight"] == 2.0 and springs["pages"] == [0, 1]
    assert [doc.text[s:e] for s, e in springs["spans"]] == ["Springs", "springs"]
    assert g.edge("mention:layouts.pdf:repulsion")["pages"] == [1]
    assert g.node("doc:layouts.pdf")["pages"] == 2


def test_a_folder_and_the_seed_dicts_are_documents(tmp_path):
    (tmp_path / "one.txt").write_text("Springs pull nodes.")
    (tmp_path / "two.md").write_text("# Nodes\n\nSprings *pull*.")
    (tmp_path / "skip.bin").write_bytes(b"\x00\x01")
    g = ingest_graph(tmp_path, "folder", extractor=lambda text, n: ["springs", "nodes"])
    assert sorted(n for n in g.node_ids if n.startswith("doc:")) == ["doc:one.txt", "doc:two.md"]
    assert g.node("doc:two.md")["format"] == "markdown"


def test_documents_are_read_one_at_a_time():
    pulled = []

    def documents():
        for k in range(3):
            pulled.append(k)
            yield {"document_id": f"d{k}", "content": "Springs pull nodes."}

    events = ingest(documents(), "lazy", extractor=lambda text, n: ["springs", "nodes"])
    assert pulled == []  # nothing read at the call
    first_doc = [next(events) for _ in range(2)]  # graph_created, doc:d0
    assert first_doc[1].payload["node_id"] == "doc:d0" and pulled == [0]
    rest = list(events)
    assert pulled == [0, 1, 2] and rest[-1].payload["edge_id"] == "cooccurs:nodes|springs"
    assert rest[-1].payload["weight"] == 3.0  # one sentence in each of the three documents


@pytest.mark.parametrize("item, message", [
    (b"%PDF-1.4\n1 0 obj garbage", "document 'doc-1' is not a readable PDF"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "document 'doc-1' is not UTF-8 text"),
    (bytes(range(1, 32)) * 4, "document 'doc-1': .* control characters .*binary data"),
    (b"   \n\t ", "document 'doc-1' has no text"),
    ("", "document 'doc-1' has no text"),
    ({"document_id": "x"}, "document 'x' has neither 'content' nor 'path'"),
    ({"document_id": "m", "content": "```\ncode only\n```", "format": "markdown"}, "document 'm' has no text"),
    (Path("/nonexistent/report.pdf"), "document 'report.pdf': cannot read"),
    (3.5, "document 1 is a float"),
])
def test_bad_input_is_named(item, message):
    with pytest.raises(InputFormatError, match=message):
        list(ingest([item], "bad", extractor=fixed))


def test_pdf_without_text_and_encrypted_pdf_are_named(tmp_path):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    blank = tmp_path / "scan.pdf"
    with open(blank, "wb") as handle:
        writer.write(handle)
    with pytest.raises(InputFormatError, match="'scan.pdf'.*no text layer"):
        read_document(blank)
    writer.encrypt("secret")
    locked = tmp_path / "locked.pdf"
    with open(locked, "wb") as handle:
        writer.write(handle)
    with pytest.raises(InputFormatError, match="'locked.pdf' is an encrypted PDF"):
        read_document(locked)


def test_skip_goes_on_after_a_bad_document_and_ids_must_be_unique():
    docs = [{"document_id": "ok", "content": "Springs pull nodes."}, {"document_id": "bad", "content": " "},
            {"document_id": "ok2", "content": "Nodes repel."}]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        g = ingest_graph(docs, "skip", extractor=fixed, errors="skip")
    assert sorted(n for n in g.node_ids if n.startswith("doc:")) == ["doc:ok", "doc:ok2"]
    assert any("'bad' has no text" in str(w.message) for w in caught)
    with pytest.raises(InputFormatError, match="document 'ok' appears twice"):
        list(ingest([docs[0], docs[0]], "dup", extractor=fixed))
    with pytest.raises(InputFormatError, match="over max_chars=5"):
        list(ingest(["Springs pull nodes."], "long", extractor=fixed, max_chars=5))


def test_extractor_answers_are_checked():
    with pytest.raises(InputFormatError, match="document 'doc-1': the extractor returned 3"):
        list(ingest(["Springs pull nodes."], "x", extractor=lambda text, n: [3]))
    g = ingest_graph(["Springs pull nodes."], "x",
                     extractor=lambda text, n: [("springs", 0.5), {"text": "nodes", "score": 0.1}, "absent term"])
    assert sorted(n for n in g.node_ids if n.startswith("term:")) == ["term:nodes", "term:springs"]
    assert g.edge("mention:doc-1:springs")["score"] == 0.5


def test_alchemist_ingest_is_callable_as_module_and_function():
    import alchemist.ingest as module

    events = list(module(["Springs pull nodes."], "m", extractor=fixed))
    assert events[1].payload["node_id"] == "doc:doc-1"
    assert list(alchemist.ingest(["Springs pull nodes."], "m", extractor=fixed))[1].payload["node_id"] == "doc:doc-1"
    with pytest.raises(ValueError, match="unit='word'"):
        alchemist.ingest(["x"], unit="word")
