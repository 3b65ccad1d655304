"""alchemist's own dialect (DESIGN.md §2), as a profile.

``connect(profile="alchemist")`` (the default) reads and writes through alchemist's own consumer
and publisher (CID chain, dead letters, live feeds): this profile is the registry's entry for it,
and lets :func:`~alchemist.cim.profiles.fold_dialect` take alchemist messages beside the others
(one typed :class:`~alchemist.cim.profiles.DialectEvent` per envelope, its type and payload as
they are).
"""

from __future__ import annotations

from alchemist.cim.profiles import DialectEvent, GraphChange, Profile

__all__ = ["AlchemistProfile"]

_GRAPH_TYPES = {"graph_created", "node_added", "node_updated", "node_removed", "edge_added", "edge_updated",
                "edge_removed"}


class AlchemistProfile(Profile):
    """alchemist's envelopes on ``graph.events.{graph_id}.{event_type}``.

    Examples
    --------
    >>> from alchemist.events import encode_event, new_event
    >>> event = new_event("node_added", "g", {"node_id": "a"})
    >>> p = AlchemistProfile()
    >>> d = p.decode("graph.events.g.node_added", encode_event(event), sequence=1)
    >>> d.event_id == event.event_id, d.cid == event.cid, [c.event_type for c in p.changes(d)]
    (True, True, ['node_added'])
    """

    name = "alchemist"
    stream = "GRAPH_EVENTS"
    stream_subjects = ("graph.events.>",)
    writable = True

    def filters(self, graph_id: str) -> list[str]:
        """``graph.events.{graph_id}.*``.

        Parameters
        ----------
        graph_id : str

        Returns
        -------
        list of str
        """
        return [f"graph.events.{graph_id}.*"]

    def decode(self, subject, data, headers=None, *, sequence=None, time=None) -> DialectEvent:
        """Decode and verify one alchemist envelope (:func:`alchemist.events.decode_event`).

        Parameters
        ----------
        subject : str
        data : bytes
        headers : dict, optional
        sequence : int, optional
        time : float, optional
            Unused: the envelope has its own timestamp.

        Returns
        -------
        DialectEvent

        Raises
        ------
        InvalidEventError, CIDMismatchError
            As :func:`~alchemist.events.decode_event`.
        """
        from alchemist.events import decode_event, parse_rfc3339

        event = decode_event(data, sequence=sequence)
        return DialectEvent(self.name, event.event_type, event.aggregate_id, dict(event.payload),
                            event_id=event.event_id, correlation_id=event.correlation_id,
                            causation_id=event.causation_id, time=parse_rfc3339(event.timestamp).timestamp(),
                            cid=event.cid, subject=subject, sequence=sequence, headers=dict(headers or {}))

    def changes(self, event: DialectEvent) -> list[GraphChange]:
        """The event itself when it is a graph event (other types are kept as typed events).

        Parameters
        ----------
        event : DialectEvent

        Returns
        -------
        list of GraphChange
        """
        if event.event_type in _GRAPH_TYPES:
            return [GraphChange(event.event_type, dict(event.payload))]
        return []
