"""NATS subjects for CIM events: one configurable template (DESIGN.md §2).

The default template is ``{domain}.{kind}.{aggregate_id}.{event}``, e.g.
``graph.events.<graph_id>.node_added``; some CIM nodes prefix an environment
(``local.cim.graph.events...``), which ``SubjectTemplate(prefix="local.cim.")`` gives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["SubjectTemplate", "DEFAULT_SUBJECTS", "validate_token"]

_TOKEN = re.compile(r"^[^\s.*>]+$")


def validate_token(value: str, what: str) -> str:
    """Check that ``value`` can be one token of a NATS subject (no dots, spaces, ``*`` or ``>``).

    Raises
    ------
    ValueError
        Naming ``what`` and the value.
    """
    if not isinstance(value, str) or not _TOKEN.match(value):
        raise ValueError(
            f"{what} {value!r} cannot be used in a NATS subject: it must be non-empty and contain "
            "no '.', '*', '>' or whitespace"
        )
    return value


@dataclass(frozen=True)
class SubjectTemplate:
    """Builds and parses event subjects.

    Parameters
    ----------
    template : str
        Python format string with the fields ``domain``, ``kind`` (``events``, ``commands``,
        ``queries``), ``aggregate_id`` and ``event``.
    prefix : str
        Prepended to every subject (e.g. ``"local.cim."``).
    domain : str
        The aggregate's domain, ``"graph"`` for graphs.
    """

    template: str = "{domain}.{kind}.{aggregate_id}.{event}"
    prefix: str = ""
    domain: str = "graph"

    def subject(self, aggregate_id: str, event: str, kind: str = "events") -> str:
        """The subject of one event, e.g. ``graph.events.g1.node_added``."""
        return self.prefix + self.template.format(
            domain=self.domain, kind=kind, aggregate_id=validate_token(aggregate_id, "aggregate id"), event=event
        )

    def aggregate_filter(self, aggregate_id: str, kind: str = "events") -> str:
        """Subject filter matching every event of one aggregate (``graph.events.g1.*``)."""
        return self.subject(aggregate_id, "*", kind)

    def stream_filter(self, kind: str = "events") -> str:
        """Subject filter a stream captures: ``graph.events.>``."""
        head = self.prefix + self.template.format(domain=self.domain, kind=kind, aggregate_id="\0", event="\0")
        return head.split("\0", 1)[0] + ">"


DEFAULT_SUBJECTS = SubjectTemplate()
