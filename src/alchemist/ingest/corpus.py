"""From documents and their terms to CIM graph events, with provenance (the state of one ingestion).

:class:`CorpusEvents` turns one document at a time into ``node_added``, ``node_updated``,
``edge_added`` and ``edge_updated`` events, chained by ``previous_cid``:

- a **document node** ``doc:<document_id>`` (label ``document``): format, source file, length,
  an excerpt, the metadata given;
- a **term node** ``term:<key>`` (label ``term``; ``key`` = the term in lower case, whitespace
  collapsed) the first time a term is met, with the document and the character span of its first
  occurrence; a ``node_updated`` with the new ``documents`` and ``mentions`` counts when a later
  document mentions it;
- a **mention edge** ``mention:<document_id>:<key>`` (``mentions``) from the document to the
  term, weight = the number of occurrences, with every occurrence's span (and page, for a PDF),
  the extractor's score and rank;
- a **co-occurrence edge** ``cooccurs:<key a>|<key b>`` (``co_occurs``, keys in sorted order)
  between two terms that occur, without overlapping, in the same unit (sentence, paragraph or
  document); weight = the number of units, summed over documents (``edge_updated`` when a later
  document adds to it), with per document its count and the span of the first such unit.

The state kept between documents is what the graph itself holds (term counts, co-occurrence
weights), never the documents' text: memory grows with the graph, not with the corpus.
"""

from __future__ import annotations

import itertools
import re
from typing import Any, Callable, Iterator

from alchemist.errors import InputFormatError
from alchemist.events import Event, new_event, uuid7
from alchemist.ingest.documents import Document
from alchemist.ingest.extractors import as_terms, find_spans, term_key

__all__ = ["CorpusEvents", "UNITS", "unit_spans"]

UNITS = ("sentence", "paragraph", "document")
EXCERPT_CHARS = 200


class CorpusEvents:
    """The events of an ingestion, one document at a time (see the module's description).

    Parameters
    ----------
    graph_id : str
        The aggregate the events belong to.
    extractor : callable
        ``extractor(text, max_terms)`` (see :class:`~alchemist.ingest.Extractor`).
    max_terms : int
        The most terms a document contributes (the extractor's first ones that occur in it).
    unit : {"sentence", "paragraph", "document"}
        Where two terms must both occur to co-occur.
    previous_cid : str, optional
        CID of the graph's last event, to chain onto a graph that already has events.
    keep_text : bool
        Put each document's full text on its node (property ``text``).

    Examples
    --------
    >>> from alchemist.ingest.documents import Document
    >>> corpus = CorpusEvents("g", lambda text, n: ["springs", "nodes"], max_terms=5)
    >>> events = corpus.document_events(Document("d", "Springs pull nodes. Nodes repel."))
    >>> [(e.event_type, e.payload.get("node_id") or e.payload.get("edge_id")) for e in events]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('node_added', 'doc:d'), ('node_added', 'term:springs'), ('node_added', 'term:nodes'),
     ('edge_added', 'mention:d:springs'), ('edge_added', 'mention:d:nodes'),
     ('edge_added', 'cooccurs:nodes|springs')]
    """

    def __init__(self, graph_id: str, extractor: Callable, *, max_terms: int = 20, unit: str = "sentence",
                 previous_cid: str | None = None, keep_text: bool = False):
        self.graph_id, self.extractor, self.max_terms, self.unit = graph_id, extractor, int(max_terms), unit
        self.keep_text = bool(keep_text)
        self.previous_cid = previous_cid
        self.correlation_id = uuid7()
        self.terms: dict[str, list[int]] = {}  # key -> [documents, mentions]
        self.pairs: dict[tuple[str, str], dict[str, Any]] = {}  # (a, b) -> weight and per-document provenance
        self.documents: set[str] = set()

    def event(self, event_type: str, payload: dict, causation_id: str | None = None) -> Event:
        """A new event of this ingestion, chained to the previous one.

        Parameters
        ----------
        event_type : str
        payload : dict
        causation_id : str, optional

        Returns
        -------
        Event
        """
        e = new_event(event_type, self.graph_id, payload, previous_cid=self.previous_cid,
                      correlation_id=self.correlation_id, causation_id=causation_id or self.correlation_id)
        self.previous_cid = e.cid
        return e

    def document_events(self, document: Document) -> Iterator[Event]:
        """The events of one document (its node, its terms, its mention and co-occurrence edges).

        Parameters
        ----------
        document : Document

        Yields
        ------
        Event

        Raises
        ------
        InputFormatError
            The document's id was already ingested, or the extractor's answer is malformed.
        """
        doc_id = document.document_id
        if doc_id in self.documents:
            raise InputFormatError(f"document {doc_id!r} appears twice; give every document its own id")
        text = document.analysis_text
        found = self._mentions(document, text)  # key -> (surface, spans, score, rank)
        self.documents.add(doc_id)
        head = self.event("node_added", {"node_id": f"doc:{doc_id}", "label": "document",
                                         "properties": self._document_properties(document)})
        yield head
        cause = head.event_id
        for key, (surface, spans, _, _) in found.items():
            counts = self.terms.get(key)
            if counts is None:
                self.terms[key] = [1, len(spans)]
                yield self.event("node_added", {"node_id": f"term:{key}", "label": "term", "properties": {
                    "term": key, "text": surface, "document_id": doc_id, "span": list(spans[0]),
                    "documents": 1, "mentions": len(spans)}}, cause)
            else:
                counts[0] += 1
                counts[1] += len(spans)
                yield self.event("node_updated", {"node_id": f"term:{key}", "properties": {
                    "documents": counts[0], "mentions": counts[1]}}, cause)
        for key, (_, spans, score, rank) in found.items():
            properties = {"document_id": doc_id, "spans": [list(s) for s in spans], "score": score, "rank": rank}
            if document.page_starts:
                properties["pages"] = [document.page_of(s[0]) for s in spans]
            yield self.event("edge_added", {"edge_id": f"mention:{doc_id}:{key}", "source": f"doc:{doc_id}",
                                            "target": f"term:{key}", "relationship": "mentions",
                                            "weight": float(len(spans)), "properties": properties}, cause)
        for pair, (count, unit) in _cooccurrences(found, unit_spans(text, self.unit)).items():
            yield self._pair_event(pair, count, unit, doc_id, cause)

    def _mentions(self, document: Document, text: str) -> dict[str, tuple[str, list, float | None, int]]:
        terms = as_terms(self.extractor(text, self.max_terms), document.document_id)
        found: dict[str, tuple[str, list, float | None, int]] = {}
        for term in terms:
            key = term_key(term.text)
            if not key or key in found or not re.search(r"\w", key):
                continue
            spans = find_spans(text, key)
            if not spans:  # the extractor named something that is not in the text: no provenance, no node
                continue
            s, e = spans[0]
            found[key] = (" ".join(document.text[s:e].split()), spans, term.score, len(found))
            if len(found) == self.max_terms:
                break
        return found

    def _document_properties(self, document: Document) -> dict[str, Any]:
        properties = dict(document.metadata)
        properties.update({"document_id": document.document_id, "format": document.format,
                           "n_chars": len(document.text),
                           "excerpt": " ".join(document.analysis_text[:EXCERPT_CHARS * 2].split())[:EXCERPT_CHARS]})
        if document.source is not None:
            properties["source"] = document.source
        if document.page_starts:
            properties["pages"] = len(document.page_starts)
        if self.keep_text:
            properties["text"] = document.text
        return properties

    def _pair_event(self, pair: tuple[str, str], count: int, unit: tuple[int, int], doc_id: str, cause: str) -> Event:
        a, b = pair
        edge_id = f"cooccurs:{a}|{b}"
        state = self.pairs.get(pair)
        if state is None:
            state = self.pairs[pair] = {"weight": 0.0, "document_ids": [], "counts": [], "spans": []}
        state["weight"] += count
        state["document_ids"].append(doc_id)
        state["counts"].append(count)
        state["spans"].append(list(unit))
        properties = {k: list(state[k]) for k in ("document_ids", "counts", "spans")}
        if len(state["document_ids"]) == 1:
            return self.event("edge_added", {"edge_id": edge_id, "source": f"term:{a}", "target": f"term:{b}",
                                             "relationship": "co_occurs", "weight": state["weight"],
                                             "properties": properties}, cause)
        return self.event("edge_updated", {"edge_id": edge_id, "weight": state["weight"], "properties": properties},
                          cause)


def unit_spans(text: str, unit: str) -> list[tuple[int, int]]:
    """The ``(start, end)`` spans of the sentences, paragraphs or the whole of ``text``.

    Sentences come from segtok's rule-based segmenter (``split_multi``: sentence terminators
    and line breaks, abbreviations handled), located in ``text`` in order; paragraphs are
    separated by blank lines.

    Parameters
    ----------
    text : str
    unit : {"sentence", "paragraph", "document"}

    Returns
    -------
    list of (int, int)

    Examples
    --------
    >>> unit_spans("Springs pull. Nodes repel.\\n\\nNew paragraph.", "sentence")
    [(0, 13), (14, 26), (28, 42)]
    >>> unit_spans("Springs pull. Nodes repel.\\n\\nNew paragraph.", "paragraph")
    [(0, 26), (28, 42)]
    """
    if unit == "document":
        return [(0, len(text))]
    if unit == "paragraph":
        spans, start = [], 0
        for m in itertools.chain(re.finditer(r"\n[ \t]*\n\s*", text), [None]):
            end = len(text) if m is None else m.start()
            if text[start:end].strip():
                spans.append((start, end))
            if m is not None:
                start = m.end()
        return spans
    from segtok.segmenter import split_multi

    spans, position = [], 0
    for sentence in split_multi(text):
        sentence = sentence.strip()
        if not sentence:
            continue
        start = text.find(sentence, position)
        if start < 0:  # segtok normalized it: fall back to the rest of the text as one unit
            spans.append((position, len(text)))
            return spans
        spans.append((start, start + len(sentence)))
        position = start + len(sentence)
    return spans


def _cooccurrences(found: dict, units: list[tuple[int, int]]) -> dict[tuple[str, str], tuple[int, tuple[int, int]]]:
    """``{(a, b): (units where a and b occur without overlapping, first such unit)}`` for one document."""
    import bisect

    starts = [u[0] for u in units]
    by_unit: dict[int, dict[str, list[tuple[int, int]]]] = {}
    for key, (_, spans, _, _) in found.items():
        for s, e in spans:
            k = bisect.bisect_right(starts, s) - 1
            if k >= 0 and e <= units[k][1]:
                by_unit.setdefault(k, {}).setdefault(key, []).append((s, e))
    out: dict[tuple[str, str], tuple[int, tuple[int, int]]] = {}
    for k in sorted(by_unit):
        present = by_unit[k]
        for a, b in itertools.combinations(sorted(present), 2):
            if any(ea <= sb or eb <= sa for sa, ea in present[a] for sb, eb in present[b]):
                count, first = out.get((a, b), (0, units[k]))
                out[(a, b)] = (count + 1, first)
    return out
