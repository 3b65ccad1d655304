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

    Parameters
    ----------
    value : str
        The token (an aggregate id, a domain, an event type).
    what : str
        What it is, for the message.

    Returns
    -------
    str
        ``value``, unchanged.

    Raises
    ------
    ValueError
        Naming ``what`` and the value.

    Examples
    --------
    >>> validate_token("g1", "graph id")
    'g1'
    >>> validate_token("a.b", "graph id")
    Traceback (most recent call last):
    ...
    ValueError: graph id 'a.b' cannot be used in a NATS subject: ...
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

    Raises
    ------
    None
        Ids are checked when a subject is made (:meth:`subject`).

    Examples
    --------
    >>> subjects = SubjectTemplate(prefix="local.cim.")
    >>> subjects.subject("g1", "node_added")
    'local.cim.graph.events.g1.node_added'
    >>> subjects.stream_filter()
    'local.cim.graph.events.>'
    """

    template: str = "{domain}.{kind}.{aggregate_id}.{event}"
    prefix: str = ""
    domain: str = "graph"

    def subject(self, aggregate_id: str, event: str, kind: str = "events") -> str:
        """The subject of one event, e.g. ``graph.events.g1.node_added``.

        Parameters
        ----------
        aggregate_id : str
            The graph id; one subject token.
        event : str
            The event type (or ``*``).
        kind : {"events", "commands", "queries"}

        Returns
        -------
        str

        Raises
        ------
        ValueError
            ``aggregate_id`` is not a valid subject token (:func:`validate_token`).

        Examples
        --------
        >>> DEFAULT_SUBJECTS.subject("g1", "node_added")
        'graph.events.g1.node_added'
        """
        return self.prefix + self.template.format(
            domain=self.domain, kind=kind, aggregate_id=validate_token(aggregate_id, "aggregate id"), event=event
        )

    def aggregate_filter(self, aggregate_id: str, kind: str = "events") -> str:
        """Subject filter matching every event of one aggregate (``graph.events.g1.*``).

        Parameters
        ----------
        aggregate_id : str
        kind : {"events", "commands", "queries"}

        Returns
        -------
        str

        Raises
        ------
        ValueError
            As :meth:`subject`.

        Examples
        --------
        >>> DEFAULT_SUBJECTS.aggregate_filter("g1")
        'graph.events.g1.*'
        """
        return self.subject(aggregate_id, "*", kind)

    def stream_filter(self, kind: str = "events") -> str:
        """Subject filter a stream captures: ``graph.events.>``.

        Parameters
        ----------
        kind : {"events", "commands", "queries"}

        Returns
        -------
        str

        Raises
        ------
        None

        Examples
        --------
        >>> DEFAULT_SUBJECTS.stream_filter("commands")
        'graph.commands.>'
        """
        head = self.prefix + self.template.format(domain=self.domain, kind=kind, aggregate_id="\0", event="\0")
        return head.split("\0", 1)[0] + ">"


DEFAULT_SUBJECTS = SubjectTemplate()
