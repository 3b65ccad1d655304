"""Term extraction for :func:`alchemist.ingest`: YAKE by default, any callable (an AI agent) instead.

An *extractor* is any callable ``extractor(text, max_terms) -> iterable`` returning the
document's terms, most relevant first, each a :class:`Term`, a ``(text, score)`` pair, a dict
``{"text", "score"}`` or a bare string. It only names the terms: :func:`find_spans` then finds
every occurrence in the document, so provenance does not depend on the extractor telling the
truth about where a term is — a term that does not occur in the text is dropped.

- :class:`YakeExtractor` — YAKE keyphrases (Campos et al. 2020): statistical, unsupervised,
  no downloaded model.
- :class:`AgentExtractor` — asks an agent on the CIM (``connection.request(agent,
  "extract_terms", {"text", "max_terms"})``), so an LLM or NER service can replace YAKE.
- :class:`~alchemist.ingest.agent.TermExtractionAgent` — the agent side: serves any extractor
  (YAKE by default) on the CIM under the ``extract_terms`` capability.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Protocol, runtime_checkable

from alchemist.errors import AgentError, InputFormatError, MissingDependencyError

__all__ = ["Term", "Extractor", "YakeExtractor", "AgentExtractor", "find_spans", "term_key",
           "as_terms"]


@dataclass(frozen=True)
class Term:
    """A term an extractor found.

    Parameters
    ----------
    text : str
        The term as written (a word or a phrase).
    score : float or None
        The extractor's score (YAKE: lower is more relevant); stored on the mention edge.
    """

    text: str
    score: float | None = None


@runtime_checkable
class Extractor(Protocol):
    """What :func:`alchemist.ingest` calls to find a document's terms.

    Any callable with this signature works (a function, a :class:`YakeExtractor`, an
    :class:`AgentExtractor`).
    """

    def __call__(self, text: str, max_terms: int) -> Iterable[Term | tuple | dict | str]:
        """The terms of ``text``, most relevant first, at most ``max_terms``.

        Parameters
        ----------
        text : str
            The document's analysis text (Markdown markup blanked).
        max_terms : int
            The most terms the document may contribute.

        Returns
        -------
        iterable
            :class:`Term`, ``(text, score)``, ``{"text", "score"}`` or ``str`` items.
        """


class YakeExtractor:
    """YAKE keyphrase extraction (no model download, no training corpus).

    YAKE scores candidate n-grams by casing, position, frequency, context diversity and spread
    over sentences; lower scores are more relevant (Campos et al. 2020).

    Parameters
    ----------
    language : str
        Language of YAKE's stop-word list (default ``"en"``).
    max_ngram : int
        Longest keyphrase, in words (default 2).
    dedup : float
        YAKE's deduplication threshold: drop a candidate this similar to a better one (0–1,
        default 0.9).
    window : int
        YAKE's co-occurrence window for its context features (default 1).

    Raises
    ------
    MissingDependencyError
        On the first call, if ``yake`` is not installed (``pip install 'alchemist[ingest]'``).

    References
    ----------
    .. [1] R. Campos, V. Mangaravite, A. Pasquali, A. Jorge, C. Nunes, A. Jatowt, "YAKE! Keyword
       extraction from single documents using multiple local features", Information Sciences
       509, 257–289, 2020.

    Examples
    --------
    >>> extract = YakeExtractor(max_ngram=1)
    >>> [t.text for t in extract("Springs pull nodes. Springs and repulsion shape layouts.", 2)]
    ['Springs', 'nodes']
    """

    def __init__(self, language: str = "en", max_ngram: int = 2, dedup: float = 0.9, window: int = 1):
        self.language, self.max_ngram, self.dedup, self.window = language, int(max_ngram), float(dedup), int(window)
        self._cache: dict[int, Any] = {}

    def __call__(self, text: str, max_terms: int) -> list[Term]:
        """YAKE's top ``max_terms`` keyphrases of ``text``, most relevant first.

        Parameters
        ----------
        text : str
        max_terms : int

        Returns
        -------
        list of Term
        """
        if max_terms not in self._cache:
            try:
                import yake
            except ImportError:  # pragma: no cover - the ingest extra installs it
                raise MissingDependencyError("YAKE term extraction needs yake: pip install 'alchemist[ingest]'") from None
            self._cache[max_terms] = yake.KeywordExtractor(lan=self.language, n=self.max_ngram, dedup_lim=self.dedup,
                                                           window_size=self.window, top=max_terms)
        return [Term(phrase, float(score)) for phrase, score in self._cache[max_terms].extract_keywords(text)]

    def __repr__(self) -> str:
        return f"YakeExtractor(language={self.language!r}, max_ngram={self.max_ngram})"


class AgentExtractor:
    """Ask an agent on the CIM for the terms (the AI-extractor hook).

    Sends ``{"text": text, "max_terms": max_terms}`` to ``agent``'s ``capability`` through
    :meth:`Connection.request <alchemist.cim.Connection.request>` (its circuit breaker and
    request tracking included) and reads ``{"terms": [...]}`` from the answer, each item a
    string or ``{"text", "score"}``.

    Parameters
    ----------
    connection : alchemist.cim.Connection
    agent : str
        The agent's name.
    capability : str
        Default ``"extract_terms"`` (what :class:`TermExtractionAgent` serves).
    timeout : float
        Seconds per document (default 30).

    Raises
    ------
    AgentTimeout, AgentError
        On a call: no agent answered, or it answered an error or without a ``"terms"`` list.
        A document over the server's message size (1 MiB by default) cannot be sent.

    Examples
    --------
    >>> import alchemist                                           # doctest: +SKIP
    >>> cim = alchemist.connect()                                  # doctest: +SKIP
    >>> cim.serve_agent(TermExtractionAgent())                     # doctest: +SKIP
    >>> events = alchemist.ingest(docs, extractor=AgentExtractor(cim, "terms"))  # doctest: +SKIP
    """

    def __init__(self, connection, agent: str, capability: str = "extract_terms", timeout: float = 30.0):
        self.connection, self.agent, self.capability, self.timeout = connection, agent, capability, float(timeout)

    def __call__(self, text: str, max_terms: int) -> list:
        """The agent's terms for ``text``.

        Parameters
        ----------
        text : str
        max_terms : int

        Returns
        -------
        list
            The ``"terms"`` of the agent's answer.
        """
        reply = self.connection.request(self.agent, self.capability, {"text": text, "max_terms": int(max_terms)},
                                        timeout=self.timeout)
        terms = reply.get("terms")
        if not isinstance(terms, list):
            raise AgentError(f"agent {self.agent!r} answered {self.capability!r} without a 'terms' list "
                             f"(keys: {sorted(k for k in reply if k != '_headers')}); it must answer {{'terms': [...]}}")
        return terms

    def __repr__(self) -> str:
        return f"AgentExtractor(agent={self.agent!r}, capability={self.capability!r})"


def term_key(text: str) -> str:
    """The normalized form that identifies a term: lower case, whitespace collapsed.

    Parameters
    ----------
    text : str

    Returns
    -------
    str

    Examples
    --------
    >>> term_key("  Force   Atlas ")
    'force atlas'
    """
    return " ".join(text.split()).casefold()


def find_spans(text: str, term: str) -> list[tuple[int, int]]:
    """Every occurrence of ``term`` in ``text`` as ``(start, end)`` character offsets.

    Case-insensitive, on word boundaries, any run of whitespace between the words of a phrase;
    occurrences do not overlap.

    Parameters
    ----------
    text : str
    term : str

    Returns
    -------
    list of (int, int)
        ``text[start:end]`` is the occurrence.

    Examples
    --------
    >>> find_spans("Springs pull. The springs\\nrepel? No: spring  forces.", "springs")
    [(0, 7), (18, 25)]
    >>> find_spans("spring  forces", "Spring forces")
    [(0, 14)]
    """
    words = term.split()
    if not words:
        return []
    pattern = re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, words)) + r"(?!\w)", re.IGNORECASE)
    return [m.span() for m in pattern.finditer(text)]


def as_terms(items: Iterable, document_id: str) -> list[Term]:
    """An extractor's answer as :class:`Term` objects (validated).

    Parameters
    ----------
    items : iterable
        :class:`Term`, ``(text, score)``, ``{"text", "score"}`` or ``str`` items.
    document_id : str
        Named in the error.

    Returns
    -------
    list of Term

    Raises
    ------
    InputFormatError
        An item of another shape, or a score that is not a number.
    """
    out = []
    for item in items:
        if isinstance(item, Term):
            term = item
        elif isinstance(item, str):
            term = Term(item)
        elif isinstance(item, dict) and isinstance(item.get("text"), str):
            term = Term(item["text"], item.get("score"))
        elif isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], str):
            term = Term(item[0], item[1])
        else:
            raise InputFormatError(f"document {document_id!r}: the extractor returned {item!r}; an extractor returns "
                                   "Term, (text, score), {'text', 'score'} or str items")
        if term.score is not None:
            try:
                term = Term(term.text, float(term.score))
            except (TypeError, ValueError):
                raise InputFormatError(f"document {document_id!r}: the extractor's score {term.score!r} for "
                                       f"{term.text!r} is not a number") from None
        out.append(term)
    return out
