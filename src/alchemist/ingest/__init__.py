"""alchemist.ingest: documents (plain text, Markdown, PDF) into graph events with provenance (seed 001).

:func:`ingest` reads documents one at a time, finds each one's terms with an extractor (YAKE
keyphrases by default; any callable, such as :class:`AgentExtractor` asking an AI agent on the
CIM, instead) and yields the CIM events of a document–term graph: document nodes, term nodes,
``mentions`` edges (document → term, weight = occurrences) and ``co_occurs`` edges (term – term,
weight = sentences where both occur). Every node and edge carries its provenance — document id
and character spans into the document's text — so each term can be traced to where it was
read (:mod:`alchemist.ingest.corpus` lists the properties).

The events go to the CIM with :meth:`Connection.publish_many <alchemist.cim.Connection.publish_many>`
or into a local :class:`~alchemist.Graph` with :func:`ingest_graph`; ``alchemist.ingest(...)``
is :func:`ingest`.
"""

from __future__ import annotations

import sys
import types
import warnings
from typing import Callable, Iterator

from alchemist.errors import InputFormatError
from alchemist.events import Event
from alchemist.ingest.corpus import UNITS, CorpusEvents, unit_spans
from alchemist.ingest.documents import Document, iter_documents, iter_sources, load_document, read_document
from alchemist.ingest.extractors import AgentExtractor, Extractor, Term, YakeExtractor, find_spans, term_key

__all__ = [
    "ingest", "ingest_graph", "Document", "read_document", "iter_documents", "Term", "Extractor", "YakeExtractor",
    "AgentExtractor", "TermExtractionAgent", "find_spans", "term_key", "unit_spans", "UNITS",
]

MAX_CHARS = 20_000_000


def ingest(documents, graph_id: str = "documents", *, extractor: Callable | None = None, max_terms: int = 20,
           unit: str = "sentence", create: bool = True, previous_cid: str | None = None, errors: str = "raise",
           max_chars: int = MAX_CHARS, keep_text: bool = False) -> Iterator[Event]:
    """Turn documents into the CIM events of a document–term graph, one document at a time.

    Parameters
    ----------
    documents : path, folder, str, bytes, dict, Document, or an iterable of them
        What :func:`iter_documents` accepts: a ``pathlib.Path`` (a ``.txt``/``.rst``, ``.md`` or
        ``.pdf`` file, or a folder of them), a ``str`` (the text itself), the seed's dicts
        ``{"document_id", "content", "metadata"}``, :class:`Document` objects. An iterator is
        consumed lazily: one document is held in memory at a time.
    graph_id : str
        The graph (aggregate) the events belong to.
    extractor : callable, optional
        ``extractor(text, max_terms) -> terms`` (:class:`Extractor`); default
        :class:`YakeExtractor` (YAKE keyphrases of one or two words).
    max_terms : int
        The most terms per document (default 20): the extractor's first terms that occur in
        the text.
    unit : {"sentence", "paragraph", "document"}
        Two terms co-occur when both occur, without overlapping, in the same unit (default
        ``"sentence"``).
    create : bool
        Start with a ``graph_created`` event (default). False to add to an existing graph:
        then give ``previous_cid``.
    previous_cid : str, optional
        CID of the graph's last event (e.g. ``connection.last_event(graph_id).cid``), so the
        new events chain onto it.
    errors : {"raise", "skip"}
        A document that cannot be read: raise (default), or skip it with a warning naming it.
    max_chars : int
        The longest document accepted, in characters (default 20 million).
    keep_text : bool
        Also store each document's full text on its node (property ``text``).

    Returns
    -------
    iterator of Event
        Chained by ``previous_cid``; one correlation id for the whole ingestion, and each
        document's events caused by its ``node_added`` event. Documents are read as the
        iterator is consumed.

    Raises
    ------
    InputFormatError
        Naming the document (while iterating, ``errors="raise"``): unreadable file, not UTF-8,
        binary data, a PDF that cannot be parsed, is encrypted or has no text layer, an empty
        document, one over ``max_chars``, a duplicate id.
    ValueError
        At the call: ``unit``, ``errors`` or ``max_terms`` out of range, or ``create=False``
        without ``previous_cid``.

    Examples
    --------
    >>> events = list(ingest(["Springs pull connected nodes. Repulsion pushes nodes apart.",
    ...                       "Nodes repel; springs attract."], "g", max_terms=3))
    >>> events[0].event_type, events[1].payload["node_id"]
    ('graph_created', 'doc:doc-1')
    >>> g = ingest_graph(["Springs pull connected nodes. Repulsion pushes nodes apart."], "g", max_terms=3)
    >>> sorted(g.node_ids)
    ['doc:doc-1', 'term:connected nodes', 'term:pull connected', 'term:springs pull']
    >>> g.node("term:springs pull")["span"]
    [0, 12]

    Publishing to the CIM (the events are chained, so a reader folds them as they are):

    >>> connection.publish_many(ingest(pathlib.Path("docs/")), batch=500)   # doctest: +SKIP
    """
    if unit not in UNITS:
        raise ValueError(f"unit={unit!r}; use one of {', '.join(UNITS)}")
    if errors not in ("raise", "skip"):
        raise ValueError(f"errors={errors!r}; use 'raise' or 'skip'")
    if int(max_terms) < 1:
        raise ValueError(f"max_terms={max_terms}; a document must be allowed at least one term")
    if not create and previous_cid is None:
        raise ValueError("create=False adds to an existing graph: give previous_cid, the CID of its last event")
    corpus = CorpusEvents(graph_id, extractor or YakeExtractor(), max_terms=max_terms, unit=unit,
                          previous_cid=previous_cid, keep_text=keep_text)
    return _events(corpus, documents, create, errors, int(max_chars))


def ingest_graph(documents, graph_id: str = "documents", **options):
    """:func:`ingest` the documents into a new local :class:`~alchemist.Graph`.

    Parameters
    ----------
    documents
        As :func:`ingest`.
    graph_id : str
    **options
        The keyword arguments of :func:`ingest` (``create`` is always True here).

    Returns
    -------
    alchemist.Graph
        Undirected; nodes ``doc:…`` and ``term:…``, edges ``mentions`` and ``co_occurs``.

    Raises
    ------
    InputFormatError, ValueError
        As :func:`ingest`.
    """
    from alchemist.graph import Graph

    options["create"] = True
    graph = Graph(graph_id)
    chunk: list[Event] = []
    for event in ingest(documents, graph_id, **options):
        chunk.append(event)
        if len(chunk) == 10_000:
            graph.apply(chunk)
            chunk = []
    graph.apply(chunk)
    return graph


def _events(corpus: CorpusEvents, documents, create: bool, errors: str, max_chars: int) -> Iterator[Event]:
    if create:
        yield corpus.event("graph_created", {"name": corpus.graph_id, "directed": False, "properties": {
            "source": "alchemist.ingest", "extractor": repr(corpus.extractor), "unit": corpus.unit,
            "max_terms": corpus.max_terms}})
    for position, item in iter_sources(documents):
        try:
            document = load_document(item, position)
            if len(document.text) > max_chars:
                raise InputFormatError(f"document {document.document_id!r} has {len(document.text):,} characters, "
                                       f"over max_chars={max_chars:,}; split it or raise max_chars",
                                       path=document.source)
            events = list(corpus.document_events(document))
        except InputFormatError as error:
            if errors == "raise":
                raise
            warnings.warn(f"skipped: {error}", stacklevel=3)
            continue
        yield from events


def __getattr__(name: str):
    if name == "TermExtractionAgent":  # imports the CIM (nats-py) only when asked for
        from alchemist.ingest.agent import TermExtractionAgent

        return TermExtractionAgent
    raise AttributeError(f"module 'alchemist.ingest' has no attribute {name!r}")


class _CallableModule(types.ModuleType):
    """``alchemist.ingest`` is both this package and, called, :func:`ingest`."""

    def __call__(self, documents, graph_id: str = "documents", **options) -> Iterator[Event]:
        return ingest(documents, graph_id, **options)


sys.modules[__name__].__class__ = _CallableModule
