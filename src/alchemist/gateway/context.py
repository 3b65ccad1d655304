"""What every part of the gateway shares: the connection, the settings and the acting principal."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from alchemist.gateway.settings import GatewaySettings

__all__ = ["GatewayContext", "Principal", "ANONYMOUS"]


@dataclass(frozen=True)
class Principal:
    """Who makes a request, and which graphs they may read and write.

    Parameters
    ----------
    subject : str
        The actor recorded in the metadata of every event the request publishes.
    read, write : frozenset of str
        Graph ids, or ``"*"`` for every graph.
    via : str
        How it was authenticated: ``"api-key"``, ``"jwt"`` or ``"anonymous"`` (recorded beside the
        actor in the events' metadata).

    Examples
    --------
    >>> p = Principal("ana", read=frozenset({"*"}), write=frozenset({"g1"}))
    >>> p.can_read("g2"), p.can_write("g1"), p.can_write("g2")
    (True, True, False)
    """

    subject: str
    read: frozenset = field(default_factory=frozenset)
    write: frozenset = field(default_factory=frozenset)
    via: str = ""

    def can_read(self, graph_id: str) -> bool:
        """Whether this principal may read ``graph_id``."""
        return "*" in self.read or graph_id in self.read or self.can_write(graph_id)

    def can_write(self, graph_id: str) -> bool:
        """Whether this principal may change ``graph_id``."""
        return "*" in self.write or graph_id in self.write


ANONYMOUS = Principal("anonymous", read=frozenset({"*"}), write=frozenset({"*"}), via="anonymous")


@dataclass
class GatewayContext:
    """The state of one gateway instance, kept on ``app.state.gateway``.

    Parameters
    ----------
    connection : alchemist.cim.Connection
        The CIM the gateway serves; collaboration state travels on its NATS subjects.
    settings : GatewaySettings
        Limits, credentials, CORS, webhooks.
    instance_id : str
        This instance's id (several instances may serve the same CIM).
    extras : dict
        Per-part state (subscriptions, caches), keyed by the part's module name.
    """

    connection: Any
    settings: GatewaySettings
    instance_id: str = ""
    extras: dict = field(default_factory=dict)
