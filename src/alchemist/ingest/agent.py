"""The agent side of the extractor hook: serve a term extractor on the CIM.

:class:`TermExtractionAgent` answers ``extract_terms`` requests (``{"text", "max_terms"}`` →
``{"terms": [{"text", "score"}, ...]}``), which :class:`~alchemist.ingest.AgentExtractor` sends.
Subclass it (or give it another extractor) to put an LLM or a NER model behind the same hook.
"""

from __future__ import annotations

from alchemist.cim.agents import Agent
from alchemist.ingest.extractors import YakeExtractor, as_terms

__all__ = ["TermExtractionAgent"]


class TermExtractionAgent(Agent):
    """An agent serving an extractor under the ``extract_terms`` capability.

    Parameters
    ----------
    extractor : callable, optional
        Default :class:`YakeExtractor`.
    name : str
        The agent's name on the CIM (default ``"terms"``).

    Examples
    --------
    >>> agent = TermExtractionAgent(lambda text, n: ["springs"])
    >>> agent.handle("extract_terms", {"text": "Springs pull.", "max_terms": 5}, {})
    {'terms': [{'text': 'springs', 'score': None}]}
    """

    version = "1.0.0"
    description = "term extraction for document ingestion (YAKE keyphrases by default)"
    capabilities = ("extract_terms",)

    def __init__(self, extractor=None, name: str = "terms"):
        self.extractor = extractor or YakeExtractor()
        self.name = name

    def handle(self, capability: str, payload: dict, headers: dict[str, str]) -> dict:
        """Extract the terms of ``payload["text"]`` (at most ``payload["max_terms"]``, default 20).

        Parameters
        ----------
        capability : str
            ``"extract_terms"``.
        payload : dict
            ``{"text": str, "max_terms": int}``.
        headers : dict
            The request's headers.

        Returns
        -------
        dict
            ``{"terms": [{"text", "score"}, ...]}``.

        Raises
        ------
        ValueError
            ``text`` is missing or not a string.
        """
        text = payload.get("text")
        if not isinstance(text, str):
            raise ValueError("extract_terms needs {'text': str, 'max_terms': int}")
        terms = as_terms(self.extractor(text, int(payload.get("max_terms", 20))), "agent request")
        return {"terms": [{"text": t.text, "score": t.score} for t in terms]}
